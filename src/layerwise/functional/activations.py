"""Activation functions, each a primitive with a numerically stable forward.

Sigmoid, softmax and log-softmax are primitives rather than compositions of exp/log on
purpose: the composed forms overflow for large |x| (exp(1000) = inf), the stable forms do
not, and their backward rules reuse the forward's output.
"""

from __future__ import annotations

import numpy as np

from ..autodiff.ops import register_ufunc
from ..autodiff.tensor import Tensor, primitive

__all__ = [
    "ACTIVATIONS",
    "get_activation",
    "identity",
    "leaky_relu",
    "log_softmax",
    "relu",
    "sigmoid",
    "softmax",
    "tanh",
]


@primitive("relu")
def relu(x):
    """ReLU(x) = max(0, x);  d/dx = 1 if x > 0 else 0.

    >>> import layerwise as lw
    >>> lw.F.relu([-1.0, 2.0])
    Tensor([0., 2.])
    """
    # a float mask multiplied in place: NumPy's float * bool multiply casts through a slow loop
    def backward(g, needs):
        mask = (x > 0).astype(g.dtype)
        mask *= g
        return (mask,)

    return np.maximum(x, 0), backward


@primitive("leaky_relu")
def leaky_relu(x, negative_slope=0.01):
    """LeakyReLU(x) = x if x > 0 else negative_slope * x.

    >>> import layerwise as lw
    >>> lw.F.leaky_relu([-1.0, 2.0], negative_slope=0.1)
    Tensor([-0.1,  2. ])
    """
    slope = np.where(x > 0, 1, negative_slope).astype(x.dtype)
    return x * slope, lambda g, needs: (g * slope,)


def _sigmoid(x):
    # exp(-|x|) never overflows; both branches below are exact rearrangements of 1/(1+e^-x).
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


@primitive("sigmoid")
def sigmoid(x):
    """sigma(x) = 1 / (1 + exp(-x)), stable for any finite x;  d/dx = sigma(x)(1 - sigma(x)).

    >>> import layerwise as lw
    >>> lw.F.sigmoid([-1000.0, 0.0, 1000.0])
    Tensor([0. , 0.5, 1. ])
    """
    out = _sigmoid(x)
    return out, lambda g, needs: (g * out * (1 - out),)


@primitive("tanh")
def tanh(x):
    """tanh(x);  d/dx = 1 - tanh(x)^2.

    >>> import layerwise as lw
    >>> lw.F.tanh([0.0])
    Tensor([0.])
    """
    out = np.tanh(x)
    return out, lambda g, needs: (g * (1 - out * out),)


# The reductions below call the ufuncs' own ``reduce`` (what np.max / np.sum run) directly:
# on small batches NumPy's Python-level wrappers cost more than the arithmetic.
def _max(x, axis):
    """``np.max(x, axis, keepdims=True)``, the same values (a maximum is exact).

    NumPy reduces a short last axis row by row, about 70 ns a row: 36 us for 512 rows of 10
    logits. For many short rows, reducing a transposed copy over its first axis takes whole
    rows per step and is several times faster, copy included.
    """
    if x.ndim == 2 and axis in (-1, 1) and x.shape[0] >= max(32, x.shape[1]):
        return np.maximum.reduce(x.T.copy(), axis=0)[:, None]
    return np.maximum.reduce(x, axis=axis, keepdims=True)


# Below this row max, x - max cannot overflow: it stays under finfo.max + ulp(finfo.max) / 2.
_SPREAD_LIMIT = {t: np.finfo(t).max * np.finfo(t).eps / 8 for t in "efdg"}


def _softmax(x, axis):
    m = _max(x, axis)
    if x.dtype.kind == "f" and np.maximum.reduce(m, axis=None) > _SPREAD_LIMIT[x.dtype.char]:
        # x - m overflows to -inf (whose exp is the right 0) only where a row spans more than
        # finfo.max, so only rows whose max is that large pay for silencing the warning
        with np.errstate(over="ignore", invalid="ignore"):
            e = np.exp(x - m)
    else:
        e = np.exp(x - m)
    e /= np.add.reduce(e, axis=axis, keepdims=True)
    return e


@primitive("softmax")
def softmax(x, axis=-1):
    """softmax(x)_i = exp(x_i - max x) / sum_j exp(x_j - max x) along ``axis``.

    Backward: s * (g - sum(g * s)).

    >>> import layerwise as lw
    >>> lw.F.softmax([[1000.0, 0.0]])
    Tensor([[1., 0.]])
    """
    out = _softmax(x, axis)

    def backward(g, needs):
        return (out * (g - np.sum(g * out, axis=axis, keepdims=True)),)

    return out, backward


def _log_softmax(x, axis):
    shifted = x - _max(x, axis)
    lse = np.add.reduce(np.exp(shifted), axis=axis, keepdims=True)
    return shifted - np.log(lse, out=lse) if x.ndim else shifted - np.log(lse)  # 0-d: scalars


@primitive("log_softmax")
def log_softmax(x, axis=-1):
    """log_softmax(x)_i = x_i - logsumexp(x), computed with the max subtracted first.

    Backward: g - softmax(x) * sum(g).

    >>> import layerwise as lw
    >>> lw.F.log_softmax([[0.0, 0.0]])
    Tensor([[-0.6931472, -0.6931472]])
    """
    out = _log_softmax(x, axis)

    def backward(g, needs):
        return (g - np.exp(out) * np.sum(g, axis=axis, keepdims=True),)

    return out, backward


def identity(x):
    """identity(x) = x (no graph node: nothing happens to the values or the gradient).

    >>> import layerwise as lw
    >>> lw.F.identity([1.0])
    Tensor([1.])
    """
    return x if isinstance(x, Tensor) else Tensor(x)


register_ufunc(np.tanh, tanh)  # np.tanh(t) on a Tensor stays differentiable

ACTIVATIONS = {
    "relu": relu,
    "leaky_relu": leaky_relu,
    "sigmoid": sigmoid,
    "tanh": tanh,
    "softmax": softmax,
    "log_softmax": log_softmax,
    "none": identity,
    "identity": identity,
    "linear": identity,
}
"""Activation names accepted wherever an activation is named (``Dense``, ``forward_layer``)."""


def get_activation(activation):
    """Return ``(name, fn)`` for an activation name, ``None`` (identity) or a callable."""
    if activation is None:
        return "none", identity
    if callable(activation):
        return getattr(activation, "__name__", type(activation).__name__), activation
    if isinstance(activation, str) and activation.lower() in ACTIVATIONS:
        name = activation.lower()
        return ("none" if ACTIVATIONS[name] is identity else name), ACTIVATIONS[name]
    raise ValueError(
        f"unknown activation {activation!r}; known: {', '.join(sorted(ACTIVATIONS))} "
        "(or pass any callable)"
    )
