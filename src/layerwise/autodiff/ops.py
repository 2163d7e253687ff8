"""The tensor primitives: each one's NumPy forward beside its vector-Jacobian product.

In each backward, ``g`` is the gradient of the final scalar with respect to this op's
output; the rule returns the gradient with respect to each operand. Broadcasting is undone
by the caller (``sum_to_shape``), so rules may return broadcast-shaped gradients.
Activations and losses live in ``layerwise.functional``; they are primitives too.

The reductions are named ``reduce_sum``, ``reduce_max``, ``reduce_min`` and the absolute
value ``absolute`` (NumPy's name), so that no name here shadows a builtin; their graph op
names stay ``"sum"``, ``"max"``, ``"min"`` and ``"abs"``.

The end of the module routes NumPy's ufuncs and functions called on Tensors to these
primitives (``register_ufunc`` adds a ufunc's rule from another module).
"""

from __future__ import annotations

import warnings

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple

from . import tensor as _tensor
from .tensor import is_grad_enabled, primitive

__all__ = [
    "absolute",
    "add",
    "array_function",
    "array_ufunc",
    "astype",
    "clip",
    "divide",
    "exp",
    "getitem",
    "log",
    "matmul",
    "maximum",
    "mean",
    "minimum",
    "multiply",
    "negative",
    "power",
    "reduce_max",
    "reduce_min",
    "reduce_sum",
    "reduction_axes",
    "register_ufunc",
    "reshape",
    "sqrt",
    "subtract",
    "transpose",
]


# ------------------------------------------------------------------- elementwise binary
@primitive("add")
def add(a, b):
    """a + b"""
    return a + b, lambda g, needs: (g, g)


@primitive("subtract")
def subtract(a, b):
    """a - b"""
    return a - b, lambda g, needs: (g, -g if needs[1] else None)


@primitive("multiply")
def multiply(a, b):
    """a * b;  d/da = b, d/db = a"""
    return a * b, lambda g, needs: (g * b if needs[0] else None, g * a if needs[1] else None)


@primitive("divide")
def divide(a, b):
    """a / b;  d/da = 1/b, d/db = -a/b^2"""
    def backward(g, needs):
        ga = g / b if needs[0] else None
        gb = -g * a / (b * b) if needs[1] else None
        return ga, gb

    return a / b, backward


@primitive("power")
def power(a, b):
    """a ** b;  d/da = b a^(b-1) (0 where b = 0), d/db = a^b log(a) (0 where a = 0, b >= 0).

    The two masks are PyTorch's: ``x ** 0`` has gradient 0 at x = 0, ``0 ** y`` gradient 0 in
    y for y >= 0 (-inf for y < 0), and a negative base gives NaN in the exponent's gradient.
    """
    out = a**b

    def backward(g, needs):
        ga = gb = None
        with np.errstate(divide="ignore", invalid="ignore"):  # masked or inf/NaN as torch
            if needs[0]:
                ga = g * np.where(b == 0, 0, b * a ** (b - 1))
            if needs[1]:
                gb = g * np.where((a == 0) & (b >= 0), 0, out * np.log(a))
        return ga, gb

    return out, backward


@primitive("maximum")
def maximum(a, b):
    """Elementwise max(a, b); ties split the gradient evenly (as torch.maximum)."""
    def backward(g, needs):
        share = np.where(a > b, 1.0, np.where(a == b, 0.5, 0.0)).astype(g.dtype, copy=False)
        return (g * share if needs[0] else None, g * (1 - share) if needs[1] else None)

    return np.maximum(a, b), backward


@primitive("minimum")
def minimum(a, b):
    """Elementwise min(a, b); ties split the gradient evenly (as torch.minimum)."""
    def backward(g, needs):
        share = np.where(a < b, 1.0, np.where(a == b, 0.5, 0.0)).astype(g.dtype, copy=False)
        return (g * share if needs[0] else None, g * (1 - share) if needs[1] else None)

    return np.minimum(a, b), backward


@primitive("matmul")
def matmul(a, b):
    """a @ b (NumPy semantics: 1-D operands are promoted, leading dims broadcast)."""
    def backward(g, needs):
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g2 = g
        if b.ndim == 1:  # b first: for vector @ vector, g is a scalar and becomes (1, 1)
            g2 = np.expand_dims(g2, -1)
        if a.ndim == 1:
            g2 = np.expand_dims(g2, -2)
        ga = gb = None
        if needs[0]:
            ga = g2 @ np.swapaxes(b2, -1, -2)
            ga = ga.reshape(ga.shape[:-2] + (ga.shape[-1],)) if a.ndim == 1 else ga
        if needs[1]:
            gb = np.swapaxes(a2, -1, -2) @ g2
            gb = gb[..., 0] if b.ndim == 1 else gb
        return ga, gb

    return a @ b, backward


