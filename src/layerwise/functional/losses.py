"""Loss functions. Every loss takes ``(y_true, y_pred)`` in that order, as the chapter and Keras.

Each returns the per-element (or per-sample) losses passed through one ``reduce`` helper:
``reduction='mean'`` (default), ``'sum'`` or ``'none'``. Regression losses are composed from
tensor primitives; the cross-entropies are primitives of their own because their stable
forms and fused gradients (softmax - target, sigmoid - target) need the whole expression.

Each loss is declared once in ``LOSSES`` (see :func:`loss`) with the ``lw.nn`` module class
made for it, its PyTorch counterpart, and what it takes: the kind of targets and the kind of
predictions. ``fit`` checks targets and counts accuracy from these; the command line builds
the model's output layer and its ``--proba`` output from them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..autodiff import ops
from ..autodiff.tensor import Tensor, primitive
from ..dtypes import get_default_dtype
from ..registry import Registry
from .activations import _log_softmax, _sigmoid

__all__ = [
    "LOSSES",
    "REDUCTIONS",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "categorical_cross_entropy",
    "check_labels",
    "check_options",
    "cross_entropy",
    "huber_loss",
    "kl_div",
    "l1_loss",
    "loss",
    "mae_loss",
    "mse_gradient",
    "mse_loss",
    "nll_loss",
    "reduce",
]

REDUCTIONS = ("mean", "sum", "none")

LOSSES: Registry = Registry("loss")
"""Every loss by name: a read-only mapping name -> function; ``LOSSES.declaration(name)``
holds its module class name, PyTorch counterpart, target and prediction kinds."""

TARGETS = {
    "values": "real values shaped like the predictions (regression)",
    "labels": "integer class labels (N,) (or class probabilities (N, C))",
    "one_hot": "one-hot rows (N, C)",
    "binary": "values in [0, 1] shaped like the predictions",
    "distribution": "probability rows (N, C)",
}
"""The kinds of ``y_true`` a loss may declare."""

PREDICTIONS = {
    # kind: (the output activation that produces it, how to turn it into probabilities)
    "values": ("none", None),
    "logits": ("none", "softmax"),
    "binary_logits": ("none", "sigmoid"),
    "probabilities": (None, None),  # softmax for one-hot targets, sigmoid for binary ones
    "log_probabilities": ("log_softmax", "exp"),
}
"""The kinds of ``y_pred`` a loss may declare."""


def loss(name: str, *, module: str, targets: str, predictions: str, torch: str | None = None,
         aliases=(), module_aliases=(), builtin: bool = True) -> Callable:
    """Declare a loss function ``fn(y_true, y_pred, **options)`` (a decorator).

    Args:
        name: the name used everywhere (``--loss``, model files' metadata).
        module: the ``lw.nn`` class made for it (``MSELoss``); ``module_aliases`` more names.
        targets: a key of ``TARGETS``; predictions: a key of ``PREDICTIONS``.
        torch: the ``torch.nn`` loss class computing the same thing, if any.
        aliases: other accepted names.
    """
    if targets not in TARGETS or predictions not in PREDICTIONS:
        raise ValueError(f"loss {name!r}: targets must be one of {list(TARGETS)} and "
                         f"predictions one of {list(PREDICTIONS)}")

    def declare(fn):
        LOSSES.add(name, fn, aliases=aliases, builtin=builtin, module=module,
                   module_aliases=tuple(module_aliases), torch=torch, targets=targets,
                   predictions=predictions)
        return fn

    return declare


BATCHMEAN = "batchmean"
"""One more reduction: the sum divided by the batch size (the length of the first axis), as
``KLDivLoss``'s (its default here, as PyTorch recommends); any loss accepts it."""


def reduce(losses: Tensor, reduction: str = "mean") -> Tensor:
    """Apply a loss reduction: ``'mean'`` over every element, ``'sum'``, ``'none'``, or
    ``'batchmean'`` (the sum over the batch size).

    (Loss functions check their options first with :func:`check_options`.)"""
    if reduction == "mean":
        return ops.mean(losses)
    if reduction == "sum":
        return ops.reduce_sum(losses)
    if reduction == "none":
        return losses
    if reduction == BATCHMEAN:
        return ops.reduce_sum(losses) / (losses.shape[0] if losses.ndim else 1)
    raise _unknown_reduction(reduction)


def _unknown_reduction(reduction) -> ValueError:
    return ValueError(f"unknown reduction {reduction!r}; known: "
                      f"{', '.join((*REDUCTIONS, BATCHMEAN))}")


def _number_in(lo, hi, lo_open=False, hi_open=False):
    """A check that an option is a real number in [lo, hi] (ends open where asked)."""
    def check(value):
        ok = isinstance(value, (int, float, np.integer, np.floating)) and \
            not isinstance(value, bool) and np.isfinite(value)
        ok = ok and (value > lo if lo_open else value >= lo) and \
            (value < hi if hi_open else value <= hi)
        if not ok:
            if hi == np.inf:
                return f"must be {'>' if lo_open else '>='} {lo}, got {value!r}"
            brackets = ("(" if lo_open else "[") + f"{lo}, {hi}" + (")" if hi_open else "]")
            return f"must be a number in {brackets}, got {value!r}"
        return None
    return check


def _reduction(value):
    return None if value in (*REDUCTIONS, BATCHMEAN) else \
        f"{value!r} is unknown; known: {', '.join((*REDUCTIONS, BATCHMEAN))}"


def _weights(value):
    """None, or finite non-negative numbers (a per-class vector, or anything broadcastable)."""
    if value is None:
        return None
    try:
        arr = np.asarray(value.data if isinstance(value, Tensor) else value, dtype=np.float64)
    except (TypeError, ValueError):
        return f"must be None or numbers, got {type(value).__name__}"
    if arr.ndim > 1 or not np.all(np.isfinite(arr)) or np.any(arr < 0):
        return f"must be None or a vector of finite numbers >= 0, got {value!r}"
    return None


def _integer(value):
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    return None if ok else f"must be an integer, got {value!r}"


def _flag(value):
    return None if isinstance(value, (bool, np.bool_)) else f"must be True or False, got {value!r}"


OPTION_CHECKS = {
    "reduction": _reduction,
    "delta": _number_in(0, np.inf, lo_open=True, hi_open=True),
    "epsilon": _number_in(0, 0.5, lo_open=True, hi_open=True),
    "label_smoothing": _number_in(0, 1),
    "weight": _weights,
    "pos_weight": _weights,
    "ignore_index": _integer,
    "log_target": _flag,
}
"""The one rule for each loss option, used by the functions and the modules alike."""


def check_options(where: str, **options) -> None:
    """Raise ``ValueError`` naming ``where`` and the option if any option breaks its rule."""
    for key, value in options.items():
        rule = OPTION_CHECKS.get(key)
        problem = rule(value) if rule else None
        if problem:
            raise ValueError(f"{where}: {key} {problem}")


def _as_tensor(x) -> Tensor:
    """A Tensor of predictions; integer or bool ones in the default float dtype (as every op)."""
    x = x if isinstance(x, Tensor) else Tensor(x)
    return x.astype(get_default_dtype()) if x.dtype.kind in "iub" else x


def _pair(y_true, y_pred, loss: str):
    """Check that targets and predictions have the same shape; targets take y_pred's dtype
    (integer or bool predictions become the default float dtype first, as in every op)."""
    y_pred = _as_tensor(y_pred)
    if not isinstance(y_true, Tensor):
        y_true = np.asarray(y_true)
        if y_pred.dtype.kind == "f" and y_true.dtype != y_pred.dtype:
            y_true = y_true.astype(y_pred.dtype)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"{loss}: y_true has shape {tuple(y_true.shape)} but y_pred has shape "
            f"{tuple(y_pred.shape)}; they must match (no silent broadcasting)"
        )
    return y_true, y_pred


