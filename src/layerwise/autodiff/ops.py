"""The tensor primitives: each one's NumPy forward beside its vector-Jacobian product.

In each backward, ``g`` is the gradient of the final scalar with respect to this op's
output; the rule returns the gradient with respect to each operand. Broadcasting is undone
by the caller (``sum_to_shape``), so rules may return broadcast-shaped gradients.
Activations and losses live in ``layerwise.functional``; they are primitives too.
"""

from __future__ import annotations

import numpy as np

from .tensor import Tensor, is_grad_enabled, primitive

__all__ = [
    "abs",
    "add",
    "astype",
    "clip",
    "divide",
    "exp",
    "getitem",
    "log",
    "matmul",
    "max",
    "maximum",
    "mean",
    "minimum",
    "multiply",
    "negative",
    "power",
    "reshape",
    "subtract",
    "sum",
    "transpose",
]

_max = max  # the builtin, before this module's max op shadows it


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
    """a ** b;  d/da = b a^(b-1), d/db = a^b log(a)"""
    out = a**b

    def backward(g, needs):
        ga = g * b * a ** (b - 1) if needs[0] else None
        gb = None
        if needs[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                gb = g * out * np.where(a > 0, np.log(np.where(a > 0, a, 1)), 0)
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


@primitive("abs")
def abs(a):
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


@primitive("astype")
def astype(a, dtype=None):
    """Convert to another floating dtype; the gradient is converted back."""
    return a.astype(dtype), lambda g, needs: (g.astype(a.dtype),)


# --------------------------------------------------------------------------- reductions
def _expand(g, shape, axis, keepdims):
    """Reshape a reduced gradient so that it broadcasts against the input's shape."""
    if axis is None or keepdims:
        return g
    axes = (axis,) if isinstance(axis, int) else axis
    return np.expand_dims(g, tuple(ax % len(shape) for ax in axes))


def _spread(g, shape, axis, keepdims):
    """A reduced gradient broadcast back over the input's ``shape``.

    A full reduction (the usual loss mean) fills a fresh array, several times cheaper than
    ``np.broadcast_to`` on small inputs and writeable, so it can become a leaf's ``.grad``.
    """
    if axis is None and not keepdims:
        full = np.empty(shape, dtype=g.dtype)
        full.fill(g)
        return full
    return np.broadcast_to(_expand(g, shape, axis, keepdims), shape)


@primitive("sum")
def sum(a, axis=None, keepdims=False):
    """Sum over ``axis``; the gradient is broadcast back."""
    def backward(g, needs):
        return (_spread(g, a.shape, axis, keepdims),)

    return np.sum(a, axis=axis, keepdims=keepdims), backward


@primitive("mean")
def mean(a, axis=None, keepdims=False):
    """Mean over ``axis``;  d/da_i = 1/n."""
    if a.dtype.kind == "f" and a.dtype.itemsize >= 4 and a.size:
        # np.mean's own arithmetic (a float sum, then / n) without its Python-level wrapper;
        # float16 is left to np.mean, which sums it in float32
        out = np.add.reduce(a, axis=axis, keepdims=keepdims)
        n = a.size // _max(out.size, 1)
        out = out / n
    else:
        out = np.mean(a, axis=axis, keepdims=keepdims)
        n = a.size // _max(out.size, 1) if a.size else 1

    def backward(g, needs):
        return (_spread(g / n, a.shape, axis, keepdims),)

    return out, backward


@primitive("max")
def max(a, axis=None, keepdims=False):
    """Maximum over ``axis``; ties share the gradient evenly (as torch.amax)."""
    out = np.max(a, axis=axis, keepdims=keepdims)

    def backward(g, needs):
        full = _expand(out, a.shape, axis, keepdims)
        mask = (a == full).astype(g.dtype)
        mask /= np.sum(mask, axis=axis, keepdims=True)
        return (mask * _expand(g, a.shape, axis, keepdims),)

    return out, backward


# ------------------------------------------------------------------------------ shapes
@primitive("reshape")
def reshape(a, shape=None):
    """Same data, new shape."""
    return a.reshape(shape), lambda g, needs: (g.reshape(a.shape),)


@primitive("transpose")
def transpose(a, axes=None):
    """Permute axes (NumPy's meaning; no axes reverses them)."""
    inverse = None if axes is None else tuple(np.argsort(axes))
    return np.transpose(a, axes), lambda g, needs: (np.transpose(g, inverse),)


@primitive("getitem")
def getitem(a, index=None):
    """``a[index]``; the gradient is scattered back (repeated indices accumulate)."""
    def backward(g, needs):
        full = np.zeros(a.shape, dtype=g.dtype)
        np.add.at(full, index, g)
        return (full,)

    return a[index], backward


# ------------------------------------------------------- operators and methods on Tensor
def _numpy_only_none(method, **kwargs):
    given = [k for k, v in kwargs.items() if v is not None]
    if given:
        raise TypeError(f"Tensor.{method}() does not support {', '.join(given)}=")


def _method_table():
    def rsub(self, other):
        return subtract(other, self)

    def rdiv(self, other):
        return divide(other, self)

    def rpow(self, other):
        return power(other, self)

    def rmatmul(self, other):
        return matmul(other, self)

    # np.sum(t, ...), np.mean, np.max call these with out=None (and dtype=None): accept those,
    # so that the chapter's NumPy functions (its softmax) run on Tensors, differentiably.
    def tensor_sum(self, axis=None, keepdims=False, out=None, dtype=None):
        _numpy_only_none("sum", out=out, dtype=dtype)
        return sum(self, axis=axis, keepdims=keepdims)

    def tensor_mean(self, axis=None, keepdims=False, out=None, dtype=None):
        _numpy_only_none("mean", out=out, dtype=dtype)
        return mean(self, axis=axis, keepdims=keepdims)

    def tensor_max(self, axis=None, keepdims=False, out=None):
        _numpy_only_none("max", out=out)
        return max(self, axis=axis, keepdims=keepdims)

    def tensor_reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return reshape(self, shape=shape)

    def tensor_transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return transpose(self, axes=axes or None)

    def tensor_clip(self, lo=None, hi=None):
        return clip(self, lo=lo, hi=hi)

    def tensor_astype(self, dtype):
        return self if np.dtype(dtype) == self.data.dtype else astype(self, dtype=np.dtype(dtype))

    def tensor_getitem(self, index):
        if isinstance(index, Tensor):
            index = index.data
        return getitem(self, index=index)

    return {
        "__add__": add, "__radd__": lambda s, o: add(o, s),
        "__sub__": subtract, "__rsub__": rsub,
        "__mul__": multiply, "__rmul__": lambda s, o: multiply(o, s),
        "__truediv__": divide, "__rtruediv__": rdiv,
        "__pow__": power, "__rpow__": rpow,
        "__matmul__": matmul, "__rmatmul__": rmatmul,
        "__neg__": negative, "__pos__": lambda s: s, "__abs__": abs,
        "__getitem__": tensor_getitem,
        "sum": tensor_sum, "mean": tensor_mean, "max": tensor_max,
        "exp": exp, "log": log, "abs": abs,
        "reshape": tensor_reshape, "transpose": tensor_transpose,
        "clip": tensor_clip, "astype": tensor_astype,
        "T": property(lambda s: transpose(s)),
    }


for _name, _fn in _method_table().items():
    setattr(Tensor, _name, _fn)


# NumPy functions called on Tensors: differentiable where a primitive exists.
_UFUNCS = {
    np.add: add, np.subtract: subtract, np.multiply: multiply, np.true_divide: divide,
    np.divide: divide, np.power: power, np.matmul: matmul, np.negative: negative,
    np.exp: exp, np.log: log, np.absolute: abs, np.maximum: maximum, np.minimum: minimum,
}


# Ufuncs whose result carries no gradient anyway (tests and signs): plain arrays come back.
_NON_DIFFERENTIABLE_OK = {
    np.greater, np.greater_equal, np.less, np.less_equal, np.equal, np.not_equal,
    np.isfinite, np.isnan, np.isinf, np.sign, np.signbit, np.logical_and, np.logical_or,
}


def _array_ufunc(self, ufunc, method, *inputs, **kwargs):
    """Route ``np.maximum(0, t)``, ``ndarray + t`` etc. to the differentiable primitives."""
    op = _UFUNCS.get(ufunc)
    if method == "__call__" and op is not None and not kwargs:
        return op(*inputs)
    tracked = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    if tracked and is_grad_enabled() and ufunc not in _NON_DIFFERENTIABLE_OK:
        raise TypeError(
            f"np.{ufunc.__name__} is not differentiable in layerwise (it would cut the graph); "
            f"use an lw.functional op, or call it on t.data / inside lw.no_grad()"
        )
    arrays = [x.data if isinstance(x, Tensor) else x for x in inputs]
    return getattr(ufunc, method)(*arrays, **kwargs)


Tensor.__array_ufunc__ = _array_ufunc


# NumPy functions that are not ufuncs (np.dot, np.sum, np.reshape, ...): the chapter's own code
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
    np.sum: _np_reduction(sum, "sum"),
    np.mean: _np_reduction(mean, "mean"),
    np.max: _np_reduction(max, "max"),
    np.amax: _np_reduction(max, "amax"),
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
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap(v) for v in value)
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    return value


def _tracked(value) -> bool:
    if isinstance(value, Tensor):
        return value.requires_grad
    if isinstance(value, (list, tuple)):
        return any(_tracked(v) for v in value)
    if isinstance(value, dict):
        return any(_tracked(v) for v in value.values())
    return False


def _array_function(self, func, types, args, kwargs):
    """Route ``np.dot(X, W)``, ``np.sum(t, axis=1)`` etc. to the primitives; refuse a NumPy
    function that would silently cut the graph of a tensor that needs gradients."""
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


Tensor.__array_function__ = _array_function