# -------------------------------------------------------------------- elementwise unary
@primitive("negative")
def negative(a):
    """-a"""
    return -a, lambda g, needs: (-g,)


@primitive("exp")
def exp(a):
    """exp(a);  d/da = exp(a)"""
    out = np.exp(a)
    return out, lambda g, needs: (g * out,)


@primitive("log")
def log(a):
    """log(a);  d/da = 1/a"""
    return np.log(a), lambda g, needs: (g / a,)


@primitive("sqrt")
def sqrt(a):
    """sqrt(a);  d/da = 1 / (2 sqrt(a)) (inf at 0, as torch)"""
    out = np.sqrt(a)
    return out, lambda g, needs: (g / (2 * out),)


@primitive("abs")
def absolute(a):
    """|a|;  d/da = sign(a) (0 at 0, as torch)"""
    return np.abs(a), lambda g, needs: (g * np.sign(a),)


@primitive("clip")
def clip(a, lo=None, hi=None):
    """Clamp to [lo, hi] (either may be None); the gradient passes where lo <= a <= hi."""
    def backward(g, needs):
        mask = np.ones(a.shape, dtype=bool)
        if lo is not None:
            mask &= a >= lo
        if hi is not None:
            mask &= a <= hi
        return (g * mask,)

    return np.clip(a, lo, hi), backward


@primitive("astype", keep_dtype=(0,))
def astype(a, dtype=None):
    """Convert to another floating dtype; the gradient is converted back."""
    return a.astype(dtype), lambda g, needs: (g.astype(a.dtype),)


# --------------------------------------------------------------------------- reductions
def reduction_axes(ndim: int, axis) -> tuple | None:
    """A reduction's ``axis`` as a tuple of non-negative axes, or None for all of them.

    ``axis`` is None, an int or a tuple of ints, negative counting from the end. A 0-d array
    accepts 0 and -1 (and tuples of them), as NumPy's and PyTorch's reductions do.

    >>> reduction_axes(3, (-1, 0)), reduction_axes(0, -1)
    ((2, 0), None)
    """
    if axis is None:
        return None
    if ndim == 0:
        for ax in (axis,) if np.ndim(axis) == 0 else axis:
            if ax not in (0, -1):
                raise np.exceptions.AxisError(f"axis {ax} is out of bounds for a 0-d tensor")
        return None
    return normalize_axis_tuple(axis, ndim)


def _expand(g, axes, keepdims):
    """Reshape a reduced gradient so that it broadcasts against the input's shape."""
    if axes is None or keepdims:
        return g
    return np.expand_dims(g, axes)


def _spread(g, shape, axes, keepdims):
    """A reduced gradient broadcast back over the input's ``shape``.

    A full reduction (the usual loss mean) fills a fresh array, several times cheaper than
    ``np.broadcast_to`` on small inputs and writeable, so it can become a leaf's ``.grad``.
    """
    if axes is None and not keepdims:
        full = np.empty(shape, dtype=g.dtype)
        full.fill(g)
        return full
    return np.broadcast_to(_expand(g, axes, keepdims), shape)


@primitive("sum")
def reduce_sum(a, axis=None, keepdims=False):
    """Sum over ``axis`` (None: all; an int or a tuple, negative counting back);
    the gradient is broadcast back."""
    axes = reduction_axes(a.ndim, axis)

    def backward(g, needs):
        return (_spread(g, a.shape, axes, keepdims),)

    return np.sum(a, axis=axes, keepdims=keepdims), backward


@primitive("mean")
def mean(a, axis=None, keepdims=False):
    """Mean over ``axis``;  d/da_i = 1/n."""
    axes = reduction_axes(a.ndim, axis)
    if a.dtype.kind == "f" and a.dtype.itemsize >= 4 and a.size:
        # np.mean's own arithmetic (a float sum, then / n) without its Python-level wrapper;
        # float16 is left to np.mean, which sums it in float32
        out = np.add.reduce(a, axis=axes, keepdims=keepdims)
        n = a.size // max(out.size, 1)
        out = out / n
    else:
        out = np.mean(a, axis=axes, keepdims=keepdims)
        n = a.size // max(out.size, 1) if a.size else 1

    def backward(g, needs):
        return (_spread(g / n, a.shape, axes, keepdims),)

    return out, backward


