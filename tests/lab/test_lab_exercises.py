"""Each exercise's numbers against an independent computation (hand formulas, plain NumPy,
the chapter's own code with the same seed, least squares, a generic minimiser)."""

import json
import math

import numpy as np
import pytest

import layerwise as lw


# ------------------------------------------------------------------------- exercise 1
def numpy_forward(x, W1, b1, W2, b2):
    z1 = x @ W1 + b1
    a1 = np.maximum(0, z1)
    z2 = a1 @ W2 + b2
    e = np.exp(z2 - z2.max())
    return z1, a1, z2, e / e.sum()


def test_forward_matches_the_hand_calculation():
    r = lw.lab.forward()
    # By hand: z1 = [1*.1 + 2*.3 + .1, 1*.2 + 2*.4 + .1], z2 = [.8*.5 + 1.1*.7 + .2, ...]
    np.testing.assert_allclose(r["Z1"], [0.8, 1.1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(r["A1"], [0.8, 1.1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(r["Z2"], [1.37, 1.56], rtol=0, atol=1e-12)
    p1 = 1 / (1 + math.exp(1.56 - 1.37))
    np.testing.assert_allclose(r["output"], [p1, 1 - p1], rtol=0, atol=1e-12)
    assert r["matches"] and r["max_abs_difference"] < 1e-12 and r["predicted_class"] == 1
    assert [row[1] for row in r.tables[0].rows[:2]] == ["1*0.1 + 2*0.3 + 0.1",
                                                        "1*0.2 + 2*0.4 + 0.1"]


def test_forward_with_other_numbers_agrees_with_numpy_and_shows_relu_cutting():
    x, W1, b1 = [1.0, -2.0], [[0.5, -0.3], [0.4, 0.2]], [0.0, 0.1]
    W2, b2 = [[1.0, -1.0, 0.5], [0.3, 0.2, -0.7]], [0.0, 0.5, -0.5]
    r = lw.lab.forward(x, W1, b1, W2, b2)
    expected = numpy_forward(*(np.array(v) for v in (x, W1, b1, W2, b2)))
    for got, want in zip((r["Z1"], r["A1"], r["Z2"], r["output"]), expected):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    assert r["A1"][0] == 0.0 and r["matches"]
    assert r.tables[0].rows[0][1] == "1*0.5 + (-2)*0.4 + 0"


def test_forward_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"W1 must have shape \(3, n\)"):
        lw.lab.forward(x=[1, 2, 3])
    with pytest.raises(ValueError, match=r"b2 must be \(2,\)"):
        lw.lab.forward(b2=[0.1])


# ------------------------------------------------------------------------- exercise 2
def test_losses_values_and_autodiff_gradients_match_the_formulas():
    r = lw.lab.losses(n_points=49)
    p = np.linspace(0.01, 0.99, 49)
    np.testing.assert_allclose(r["y_hat"], p)
    np.testing.assert_allclose(r["mse"], (1 - p) ** 2, rtol=1e-12)
    np.testing.assert_allclose(r["bce"], -np.log(p), rtol=1e-12)
    np.testing.assert_allclose(r["mse_grad"], -2 * (1 - p), rtol=1e-12)
    np.testing.assert_allclose(r["bce_grad"], -1 / p, rtol=1e-9)
    # behind a sigmoid: d/dz of (1 - s)^2 and of -log s
    np.testing.assert_allclose(r["mse_grad_logit"], -2 * (1 - p) * p * (1 - p), rtol=1e-9)
    np.testing.assert_allclose(r["bce_grad_logit"], p - 1, rtol=1e-9, atol=1e-12)
    assert r["gradient_ratio_at_low"] == pytest.approx((1 / 0.01) / (2 * 0.99))
    assert "cross-entropy" in r.notes[-1].lower() and "-100.0" in r.notes[-1]


@pytest.mark.parametrize("kwargs", [{"low": 0.0}, {"high": 1.0}, {"low": 0.6, "high": 0.5},
                                    {"n_points": 1}])
def test_losses_rejects_bad_ranges(kwargs):
    with pytest.raises(ValueError, match="losses lab"):
        lw.lab.losses(**kwargs)


# ------------------------------------------------------------------------- exercise 3
def huber_numpy(e, delta):  # the chapter's formula
    a = np.abs(e)
    return np.where(a <= delta, 0.5 * e**2, delta * a - 0.5 * delta**2)


@pytest.fixture(scope="module")
def huber_result():
    return lw.lab.huber()


def test_huber_curves_follow_the_chapters_formulas(huber_result):
    c = huber_result["curves"]
    e = np.asarray(c["error"])
    np.testing.assert_allclose(c["MSE"], e**2, atol=1e-12)
    np.testing.assert_allclose(c["MAE"], np.abs(e), atol=1e-12)
    np.testing.assert_allclose(c["Huber"], huber_numpy(e, 1.0), atol=1e-12)
    np.testing.assert_allclose(c["Huber_grad"], np.clip(e, -1, 1), atol=1e-12)


def test_the_mse_fit_is_least_squares(huber_result):
    slope, intercept = np.polyfit(huber_result["x"], huber_result["y"], 1)
    fit = huber_result["fits"]["MSE"]
    assert fit["slope"] == pytest.approx(slope, abs=1e-6)
    assert fit["intercept"] == pytest.approx(intercept, abs=1e-6)


def test_the_huber_fit_minimises_the_huber_loss(huber_result):
    optimize = pytest.importorskip("scipy.optimize")
    x, y = np.asarray(huber_result["x"]), np.asarray(huber_result["y"])
    best = optimize.minimize(lambda ab: huber_numpy(ab[0] * x + ab[1] - y, 1.0).mean(),
                             x0=[0.0, 0.0], method="Nelder-Mead",
                             options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 20000})
    fit = huber_result["fits"]["Huber"]
    assert fit["slope"] == pytest.approx(best.x[0], abs=2e-3)
    assert fit["intercept"] == pytest.approx(best.x[1], abs=2e-3)


def test_robust_fits_land_closer_to_the_true_line_than_mse(huber_result):
    d = {k: v["distance_to_true_line"] for k, v in huber_result["fits"].items()}
    assert d["Huber"] < d["MSE"] / 3 and d["MAE"] < d["MSE"] / 3
    x, mask = np.asarray(huber_result["x"]), np.asarray(huber_result["outliers"])
    assert mask.sum() == 6 and x[mask].min() > x[~mask].max()  # the rightmost points


def test_without_outliers_all_three_fits_find_the_line():
    r = lw.lab.huber(n_outliers=0, epochs=300)
    for fit in r["fits"].values():
        assert fit["slope"] == pytest.approx(2.0, abs=0.15)
        assert fit["intercept"] == pytest.approx(1.0, abs=0.2)


# ------------------------------------------------------------------------- exercise 4
def test_batching_reports_consistent_statistics_and_correct_outputs():
    r = lw.lab.batching(n_samples=50, batch_sizes=(1, 7, 50), repeats=3, hidden=(8,))
    assert r["batch_sizes"] == [1, 7, 50] and r["layer_sizes"] == [10, 8, 3]
    assert r["max_abs_difference"] < 1e-6  # batched outputs equal one full pass
    for times, q25, median, q75 in zip(r["times_s"], r["q25_s"], r["median_s"], r["q75_s"]):
        assert len(times) == 3 and min(times) > 0
        assert median == pytest.approx(np.median(times))
        assert q25 <= median <= q75
    assert r["speedup"][0] == 1.0
    np.testing.assert_allclose(r["per_sample_us"], np.array(r["median_s"]) / 50 * 1e6)
    assert [row[1] for row in r.tables[0].rows] == ["50", "8", "1"]  # number of batches


def test_batching_rejects_bad_sizes():
    with pytest.raises(ValueError, match="batch_sizes must be positive"):
        lw.lab.batching(batch_sizes=(0, 8))


# ------------------------------------------------------------------------- exercise 5
def chapter_initialize_weights(n_in, n_out, method="he"):
    """The chapter's code, verbatim."""
    if method == "zeros":
        return np.zeros((n_in, n_out))
    elif method == "random":
        return np.random.randn(n_in, n_out) * 0.01
    elif method == "xavier":
        std = np.sqrt(2.0 / (n_in + n_out))
        return np.random.randn(n_in, n_out) * std
    elif method == "he":
        std = np.sqrt(2.0 / n_in)
        return np.random.randn(n_in, n_out) * std
    raise ValueError(f"Unknown method: {method}")


def chapter_statistics(sizes, method, activation, n_samples, seed):
    np.random.seed(seed)
    A = np.random.randn(n_samples, sizes[0])
    act = {"relu": lambda z: np.maximum(0, z), "tanh": np.tanh}[activation]
    stats = []
    for i in range(len(sizes) - 1):
        W = chapter_initialize_weights(sizes[i], sizes[i + 1], method)
        b = np.zeros((1, sizes[i + 1]))
        Z = np.dot(A, W) + b
        A = act(Z) if i < len(sizes) - 2 else Z
        stats.append((A.mean(), A.std()))
    return stats


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_init_statistics_equal_the_chapters_code_with_the_same_seed(activation):
    sizes, seed = [100, 100, 100, 100, 10], 7
    r = lw.lab.init(sizes, activation=activation, n_samples=300, seed=seed)
    for method in ("zeros", "random", "xavier", "he"):
        want = chapter_statistics(sizes, method, activation, 300, seed)
        got = [(s["mean"], s["std"]) for s in r["stats"][method]]
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-300)


def test_init_shows_what_the_chapter_says():
    s = lw.lab.init(n_samples=500)["stats"]
    assert all(layer["std"] == 0 and layer["zero_fraction"] == 1 for layer in s["zeros"])
    assert s["random"][2]["std"] < 1e-2 * s["random"][0]["std"]  # collapses
    assert 0.7 < s["he"][2]["std"] / s["he"][0]["std"] < 1.4  # keeps its spread under ReLU
    assert s["xavier"][2]["std"] < 0.7 * s["xavier"][0]["std"]  # shrinks under ReLU
    assert all(0.4 < layer["zero_fraction"] < 0.6 for layer in s["he"][:3])


def test_init_rejects_unknown_methods_and_activations():
    with pytest.raises(ValueError, match="unknown methods.*known: zeros"):
        lw.lab.init(methods=("zeros", "orthogonal"))
    with pytest.raises(ValueError, match="activation must be one of"):
        lw.lab.init(activation="gelu")


# ------------------------------------------------------------------------- exercise 6
def test_graph_exercise_counts_17_parameters_per_layer():
    r = lw.lab.graph()
    assert r["ops"] == ["matmul", "add", "relu", "matmul", "add", "softmax"]
    assert [(s["op"], s["output"]) for s in r["steps"]] == [
        ("matmul", [1, 3]), ("add", [1, 3]), ("relu", [1, 3]),
        ("matmul", [1, 2]), ("add", [1, 2]), ("softmax", [1, 2])]
    assert r["steps"][0]["inputs"] == [["X", [1, 2]], ["layers.0.W", [2, 3]]]
    assert [(p["count"], p["formula"]) for p in r["per_layer"]] == [(9, 9), (8, 8)]
    assert r["num_parameters"] == r["formula_total"] == 17 and r["consistent"]


def test_graph_exercise_follows_other_sizes():
    r = lw.lab.graph(layer_sizes=(4, 8, 4, 3), batch_size=5)
    assert r["num_parameters"] == (4 * 8 + 8) + (8 * 4 + 4) + (4 * 3 + 3)
    assert r["steps"][0]["output"] == [5, 8]


# ----------------------------------------------------------------------- every result
@pytest.mark.parametrize("name", ["forward", "losses", "graph"])
def test_results_are_json_and_print_a_summary(name):
    r = getattr(lw.lab, name)()
    text = str(r)
    assert text.startswith(r.title) and r.headline in text
    assert json.loads(json.dumps(r.to_dict()))["name"] == name
    assert r.figures == {} and r.files == {}  # no out=, no files