def _probability_bounds(dtype, epsilon):
    """[epsilon, 1 - epsilon] in ``dtype``, kept strictly inside (0, 1) (1 - 1e-15 == 1 in f32)."""
    one = dtype.type(1)
    lo = max(dtype.type(epsilon), np.finfo(dtype).tiny)
    hi = dtype.type(1 - epsilon)
    if hi >= one:
        hi = np.nextafter(one, dtype.type(0))
    return lo, hi


# ----------------------------------------------------------------------- regression
@loss("mse", module="MSELoss", torch="MSELoss", targets="values", predictions="values",
      aliases=("mse_loss",))
def mse_loss(y_true, y_pred, reduction: str = "mean") -> Tensor:
    """Mean squared error: l_i = (y_i - y^_i)^2, then reduced (mean over all elements).

    Equals ``torch.nn.MSELoss``.

    >>> import layerwise as lw
    >>> float(lw.F.mse_loss([1.0, 2.0], [1.5, 2.0]))
    0.125
    """
    check_options("mse_loss", reduction=reduction)
    y_true, y_pred = _pair(y_true, y_pred, "mse_loss")
    d = y_pred - y_true
    return reduce(d * d, reduction)


@loss("mae", module="L1Loss", module_aliases=("MAELoss",), torch="L1Loss", targets="values",
      predictions="values", aliases=("mae_loss", "l1", "l1_loss"))
