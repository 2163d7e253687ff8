"""``Tensor``: an ndarray with an optional place in a define-by-run autodiff graph.

Every operation on Tensors is a *primitive* (see ``ops.py`` and ``functional/``): a NumPy
forward and its vector-Jacobian product side by side, registered under the name that
``lw.graph`` draws. A primitive called on inputs that need gradients (and outside
``no_grad``) returns a node that remembers its op name, its parents and its backward
closure; otherwise it returns a plain leaf Tensor and keeps no references at all.
Primitives run back to back as one node are declared with ``fuse`` and keep their parts.

``backward()`` walks that graph once in reverse topological order, undoing broadcasting
with ``sum_to_shape`` and accumulating into ``.grad`` of the leaves. The graph is freed
afterwards (``retain_graph=True`` keeps it), as in PyTorch.

This module is the one place the Tensor is put together: the class below carries every
operator, method and NumPy hook, bound to the primitives of ``ops.py``.
"""

from __future__ import annotations

import functools
import operator
import sys

import numpy as np

from ..dtypes import get_default_dtype

__all__ = [
    "FUSED",
    "PRIMITIVES",
    "Tensor",
    "enable_grad",
    "fuse",
    "is_grad_enabled",
    "no_grad",
    "primitive",
    "sum_to_shape",
]


class _GradMode:
    enabled = True


def is_grad_enabled() -> bool:
    """True unless inside ``with lw.no_grad():``."""
    return _GradMode.enabled


class no_grad:
    """Context manager (and decorator) that builds no graph and keeps no references.

    >>> import layerwise as lw
    >>> w = lw.Tensor([1.0, 2.0], requires_grad=True)
    >>> with lw.no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False
    """

    __slots__ = ("_prev",)
    _enabled = False

    def __enter__(self):
        self._prev = _GradMode.enabled
        _GradMode.enabled = self._enabled

    def __exit__(self, exc_type, exc, traceback):
        _GradMode.enabled = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)

        return wrapper


class enable_grad(no_grad):
    """Context manager that turns graph building back on inside ``no_grad``."""

    __slots__ = ()
    _enabled = True


