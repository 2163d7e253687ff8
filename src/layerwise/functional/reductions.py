"""Reductions that need a stable form of their own: ``logsumexp``."""

from __future__ import annotations

import numpy as np

from ..autodiff import primitive
from ..autodiff.ops import reduction_axes

__all__ = ["logsumexp"]


@primitive("logsumexp")
def logsumexp(x, axis=-1, keepdims=False):
    """logsumexp(x) = m + log(sum_i exp(x_i - m)) along ``axis``, m = max x: never overflows.

    A primitive rather than log(sum(exp(x))) composed: exp overflows for x > 88 (float32) and
    the shift by the max cannot be composed without a non-differentiable max. As
    ``torch.logsumexp``, a row whose max is infinite keeps it (inf stays inf, all -inf gives
    -inf). Backward: g * softmax(x) = g * exp(x - logsumexp(x)).

    Args:
        x: any shape; integers and bools compute in the default float dtype.
        axis: an int or a tuple of ints (negative count from the end).
        keepdims: keep the reduced axes with size 1.

    >>> import layerwise as lw
    >>> lw.F.logsumexp([[1000.0, 1000.0]])
    Tensor([1000.6932])
    """
    axis = reduction_axes(x.ndim, axis)
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isinf(m), 0, m)  # keep an infinite max out of x - m (inf - inf is NaN)
    # x - m below -finfo.max is -inf, whose exp is the right 0; a row of -inf has log(0) = -inf
    with np.errstate(over="ignore", divide="ignore"):
        lse = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=keepdims))
    out = lse + m.reshape(lse.shape)

    def backward(g, needs):
        with np.errstate(invalid="ignore"):  # rows of -inf: NaN, as torch
            return (g.reshape(m.shape) * np.exp(x - out.reshape(m.shape)),)

    return out, backward
