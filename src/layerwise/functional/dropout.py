"""Dropout (Srivastava et al., 2014), inverted as in PyTorch: scaled while training.

The mask is drawn inside the primitive's forward rule, so ``lw.compile``, which replays rules
and not the Python around them, draws a new mask on every replayed call.
"""

from __future__ import annotations

import numbers

import numpy as np

from ..autodiff.tensor import Tensor, primitive
from ..dtypes import get_default_dtype
from ..rng import resolve_rng

__all__ = ["check_probability", "dropout"]


def check_probability(p, where: str) -> float:
    """``p`` as a float if it is a real number in [0, 1]; else ``ValueError`` naming ``where``."""
    if (isinstance(p, bool) or not isinstance(p, numbers.Real)
            or not 0 <= p <= 1):  # type: ignore[operator]  # typeshed's Real has no <=
        raise ValueError(f"{where}: p must be a number in [0, 1], got {p!r}")
    return float(p)


def dropout(x, p: float = 0.5, training: bool = True, rng=None) -> Tensor:
    """Zero each element with probability ``p`` and scale the others by 1 / (1 - p).

    y = x * m / (1 - p), m_i ~ Bernoulli(1 - p) drawn from ``rng`` (a uniform draw in float64
    per element, kept where it is >= p); the gradient is g * m / (1 - p). The expected value of
    y is x. In evaluation (``training=False``) or for p = 0, y = x. As
    ``torch.nn.functional.dropout`` (whose random stream differs).

    Args:
        x: any shape; p: the drop probability in [0, 1]; rng: see ``lw.rng``.

    >>> import numpy as np, layerwise as lw
    >>> lw.F.dropout(np.ones(4), p=0.5, rng=0)
    Tensor([2., 0., 0., 0.], dtype=float64)
    """
    p = check_probability(p, "dropout")
    if not training or p == 0:
        x = x if isinstance(x, Tensor) else Tensor(x)
        return x if x.dtype.kind == "f" else x.astype(get_default_dtype())
    return _dropout(x, p=p, rng=rng)


@primitive("dropout")
def _dropout(x, *, p: float, rng):
    """The rule of ``dropout`` while training: y = x m / (1 - p), the mask m drawn here.

    Backward: dx = g m / (1 - p), the same scaled mask.
    """
    keep = np.asarray(resolve_rng(rng).random(x.shape)) >= p
    mask = keep.astype(x.dtype)
    mask *= x.dtype.type(0.0 if p == 1 else 1.0 / (1.0 - p))
    out = np.multiply(x, mask)

    def backward(g, needs):
        return (g * mask,)

    return out, backward