def mae_loss(y_true, y_pred, reduction: str = "mean") -> Tensor:
    """Mean absolute error: l_i = |y_i - y^_i| (gradient sign(y^ - y), 0 at 0). ``torch.nn.L1Loss``.

    >>> import layerwise as lw
    >>> float(lw.F.mae_loss([1.0, 2.0], [1.5, 2.0]))
    0.25
    """
    check_options("mae_loss", reduction=reduction)
    y_true, y_pred = _pair(y_true, y_pred, "mae_loss")
    return reduce(ops.absolute(y_pred - y_true), reduction)


l1_loss = mae_loss


@loss("huber", module="HuberLoss", torch="HuberLoss", targets="values", predictions="values",
      aliases=("huber_loss",))
def huber_loss(y_true, y_pred, delta: float = 1.0, reduction: str = "mean") -> Tensor:
    """Huber loss (the chapter's exercise 3), equal to ``torch.nn.HuberLoss``.

    l_i = 0.5 d_i^2 if |d_i| <= delta else delta (|d_i| - 0.5 delta),  d = y - y^.

    Written as 0.5 q^2 + delta (|d| - q) with q = min(|d|, delta): the same two branches,
    with a gradient of exactly delta * sign(d) at |d| = delta.

    >>> import layerwise as lw
    >>> float(lw.F.huber_loss([0.0, 0.0], [0.5, 3.0]))
    1.3125
    """
    check_options("huber_loss", delta=delta, reduction=reduction)
    y_true, y_pred = _pair(y_true, y_pred, "huber_loss")
    a = ops.absolute(y_pred - y_true)
    q = ops.clip(a, hi=delta)
    return reduce(0.5 * q * q + delta * (a - q), reduction)


# ------------------------------------------------------------- probability targets
@primitive("binary_cross_entropy")
def _binary_cross_entropy(p, y, epsilon=1e-15):
    lo, hi = _probability_bounds(p.dtype, epsilon)
    pc = np.clip(p, lo, hi)
    out = -(y * np.log(pc) + (1 - y) * np.log(1 - pc))

    def backward(g, needs):
        # The derivative at the clipped point, passed straight through the clip: a saturated
        # wrong prediction (p = 0, y = 1) still gets a large gradient pointing the right way.
        return g * (pc - y) / (pc * (1 - pc)), None

    return out, backward


@loss("bce", module="BCELoss", torch="BCELoss", targets="binary", predictions="probabilities",
      aliases=("binary_cross_entropy",))
def binary_cross_entropy(y_true, y_pred, epsilon: float = 1e-15, reduction: str = "mean"):
    """Binary cross-entropy on probabilities, as the chapter: predictions clipped to [eps, 1-eps].

    l_i = -[y_i log p_i + (1 - y_i) log(1 - p_i)],  p = clip(y_pred, eps, 1 - eps).

    Equals ``torch.nn.BCELoss`` on predictions inside (eps, 1 - eps). Finite for predictions of
    exactly 0 or 1 in float32 and float64 (1 - eps is kept below 1 in the dtype), and the
    gradient (p - y) / (p (1 - p)) is taken at the clipped p, so it never vanishes.

    >>> import layerwise as lw
    >>> round(float(lw.F.binary_cross_entropy([1.0], [0.5])), 6)
    0.693147
    """
    check_options("binary_cross_entropy", epsilon=epsilon, reduction=reduction)
    y_true, y_pred = _pair(y_true, y_pred, "binary_cross_entropy")
    return reduce(_binary_cross_entropy(y_pred, y_true, epsilon=epsilon), reduction)


