"""Dropout (Srivastava et al., 2014), inverted as in PyTorch: scaled while training."""

from __future__ import annotations

import numbers

import numpy as np

from ..autodiff.tensor import Tensor
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
    x = x if isinstance(x, Tensor) else Tensor(x)
    if x.dtype.kind != "f":
        x = x.astype(get_default_dtype())
    if not training or p == 0:
        return x
    keep = np.asarray(resolve_rng(rng).random(x.shape)) >= p
    scale = 0.0 if p == 1 else 1.0 / (1.0 - p)
    mask = keep.astype(x.dtype)
    mask *= x.dtype.type(scale)
    return x * mask