def _extreme(reduce, a, axis, keepdims):
    """A max or min over ``axis`` and its rule: ties share the gradient evenly (torch.amax)."""
    axes = reduction_axes(a.ndim, axis)
    out = reduce(a, axis=axes, keepdims=keepdims)

    def backward(g, needs):
        mask = (a == _expand(out, axes, keepdims)).astype(g.dtype)
        mask /= np.sum(mask, axis=axes, keepdims=True)
        return (mask * _expand(g, axes, keepdims),)

    return out, backward


@primitive("max")
def reduce_max(a, axis=None, keepdims=False):
    """Maximum over ``axis``; ties share the gradient evenly (as torch.amax)."""
    return _extreme(np.max, a, axis, keepdims)


@primitive("min")
def reduce_min(a, axis=None, keepdims=False):
    """Minimum over ``axis``; ties share the gradient evenly (as torch.amin)."""
    return _extreme(np.min, a, axis, keepdims)


# ------------------------------------------------------------------------------ shapes
@primitive("reshape", keep_dtype=(0,))
def reshape(a, shape=None):
    """Same data, new shape."""
    return a.reshape(shape), lambda g, needs: (g.reshape(a.shape),)


@primitive("transpose", keep_dtype=(0,))
def transpose(a, axes=None):
    """Permute axes (NumPy's meaning: no axes reverses them, negative axes count back)."""
    if axes is None:
        inverse = None
    else:
        axes = normalize_axis_tuple(axes, a.ndim)  # negative axes, before inverting
        inverse = tuple(np.argsort(axes))
    return np.transpose(a, axes), lambda g, needs: (np.transpose(g, inverse),)


@primitive("getitem", keep_dtype=(0,))
def getitem(a, index=None):
    """``a[index]``; the gradient is scattered back (repeated indices accumulate)."""
    def backward(g, needs):
        full = np.zeros(a.shape, dtype=g.dtype)
        np.add.at(full, index, g)
        return (full,)

    return a[index], backward



# --------------------------------------------------------------- NumPy called on Tensors
# Ufuncs: ``np.maximum(0, t)``, ``ndarray + t``, ``np.exp(t)`` run these primitives.
_UFUNCS = {
    np.add: add, np.subtract: subtract, np.multiply: multiply, np.true_divide: divide,
    np.divide: divide, np.power: power, np.matmul: matmul, np.negative: negative,
    np.exp: exp, np.log: log, np.sqrt: sqrt, np.absolute: absolute, np.maximum: maximum,
    np.minimum: minimum,
}

# Ufuncs whose result carries no gradient anyway (tests and signs): plain arrays come back.
_NON_DIFFERENTIABLE_UFUNCS = {
    np.greater, np.greater_equal, np.less, np.less_equal, np.equal, np.not_equal,
    np.isfinite, np.isnan, np.isinf, np.sign, np.signbit, np.logical_and, np.logical_or,
}


def register_ufunc(ufunc: np.ufunc, op) -> None:
    """Make ``ufunc(t)`` on a Tensor run the primitive ``op`` (so it stays differentiable).

    For primitives defined outside this module, e.g. ``register_ufunc(np.tanh, tanh)``.
    """
    if not isinstance(ufunc, np.ufunc):
        raise TypeError(f"register_ufunc: expected a NumPy ufunc, got {ufunc!r}")
    if not callable(getattr(op, "rule", None)):
        raise TypeError(f"register_ufunc: {op!r} is not a primitive (see lw.autodiff.primitive)")
    _UFUNCS[ufunc] = op


def array_ufunc(self, ufunc, method, *inputs, **kwargs):
    """``Tensor.__array_ufunc__``: route a ufunc to its primitive; refuse one without a rule
    on a tensor that needs gradients (it would cut the graph)."""
    op = _UFUNCS.get(ufunc)
    if method == "__call__" and op is not None and not kwargs:
        return op(*inputs)
    Tensor = _tensor.Tensor
    tracked = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    if tracked and is_grad_enabled() and ufunc not in _NON_DIFFERENTIABLE_UFUNCS:
        raise TypeError(
            f"np.{ufunc.__name__} is not differentiable in layerwise (it would cut the graph); "
            f"use an lw.functional op, or call it on t.data / inside lw.no_grad()"
        )
    arrays = [x.data if isinstance(x, Tensor) else x for x in inputs]
    return getattr(ufunc, method)(*arrays, **kwargs)