@primitive("binary_cross_entropy_with_logits")
def _bce_with_logits(x, y, pos_weight=None):
    # log(1 + exp(-|x|)) never overflows; max(x, 0) - x y restores the branch.
    if pos_weight is None:
        out = np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))
        return out, lambda g, needs: (g * (_sigmoid(x) - y), None)
    # (1 - y) x + c softplus(-x) with c = 1 + (pos_weight - 1) y: the positive term weighted
    c = 1 + (np.asarray(pos_weight, dtype=x.dtype) - 1) * y
    out = (1 - y) * x + c * (np.maximum(-x, 0) + np.log1p(np.exp(-np.abs(x))))
    return out, lambda g, needs: (g * ((1 - y) - c * _sigmoid(-x)), None)


@loss("bce_with_logits", module="BCEWithLogitsLoss", torch="BCEWithLogitsLoss",
      targets="binary", predictions="binary_logits",
      aliases=("binary_cross_entropy_with_logits",))
def binary_cross_entropy_with_logits(y_true, logits, reduction: str = "mean",
                                     pos_weight=None) -> Tensor:
    """Sigmoid + binary cross-entropy in one stable step, as ``torch.nn.BCEWithLogitsLoss``.

    l_i = max(x_i, 0) - x_i y_i + log(1 + exp(-|x_i|));  dl/dx = sigmoid(x) - y.
    With ``pos_weight`` p (broadcast along the last axis, one per output):
    l_i = -[p y_i log sigmoid(x_i) + (1 - y_i) log(1 - sigmoid(x_i))], which trades recall
    for precision (p > 1 weighs the positives up, e.g. p = negatives / positives).

    >>> import layerwise as lw
    >>> round(float(lw.F.binary_cross_entropy_with_logits([1.0], [0.0])), 6)
    0.693147
    >>> round(float(lw.F.binary_cross_entropy_with_logits([1.0], [0.0], pos_weight=[3.0])), 6)
    2.079442
    """
    check_options("binary_cross_entropy_with_logits", reduction=reduction,
                  pos_weight=pos_weight)
    y_true, logits = _pair(y_true, logits, "binary_cross_entropy_with_logits")
    return reduce(_bce_with_logits(logits, y_true, pos_weight=pos_weight), reduction)


@primitive("categorical_cross_entropy")
def _categorical_cross_entropy(p, y, epsilon=1e-15):
    lo, hi = _probability_bounds(p.dtype, epsilon)
    pc = np.clip(p, lo, hi)
    out = -np.sum(y * np.log(pc), axis=-1)
    # As for BCE: the derivative at the clipped point, so a zero probability still learns.
    return out, lambda g, needs: (-np.expand_dims(g, -1) * y / pc, None)


@loss("categorical_cross_entropy", module="CategoricalCrossEntropyLoss", targets="one_hot",
      predictions="probabilities")
def categorical_cross_entropy(y_true, y_pred, epsilon: float = 1e-15, reduction: str = "mean"):
    """Categorical cross-entropy on one-hot targets and probabilities, as the chapter.

    l_n = -sum_c y_{n,c} log p_{n,c},  p = clip(y_pred, eps, 1 - eps);  one value per sample,
    so ``'mean'`` averages over samples (the chapter's ``-mean(sum(y log p, axis=1))``).

    Args:
        y_true: ``(N, C)`` one-hot (or any per-class weights); y_pred: ``(N, C)`` probabilities.

    >>> import numpy as np, layerwise as lw
    >>> round(float(lw.F.categorical_cross_entropy([[1, 0]], [[0.5, 0.5]])), 6)
    0.693147
    """
    check_options("categorical_cross_entropy", epsilon=epsilon, reduction=reduction)
    y_true, y_pred = _pair(y_true, y_pred, "categorical_cross_entropy")
    return reduce(_categorical_cross_entropy(y_pred, y_true, epsilon=epsilon), reduction)


