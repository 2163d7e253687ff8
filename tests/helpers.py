"""Test machinery shared by the suite: shape strategies, input samplers, and the comparisons.

The comparisons take a layerwise function and plain ndarrays:

- ``assert_matches_torch(lw_fn, torch_fn, *inputs)``: values and every input gradient against
  PyTorch in float64 (tolerance 1e-10), so an op's parity test is one line;
- ``assert_gradcheck(fn, *inputs)``: ``lw.gradcheck`` on the differentiable inputs only;
- ``assert_adjoint(fn, *inputs)``: the adjoint test, <u, J v> by finite differences against
  <J^T u, v> by autodiff, a whole-Jacobian check in one scalar comparison.

``grads`` (one bool per input) says which inputs are differentiable; by default every floating
input is. The others (labels, targets) are passed to the layerwise function as plain ndarrays,
as a user would pass them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import layerwise as lw
from layerwise.autodiff.tensor import Tensor

try:
    import torch

    torch.set_num_threads(1)  # the suite runs on two pytest workers on two cores
except ImportError:  # pragma: no cover - torch is a dev dependency
    torch = None

TOL = 1e-10  # float64 parity with PyTorch, for values and gradients


# ----------------------------------------------------------------------------------- shapes
@dataclass(frozen=True)
class Shapes:
    """Shapes for an op's arguments: a hypothesis strategy of tuples (one shape per argument)
    and one fixed example (for tests that need no search)."""

    strategy: st.SearchStrategy
    example: tuple


def one(min_dims=0, max_dims=3, min_side=1, max_side=4, example=(2, 3)) -> Shapes:
    """One argument of any shape."""
    shapes = hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                              max_side=max_side)
    return Shapes(shapes.map(lambda s: (s,)), (example,))


def same(n, min_dims=1, max_dims=3, max_side=4, example=(3, 4)) -> Shapes:
    """``n`` arguments of one shape (losses: y_true and y_pred)."""
    shapes = hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, max_side=max_side)
    return Shapes(shapes.map(lambda s: (s,) * n), (example,) * n)


def broadcast(n=2, max_dims=3, max_side=4) -> Shapes:
    """``n`` mutually broadcastable shapes, e.g. ``(3, 1)`` with ``(4,)``."""
    shapes = hnp.mutually_broadcastable_shapes(num_shapes=n, min_dims=0, max_dims=max_dims,
                                               max_side=max_side)
    return Shapes(shapes.map(lambda r: r.input_shapes), ((3, 1), (4,), (1, 4))[:n])


_side = st.integers(1, 4)


@st.composite
def _matmul_shapes(draw):
    n, k, m = draw(_side), draw(_side), draw(_side)
    batch_a, batch_b = draw(hnp.mutually_broadcastable_shapes(
        num_shapes=2, min_dims=0, max_dims=2, max_side=3)).input_shapes
    a = draw(st.sampled_from([(k,), batch_a + (n, k)]))
    b = draw(st.sampled_from([(k,), batch_b + (k, m)]))
    return a, b


def matmul_shapes() -> Shapes:
    """``a @ b`` operands: 1-D vectors, matrices and broadcast batches of matrices."""
    return Shapes(_matmul_shapes(), ((2, 1, 4, 3), (5, 3, 2)))


@st.composite
def _linear_shapes(draw, bias):
    n, k, m = draw(_side), draw(_side), draw(_side)
    x = draw(st.sampled_from([(n, k), (2, n, k), (k,)]))
    if not bias:
        return x, (k, m)
    return x, (k, m), draw(st.sampled_from([(1, m), (m,)]))


def linear_shapes(bias=True) -> Shapes:
    """``X (..., n_in)``, ``W (n_in, n_out)`` and ``b (1, n_out)`` or ``(n_out,)``."""
    example = ((5, 4), (4, 3), (1, 3)) if bias else ((5, 4), (4, 3))
    return Shapes(_linear_shapes(bias), example)


def classes(n=2, min_dims=1, max_dims=2) -> Shapes:
    """Class-axis-last shapes ``(..., C)``, C >= 2, for ``n`` arguments; a ``labels`` argument
    gets this shape too and draws labels of shape ``(...)`` in ``0..C-1``."""
    shapes = hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, max_side=5).filter(
        lambda s: s[-1] >= 2)
    example = (2, 3, 4)[3 - max(min_dims, 2):]
    return Shapes(shapes.map(lambda s: (s,) * n), (example,) * n)


# ------------------------------------------------------------------------------------ axes
def _signed(axes, n):
    """Each axis as itself or counted from the end (negative), drawn."""
    return st.tuples(*[st.sampled_from([a, a - n]) for a in axes])


def axis_of(shape) -> st.SearchStrategy:
    """An ``axis`` argument for ``shape``: None, one axis, or a tuple of distinct axes, each
    positive or negative. A 0-d shape takes 0 and -1, as NumPy and PyTorch accept."""
    n = len(shape)
    if n == 0:
        return st.sampled_from([None, 0, -1, (0,), (-1,)])
    tuples = st.lists(st.integers(0, n - 1), unique=True, min_size=1, max_size=n).flatmap(
        lambda axes: _signed(axes, n))
    return st.one_of(st.none(), st.integers(-n, n - 1), tuples)


def one_axis(shape) -> st.SearchStrategy:
    """A single ``axis`` for ``shape`` (softmax's), positive or negative."""
    n = len(shape)
    return st.integers(-n, n - 1) if n else st.sampled_from([0, -1])


def permutation_of(shape) -> st.SearchStrategy:
    """A permutation of ``shape``'s axes, each positive or negative (transpose's ``axes``)."""
    n = len(shape)
    return st.permutations(range(n)).flatmap(lambda p: _signed(p, n))


# ---------------------------------------------------------------------------------- inputs
@dataclass(frozen=True)
class Arg:
    """One argument: how to draw it, and whether it is differentiable."""

    kind: str = "real"
    grad: bool = True


# Edge values per kind, mixed into draws for the PyTorch comparison (not for finite
# differences, which are meaningless at a kink or an overflow): 0, +-1, large and tiny.
# Probabilities keep away from 0 and 1, where layerwise clips by epsilon and torch clamps the
# log at -100 (a documented difference).
EDGES = {
    "real": (0.0, 1.0, -1.0, 1e3, -1e3, 1e-30, -1e-30),
    "wide": (0.0, 1.0, -1.0, 1e3, -1e3, 1e-30, -1e-30),
    "positive": (1.0, 1e3, 1e-30),
    "nonzero": (1.0, -1.0, 1e3, -1e3, 1e-30, -1e-30),
}


def sample(kind: str, shape: tuple, rng: np.random.Generator, dtype=np.float64,
           edges: bool = False) -> np.ndarray:
    """Draw an input of ``kind`` away from kinks and poles (so finite differences are valid).

    Kinds: ``real`` (-2, 2), ``wide`` (-10, 10), ``positive`` (0.3, 2), ``nonzero``
    (|x| in (0.5, 2)), ``unit`` (0.05, 0.95), ``binary`` {0, 1}, ``onehot`` and ``probs``
    (rows along the last axis), ``labels`` (integers ``0..C-1`` of shape ``shape[:-1]``).
    ``edges``: about a third of the elements become the kind's edge values (``EDGES``).
    """
    if kind == "labels":
        return rng.integers(0, shape[-1], size=shape[:-1])
    if kind == "real":
        x = rng.uniform(-2, 2, shape)
    elif kind == "wide":
        x = rng.uniform(-10, 10, shape)
    elif kind == "positive":
        x = rng.uniform(0.3, 2, shape)
    elif kind == "nonzero":
        x = rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.5, 2, shape)
    elif kind == "unit":
        x = rng.uniform(0.05, 0.95, shape)
    elif kind == "binary":
        x = rng.integers(0, 2, size=shape).astype(float)
    elif kind == "onehot":
        x = np.eye(shape[-1])[rng.integers(0, shape[-1], size=shape[:-1])]
    elif kind == "probs":
        e = np.exp(rng.standard_normal(shape))
        x = e / e.sum(axis=-1, keepdims=True)
    else:
        raise ValueError(f"unknown input kind {kind!r}")
    x = np.asarray(x, dtype=np.float64)
    if edges and kind in EDGES:
        where = rng.random(shape) < 1 / 3
        x = np.where(where, rng.choice(EDGES[kind], size=shape), x)
    return np.asarray(x, dtype=dtype)


