"""Edge cases: extreme inputs, saturated probabilities, Huber's seam, float32 end to end."""

import warnings
from contextlib import contextmanager

import numpy as np
import pytest
from helpers import assert_matches_torch, torch

import layerwise as lw
from layerwise import functional as F
from layerwise.autodiff.tensor import Tensor

DTYPES = [np.float32, np.float64]
REDUCTIONS = ["mean", "sum", "none"]
needs_torch = pytest.mark.skipif(torch is None, reason="torch not installed")


@contextmanager
def strict_numpy():
    """Every NumPy floating-point warning is an error. Underflow is allowed: exp(-1000)
    rounding to 0 is the correct result, and NumPy itself ignores underflow by default."""
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        yield


EXTREME = np.array([[-1000.0, 0.0, 1000.0], [1000.0, 1000.0, -1000.0], [-1000.0, -999.0, 3.0]])


# ------------------------------------------------------------- activations at +-1000
@needs_torch
@pytest.mark.parametrize("fn, twin", [
    (F.sigmoid, lambda x: torch.sigmoid(x)),
    (F.tanh, lambda x: torch.tanh(x)),
    (F.softmax, lambda x: torch.softmax(x, -1)),
    (F.log_softmax, lambda x: torch.log_softmax(x, -1)),
    (lambda x: F.softmax(x, axis=0), lambda x: torch.softmax(x, 0)),
    (lambda x: F.log_softmax(x, axis=0), lambda x: torch.log_softmax(x, 0)),
], ids=["sigmoid", "tanh", "softmax", "log_softmax", "softmax(axis=0)", "log_softmax(axis=0)"])
def test_activations_at_plus_minus_1000_match_torch_without_warnings(fn, twin):
    with strict_numpy():
        assert_matches_torch(fn, twin, EXTREME)


@pytest.mark.parametrize("dtype", DTYPES)
def test_saturated_activations_give_exact_limits(dtype):
    with strict_numpy():
        x = Tensor(np.array([-1000.0, 0.0, 1000.0], dtype=dtype), requires_grad=True)
        s = F.sigmoid(x)
        np.testing.assert_array_equal(s.data, [0.0, 0.5, 1.0])
        s.sum().backward()
        np.testing.assert_array_equal(x.grad, [0.0, 0.25, 0.0])
        np.testing.assert_array_equal(F.softmax(np.array([[1000.0, 0.0]], dtype)).data, [[1, 0]])
        np.testing.assert_array_equal(F.log_softmax(np.array([[1000.0, 0.0]], dtype)).data,
                                      [[0.0, -1000.0]])
        for out in (s, F.softmax(x), F.log_softmax(x)):
            assert out.dtype == dtype


@needs_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_on_logits_of_1e4(reduction):
    logits = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 0.0], [-1e4, -1e4, 1e4]])
    labels = np.array([2, 1, 0])  # far wrong, right, far wrong
    with strict_numpy():
        out = assert_matches_torch(
            lambda y, x: F.cross_entropy(y, x, reduction=reduction),
            lambda y, x: torch.nn.CrossEntropyLoss(reduction=reduction)(x, y),
            labels, logits)
    assert np.all(np.isfinite(out.data))


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_on_logits_of_1e4_float32_and_64(dtype):
    x = Tensor(np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 0.0]], dtype=dtype), requires_grad=True)
    with strict_numpy():
        loss = F.cross_entropy(np.array([2, 1]), x, reduction="sum")
        loss.backward()
    assert loss.dtype == dtype and x.grad.dtype == dtype
    np.testing.assert_allclose(loss.item(), 2e4, rtol=1e-6)
    np.testing.assert_array_equal(x.grad, [[1.0, 0.0, -1.0], [0.0, 0.0, 0.0]])


@needs_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_at_plus_minus_1000(reduction):
    with strict_numpy():
        assert_matches_torch(
            lambda y, x: F.binary_cross_entropy_with_logits(y, x, reduction=reduction),
            lambda y, x: torch.nn.BCEWithLogitsLoss(reduction=reduction)(x, y),
            np.array([1.0, 0.0, 1.0, 0.0]), np.array([-1000.0, 1000.0, 1000.0, -1000.0]),
            grads=(False, True))


# ------------------------------------------- probability losses at exactly 0 and 1
def chapter_bce(y_true, y_pred, epsilon=1e-15):  # the chapter's listing
    y_pred = np.clip(y_pred, epsilon, 1 - epsilon)
    return -np.mean(y_true * np.log(y_pred) + (1 - y_true) * np.log(1 - y_pred))