# --------------------------------------------------------------------- logits in
@primitive("cross_entropy", keep_dtype=(1,))
def _cross_entropy(logits, target, label_smoothing=0.0, labels=True, reduction="mean"):
    logp = _log_softmax(logits, -1)
    n_classes = logits.shape[-1]
    smoothing = label_smoothing
    if labels:
        # Pick each sample's log-probability instead of multiplying by a one-hot matrix:
        # no (N, C) temporaries on the hot path, the same sum (the other terms are 0 * x).
        flat = logp.reshape(-1, n_classes)
        rows, cols = np.arange(len(flat)), target.reshape(-1)
        out = -flat[rows, cols].reshape(target.shape)
        if smoothing:
            out = out * (1 - smoothing) - (smoothing / n_classes) * np.sum(logp, axis=-1)
    else:
        t = target * (1 - smoothing) + smoothing / n_classes if smoothing else target
        out = -np.sum(t * logp, axis=-1)
    # The reduction is part of this node, as in torch.nn.functional.cross_entropy: the
    # gradient then needs one scaling of (softmax - t) and no separate mean node.
    n = out.size
    if reduction == "none":
        loss = out
    elif reduction == "sum" or not n:
        loss = np.sum(out) if reduction == "sum" else np.mean(out)
    else:
        loss = np.add.reduce(out, axis=None) / n  # np.mean's arithmetic

    def backward(g, needs):
        # d/dx of -sum_c t_c log_softmax(x)_c = softmax(x) * sum(t) - t  (sum(t) = 1 for labels),
        # built in place in one fresh array
        if labels:
            p = np.exp(flat)  # 2-D, so the row/column indexing below writes into p itself
            p[rows, cols] -= 1 - smoothing
            if smoothing:
                p -= smoothing / n_classes
            p = p.reshape(logp.shape)
        else:
            p = np.exp(logp)
            p *= np.sum(t, axis=-1, keepdims=True)
            p -= t
        p *= g[..., None] if reduction == "none" else (g / n if reduction == "mean" and n else g)
        return p, None

    return loss, backward


_UNSIGNED = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


@loss("cross_entropy", module="CrossEntropyLoss", torch="CrossEntropyLoss", targets="labels",
      predictions="logits")
def cross_entropy(y_true, logits, label_smoothing: float = 0.0, reduction: str = "mean",
                  weight=None, ignore_index: int = -100):
    """Softmax cross-entropy from logits, as ``torch.nn.CrossEntropyLoss``.

    l_n = -sum_c t_{n,c} log_softmax(x_n)_c, with t the one-hot of the integer label (or the
    given per-class probabilities), smoothed as t (1 - s) + s / C. Gradient: softmax(x) - t.

    With class weights w, a label's loss is scaled by w_{y_n} (probability targets: each
    class's term by w_c), and ``'mean'`` divides by the sum of the weights of the counted
    labels (by N for probability targets), PyTorch's exact rule. Labels equal to
    ``ignore_index`` count for nothing, in the loss and in that sum.

    Args:
        y_true: integer class labels ``(N,)`` or class probabilities ``(N, C)``.
        logits: ``(N, C)`` unnormalised scores.
        label_smoothing: s in [0, 1].
        weight: ``(C,)`` non-negative class weights, or None.
        ignore_index: a label value to skip (labels only).

    >>> import numpy as np, layerwise as lw
    >>> round(float(lw.F.cross_entropy(np.array([0]), [[0.0, 0.0]])), 6)
    0.693147
    >>> float(lw.F.cross_entropy(np.array([0, -100]), [[0.0, 0.0], [5.0, 0.0]]))  # one ignored
    0.6931471824645996
    """
    logits = _as_tensor(logits)
    check_options("cross_entropy", label_smoothing=label_smoothing, reduction=reduction,
                  weight=weight, ignore_index=ignore_index)
    shape = logits.data.shape
    if not shape:
        raise ValueError("cross_entropy: logits must have a class axis, got a scalar")
    target = y_true.data if isinstance(y_true, Tensor) else np.asarray(y_true)
    kind = target.dtype.kind
    if target.shape == shape and kind == "f":
        labels, ignored = False, False
        target = target.astype(logits.dtype, copy=False)
    elif target.shape == shape[:-1]:
        ignored = check_labels(target, shape, "cross_entropy", ignore_index)
        labels = True
    else:
        raise ValueError(
            f"cross_entropy: y_true must be integer labels of shape {shape[:-1]} or "
            f"probabilities of shape {shape}; got {target.dtype} of shape {target.shape}"
        )
    if weight is None and not ignored:
        inner = "none" if reduction == BATCHMEAN else reduction
        out = _cross_entropy(logits, target, label_smoothing=label_smoothing, labels=labels,
                             reduction=inner)
        return reduce(out, reduction) if reduction == BATCHMEAN else out
    return _weighted_cross_entropy(target, logits, labels, label_smoothing, reduction,
                                   weight, ignore_index)


