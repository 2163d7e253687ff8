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


@st.composite
def _feature_shapes(draw, n_params, min_rows):
    # two features at least: over one, a normalisation is exactly 0 here and rounding noise
    # (1e-10) in PyTorch
    rows, features = draw(st.integers(min_rows, 4)), draw(st.integers(2, 4))
    return ((rows, features),) + ((features,),) * n_params


def _features(n_params, min_rows=1) -> Shapes:
    """``x (N, C)`` and ``n_params`` per-feature vectors ``(C,)`` (normalisation layers)."""
    return Shapes(_feature_shapes(n_params, min_rows), ((4, 3),) + ((3,),) * n_params)


def _dropout_mask(shape, p, seed):
    """The mask lw.F.dropout(p, rng=seed) draws, scaled, as a torch tensor."""
    keep = np.asarray(np.random.default_rng(seed).random(tuple(shape))) >= p
    return torch.from_numpy(np.asarray(keep / (1 - p)))


def _class_weights(x) -> np.ndarray:
    """Distinct non-negative weights, one per class (the last axis of ``x``)."""
    return np.linspace(0.0, 2.0, x.shape[-1]) + 0.25


def _torch_class_weights(x):
    return torch.from_numpy(_class_weights(x))


def _ignoring(labels, ignore_index=-100):
    """Every third label (from the second) replaced by ``ignore_index``; the first one is
    class 0, always counted, so a mean never divides by zero (that case is tested apart)."""
    is_torch = torch is not None and isinstance(labels, torch.Tensor)
    y = np.asarray(labels.numpy() if is_torch else labels)
    y = np.where(np.arange(y.size).reshape(y.shape) % 3 == 1, ignore_index, y)
    y.flat[0] = 0  # a label that counts (the rows here never ignore class 0)
    return torch.from_numpy(y) if is_torch else y


