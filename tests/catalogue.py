"""The catalogue of ops: one row per function, checked several ways by ``test_catalogue.py``.

Each row is checked against PyTorch in float64 (values and every input gradient, 1e-10, with
a random upstream gradient), with ``lw.gradcheck`` and the adjoint test, in float32 (everything
stays float32) and on integer and bool inputs (computed in the default float dtype). Every
check draws its cases with hypothesis: shapes (0-d, 1-D, 3-D, size 1, broadcasting pairs),
the row's parameters (axes negative and in tuples, permutations), values with edge values
mixed in (0, +-1, large, tiny) for the PyTorch comparison. Adding an op adds one row; a
primitive of the core without a row fails ``test_every_primitive_has_a_row``.

A row gives the name, the layerwise function, its PyTorch twin (called with the same arguments
in the same order: losses take ``(y_true, y_pred)`` on both sides, so the torch side swaps them
into torch's ``(input, target)``), how to draw each argument and the arguments' shapes, and,
for ops with parameters, a strategy drawing them (keyword arguments of both functions).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from helpers import (
    INTEGERS,
    Arg,
    Shapes,
    axis_of,
    broadcast,
    classes,
    linear_shapes,
    matmul_shapes,
    one,
    one_axis,
    permutation_of,
    same,
    sample,
    sample_integers,
    torch,
)
from hypothesis import strategies as st

from layerwise import functional as F
from layerwise.autodiff import ops


@dataclass(frozen=True)
class Case:
    name: str
    lw: Callable
    torch: Callable
    args: tuple
    shapes: Shapes
    smooth: bool = True  # False: finite differences do not apply (e.g. rounding to float32)
    params: Callable | None = None  # shapes -> strategy of keyword arguments (e.g. axis)
    example_params: dict = field(default_factory=dict)
    # integer and bool inputs: "promote" (computed in the default float dtype), "keep" (data
    # only moved: the dtype stays), "none" (the row has no integer form)
    integers: str = "promote"

    @property
    def takes_integers(self) -> bool:
        """Whether the row has integer inputs to try (every argument has an integer form)."""
        return self.integers != "none" and all(INTEGERS[a.kind] is not None for a in self.args)

    @property
    def grads(self) -> tuple:
        return tuple(a.grad for a in self.args)

    def sample(self, shapes, seed=0, dtype=np.float64, edges=False) -> list:
        rng = np.random.default_rng(seed)
        return [sample(a.kind, s, rng, dtype, edges) for a, s in zip(self.args, shapes)]

    def draw(self, data, dtype=np.float64, edges=False) -> tuple:
        """``(inputs, kwargs)`` drawn by hypothesis: shapes and parameters from the row's
        strategies, values from a seed."""
        shapes = data.draw(self.shapes.strategy, label="shapes")
        kwargs = data.draw(self.params(shapes), label="params") if self.params else {}
        seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
        return self.sample(shapes, seed, dtype, edges), kwargs

    def draw_integers(self, data) -> tuple:
        """``(integer inputs, kwargs)``, or ``(None, kwargs)`` where an argument has no integer
        (or, when bools are drawn, no bool) form."""
        shapes = data.draw(self.shapes.strategy, label="shapes")
        kwargs = data.draw(self.params(shapes), label="params") if self.params else {}
        as_bool = data.draw(st.booleans(), label="bool")
        rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
        inputs = [sample_integers(a.kind, s, rng, as_bool) for a, s in zip(self.args, shapes)]
        return (None if any(x is None for x in inputs) else inputs), kwargs

    def example(self, dtype=np.float64) -> list:
        return self.sample(self.shapes.example, 0, dtype)

    def bind(self, kwargs) -> tuple:
        """The layerwise and torch functions with ``kwargs`` bound."""
        return functools.partial(self.lw, **kwargs), functools.partial(self.torch, **kwargs)


REAL, WIDE, POS, NONZERO, UNIT, PROBS = (
    Arg("real"), Arg("wide"), Arg("positive"), Arg("nonzero"), Arg("unit"), Arg("probs"))
# constants: targets and labels (layerwise gets them as plain ndarrays, as users pass them)
CONST, BINARY, SOFT, ONEHOT, TARGET_PROBS, LABELS = (
    Arg("real", False), Arg("binary", False), Arg("unit", False), Arg("onehot", False),
    Arg("probs", False), Arg("labels", False))
REDUCTIONS = ("mean", "sum", "none")


def losses(name, lw_loss, torch_loss, args, shapes) -> list:
    """One row per reduction; ``lw_loss`` and ``torch_loss`` take ``(y_true, y_pred, reduction)``."""
    return [Case(f"{name}[{r}]", functools.partial(lw_loss, reduction=r),
                 functools.partial(torch_loss, reduction=r), args, shapes) for r in REDUCTIONS]


def _reduce(v, reduction):
    return {"mean": v.mean, "sum": v.sum, "none": lambda: v}[reduction]()


def _torch_reversed(x):
    return x.permute(tuple(reversed(range(x.ndim))))


def _dim(x, axis):
    """layerwise's ``axis`` as torch's ``dim`` (None: every axis, spelled out)."""
    return tuple(range(x.ndim)) if axis is None else axis


def reduce_params(shapes):
    return st.fixed_dictionaries({"axis": axis_of(shapes[0]), "keepdims": st.booleans()})


def axis_params(shapes):
    return st.fixed_dictionaries({"axis": one_axis(shapes[0])})


def axes_params(shapes):
    return st.fixed_dictionaries({"axes": permutation_of(shapes[0])})


def reduction(name, lw_fn, torch_fn, kind=None) -> Case:
    """A reduction row: axis (None, an int, a tuple; negative or not) and keepdims drawn."""
    return Case(name, lw_fn, torch_fn, (kind or REAL,), one(), params=reduce_params,
                example_params={"axis": -1, "keepdims": False})


def along_axis(name, lw_fn, torch_fn, kind=None, shapes=None) -> Case:
    """A row with one drawn ``axis`` (softmax's)."""
    return Case(name, lw_fn, torch_fn, (kind or WIDE,), shapes or one(), params=axis_params,
                example_params={"axis": -1})


MIN2 = {"min_dims": 2, "min_side": 2, "example": (3, 4)}  # shape options for one(...)
ROWS = {"min_dims": 1, "example": (3, 4)}

CATALOGUE = [
    # ----------------------------------------------------------- binary, broadcasting
    Case("add", lambda a, b: a + b, lambda a, b: a + b, (REAL, REAL), broadcast()),
    Case("subtract", lambda a, b: a - b, lambda a, b: a - b, (REAL, REAL), broadcast()),
    Case("multiply", lambda a, b: a * b, lambda a, b: a * b, (REAL, REAL), broadcast()),
    Case("divide", lambda a, b: a / b, lambda a, b: a / b, (REAL, NONZERO), broadcast()),
    Case("power", lambda a, b: a**b, lambda a, b: a**b, (POS, REAL), broadcast()),
    Case("maximum", ops.maximum, torch and torch.maximum, (REAL, REAL), broadcast()),
    Case("minimum", ops.minimum, torch and torch.minimum, (REAL, REAL), broadcast()),
    Case("np.maximum(a, b)", np.maximum, torch and torch.maximum, (REAL, REAL), broadcast()),
    Case("matmul", lambda a, b: a @ b, lambda a, b: a @ b, (REAL, REAL), matmul_shapes()),
    # ndarray on the left: NumPy must defer to the Tensor
    Case("ndarray + tensor", lambda c, x: c + x, lambda c, x: c + x, (CONST, REAL), broadcast()),
    Case("ndarray * tensor", lambda c, x: c * x, lambda c, x: c * x, (CONST, REAL), broadcast()),
    Case("ndarray - tensor", lambda c, x: c - x, lambda c, x: c - x, (CONST, REAL), broadcast()),
    Case("ndarray / tensor", lambda c, x: c / x, lambda c, x: c / x, (CONST, NONZERO),
         broadcast()),
    Case("ndarray @ tensor", lambda c, x: c @ x, lambda c, x: c @ x, (CONST, REAL),
         matmul_shapes()),
    # Python numbers are constants of the tensor's dtype
    Case("x + 2.0", lambda x: x + 2.0, lambda x: x + 2.0, (REAL,), one()),
    Case("2.0 - x", lambda x: 2.0 - x, lambda x: 2.0 - x, (REAL,), one()),
    Case("3.0 * x", lambda x: 3.0 * x, lambda x: 3.0 * x, (REAL,), one()),
    Case("x / 4.0", lambda x: x / 4.0, lambda x: x / 4.0, (REAL,), one()),
    Case("1.0 / x", lambda x: 1.0 / x, lambda x: 1.0 / x, (NONZERO,), one()),
    Case("x ** 3", lambda x: x**3, lambda x: x**3, (REAL,), one()),
    Case("x ** 0.5", lambda x: x**0.5, lambda x: x**0.5, (POS,), one()),
    Case("2.0 ** x", lambda x: 2.0**x, lambda x: 2.0**x, (REAL,), one()),
    # -------------------------------------------------------------------- unary
    Case("negative", lambda x: -x, lambda x: -x, (REAL,), one()),
    Case("exp", lambda x: x.exp(), lambda x: x.exp(), (REAL,), one()),
    Case("np.exp", np.exp, torch and torch.exp, (REAL,), one()),
    Case("log", lambda x: x.log(), lambda x: x.log(), (POS,), one()),
    Case("abs", lambda x: x.abs(), lambda x: x.abs(), (REAL,), one()),
    Case("abs(x)", abs, abs, (REAL,), one()),
    Case("np.abs", np.abs, torch and torch.abs, (REAL,), one()),
    Case("sqrt", lambda x: x.sqrt(), lambda x: x.sqrt(), (POS,), one()),
    Case("np.sqrt", np.sqrt, torch and torch.sqrt, (POS,), one()),
    Case("np.log", np.log, torch and torch.log, (POS,), one()),
    Case("clip", lambda x: x.clip(-0.5, 0.7), lambda x: x.clamp(-0.5, 0.7), (REAL,), one()),
    Case("clip(lo)", lambda x: x.clip(0.1), lambda x: x.clamp(min=0.1), (REAL,), one()),
    Case("clip(hi=)", lambda x: x.clip(hi=0.1), lambda x: x.clamp(max=0.1), (REAL,), one()),
    Case("astype", lambda x: x.astype(np.float32).astype(x.dtype),
         lambda x: x.float().to(x.dtype), (REAL,), one(), smooth=False, integers="none"),
    # --------------------------------------------------------------- reductions
    reduction("sum", lambda x, axis, keepdims: x.sum(axis=axis, keepdims=keepdims),
              lambda x, axis, keepdims: x.sum(_dim(x, axis), keepdim=keepdims)),
    reduction("mean", lambda x, axis, keepdims: x.mean(axis=axis, keepdims=keepdims),
              lambda x, axis, keepdims: x.mean(_dim(x, axis), keepdim=keepdims)),
    reduction("max", lambda x, axis, keepdims: x.max(axis=axis, keepdims=keepdims),
              lambda x, axis, keepdims: x.amax(_dim(x, axis), keepdim=keepdims)),
    reduction("min", lambda x, axis, keepdims: x.min(axis=axis, keepdims=keepdims),
              lambda x, axis, keepdims: x.amin(_dim(x, axis), keepdim=keepdims)),
    reduction("np.sum", lambda x, axis, keepdims: np.sum(x, axis=axis, keepdims=keepdims),
              lambda x, axis, keepdims: x.sum(_dim(x, axis), keepdim=keepdims)),
    reduction("np.mean", lambda x, axis, keepdims: np.mean(x, axis=axis, keepdims=keepdims),
              lambda x, axis, keepdims: x.mean(_dim(x, axis), keepdim=keepdims)),
    reduction("np.max", lambda x, axis, keepdims: np.max(x, axis=axis, keepdims=keepdims),
              lambda x, axis, keepdims: x.amax(_dim(x, axis), keepdim=keepdims)),
    reduction("np.min", lambda x, axis, keepdims: np.min(x, axis=axis, keepdims=keepdims),
              lambda x, axis, keepdims: x.amin(_dim(x, axis), keepdim=keepdims)),
    reduction("logsumexp", lambda x, axis, keepdims: F.logsumexp(x, axis=axis, keepdims=keepdims),
              lambda x, axis, keepdims: torch.logsumexp(x, _dim(x, axis), keepdim=keepdims), WIDE),
    Case("logsumexp(default axis)", F.logsumexp, lambda x: torch.logsumexp(x, -1), (WIDE,),
         one()),
    # ------------------------------------------------------------------- shapes
    Case("reshape(-1)", lambda x: x.reshape(-1), lambda x: x.reshape(-1), (REAL,), one(), integers="keep"),
    Case("reshape(reversed)", lambda x: x.reshape(x.shape[::-1]),
         lambda x: x.reshape(x.shape[::-1]), (REAL,), one(), integers="keep"),
    Case("transpose()", lambda x: x.transpose(), _torch_reversed, (REAL,), one(), integers="keep"),
    Case("transpose(*axes)", lambda x, axes: x.transpose(*axes),
         lambda x, axes: x.permute(tuple(axes)), (REAL,), one(), params=axes_params,
         example_params={"axes": (-1, 0)}, integers="keep"),
    Case("np.transpose(x, axes)", lambda x, axes: np.transpose(x, axes),
         lambda x, axes: x.permute(tuple(axes)), (REAL,), one(), params=axes_params,
         example_params={"axes": (1, -2)}, integers="keep"),
    Case(".T", lambda x: x.T, lambda x: x.T, (REAL,), one(min_dims=2, max_dims=2), integers="keep"),
    Case("x[1:, ::2]", lambda x: x[1:, ::2], lambda x: x[1:, ::2], (REAL,), one(**MIN2),
         integers="keep"),
    Case("x[..., 0]", lambda x: x[..., 0], lambda x: x[..., 0], (REAL,), one(**ROWS),
         integers="keep"),
    Case("x[[0, 0, 1]]", lambda x: x[[0, 0, 1]], lambda x: x[[0, 0, 1]], (REAL,), one(**MIN2),
         integers="keep"),
    Case("x[x > 0]", lambda x: x[x > 0], lambda x: x[x > 0], (REAL,), one(), integers="keep"),
    # -------------------------------------------------------------- activations
    Case("relu", F.relu, torch and torch.relu, (REAL,), one()),
    Case("leaky_relu", F.leaky_relu, lambda x: torch.nn.functional.leaky_relu(x), (REAL,),
         one()),
    Case("leaky_relu(0.2)", lambda x: F.leaky_relu(x, negative_slope=0.2),
         lambda x: torch.nn.functional.leaky_relu(x, 0.2), (REAL,), one()),
    Case("sigmoid", F.sigmoid, torch and torch.sigmoid, (WIDE,), one()),
    Case("tanh", F.tanh, torch and torch.tanh, (REAL,), one()),
    Case("softmax", F.softmax, lambda x: torch.softmax(x, -1), (WIDE,), one()),
    along_axis("softmax(axis)", lambda x, axis: F.softmax(x, axis=axis),
               lambda x, axis: torch.softmax(x, axis)),
    Case("log_softmax", F.log_softmax, lambda x: torch.log_softmax(x, -1), (WIDE,), one()),
    along_axis("log_softmax(axis)", lambda x, axis: F.log_softmax(x, axis=axis),
               lambda x, axis: torch.log_softmax(x, axis)),
    Case("np.tanh", np.tanh, torch and torch.tanh, (REAL,), one()),
    # the Tensor methods of the activations
    Case("x.relu()", lambda x: x.relu(), lambda x: x.relu(), (REAL,), one()),
    Case("x.sigmoid()", lambda x: x.sigmoid(), lambda x: x.sigmoid(), (WIDE,), one()),
    Case("x.tanh()", lambda x: x.tanh(), lambda x: x.tanh(), (REAL,), one()),
    along_axis("x.softmax(axis)", lambda x, axis: x.softmax(axis),
               lambda x, axis: x.softmax(axis)),
    along_axis("x.log_softmax(axis)", lambda x, axis: x.log_softmax(axis=axis),
               lambda x, axis: x.log_softmax(axis)),
    Case("x.softmax()", lambda x: x.softmax(), lambda x: x.softmax(-1), (WIDE,), one()),
    Case("identity", F.identity, lambda x: x, (REAL,), one(), integers="keep"),
    # ------------------------------------------------------------------- layers
    Case("linear", F.linear, lambda X, W, b: X @ W + b, (REAL, REAL, REAL), linear_shapes()),
    Case("linear(no bias)", F.linear, lambda X, W: X @ W, (REAL, REAL),
         linear_shapes(bias=False)),
    *[Case(f"dense({name})", lambda X, W, b, fn=fn: F.dense(X, W, b, fn)[0],
           lambda X, W, b, twin=twin: twin(X @ W + b), (REAL, REAL, REAL), linear_shapes())
      for name, fn, twin in [("relu", F.relu, torch and torch.relu),
                             ("tanh", F.tanh, torch and torch.tanh),
                             ("softmax", F.softmax, lambda z: torch.softmax(z, -1)),
                             ("identity", F.identity, lambda z: z)]],
    Case("forward_layer(sigmoid)", lambda X, W, b: F.forward_layer(X, W, b, "sigmoid")[0],
         lambda X, W, b: torch.sigmoid(X @ W + b), (REAL, REAL, REAL), linear_shapes()),
    Case("forward_layer(chapter's relu lambda)",
         lambda X, W, b: F.forward_layer(X, W, b, lambda z: np.maximum(0, z))[0],
         # np.maximum(0, z) splits a tie at z = 0 as torch.maximum does (torch.relu gives 0)
         lambda X, W, b: torch.maximum(torch.zeros(()), X @ W + b), (REAL, REAL, REAL),
         linear_shapes()),
    # ------------------------------------------------------------------- losses
    *losses("mse_loss", F.mse_loss,
            lambda y, p, reduction: torch.nn.MSELoss(reduction=reduction)(p, y),
            (REAL, REAL), same(2)),
    *losses("mae_loss", F.mae_loss,
            lambda y, p, reduction: torch.nn.L1Loss(reduction=reduction)(p, y),
            (REAL, REAL), same(2)),
    *[row for delta in (1.0, 0.5, 2.0) for row in losses(
        f"huber_loss(delta={delta})",
        functools.partial(F.huber_loss, delta=delta),
        lambda y, p, reduction, delta=delta: torch.nn.HuberLoss(reduction, delta)(p, y),
        (REAL, REAL), same(2))],
    *losses("binary_cross_entropy", F.binary_cross_entropy,
            lambda y, p, reduction: torch.nn.BCELoss(reduction=reduction)(p, y),
            (BINARY, UNIT), same(2)),
    *losses("binary_cross_entropy(soft targets)", F.binary_cross_entropy,
            lambda y, p, reduction: torch.nn.BCELoss(reduction=reduction)(p, y),
            (SOFT, UNIT), same(2)),
    *losses("binary_cross_entropy_with_logits", F.binary_cross_entropy_with_logits,
            lambda y, x, reduction: torch.nn.BCEWithLogitsLoss(reduction=reduction)(x, y),
            (BINARY, WIDE), same(2)),
    *losses("binary_cross_entropy_with_logits(soft targets)",
            F.binary_cross_entropy_with_logits,
            lambda y, x, reduction: torch.nn.BCEWithLogitsLoss(reduction=reduction)(x, y),
            (SOFT, WIDE), same(2)),
    *losses("categorical_cross_entropy", F.categorical_cross_entropy,
            lambda y, p, reduction: _reduce(-(y * p.log()).sum(-1), reduction),
            (ONEHOT, PROBS), classes(max_dims=3)),
    *losses("cross_entropy(labels)", F.cross_entropy,
            lambda y, x, reduction: torch.nn.CrossEntropyLoss(reduction=reduction)(x, y),
            (LABELS, WIDE), classes()),
    *losses("cross_entropy(probabilities)", F.cross_entropy,
            lambda y, x, reduction: torch.nn.CrossEntropyLoss(reduction=reduction)(x, y),
            (TARGET_PROBS, WIDE), classes()),
    # (N, T, C): layerwise's class axis is the last, torch's is 1
    *losses("cross_entropy(labels, (N, T, C))", F.cross_entropy,
            lambda y, x, reduction: torch.nn.CrossEntropyLoss(reduction=reduction)(
                x.movedim(-1, 1), y),
            (LABELS, WIDE), classes(min_dims=3, max_dims=3)),
    *losses("cross_entropy(probabilities, (N, T, C))", F.cross_entropy,
            lambda y, x, reduction: torch.nn.CrossEntropyLoss(reduction=reduction)(
                x.movedim(-1, 1), y.movedim(-1, 1)),
            (TARGET_PROBS, WIDE), classes(min_dims=3, max_dims=3)),
    *losses("cross_entropy(labels, label_smoothing=0.1)",
            functools.partial(F.cross_entropy, label_smoothing=0.1),
            lambda y, x, reduction: torch.nn.CrossEntropyLoss(
                reduction=reduction, label_smoothing=0.1)(x, y),
            (LABELS, WIDE), classes()),
    *losses("cross_entropy(probabilities, label_smoothing=0.2)",
            functools.partial(F.cross_entropy, label_smoothing=0.2),
            lambda y, x, reduction: torch.nn.CrossEntropyLoss(
                reduction=reduction, label_smoothing=0.2)(x, y),
            (TARGET_PROBS, WIDE), classes()),
]

NAMES = [case.name for case in CATALOGUE]
assert len(set(NAMES)) == len(NAMES), "catalogue names must be unique"