def check_labels(target, shape, where: str, ignore_index: int) -> bool:
    """Integer labels in 0..C-1 (or equal to ``ignore_index``); True when some are ignored."""
    if target.dtype.kind not in "iu":
        raise ValueError(
            f"{where}: class labels must be integers, got {target.dtype} labels of "
            f"shape {target.shape} (convert with y.astype(int), or pass probabilities of shape "
            f"{shape})"
        )
    n_classes = shape[-1]
    # one reduction checks both ends: viewed as unsigned, negative labels are huge
    unsigned = target.view(_UNSIGNED[target.itemsize]) if target.dtype.kind == "i" else target
    if not target.size or np.maximum.reduce(unsigned, axis=None) < n_classes:
        return False
    outside = (target < 0) | (target >= n_classes)
    bad = target[outside & (target != ignore_index)]
    if bad.size:
        raise ValueError(
            f"{where}: class label {bad[0]} is out of range for {n_classes} classes "
            f"(labels must be in 0..{n_classes - 1}, or ignore_index={ignore_index})"
        )
    return True


def _picked_weights(cols, weight, ignore_index, dtype):
    """Each label's weight (0 where ignored), and the labels with the ignored ones as 0."""
    keep = cols != ignore_index
    safe = np.where(keep, cols, 0)
    w = keep.astype(dtype)
    if weight is not None:
        w *= np.asarray(weight.data if isinstance(weight, Tensor) else weight, dtype=dtype)[safe]
    return w, safe


def _nll(target, logp: Tensor, weight, ignore_index, reduction):
    """-w_{y_n} logp[n, y_n], reduced as PyTorch's nll_loss (the mean over the weights)."""
    n_classes = logp.shape[-1]
    cols = target.reshape(-1)
    w, safe = _picked_weights(cols, weight, ignore_index, logp.dtype)
    picked = ops.reshape(logp, shape=(-1, n_classes))[np.arange(len(cols)), safe]
    losses = -(picked * w)
    if reduction == "mean":
        return _weighted_mean(losses, w)
    return reduce(ops.reshape(losses, shape=target.shape), reduction)


def _weighted_mean(losses: Tensor, w: np.ndarray) -> Tensor:
    """sum(losses) / sum(w); nan with zero gradients when every label is ignored (PyTorch)."""
    total = w.sum()
    if total == 0:
        return ops.reduce_sum(losses) * 0.0 + np.nan
    return ops.reduce_sum(losses) / total


def _weighted_cross_entropy(target, logits, labels, smoothing, reduction, weight, ignore_index):
    """Cross-entropy with class weights or ignored labels, composed (PyTorch's formulas)."""
    from .activations import log_softmax

    logp = log_softmax(logits)
    n_classes = logits.shape[-1]
    w_class = None if weight is None else np.asarray(
        weight.data if isinstance(weight, Tensor) else weight, dtype=logits.dtype)
    if not labels:
        t = target * (1 - smoothing) + smoothing / n_classes if smoothing else target
        per = -ops.reduce_sum(logp * (t * w_class if w_class is not None else t), axis=-1)
        if reduction == "mean":  # over the samples, not the weights (as PyTorch)
            return ops.reduce_sum(per) / max(per.size, 1)
        return reduce(per, reduction)
    nll = _nll(target, logp, w_class, ignore_index, reduction)
    if not smoothing:
        return nll
    # PyTorch's smoothing term: -sum_c w_c logp_c per label, zero where ignored, and for
    # 'mean' divided by the same sum of label weights as the nll term
    keep = (target != ignore_index).astype(logits.dtype)
    smooth = -ops.reduce_sum(logp * w_class if w_class is not None else logp, axis=-1) * keep
    if reduction == "mean":
        w, _ = _picked_weights(target.reshape(-1), w_class, ignore_index, logits.dtype)
        smooth = _weighted_mean(smooth, w)
    else:
        smooth = reduce(smooth, reduction)
    return (1 - smoothing) * nll + smooth * (smoothing / n_classes)


