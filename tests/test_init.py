"""``lw.init``: the chapter's initialiser exactly, the other methods' distributions, ``rng=``."""

import chapter_listings as chapter
import numpy as np
import pytest

import layerwise as lw
from layerwise.init import METHODS, initialize_weights

CHAPTER_METHODS = ["zeros", "random", "xavier", "he"]
SIZES = [(784, 256), (3, 2), (1, 1), (5, 7)]


@pytest.mark.parametrize("seed", [0, 42, 2024])
@pytest.mark.parametrize("method", CHAPTER_METHODS)
def test_equals_the_chapters_function(method, seed):
    for n_in, n_out in SIZES:
        np.random.seed(seed)
        want = chapter.initialize_weights(n_in, n_out, method)
        np.random.seed(seed)
        got = initialize_weights(n_in, n_out, method, dtype=np.float64)
        assert got.shape == (n_in, n_out) and got.dtype == np.float64
        np.testing.assert_array_equal(got, want)


def test_the_chapters_loop_over_methods_draws_the_same_sequence():
    np.random.seed(42)
    want = [chapter.initialize_weights(784, 256, m) for m in CHAPTER_METHODS]
    np.random.seed(42)
    got = [initialize_weights(784, 256, m, dtype=np.float64) for m in CHAPTER_METHODS]
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


def test_default_dtype_is_float32_with_the_same_numbers():
    np.random.seed(42)
    want = chapter.initialize_weights(20, 10, "he")
    np.random.seed(42)
    got = initialize_weights(20, 10, "he")
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, want.astype(np.float32))
    lw.set_default_dtype(np.float64)
    assert initialize_weights(2, 2).dtype == np.float64


# ------------------------------------------------------------------------------- rng
STD = {
    "random": lambda n_in, n_out: 0.01,
    "xavier": lambda n_in, n_out: np.sqrt(2.0 / (n_in + n_out)),
    "he": lambda n_in, n_out: np.sqrt(2.0 / n_in),
    "lecun": lambda n_in, n_out: np.sqrt(1.0 / n_in),
}


@pytest.mark.parametrize("method", list(STD))
def test_int_seed_means_default_rng(method):
    got = initialize_weights(30, 20, method, rng=5, dtype=np.float64)
    want = np.random.default_rng(5).standard_normal((30, 20)) * STD[method](30, 20)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(initialize_weights(30, 20, method, rng=5, dtype=np.float64),
                                  got)


def test_generator_is_used_as_is_and_advances():
    rng, twin = np.random.default_rng(3), np.random.default_rng(3)
    first = initialize_weights(4, 5, "he", rng=rng, dtype=np.float64)
    second = initialize_weights(4, 5, "he", rng=rng, dtype=np.float64)
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(first, twin.standard_normal((4, 5)) * np.sqrt(0.5))
    np.testing.assert_array_equal(second, twin.standard_normal((4, 5)) * np.sqrt(0.5))


def test_random_state_matches_the_global_legacy_state():
    np.random.seed(11)
    want = chapter.initialize_weights(6, 3, "xavier")
    got = initialize_weights(6, 3, "xavier", rng=np.random.RandomState(11), dtype=np.float64)
    np.testing.assert_array_equal(got, want)


def test_none_draws_from_the_global_state_without_reseeding_it():
    np.random.seed(0)
    a = initialize_weights(3, 3, "he", dtype=np.float64)
    b = initialize_weights(3, 3, "he", dtype=np.float64)
    assert not np.array_equal(a, b)


@pytest.mark.parametrize("method", list(METHODS))
@pytest.mark.parametrize("make_rng", [
    lambda: 7, lambda: np.random.default_rng(7), lambda: np.random.RandomState(7)],
    ids=["int", "Generator", "RandomState"])
def test_a_seed_gives_the_same_numbers_in_any_dtype(method, make_rng):
    w64 = initialize_weights(9, 4, method, rng=make_rng(), dtype=np.float64)
    w32 = initialize_weights(9, 4, method, rng=make_rng(), dtype=np.float32)
    assert w32.dtype == np.float32
    np.testing.assert_array_equal(w32, w64.astype(np.float32))


@pytest.mark.parametrize("bad", ["42", 1.5, True, [1, 2]])
def test_rng_of_another_type_is_rejected(bad):
    with pytest.raises(TypeError, match="rng must be None, an int seed"):
        initialize_weights(2, 2, rng=bad)


# ----------------------------------------------------------------------- distributions
@pytest.mark.parametrize("method, std", [
    ("random", 0.01), ("xavier", np.sqrt(2 / 1500)), ("he", np.sqrt(2 / 1000)),
    ("lecun", np.sqrt(1 / 1000)), ("xavier_uniform", np.sqrt(2 / 1500)),
    ("he_uniform", np.sqrt(2 / 1000)),
])
def test_each_method_has_its_standard_deviation(method, std):
    W = initialize_weights(1000, 500, method, rng=0, dtype=np.float64)
    assert abs(W.mean()) < 0.01 * std  # 7 standard errors of the mean
    assert W.std() == pytest.approx(std, rel=0.01)


@pytest.mark.parametrize("method, bound", [
    ("xavier_uniform", np.sqrt(6 / (50 + 30))), ("he_uniform", np.sqrt(6 / 50))])
def test_uniform_methods_stay_within_their_bound(method, bound):
    W = initialize_weights(50, 30, method, rng=1, dtype=np.float64)
    assert np.abs(W).max() <= bound and np.abs(W).max() > 0.95 * bound


def test_zeros_are_zeros():
    np.testing.assert_array_equal(initialize_weights(3, 4, "zeros"), np.zeros((3, 4)))


def test_methods_are_those_of_spec():
    assert set(METHODS) == {"zeros", "random", "xavier", "he", "xavier_uniform", "he_uniform",
                            "lecun"}


# --------------------------------------------------------------------------- bad input
def test_unknown_method_names_the_known_ones():
    with pytest.raises(ValueError) as info:
        initialize_weights(3, 2, "glorot")
    message = str(info.value)
    assert "'glorot'" in message
    for name in METHODS:
        assert name in message


def test_unknown_method_through_dense():
    with pytest.raises(ValueError, match="unknown initialisation method 'kaiming'"):
        lw.nn.Dense(3, 2, init="kaiming")


@pytest.mark.parametrize("n_in, n_out, name", [
    (0, 3, "n_in"), (-1, 3, "n_in"), (2.5, 3, "n_in"), (True, 3, "n_in"), (3, 0, "n_out")])
def test_sizes_must_be_positive_integers(n_in, n_out, name):
    with pytest.raises(ValueError, match=f"{name} must be a positive integer"):
        initialize_weights(n_in, n_out)


def test_dtype_must_be_floating():
    with pytest.raises(ValueError, match="floating dtype"):
        initialize_weights(2, 2, dtype=np.int32)