# Integer forms of the kinds (None: the kind has none: probabilities, which would be exactly
# 0 or 1, where the epsilon clipping of the probability losses depends on the dtype).
INTEGERS = {
    "real": (-2, 3), "wide": (-10, 11), "positive": (1, 4), "nonzero": "nonzero", "unit": None,
    "binary": (0, 2), "onehot": "onehot", "labels": "labels", "probs": None,
}


def sample_integers(kind: str, shape: tuple, rng: np.random.Generator,
                    as_bool: bool = False) -> np.ndarray | None:
    """An integer (or bool: 0/1 only) input of ``kind``, or None where the kind has none."""
    form = INTEGERS[kind]
    if kind == "nonzero":
        x = rng.choice([-1, 1], size=shape) * rng.integers(1, 4, size=shape)
    elif form == "onehot" or form == "labels":
        x = sample(kind, shape, rng).astype(np.int64)
    elif form is None:
        return None
    else:
        x = rng.integers(*form, size=shape)
    if as_bool:
        if kind in ("nonzero", "positive"):  # False (0) is not of the kind
            return None
        return x if kind == "labels" else x > 0
    return x


def _grads(inputs, grads):
    if grads is None:
        return tuple(np.asarray(x).dtype.kind == "f" for x in inputs)
    return tuple(grads)