@loss("nll", module="NLLLoss", torch="NLLLoss", targets="labels",
      predictions="log_probabilities", aliases=("nll_loss",))
def nll_loss(y_true, log_probs, weight=None, ignore_index: int = -100,
             reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of integer labels, as ``torch.nn.NLLLoss``.

    l_n = -w_{y_n} log_probs[n, y_n]; ``'mean'`` divides by sum_n w_{y_n} over the labels that
    are not ``ignore_index`` (w = 1 without ``weight``). On ``log_softmax`` outputs this is
    ``cross_entropy`` on the logits.

    Args:
        y_true: integer labels ``(N,)`` (or ``(N, T)``); log_probs: ``(N, C)`` (``(N, T, C)``).
        weight: ``(C,)`` non-negative class weights, or None.
        ignore_index: a label value that counts for nothing.

    >>> import numpy as np, layerwise as lw
    >>> float(lw.F.nll_loss(np.array([1]), np.log([[0.5, 0.25, 0.25]])))
    1.3862943611198906
    """
    check_options("nll_loss", weight=weight, ignore_index=ignore_index, reduction=reduction)
    log_probs = _as_tensor(log_probs)
    shape = log_probs.shape
    target = y_true.data if isinstance(y_true, Tensor) else np.asarray(y_true)
    if not shape or target.shape != shape[:-1]:
        raise ValueError(f"nll_loss: y_true must be integer labels of shape {shape[:-1]} for "
                         f"log_probs of shape {shape}; got shape {target.shape}")
    check_labels(target, shape, "nll_loss", ignore_index)
    return _nll(target, log_probs, weight, ignore_index, reduction)


@loss("kl_div", module="KLDivLoss", torch="KLDivLoss", targets="distribution",
      predictions="log_probabilities", aliases=("kl_div_loss",))
def kl_div(y_true, log_pred, reduction: str = "batchmean", log_target: bool = False) -> Tensor:
    """Kullback-Leibler divergence KL(y_true || pred) from log-probabilities, as
    ``torch.nn.KLDivLoss`` (predictions in log space, targets in probability space unless
    ``log_target``).

    l_i = t_i (log t_i - log_pred_i), 0 where t_i = 0; with ``log_target``:
    l_i = exp(t_i) (t_i - log_pred_i). ``'batchmean'`` (the default) sums and divides by the
    batch size, which is the divergence per sample; ``'mean'`` divides by every element.

    >>> import numpy as np, layerwise as lw
    >>> float(lw.F.kl_div([[0.5, 0.5]], np.log([[0.5, 0.5]])))
    0.0
    """
    check_options("kl_div", reduction=reduction, log_target=log_target)
    y_true, log_pred = _pair(y_true, log_pred, "kl_div")
    t = y_true.data if isinstance(y_true, Tensor) else y_true
    if log_target:
        losses = np.exp(t) * (t - log_pred)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            t_log_t = np.where(t > 0, t * np.log(np.where(t > 0, t, 1)), 0).astype(t.dtype)
        losses = t_log_t - t * log_pred
    return reduce(losses, reduction)


def mse_gradient(y_true, y_pred) -> Tensor:
    """The chapter's hand-written MSE gradient: dL/dy^ = 2 (y^ - y) / n, n = len(y).

    For 1-D data this is what autodiff gives for ``mse_loss(...).backward()``.

    >>> import numpy as np, layerwise as lw
    >>> lw.F.mse_gradient(np.array([1.0, 2.0]), np.array([2.0, 2.0]))
    Tensor([1., 0.], dtype=float64)
    """
    y_true, y_pred = _pair(y_true, y_pred, "mse_gradient")
    y_true = y_true.data if isinstance(y_true, Tensor) else y_true
    n = y_true.shape[0]
    return Tensor(2 * (y_pred.data - y_true) / n)