MIN2 = {"min_dims": 2, "min_side": 2, "example": (3, 4)}  # shape options for one(...)
ROWS = {"min_dims": 1, "example": (3, 4)}
BLOCK = {"min_dims": 3, "max_dims": 3, "example": (2, 3, 4)}

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
    # ------------------------------------------------- wave-2 activations (issue 10)
    Case("gelu", F.gelu, lambda x: torch.nn.functional.gelu(x), (WIDE,), one()),
    Case("gelu(approximate='tanh')", lambda x: F.gelu(x, approximate="tanh"),
         lambda x: torch.nn.functional.gelu(x, approximate="tanh"), (WIDE,), one()),
    Case("silu", F.silu, lambda x: torch.nn.functional.silu(x), (WIDE,), one()),
    Case("elu", F.elu, lambda x: torch.nn.functional.elu(x), (WIDE,), one()),
    Case("elu(alpha=0.5)", lambda x: F.elu(x, alpha=0.5),
         lambda x: torch.nn.functional.elu(x, alpha=0.5), (WIDE,), one()),
    Case("selu", F.selu, lambda x: torch.nn.functional.selu(x), (WIDE,), one()),
    Case("softplus", F.softplus, lambda x: torch.nn.functional.softplus(x), (WIDE,), one()),
    Case("softplus(beta=2, threshold=15)", lambda x: F.softplus(x, beta=2.0, threshold=15.0),
         lambda x: torch.nn.functional.softplus(x, beta=2.0, threshold=15.0), (WIDE,), one()),
    Case("softplus(threshold=1): the linear part", lambda x: F.softplus(x, threshold=1.0),
         lambda x: torch.nn.functional.softplus(x, threshold=1.0), (WIDE,), one(),
         smooth=False),
    Case("mish", F.mish, lambda x: torch.nn.functional.mish(x), (WIDE,), one()),
    # ------------------------------------------------- wave-2 layers' functions (issue 10)
    Case("layer_norm", lambda x, w, b: F.layer_norm(x, x.shape[-1], w, b),
         lambda x, w, b: torch.nn.functional.layer_norm(x, (x.shape[-1],), w, b),
         (REAL, REAL, REAL), _features(2)),
    Case("layer_norm(2 axes, no affine)", lambda x: F.layer_norm(x, x.shape[-2:]),
         lambda x: torch.nn.functional.layer_norm(x, x.shape[-2:]), (REAL,), one(**BLOCK)),
    Case("batch_norm(training)", lambda x, w, b: F.batch_norm(x, None, None, w, b, True),
         lambda x, w, b: torch.nn.functional.batch_norm(x, None, None, w, b, True),
         (REAL, REAL, REAL), _features(2, min_rows=3)),
    Case("batch_norm(eval)", lambda x, m, v, w, b: F.batch_norm(x, m, v, w, b),
         lambda x, m, v, w, b: torch.nn.functional.batch_norm(x, m, v, w, b),
         (REAL, CONST, Arg("positive", False), REAL, REAL), _features(4)),
    Case("batch_norm(training, (N, C, L), no affine)",
         lambda x: F.batch_norm(x, training=True),
         lambda x: torch.nn.functional.batch_norm(x, None, None, training=True), (REAL,),
         one(min_dims=3, max_dims=3, min_side=2, example=(2, 3, 4))),
    Case("dropout(p=0.3, rng=0)", lambda x: F.dropout(x, 0.3, rng=0),
         lambda x: x * _dropout_mask(x.shape, 0.3, seed=0), (REAL,), one()),
    Case("dropout(p=1)", lambda x: F.dropout(x, 1.0, rng=0), lambda x: x * 0.0, (REAL,), one()),
    Case("dropout(eval)", lambda x: F.dropout(x, 0.3, training=False),
         lambda x: torch.nn.functional.dropout(x, 0.3, training=False), (REAL,), one()),
    # ---------------------------------------------------- wave-2 losses (issue 10)
    *losses("cross_entropy(labels, weight)",
            lambda y, x, reduction: F.cross_entropy(y, x, weight=_class_weights(x),
                                                    reduction=reduction),
            lambda y, x, reduction: torch.nn.CrossEntropyLoss(
                _torch_class_weights(x), reduction=reduction)(x, y),
            (LABELS, WIDE), classes()),
    *losses("cross_entropy(labels, ignore_index=-100)",
            lambda y, x, reduction: F.cross_entropy(_ignoring(y), x, reduction=reduction),
            lambda y, x, reduction: torch.nn.CrossEntropyLoss(reduction=reduction)(
                x, _ignoring(y)),
            (LABELS, WIDE), classes()),
    *losses("cross_entropy(labels, weight, ignore_index=3, label_smoothing=0.2)",
            lambda y, x, reduction: F.cross_entropy(
                _ignoring(y, 3), x, 0.2, reduction, _class_weights(x), ignore_index=3),
            lambda y, x, reduction: torch.nn.CrossEntropyLoss(
                _torch_class_weights(x), ignore_index=3, reduction=reduction,
                label_smoothing=0.2)(x, _ignoring(y, 3)),
            (LABELS, WIDE), classes()),
    *losses("cross_entropy(probabilities, weight, label_smoothing=0.1)",
            lambda y, x, reduction: F.cross_entropy(y, x, 0.1, reduction, _class_weights(x)),
            lambda y, x, reduction: torch.nn.CrossEntropyLoss(
                _torch_class_weights(x), reduction=reduction, label_smoothing=0.1)(x, y),
            (TARGET_PROBS, WIDE), classes()),
    *losses("nll_loss", F.nll_loss,
            lambda y, x, reduction: torch.nn.NLLLoss(reduction=reduction)(x, y),
            (LABELS, WIDE), classes(max_dims=2)),
    *losses("nll_loss(weight, ignore_index=1)",
            lambda y, x, reduction: F.nll_loss(_ignoring(y, 1), x, _class_weights(x), 1,
                                               reduction),
            lambda y, x, reduction: torch.nn.NLLLoss(
                _torch_class_weights(x), ignore_index=1, reduction=reduction)(
                x, _ignoring(y, 1)),
            (LABELS, WIDE), classes(max_dims=2)),
    *[row for r in (*REDUCTIONS, "batchmean") for row in (
        Case(f"kl_div[{r}]", functools.partial(F.kl_div, reduction=r),
             lambda y, x, r=r: torch.nn.KLDivLoss(reduction=r)(x, y),
             (TARGET_PROBS, REAL), classes()),
        Case(f"kl_div(log_target)[{r}]", functools.partial(F.kl_div, reduction=r,
                                                         log_target=True),
             lambda y, x, r=r: torch.nn.KLDivLoss(reduction=r, log_target=True)(x, y),
             (CONST, REAL), classes()))],
    *losses("binary_cross_entropy_with_logits(pos_weight)",
            lambda y, x, reduction: F.binary_cross_entropy_with_logits(
                y, x, reduction, pos_weight=_class_weights(x)),
            lambda y, x, reduction: torch.nn.BCEWithLogitsLoss(
                reduction=reduction, pos_weight=_torch_class_weights(x))(x, y),
            (BINARY, WIDE), same(2)),
]

NAMES = [case.name for case in CATALOGUE]
assert len(set(NAMES)) == len(NAMES), "catalogue names must be unique"