def _numpy_only_none(function, **kwargs):
    given = [k for k, v in kwargs.items() if v is not None]
    if given:
        raise TypeError(f"np.{function} on a Tensor does not support {', '.join(given)}=")


# Functions that are not ufuncs (np.dot, np.sum, np.reshape, ...): the chapter's own code
# calls them, so on Tensors they run the differentiable primitives.
def _np_dot(a, b, out=None):
    _numpy_only_none("dot", out=out)
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return multiply(a, b)
    if np.ndim(a) > 2 or np.ndim(b) > 2:
        raise TypeError("np.dot on Tensors of more than 2 dimensions: use @ (np.matmul)")
    return matmul(a, b)


def _np_reduction(op, name):
    def reduction(a, axis=None, *args, keepdims=False, out=None, dtype=None, **extra):
        if args:
            raise TypeError(f"np.{name} on a Tensor: pass axis and keepdims by keyword")
        _numpy_only_none(name, out=out, dtype=dtype, **extra)
        return op(a, axis=axis, keepdims=keepdims)

    return reduction


def _np_reshape(a, shape=None, order="C", *, newshape=None, copy=None):
    if order != "C":
        raise TypeError("np.reshape on a Tensor supports only order='C'")
    return reshape(a, shape=tuple(np.atleast_1d(shape if shape is not None else newshape)))


def _np_clip(a, a_min=None, a_max=None, out=None, **bounds):
    _numpy_only_none("clip", out=out)
    return clip(a, lo=bounds.get("min", a_min), hi=bounds.get("max", a_max))


_FUNCTIONS = {
    np.dot: _np_dot,
    np.sum: _np_reduction(reduce_sum, "sum"),
    np.mean: _np_reduction(mean, "mean"),
    np.max: _np_reduction(reduce_max, "max"),
    np.amax: _np_reduction(reduce_max, "amax"),
    np.min: _np_reduction(reduce_min, "min"),
    np.amin: _np_reduction(reduce_min, "amin"),
    np.reshape: _np_reshape,
    np.transpose: lambda a, axes=None: transpose(a, axes=None if axes is None else tuple(axes)),
    np.clip: _np_clip,
}

# Functions whose results carry no gradient (indices, tests, shapes): plain arrays come back.
_NON_DIFFERENTIABLE_FUNCTIONS = {
    np.argmax, np.argmin, np.argsort, np.shape, np.ndim, np.size, np.allclose, np.isclose,
    np.array_equal, np.array_equiv, np.zeros_like, np.ones_like, np.empty_like, np.full_like,
    np.count_nonzero, np.nonzero, np.any, np.all, np.unique, np.result_type, np.can_cast,
    np.array2string, np.array_repr, np.array_str, np.copyto, np.may_share_memory,
    np.shares_memory, np.iscomplexobj, np.isrealobj, np.round, np.around,
}


def _unwrap(value):
    if isinstance(value, _tensor.Tensor):
        return value.data
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap(v) for v in value)
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    return value


def _tracked(value) -> bool:
    if isinstance(value, _tensor.Tensor):
        return value.requires_grad
    if isinstance(value, (list, tuple)):
        return any(_tracked(v) for v in value)
    if isinstance(value, dict):
        return any(_tracked(v) for v in value.values())
    return False


def array_function(self, func, types, args, kwargs):
    """``Tensor.__array_function__``: route ``np.dot(X, W)``, ``np.sum(t, axis=1)`` etc. to
    the primitives; refuse a NumPy function that would silently cut the graph of a tensor
    that needs gradients."""
    handler = _FUNCTIONS.get(func)
    if handler is not None:
        return handler(*args, **kwargs)
    if (func not in _NON_DIFFERENTIABLE_FUNCTIONS and is_grad_enabled()
            and (_tracked(args) or _tracked(kwargs))):
        raise TypeError(
            f"np.{func.__name__} is not differentiable in layerwise (it would cut the graph); "
            f"use a Tensor method or lw.functional op, or call it on t.data / inside lw.no_grad()"
        )
    return func(*_unwrap(args), **_unwrap(kwargs))


# The old names of the renamed ops, kept one release for code that used them.
_RENAMED = {"sum": "reduce_sum", "max": "reduce_max", "abs": "absolute"}


def __getattr__(name):
    if name in _RENAMED:
        warnings.warn(f"layerwise.autodiff.ops.{name} is deprecated: use ops.{_RENAMED[name]}",
                      DeprecationWarning, stacklevel=2)
        return globals()[_RENAMED[name]]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
