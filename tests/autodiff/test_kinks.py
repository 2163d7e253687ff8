"""Gradients exactly at kinks and ties, where finite differences say nothing: PyTorch decides.

The catalogue's random inputs never land on a kink; these inputs do on purpose.
"""

import numpy as np
import pytest
from helpers import assert_matches_torch

from layerwise import functional as F
from layerwise.autodiff import ops

torch = pytest.importorskip("torch")

AT_ZERO = np.array([-1.0, 0.0, 0.0, 2.0])
TIES = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])


@pytest.mark.parametrize("fn, twin, x", [
    (F.relu, torch.relu, AT_ZERO),
    (F.leaky_relu, torch.nn.functional.leaky_relu, AT_ZERO),
    (lambda x: x.abs(), torch.abs, AT_ZERO),
    (lambda x: x.clip(0.0, 2.0), lambda x: x.clamp(0.0, 2.0), AT_ZERO),
    (lambda x: x.max(), torch.amax, TIES),
    (lambda x: x.max(axis=1), lambda x: x.amax(1), TIES),
    (lambda x: x.max(axis=0, keepdims=True), lambda x: x.amax(0, keepdim=True), TIES),
    (lambda x: x.max(axis=(0, 1)), lambda x: x.amax((0, 1)), TIES),
    (lambda x: F.mae_loss(np.zeros(4), x), lambda x: torch.nn.L1Loss()(x, torch.zeros(4)),
     AT_ZERO),
], ids=["relu", "leaky_relu", "abs", "clip", "max", "max(axis=1)", "max(axis=0, keepdims)",
        "max(axis=(0, 1))", "mae_loss"])
def test_one_input_at_a_kink(fn, twin, x):
    assert_matches_torch(fn, twin, x)


@pytest.mark.parametrize("fn, twin", [
    (ops.maximum, torch.maximum), (ops.minimum, torch.minimum)], ids=["maximum", "minimum"])
def test_ties_between_two_inputs_split_the_gradient(fn, twin):
    a = np.array([1.0, 2.0, 3.0])
    b = np.array([1.0, 0.0, 5.0])
    assert_matches_torch(fn, twin, a, b)
    assert_matches_torch(fn, twin, a, a.copy())  # every element tied


def test_np_maximum_with_zero_at_zero():
    # the chapter's relu, np.maximum(0, x): at x = 0 the tie splits as torch.maximum does
    assert_matches_torch(lambda x: np.maximum(0, x),
                         lambda x: torch.maximum(torch.zeros_like(x), x), AT_ZERO)
