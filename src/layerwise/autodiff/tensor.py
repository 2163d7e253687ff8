"""``Tensor``: an ndarray with an optional place in a define-by-run autodiff graph.

Every operation on Tensors is a *primitive* (see ``ops.py`` and ``functional/``): a NumPy
forward and its vector-Jacobian product side by side, registered under the name that
``lw.graph`` draws. A primitive called on inputs that need gradients (and outside
``no_grad``) returns a node that remembers its op name, its parents and its backward
closure; otherwise it returns a plain leaf Tensor and keeps no references at all.

``backward()`` walks that graph once in reverse topological order, undoing broadcasting
with ``sum_to_shape`` and accumulating into ``.grad`` of the leaves. The graph is freed
afterwards (``retain_graph=True`` keeps it), as in PyTorch.
"""

from __future__ import annotations

import functools

import numpy as np

from ..dtypes import get_default_dtype

__all__ = ["Tensor", "enable_grad", "is_grad_enabled", "no_grad", "primitive", "sum_to_shape"]


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
    """Undo NumPy broadcasting: sum ``grad`` down to ``shape`` (the one place this is done)."""
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    if lead > 0:
        grad = grad.sum(axis=tuple(range(lead)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


_FREED = object()  # marks a node whose graph was released by backward()
_new = object.__new__


def _float_array(value, dtype=None):
    """Turn Python data into an ndarray; Python floats become the default dtype (as torch)."""
    if isinstance(value, np.ndarray):
        return value if dtype is None else value.astype(dtype, copy=False)
    arr = np.asarray(value, dtype=dtype)
    if dtype is None and arr.dtype == np.float64 and not isinstance(value, np.generic):
        arr = arr.astype(get_default_dtype())
    return arr


class Tensor:
    """An ndarray that can record the operations made on it and differentiate through them.

    Args:
        data: array-like. Python floats become the default dtype (float32); ndarrays keep theirs.
        requires_grad: whether ``backward()`` should fill ``.grad`` for this leaf.
        dtype: optional dtype to convert ``data`` to.

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
        "_parents",
        "data",
        "grad",
        "name",
        "op",
        "requires_grad",
    )
    # Makes NumPy call our __array_ufunc__ / reflected operators, so ``ndarray @ t`` is a Tensor.
    __array_priority__ = 1000.0

    def __init__(self, data, requires_grad: bool = False, dtype=None, name: str | None = None):
        if isinstance(data, Tensor):
            data = data.data
        self.data = _float_array(data, dtype)
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(f"only floating tensors can require gradients, got {self.data.dtype}")
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self.op = None
        self._parents = ()
        self._backward = None
        self.name = name

    @staticmethod
    def _wrap(data, op=None, parents=(), backward=None):
        """Fast constructor used by primitives: no conversion, no checks."""
        t = _new(Tensor)
        t.data = data
        t.grad = None
        t.requires_grad = backward is not None
        t.op = op
        t._parents = parents
        t._backward = backward
        t.name = None
        return t

    # ----------------------------------------------------------------- array-like basics
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def is_leaf(self) -> bool:
        return self._backward is None

    @property
    def parents(self) -> tuple:
        """The Tensors this one was computed from (empty for leaves and freed nodes)."""
        return self._parents

    def numpy(self) -> np.ndarray:
        """The underlying ndarray (shared, not copied)."""
        return self.data

    def item(self):
        """The value of a one-element tensor as a Python number."""
        return self.data.item()

    def detach(self) -> Tensor:
        """A leaf sharing this tensor's data, outside any graph."""
        return Tensor._wrap(self.data)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (``.grad = None``)."""
        self.grad = None

    def __array__(self, dtype=None, copy=None):
        if dtype is not None and dtype != self.data.dtype:
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def __len__(self) -> int:
        return len(self.data)

    def __float__(self) -> float:
        return float(self.item())  # item(): any one-element shape, as torch (NumPy 2 refuses)

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        return bool(self.data)

    def __format__(self, spec: str) -> str:
        if spec and self.data.size == 1:
            return format(self.data.item(), spec)
        return format(str(self), spec)

    def __str__(self) -> str:
        return str(self.data)

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        extras = []
        if self.data.dtype != get_default_dtype():
            extras.append(f"dtype={self.data.dtype}")
        if self.op is not None:
            extras.append(f"op={self.op}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return f"Tensor({body}{''.join(', ' + e for e in extras)})"

    __hash__ = object.__hash__

    # comparisons give plain boolean arrays, as SPEC says
    def __eq__(self, other):
        return self.data == _data(other)

    def __ne__(self, other):
        return self.data != _data(other)

    def __lt__(self, other):
        return self.data < _data(other)

    def __le__(self, other):
        return self.data <= _data(other)

    def __gt__(self, other):
        return self.data > _data(other)

    def __ge__(self, other):
        return self.data >= _data(other)

    # ------------------------------------------------------------------------ autodiff
    def backward(self, grad=None, retain_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

        Args:
            grad: the upstream gradient, shaped like ``self``; optional for one-element tensors.
            retain_graph: keep the graph so that ``backward`` can run through it again.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward() called on a tensor that does not require grad: no input of the "
                "computation had requires_grad=True (or it ran under lw.no_grad())"
            )
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward() needs a `grad` argument for a non-scalar tensor of shape "
                    f"{self.data.shape}; reduce it first (e.g. .sum() or .mean())"
                )
            grad = np.empty_like(self.data)
            grad.fill(1)  # np.ones_like, without its Python-level wrapper
        else:
            grad = np.array(_data(grad), dtype=self.data.dtype, copy=True)
            if grad.shape != self.data.shape:
                raise ValueError(
                    f"backward(grad): grad has shape {grad.shape}, tensor has {self.data.shape}"
                )

        if self._backward is None:  # a leaf: nothing to walk
            self.grad = grad if self.grad is None else self.grad + grad
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
            parents = node._parents
            needs = tuple([p.requires_grad for p in parents])
            for p, need, pg in zip(parents, needs, backward(g, needs)):
                if pg is None or not need:
                    continue
                pdata = p.data
                if pg.shape != pdata.shape:
                    pg = sum_to_shape(pg, pdata.shape)
                if pg.dtype is not pdata.dtype and pg.dtype != pdata.dtype:
                    pg = pg.astype(pdata.dtype)
                if p._backward is not None:
                    prev = get(p)
                    grads[p] = pg if prev is None else prev + pg
                elif p.grad is None:  # a leaf
                    # .grad must own its memory (optimisers may work in place): copy a view
                    # (e.g. a read-only broadcast) or an array already given to another leaf
                    if pg.base is not None or id(pg) in handed_out:
                        pg = pg.copy()
                    handed_out.add(id(pg))
                    p.grad = pg
                else:
                    p.grad = p.grad + pg
            if not retain_graph:
                node._backward = _FREED
                node._parents = ()

    # Arithmetic operators, methods (sum, mean, exp, ...) and __array_ufunc__ are attached
    # in ops.py, next to the primitives they call.


def _data(x):
    return x.data if isinstance(x, Tensor) else x


def _topological_order(root: Tensor) -> list:
    """The op nodes that need gradients, each before the nodes it was computed from.

    Iterative depth-first search, so deep graphs are fine; leaves are left out.
    """
    order, seen = [], {root}
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


def primitive(name: str):
    """Register a differentiable operation: NumPy forward and its vector-Jacobian product.

    The decorated function receives ndarrays for its positional operands (Tensors unwrapped,
    Python numbers turned into arrays of the operands' floating dtype) and keyword arguments
    as given. It returns ``(out, backward)`` where ``backward(g, needs)`` returns one gradient
    per operand (``None`` where ``needs[i]`` is False or the operand is not differentiable),
    each either shaped like the operand or broadcastable to it.

    The resulting function accepts Tensors, ndarrays and numbers, and returns a Tensor; its
    ``rule`` attribute is the undecorated NumPy rule, for graph-free fast paths.
    """

    def decorate(forward):
        @functools.wraps(forward)
        def op(*operands, **kwargs):
            # the hot path of every operation: one pass over the operands, no conversions
            # unless an operand is a Python number or list
            arrays = []
            track = convert = False
            tensors = True  # every operand a Tensor: they are the node's parents as they are
            for x in operands:
                if isinstance(x, Tensor):
                    arrays.append(x.data)
                    if x.requires_grad:
                        track = True
                else:
                    arrays.append(x)
                    tensors = False
                    if x is not None and not isinstance(x, np.ndarray):
                        convert = True
            if convert:
                arrays = _constants(operands, arrays)
            out, backward = forward(*arrays, **kwargs)
            if type(out) is not np.ndarray:  # full reductions give NumPy scalars; keep ndarrays
                out = np.asarray(out)
            if not (track and _GradMode.enabled):
                return _wrap(out)
            parents = operands if tensors else tuple([
                x if isinstance(x, Tensor) else (ABSENT if a is None else _wrap(a))
                for x, a in zip(operands, arrays)
            ])
            return _wrap(out, name, parents, backward)

        op.op_name = name
        op.rule = forward
        PRIMITIVES[name] = op
        return op

    return decorate


def _constants(operands, arrays):
    """Turn the non-array operands into arrays, floats in the first floating Tensor's dtype."""
    ref_dtype = next((x.data.dtype for x in operands
                      if isinstance(x, Tensor) and x.data.dtype.kind == "f"), None)
    return [a if a is None or isinstance(a, np.ndarray) else _constant(a, ref_dtype)
            for a in arrays]


def _constant(x, ref_dtype):
    """A non-Tensor operand as an ndarray; Python floats take the tensors' floating dtype."""
    if isinstance(x, (bool, int, float)) and not isinstance(x, np.generic):
        if ref_dtype is not None:
            return np.asarray(x, dtype=ref_dtype)
        return _float_array(x)
    return _float_array(x)  # lists of Python floats take the default dtype, as Tensor(...) does


_wrap = Tensor._wrap

ABSENT = _wrap(np.empty(0))
"""Stands in the graph for an optional operand passed as None (e.g. ``linear`` without bias)."""

PRIMITIVES: dict = {}
"""Every registered primitive by op name (what ``lw.graph`` draws)."""
