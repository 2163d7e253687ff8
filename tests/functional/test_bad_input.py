"""Bad input to the functional layer fails at once with a message naming what and where."""

import re

import numpy as np
import pytest

from layerwise import functional as F
from layerwise import nn

# every loss, with a valid (y_true, y_pred) pair of shape (5, 3)
Y = np.eye(3)[[0, 1, 2, 0, 1]]
P = np.full((5, 3), 1 / 3)
LOSSES = {
    "mse_loss": F.mse_loss,
    "mae_loss": F.mae_loss,
    "huber_loss": F.huber_loss,
    "binary_cross_entropy": F.binary_cross_entropy,
    "binary_cross_entropy_with_logits": F.binary_cross_entropy_with_logits,
    "categorical_cross_entropy": F.categorical_cross_entropy,
    "cross_entropy": F.cross_entropy,
}
MODULES = {
    "MSELoss": nn.MSELoss, "L1Loss": nn.L1Loss, "HuberLoss": nn.HuberLoss,
    "BCELoss": nn.BCELoss, "BCEWithLogitsLoss": nn.BCEWithLogitsLoss,
    "CategoricalCrossEntropyLoss": nn.CategoricalCrossEntropyLoss,
    "CrossEntropyLoss": nn.CrossEntropyLoss,
}


@pytest.mark.parametrize("name", list(LOSSES))
def test_unknown_reduction_names_the_known_ones(name):
    with pytest.raises(ValueError, match=r"'average'.*mean, sum, none"):
        LOSSES[name](Y, P, reduction="average")


@pytest.mark.parametrize("name", list(MODULES))
def test_loss_module_rejects_an_unknown_reduction_when_built(name):
    with pytest.raises(ValueError, match=r"'avg'.*mean, sum, none"):
        MODULES[name](reduction="avg")


def test_reduce_rejects_an_unknown_reduction():
    with pytest.raises(ValueError, match="known: mean, sum, none"):
        F.reduce(P, "max")


@pytest.mark.parametrize("name", [n for n in LOSSES if n != "cross_entropy"])
@pytest.mark.parametrize("y_shape, p_shape", [((5,), (5, 1)), ((5, 1), (5,)), ((4, 3), (5, 3))])
def test_mismatched_shapes_raise_value_error_naming_both(name, y_shape, p_shape):
    y, p = np.full(y_shape, 0.5), np.full(p_shape, 0.5)
    with pytest.raises(ValueError) as info:
        LOSSES[name](y, p)
    message = str(info.value)
    assert name in message and str(y_shape) in message and str(p_shape) in message


@pytest.mark.parametrize("name", list(MODULES))
def test_loss_modules_check_shapes_too(name):
    with pytest.raises(ValueError, match=re.escape("(5,)")):
        MODULES[name]()(np.zeros(5, dtype=int) if name == "CrossEntropyLoss" else np.zeros(5),
                        np.zeros((5, 2, 1)))


# ---------------------------------------------------------------------- cross_entropy
def test_cross_entropy_rejects_float_labels():
    with pytest.raises(ValueError, match=r"class labels must be integers.*float64"):
        F.cross_entropy(np.array([0.0, 1.0, 2.0]), np.zeros((3, 3)))


@pytest.mark.parametrize("bad", [3, -1, 10])
def test_cross_entropy_rejects_labels_out_of_range(bad):
    with pytest.raises(ValueError, match=rf"class label {bad} is out of range for 3 classes"):
        F.cross_entropy(np.array([0, bad, 1]), np.zeros((3, 3)))


def test_cross_entropy_rejects_targets_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"\(4,\).*\(4, 3\).*\(4, 2\)"):
        F.cross_entropy(np.zeros((4, 2), dtype=int), np.zeros((4, 3)))


def test_cross_entropy_rejects_scalar_logits():
    with pytest.raises(ValueError, match="class axis"):
        F.cross_entropy(np.array(0), np.array(1.5))


@pytest.mark.parametrize("s", [-0.1, 1.5])
def test_label_smoothing_must_be_in_0_1(s):
    with pytest.raises(ValueError, match=r"label_smoothing must be a number in \[0, 1\]"):
        F.cross_entropy(np.array([0]), np.zeros((1, 3)), label_smoothing=s)


@pytest.mark.parametrize("delta", [0.0, -1.0, float("nan")])
def test_huber_delta_must_be_positive(delta):
    with pytest.raises(ValueError, match="delta must be > 0"):
        F.huber_loss(np.zeros(2), np.ones(2), delta=delta)
    with pytest.raises(ValueError, match="delta must be > 0"):
        nn.HuberLoss(delta=delta)


# ------------------------------------------------------------------------ activations
@pytest.mark.parametrize("call", [
    lambda: F.get_activation("swish"),
    lambda: F.forward_layer(np.ones((1, 2)), np.ones((2, 2)), np.zeros((1, 2)), "swish"),
    lambda: nn.Dense(2, 2, activation="swish"),
    lambda: nn.MLP([2, 3, 2], hidden_activation="swish"),
])
def test_unknown_activation_names_the_known_ones(call):
    with pytest.raises(ValueError) as info:
        call()
    message = str(info.value)
    assert "'swish'" in message
    for known in ("relu", "sigmoid", "tanh", "softmax", "log_softmax", "leaky_relu", "none"):
        assert known in message