def lw_inputs(inputs, grads):
    """Differentiable inputs as Tensors that require grad, the others as they are."""
    return [Tensor(x, requires_grad=True) if g else x for x, g in zip(inputs, grads)]


def upstream(shape, seed=0) -> np.ndarray:
    """A fixed random output gradient (a random direction checks the whole VJP, not a sum)."""
    return np.random.default_rng(seed).standard_normal(shape)


# ------------------------------------------------------------------------------ comparisons
def assert_matches_torch(lw_fn, torch_fn, *inputs, grads=None, tol=TOL, seed=0):
    """``lw_fn`` and ``torch_fn`` agree in value and in every input gradient (float64).

    Both are called with the same inputs (Tensors for layerwise, torch tensors for PyTorch),
    then back-propagated from the same random output gradient. Returns the layerwise output.
    """
    grads = _grads(inputs, grads)
    lw_in = lw_inputs(inputs, grads)
    t_in = [torch.tensor(np.asarray(x), requires_grad=g) for x, g in zip(inputs, grads)]

    out = lw_fn(*lw_in)
    expected = torch_fn(*t_in)
    assert isinstance(out, Tensor), f"expected a Tensor, got {type(out).__name__}"
    want = expected.detach().numpy()
    assert out.shape == want.shape, f"shape {out.shape}, torch {want.shape}"
    assert out.dtype == want.dtype, f"dtype {out.dtype}, torch {want.dtype}"
    np.testing.assert_allclose(out.data, want, rtol=tol, atol=tol, err_msg="values")

    if not any(grads):
        return out
    g = upstream(out.shape, seed)
    out.backward(g)
    expected.backward(torch.from_numpy(g))
    for i, (x, t, need) in enumerate(zip(lw_in, t_in, grads)):
        if not need:
            continue
        want = np.zeros(t.shape) if t.grad is None else t.grad.numpy()
        assert x.grad is not None, f"input {i}: no gradient"
        assert x.grad.shape == x.shape, f"input {i}: grad shape {x.grad.shape} != {x.shape}"
        assert x.grad.dtype == x.dtype, f"input {i}: grad dtype {x.grad.dtype} != {x.dtype}"
        np.testing.assert_allclose(x.grad, want, rtol=tol, atol=tol,
                                   err_msg=f"gradient of input {i}")
    return out


def _closed_over(fn, inputs, grads):
    """``fn`` as a function of its differentiable inputs only (the others held fixed)."""
    def closed(*diff):
        it = iter(diff)
        return fn(*[next(it) if g else x for x, g in zip(inputs, grads)])

    return closed, [x for x, g in zip(inputs, grads) if g]


def assert_gradcheck(fn, *inputs, grads=None):
    """``lw.gradcheck`` with respect to the differentiable inputs."""
    closed, diff = _closed_over(fn, inputs, _grads(inputs, grads))
    assert lw.gradcheck(closed, *diff)


def assert_adjoint(fn, *inputs, grads=None, seed=0, eps=1e-6, rtol=1e-6):
    """The adjoint test: <u, (f(x + eps v) - f(x - eps v)) / 2 eps> == <J^T u, v>.

    ``u`` and ``v`` are random directions; one scalar comparison checks the whole Jacobian.
    """
    closed, diff = _closed_over(fn, inputs, _grads(inputs, grads))
    rng = np.random.default_rng(seed)
    tensors = [Tensor(np.asarray(x, dtype=np.float64), requires_grad=True) for x in diff]
    out = closed(*tensors)
    u = rng.standard_normal(out.shape)
    out.backward(u)
    v = [rng.standard_normal(x.shape) for x in diff]
    analytic = sum(float(np.sum((t.grad if t.grad is not None else 0) * d))
                   for t, d in zip(tensors, v))

    def along(step):
        with lw.no_grad():
            y = closed(*[Tensor(x + step * d) for x, d in zip(diff, v)])
        return float(np.sum(y.data * u))

    numeric = (along(eps) - along(-eps)) / (2 * eps)
    scale = 1 + abs(numeric) + abs(along(0.0))
    assert abs(analytic - numeric) <= rtol * scale, (
        f"adjoint test: autodiff <J^T u, v> = {analytic!r}, finite differences {numeric!r}")


def graph_ops(t: Tensor) -> set:
    """The op names in the graph that produced ``t`` (before backward frees it)."""
    ops, stack, seen = set(), [t], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.op is not None:
            ops.add(node.op)
        stack.extend(node.parents)
    return ops