def sum_to_shape(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Undo NumPy broadcasting: sum ``grad`` down to ``shape`` (the one place this is done).

    ``grad`` must have been broadcast from ``shape``: leading axes are summed away, and axes
    where ``shape`` has 1 are summed with keepdims. Anything else is a bug in a backward rule
    and raises ``ValueError`` (a reshape here would hide a wrong gradient).

    >>> import numpy as np
    >>> sum_to_shape(np.ones((2, 3, 4)), (3, 1))
    array([[8.],
           [8.],
           [8.]])
    """
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    if lead > 0:
        grad = grad.sum(axis=tuple(range(lead)))
    elif lead < 0:  # a rule's gradient broadcastable to its operand (e.g. a reduction's)
        grad = grad.reshape((1,) * -lead + grad.shape)
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    if grad.shape != shape:
        if all(g in (1, n) for g, n in zip(grad.shape, shape)):
            return np.broadcast_to(grad, shape)
        raise ValueError(f"sum_to_shape: a gradient of shape {grad.shape} does not reduce to an "
                         f"operand of shape {shape} (a backward rule returned a wrong shape)")
    return grad


# ------------------------------------------------------------------------------ versions
# A clock of in-place writes. Every tensor records the tick of its creation or of its last
# in-place write (``_version``); a node made at tick C can trust its saved inputs as long as
# none of them carries a later tick. Backward compares one integer per node when nothing was
# written since (the usual case), and looks closer only when something was.
_clock = 0


def _set_data(t, value):
    global _clock
    if value is t._data:  # ``t.data += 1`` and friends: the same array, changed in place
        _clock += 1
        t._version = _clock
        backward = t._backward
        if backward is not None and backward is not _FREED:
            t._backward = _modified_output(t)
    else:  # a new array: what the graph saved stays as it was
        t._data = value if type(value) is np.ndarray else np.asarray(value)


def _modified_output(t):
    def backward(g, needs):
        raise RuntimeError(
            f"{_describe(t)}, the output of op {t.op!r}, was modified in place after the "
            f"forward pass (t.data += ...); its gradient would be wrong. Modify a copy, or "
            f"run backward() first")

    return backward


def _describe(t) -> str:
    name = f" {t.name!r}" if t.name else ""
    return f"tensor{name} of shape {t._data.shape} and dtype {t._data.dtype}"


def _check_versions(node):
    """Raise if an input that ``node`` saved for backward was modified in place since."""
    made = node._version
    for i, p in enumerate(node._parents):
        if p._version > made:
            raise RuntimeError(
                f"{_describe(p)}, input {i} of op {node.op!r}, was modified in place after "
                f"the forward pass (t.data += ...); the gradient would be wrong. Modify a copy "
                f"(t.data = t.data + ...), or run backward() before changing it")


# ------------------------------------------------------------------------ dtype promotion
def _float_array(value, dtype=None):
    """Turn Python data into an ndarray; Python floats become the default dtype (as torch)."""
    if isinstance(value, np.ndarray):
        return value if dtype is None else value.astype(dtype, copy=False)
    arr = np.asarray(value, dtype=dtype)
    if dtype is None and arr.dtype == np.float64 and not isinstance(value, np.generic):
        arr = arr.astype(get_default_dtype())
    return arr


def _coerce(operands, arrays, keep):
    """The slow path of an op's operands: numbers and lists become arrays, and integer or
    bool operands become floating (the floating operands' dtype, else the default dtype),
    except at the positions ``keep`` (class labels, indices, data only moved)."""
    ref = next((a.dtype for a in arrays if isinstance(a, np.ndarray) and a.dtype.kind == "f"),
               None)
    out = []
    for i, (x, a) in enumerate(zip(operands, arrays)):
        if a is not None and not isinstance(a, np.ndarray):
            if isinstance(x, (bool, int, float)) and ref is not None and i not in keep:
                a = np.asarray(x, dtype=ref)
            else:
                a = _float_array(a)
        if a is not None and a.dtype.kind in "biu" and i not in keep:
            a = a.astype(ref or get_default_dtype())
        out.append(a)
    return out


# ----------------------------------------------------------------------------- primitives
class RECORDING:
    """Where primitive calls are reported while ``lw.compile`` records a module's forward
    pass (see ``layerwise.replay``); ``on`` is False otherwise, one attribute read per op."""

    on = False

    @staticmethod
    def note(op, operands, arrays, kwargs, out) -> None:  # replaced while recording
        """Called after every primitive with its operands, their arrays and its output."""


PRIMITIVES: dict = {}
"""Every registered primitive by op name (what ``lw.graph`` draws)."""

FUSED: dict = {}
"""Every fused op (see ``fuse``) by op name, e.g. ``"linear+relu"``."""


def _make_op(name, forward, keep=()):
    """The function users call: unwraps operands, runs ``forward``, records a node if needed."""

    def op(*operands, **kwargs):
        # the hot path of every operation: one pass over the operands, no conversions unless
        # an operand is a Python number or list, or holds integers
        arrays = []
        track = convert = False
        tensors = True  # every operand a Tensor: they are the node's parents as they are
        for x in operands:
            if isinstance(x, Tensor):
                a = x._data
                if x.requires_grad:  # floating by construction: nothing to check
                    track = True
                    arrays.append(a)
                    continue
            else:
                tensors = False
                if not isinstance(x, np.ndarray):
                    if x is not None:
                        convert = True
                    arrays.append(x)
                    continue
                a = x
            if a.dtype.kind != "f" and len(arrays) not in keep:  # len: this operand's index
                convert = True
            arrays.append(a)
        if convert:
            arrays = _coerce(operands, arrays, keep)
        out, backward = forward(*arrays, **kwargs)
        if type(out) is not np.ndarray:  # full reductions give NumPy scalars; keep ndarrays
            out = np.asarray(out)
        if not (track and _GradMode.enabled):
            t = _wrap(out)
        else:  # the node: Tensor._wrap written out, as this runs for every recorded operation
            t = _new(Tensor)
            t._data = out
            t._version = _clock
            t.grad = None
            t.requires_grad = True
            t.op = name
            t._parents = operands if tensors else tuple([
                x if isinstance(x, Tensor) else (ABSENT if a is None else _wrap(a))
                for x, a in zip(operands, arrays)
            ])
            t._backward = backward
            t.name = None
        if RECORDING.on:
            RECORDING.note(op, operands, arrays, kwargs, t)
        return t

    op.op_name = name
    op.rule = forward
    op.keep_dtype = keep
    return op


def primitive(name: str, keep_dtype: tuple = ()):
    """Register a differentiable operation: NumPy forward and its vector-Jacobian product.

    The decorated function receives ndarrays for its positional operands (Tensors unwrapped,
    Python numbers turned into arrays of the operands' floating dtype, integer and bool arrays
    promoted to the operands' floating dtype or else the default dtype) and keyword arguments
    as given. It returns ``(out, backward)`` where ``backward(g, needs)`` returns one gradient
    per operand (``None`` where ``needs[i]`` is False or the operand is not differentiable),
    each either shaped like the operand or broadcastable to it.

    Args:
        name: the op name ``lw.graph`` draws and ``PRIMITIVES`` lists.
        keep_dtype: positions of operands whose integer dtype is kept (class labels,
            operands that are only moved, never computed with).

    The resulting function accepts Tensors, ndarrays and numbers, and returns a Tensor; its
    ``rule`` attribute is the undecorated NumPy rule, for graph-free fast paths.
    """

    def decorate(forward):
        op = functools.wraps(forward)(_make_op(name, forward, tuple(keep_dtype)))
        PRIMITIVES[name] = op
        return op

    return decorate


_NEEDS_ONE = (True,)


def fuse(first, *rest):
    """Declare primitives run back to back as ONE graph node; returns the fused op.

    ``first`` takes the operands; each later part (an activation: one array in, one of the
    same shape out) takes the previous result. The fused op computes exactly what the parts
    compute one after another (their own NumPy rules, in order) and backward chains their
    vector-Jacobian products in reverse; but it costs one node to build and to walk, which
    is most of a small network's training step. ``lw.graph`` draws it as its ``.parts``.

    The same parts give the same op (``fuse(linear, relu) is fuse(linear, relu)``), named by
    joining the parts' names with ``+`` and listed in ``FUSED``. Called with
    ``intermediates=[]`` it appends each part's output but the last (e.g. a layer's Z).

    >>> import numpy as np, layerwise as lw
    >>> op = lw.autodiff.fuse(lw.autodiff.ops.exp, lw.F.relu)
    >>> op.op_name, [p.op_name for p in op.parts]
    ('exp+relu', ['exp', 'relu'])
    >>> op(np.array([0.0])).data
    array([1.])
    """
    if not rest:
        raise ValueError(f"fuse: needs at least two primitives, got {first!r} alone")
    parts = (first, *rest)
    name = "+".join(p.op_name for p in parts)
    fused = FUSED.get(name)
    if fused is not None and fused.parts == parts:
        return fused
    forward = first.rule
    for i, part in enumerate(rest):
        forward = _then(forward, part.rule, records=i > 0)
    fused = _make_op(name, forward, getattr(first, "keep_dtype", ()))
    fused.parts = parts
    fused.__doc__ = f"{' then '.join(p.op_name for p in parts)}, as one graph node."
    FUSED[name] = fused
    return fused


def _then(inner, outer, records):
    """The rule of ``outer`` applied to the result of the rule ``inner``: forwards in order,
    backwards chained in reverse (``records``: ``inner`` is itself a chain that records)."""

    def forward(*arrays, intermediates=None):
        if records:
            z, inner_backward = inner(*arrays, intermediates=intermediates)
        else:
            z, inner_backward = inner(*arrays)
        if intermediates is not None:
            intermediates.append(z)
        out, outer_backward = outer(z)

        def backward(g, needs):
            return inner_backward(outer_backward(g, _NEEDS_ONE)[0], needs)

        return out, backward

    return forward


_FREED = object()  # marks a node whose graph was released by backward()
_ONES: dict = {}  # (shape, dtype) -> a read-only array of ones: the seed of backward()
_new = object.__new__


# --------------------------------------------------------------- ops (need primitive())
# here, not at the top: ops.py needs primitive() above, and the class below needs ops
from . import ops as _ops


def _reduction_method(op, doc):
    def method(self, axis=None, keepdims=False):
        return op(self, axis=axis, keepdims=keepdims)

    method.__doc__ = doc
    return method


def _activation(name):
    # Activations are primitives of lw.functional (a floor above this one): found by op name.
    return PRIMITIVES[name]


class Tensor:
    """An ndarray that can record the operations made on it and differentiate through them.

    Args:
        data: array-like. Python floats become the default dtype (float32); ndarrays keep theirs.
        requires_grad: whether ``backward()`` should fill ``.grad`` for this leaf.
        dtype: optional dtype to convert ``data`` to.
        name: optional name, shown in graphs and error messages.

    Operators (``+ - * / @ ** -``, also with an ndarray or a number on the left) and NumPy's
    ufuncs and functions on Tensors run the differentiable primitives of ``ops.py``; a NumPy
    function without a rule raises ``TypeError`` on a tensor that needs gradients instead of
    silently dropping the graph. Integer and bool operands compute in the default float dtype.

    >>> import layerwise as lw
    >>> x = lw.Tensor([[1.0, 2.0]], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> x.grad
    array([[2., 4.]], dtype=float32)
    """

    __slots__ = (
        "__weakref__",
        "_backward",
        "_data",
        "_parents",
        "_version",
        "grad",
        "name",
        "op",
        "requires_grad",
    )
    # Makes NumPy call our __array_ufunc__ / reflected operators, so ``ndarray @ t`` is a Tensor.
    __array_priority__ = 1000.0

    def __init__(self, data, requires_grad: bool = False, dtype=None, name: str | None = None):
        if isinstance(data, Tensor):
            data = data._data
        self._data: np.ndarray = _float_array(data, dtype)
        if requires_grad and self._data.dtype.kind != "f":
            raise TypeError(f"only floating tensors can require gradients, got {self._data.dtype}")
        self._version = _clock
        self.grad: np.ndarray | None = None
        self.requires_grad = bool(requires_grad)
        self.op: str | None = None
        self._parents: tuple[Tensor, ...] = ()
        self._backward = None
        self.name = name

    @staticmethod
    def _wrap(data, op=None, parents=(), backward=None):
        """Fast constructor used by primitives: no conversion, no checks."""
        t = _new(Tensor)
        t._data = data
        t._version = _clock
        t.grad = None
        t.requires_grad = backward is not None
        t.op = op
        t._parents = parents
        t._backward = backward
        t.name = None
        return t

    data = property(
        operator.attrgetter("_data"), _set_data,
        doc="The values, an ndarray (shared, not copied). ``t.data = array`` replaces them; "
            "an in-place update written back (``t.data += 1``) is counted, so a backward pass "
            "that needs the old values raises ``RuntimeError`` instead of giving wrong numbers.")

    # ----------------------------------------------------------------- array-like basics
    @property
    def shape(self) -> tuple:
        return self._data.shape

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def size(self) -> int:
        return self._data.size

    @property
    def is_leaf(self) -> bool:
        return self._backward is None

    @property
    def parents(self) -> tuple:
        """The Tensors this one was computed from (empty for leaves and freed nodes)."""
        return self._parents

    def numpy(self) -> np.ndarray:
        """The underlying ndarray (shared, not copied)."""
        return self._data

    def item(self):
        """The value of a one-element tensor as a Python number."""
        return self._data.item()

    def detach(self) -> Tensor:
        """A leaf sharing this tensor's data, outside any graph."""
        return Tensor._wrap(self._data)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (``.grad = None``)."""
        self.grad = None

    def __array__(self, dtype=None, copy=None):
        if self.requires_grad and _GradMode.enabled:
            _refuse_hidden_conversion()
        if dtype is not None and dtype != self._data.dtype:
            return self._data.astype(dtype)
        return self._data.copy() if copy else self._data

    def __len__(self) -> int:
        return len(self._data)

    def __float__(self) -> float:
        return float(self.item())  # item(): any one-element shape, as torch (NumPy 2 refuses)

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        return bool(self._data)

    def __format__(self, spec: str) -> str:
        if spec and self._data.size == 1:
            return format(self._data.item(), spec)
        return format(str(self), spec)

    def __str__(self) -> str:
        return str(self._data)

    def __repr__(self) -> str:
        body = np.array2string(self._data, separator=", ", prefix="Tensor(")
        extras = []
        if self._data.dtype != get_default_dtype():
            extras.append(f"dtype={self._data.dtype}")
        if self.op is not None:
            extras.append(f"op={self.op}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return f"Tensor({body}{''.join(', ' + e for e in extras)})"

    __hash__ = object.__hash__

    # comparisons give plain boolean arrays, as SPEC says
    def __eq__(self, other):
        return self._data == _data(other)

    def __ne__(self, other):
        return self._data != _data(other)

    def __lt__(self, other):
        return self._data < _data(other)

    def __le__(self, other):
        return self._data <= _data(other)

    def __gt__(self, other):
        return self._data > _data(other)

    def __ge__(self, other):
        return self._data >= _data(other)

    # ---------------------------------------------------------------- arithmetic operators
    __add__ = _ops.add
    __sub__ = _ops.subtract
    __mul__ = _ops.multiply
    __truediv__ = _ops.divide
    __pow__ = _ops.power
    __matmul__ = _ops.matmul
    __neg__ = _ops.negative
    __abs__ = _ops.absolute

    def __radd__(self, other):
        return _ops.add(other, self)

    def __rsub__(self, other):
        return _ops.subtract(other, self)

    def __rmul__(self, other):
        return _ops.multiply(other, self)

    def __rtruediv__(self, other):
        return _ops.divide(other, self)

    def __rpow__(self, other):
        return _ops.power(other, self)

    def __rmatmul__(self, other):
        return _ops.matmul(other, self)

    def __pos__(self):
        return self

    def __getitem__(self, index):
        if isinstance(index, Tensor):
            index = index._data
        return _ops.getitem(self, index=index)

    # NumPy's ufuncs (np.exp(t), ndarray + t) and functions (np.sum(t), np.dot(X, t)):
    # differentiable where ops.py has a rule, refused on tracked tensors where it has none
    __array_ufunc__ = _ops.array_ufunc
    __array_function__ = _ops.array_function

    # ------------------------------------------------------------------------ methods
    # np.sum(t, ...), np.mean, np.max call the methods with out=None (and dtype=None) only
    # when a Tensor is not the first argument; __array_function__ handles the rest.
    sum = _reduction_method(_ops.reduce_sum, "Sum over ``axis`` (None: all; int or tuple).")
    mean = _reduction_method(_ops.mean, "Mean over ``axis`` (None: all; int or tuple).")
    max = _reduction_method(
        _ops.reduce_max, "Maximum over ``axis``; ties share the gradient (as torch.amax).")
    min = _reduction_method(
        _ops.reduce_min, "Minimum over ``axis``; ties share the gradient (as torch.amin).")
    exp = _ops.exp
    log = _ops.log
    sqrt = _ops.sqrt
    abs = _ops.absolute

    def relu(self) -> Tensor:
        """max(0, x), as ``lw.F.relu``."""
        return _activation("relu")(self)

    def sigmoid(self) -> Tensor:
        """1 / (1 + exp(-x)), as ``lw.F.sigmoid``."""
        return _activation("sigmoid")(self)

    def tanh(self) -> Tensor:
        """tanh(x), as ``lw.F.tanh``."""
        return _activation("tanh")(self)

    def softmax(self, axis: int = -1) -> Tensor:
        """exp(x) / sum(exp(x)) along ``axis``, as ``lw.F.softmax``."""
        return _activation("softmax")(self, axis=axis)

    def log_softmax(self, axis: int = -1) -> Tensor:
        """x - logsumexp(x) along ``axis``, as ``lw.F.log_softmax``."""
        return _activation("log_softmax")(self, axis=axis)

    def reshape(self, *shape) -> Tensor:
        """Same data, new shape: ``t.reshape(2, 3)`` or ``t.reshape((2, 3))``."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _ops.reshape(self, shape=shape)

    def transpose(self, *axes) -> Tensor:
        """Permute axes, NumPy's meaning: no axes reverses them; negative axes count back."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return _ops.transpose(self, axes=axes or None)

    @property
    def T(self) -> Tensor:
        """The axes reversed (``transpose()``)."""
        return _ops.transpose(self)

    def clip(self, lo=None, hi=None) -> Tensor:
        """Clamp to ``[lo, hi]`` (either may be None); the gradient passes inside."""
        return _ops.clip(self, lo=lo, hi=hi)

    def astype(self, dtype) -> Tensor:
        """This tensor in another floating dtype (itself when the dtype is already that)."""
        dtype = np.dtype(dtype)
        return self if dtype == self._data.dtype else _ops.astype(self, dtype=dtype)

    # ------------------------------------------------------------------------ autodiff
    def backward(self, grad=None, retain_graph: bool = False) -> None:  # noqa: C901 - the hot loop of every step, one frame on purpose
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

        Args:
            grad: the upstream gradient, shaped like ``self``; optional for one-element tensors.
            retain_graph: keep the graph so that ``backward`` can run through it again.

        Raises ``RuntimeError`` if a tensor the graph saved was modified in place since.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward() called on a tensor that does not require grad: no input of the "
                "computation had requires_grad=True (or it ran under lw.no_grad())"
            )
        data = self._data
        if grad is None:
            if data.size != 1:
                raise RuntimeError(
                    f"backward() needs a `grad` argument for a non-scalar tensor of shape "
                    f"{data.shape}; reduce it first (e.g. .sum() or .mean())"
                )
            grad = _ONES.get((data.shape, data.dtype))
            if grad is None:  # one read-only 1 per shape and dtype (rules never write into g)
                grad = np.ones_like(data)
                grad.flags.writeable = False
                _ONES[data.shape, data.dtype] = grad
        else:
            # not copied (a 2 MiB copy is a fifth of a LayerNorm's backward): a read-only view,
            # so no rule can change the caller's array; a leaf's .grad gets a copy below
            grad = np.asarray(_data(grad), dtype=data.dtype).view()
            grad.flags.writeable = False
            if grad.shape != data.shape:
                raise ValueError(
                    f"backward(grad): grad has shape {grad.shape}, tensor has {data.shape}"
                )

        if self._backward is None:  # a leaf: nothing to walk
            self.grad = grad.copy() if self.grad is None else self.grad + grad
            return
        # Only op nodes are ordered and queued (keyed by the node: Tensor hashes by identity);
        # a leaf takes its gradient as soon as one arrives.
        grads = {self: grad}
        pop, get = grads.pop, grads.get
        handed_out = set()  # ids of arrays already stored in some .grad (avoid aliasing)
        for node in _topological_order(self):
            g = pop(node, None)
            if g is None:
                continue
            backward = node._backward
            if backward is _FREED:
                raise RuntimeError(
                    f"trying to backward through the graph a second time (op {node.op!r}); "
                    "pass retain_graph=True to the first backward() call"
                )
            if node._version != _clock:  # something was written since this node was made
                _check_versions(node)
            parents = node._parents
            needs = tuple(map(_requires_grad, parents))
            for p, need, pg in zip(parents, needs, backward(g, needs)):
                if pg is None or not need:
                    continue
                pdata = p._data
                if pg.shape != pdata.shape:
                    pg = sum_to_shape(pg, pdata.shape)
                if pg.dtype is not pdata.dtype and pg.dtype != pdata.dtype:
                    pg = pg.astype(pdata.dtype)
                if p._backward is not None:
                    prev = get(p)
                    grads[p] = pg if prev is None else prev + pg
                elif p.grad is None:  # a leaf
                    # .grad must own its memory (optimisers may work in place): copy a view
                    # (e.g. a broadcast), a read-only array (the seed) or one already given
                    # to another leaf
                    if pg.base is not None or id(pg) in handed_out or not pg.flags.writeable:
                        pg = pg.copy()
                    handed_out.add(id(pg))
                    p.grad = pg
                else:
                    p.grad = p.grad + pg
            if not retain_graph:
                node._backward = _FREED
                node._parents = ()


def _data(x):
    return x._data if isinstance(x, Tensor) else x


_requires_grad = operator.attrgetter("requires_grad")


def _refuse_hidden_conversion():
    """Called when a tracked Tensor turns into a plain array inside NumPy's own code.

    A Tensor passed to a NumPy function directly reaches ``__array_function__``; one inside a
    list (``np.mean([x, y])``) does not, and NumPy converts it to a plain array, silently
    dropping the graph. Seen from here, the caller's frame is NumPy's: refuse, naming the
    function. ``np.asarray(t)`` from user code (and from ``np.testing``) still works.
    """
    frame = sys._getframe(2)
    outer = None
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module != "numpy" and not module.startswith("numpy."):
            break
        if module.startswith("numpy.testing"):
            return
        outer = frame
        frame = frame.f_back
    if outer is not None:
        raise TypeError(
            f"np.{outer.f_code.co_name} on Tensors that require gradients (e.g. inside a list) "
            f"would drop the graph: it is not differentiable in layerwise; use lw ops (e.g. "
            f"stack the values with lw ops, or reduce each tensor), or call it inside "
            f"lw.no_grad() / on t.data")


def _topological_order(root: Tensor) -> list:
    """The op nodes that need gradients, each before the nodes it was computed from.

    Iterative depth-first search, so deep graphs are fine; leaves are left out.
    """
    order: list[Tensor] = []
    seen = {root}
    stack = [(root, iter(root._parents))]
    while stack:
        node, it = stack[-1]
        for p in it:
            if p._backward is not None and p not in seen:
                seen.add(p)
                stack.append((p, iter(p._parents)))
                break
        else:
            stack.pop()
            order.append(node)
    order.reverse()
    return order


_wrap = Tensor._wrap

ABSENT = _wrap(np.empty(0))
"""Stands in the graph for an optional operand passed as None (e.g. ``linear`` without bias)."""