def chapter_cce(y_true, y_pred, epsilon=1e-15):  # the chapter's listing
    y_pred = np.clip(y_pred, epsilon, 1 - epsilon)
    return -np.mean(np.sum(y_true * np.log(y_pred), axis=1))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_with_predictions_exactly_0_and_1(dtype, reduction):
    y = np.array([1.0, 0.0, 1.0, 0.0])
    p = Tensor(np.array([0.0, 1.0, 1.0, 0.0], dtype=dtype), requires_grad=True)
    with strict_numpy():
        loss = F.binary_cross_entropy(y, p, reduction=reduction)
        loss.sum().backward()
    assert loss.dtype == dtype and p.grad.dtype == dtype
    assert np.all(np.isfinite(loss.data)) and np.all(np.isfinite(p.grad))
    per_sample = F.binary_cross_entropy(y, p.data, reduction="none").data
    assert per_sample[0] > 10 and per_sample[1] > 10  # wrong and sure of it
    assert per_sample[2] < 1e-6 and per_sample[3] < 1e-6  # right and sure of it
    # wrong and saturated: the gradient is non-zero and points the right way
    assert p.grad[0] < 0, "p = 0 with y = 1 must be pushed up"
    assert p.grad[1] > 0, "p = 1 with y = 0 must be pushed down"


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_categorical_cross_entropy_with_predictions_exactly_0_and_1(dtype, reduction):
    y = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    p = Tensor(np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], dtype=dtype), requires_grad=True)
    with strict_numpy():
        loss = F.categorical_cross_entropy(y, p, reduction=reduction)
        loss.sum().backward()
    assert loss.dtype == dtype and p.grad.dtype == dtype
    assert np.all(np.isfinite(loss.data)) and np.all(np.isfinite(p.grad))
    per_sample = F.categorical_cross_entropy(y, p.data, reduction="none").data
    assert per_sample[0] > 10 and per_sample[1] < 1e-6
    assert p.grad[0, 0] < 0, "a zero probability on the true class must be pushed up"


@pytest.mark.parametrize("p", [
    [0.0, 1.0, 1.0, 0.0], [1e-20, 1 - 1e-17, 0.5, 0.3], [0.2, 0.9, 0.4, 0.7]])
def test_probability_losses_equal_the_chapters_formulas_in_float64(p):
    y = np.array([1.0, 0.0, 1.0, 0.0])
    p = np.array(p)
    assert float(F.binary_cross_entropy(y, p)) == pytest.approx(chapter_bce(y, p), rel=1e-12)
    y2, p2 = np.eye(4), np.tile(p, (4, 1))
    assert float(F.categorical_cross_entropy(y2, p2)) == pytest.approx(chapter_cce(y2, p2),
                                                                      rel=1e-12)


# ------------------------------------------------------------- Huber at |error| = delta
@needs_torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("delta", [1.0, 0.5, 2.0])
def test_huber_at_the_seam_matches_torch(delta, reduction):
    y_true = np.array([0.0, 0.0, 1.5, 1.5])
    y_pred = y_true + np.array([delta, -delta, delta, -delta])  # exact in binary
    out = assert_matches_torch(
        lambda y, p: F.huber_loss(y, p, delta=delta, reduction=reduction),
        lambda y, p: torch.nn.HuberLoss(reduction=reduction, delta=delta)(p, y),
        y_true, y_pred)
    # both branches of the chapter's formula agree at the seam: 0.5 delta^2
    per_sample = F.huber_loss(y_true, y_pred, delta=delta, reduction="none").data
    np.testing.assert_array_equal(per_sample, 0.5 * delta**2)
    assert out.dtype == np.float64


def test_huber_gradient_at_the_seam_is_delta_times_sign():
    p = Tensor(np.array([0.5, -0.5]), requires_grad=True)
    F.huber_loss(np.zeros(2), p, delta=0.5, reduction="sum").backward()
    np.testing.assert_array_equal(p.grad, [0.5, -0.5])


# --------------------------------------------------------------- float32 end to end
LOSSES_ON_AN_MLP = {
    "mse": ("none", lambda out, y: F.mse_loss(np.eye(3)[y], out)),
    "mae": ("none", lambda out, y: F.mae_loss(np.eye(3)[y], out)),
    "huber": ("none", lambda out, y: F.huber_loss(np.eye(3)[y], out, delta=0.5)),
    "bce": ("sigmoid", lambda out, y: F.binary_cross_entropy(np.eye(3)[y], out)),
    "bce_with_logits": ("none", lambda out, y: F.binary_cross_entropy_with_logits(
        np.eye(3)[y], out)),
    "categorical_cross_entropy": ("softmax", lambda out, y: F.categorical_cross_entropy(
        np.eye(3)[y], out)),
    "cross_entropy": ("none", lambda out, y: F.cross_entropy(y, out)),
    "cross_entropy(probabilities)": ("none", lambda out, y: F.cross_entropy(
        np.eye(3)[y] * 0.9 + 0.1 / 3, out, label_smoothing=0.1)),
}


@pytest.mark.parametrize("name", list(LOSSES_ON_AN_MLP))
def test_float32_stays_float32_through_an_mlp_and_its_loss(name):
    output_activation, loss_fn = LOSSES_ON_AN_MLP[name]
    net = lw.MLP([4, 8, 5, 3], output_activation=output_activation, rng=0)  # default float32
    X = Tensor(np.random.default_rng(1).standard_normal((6, 4)).astype(np.float32),
               requires_grad=True)
    out = net(X)
    loss = loss_fn(out, np.array([0, 1, 2, 0, 1, 2]))
    assert out.dtype == np.float32 and loss.dtype == np.float32
    loss.backward()
    for pname, p in net.named_parameters():
        assert p.dtype == np.float32 and p.grad.dtype == np.float32, pname
    assert X.grad.dtype == np.float32
    for key, value in net.layers[0].cache.items():
        assert value.dtype == np.float32, key


def test_float64_inputs_to_a_float32_layer_are_cast():
    layer = lw.nn.Dense(3, 2, rng=0)
    out = layer(np.ones((4, 3)))  # float64 data, the chapter's habit
    assert out.dtype == np.float32 and layer.cache["X"].dtype == np.float32
