"""Loss functions. Every loss takes ``(y_true, y_pred)`` in that order, as the chapter and Keras.

Each returns the per-element (or per-sample) losses passed through one ``reduce`` helper:
``reduction='mean'`` (default), ``'sum'`` or ``'none'``. Regression losses are composed from
tensor primitives; the cross-entropies are primitives of their own because their stable
forms and fused gradients (softmax - target, sigmoid - target) need the whole expression.
"""

from __future__ import annotations

import numpy as np

from ..autodiff import ops
from ..autodiff.tensor import Tensor, primitive
from .activations import _log_softmax, _sigmoid

__all__ = [
    "REDUCTIONS",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "categorical_cross_entropy",
    "cross_entropy",
    "huber_loss",
    "l1_loss",
    "mae_loss",
    "mse_gradient",
    "mse_loss",
    "reduce",
]

REDUCTIONS = ("mean", "sum", "none")


def reduce(losses: Tensor, reduction: str = "mean") -> Tensor:
    """Apply a loss reduction: ``'mean'`` over every element, ``'sum'``, or ``'none'``."""
    if reduction == "mean":
        return ops.mean(losses)
    if reduction == "sum":
        return ops.reduce_sum(losses)
    if reduction == "none":
        return losses
    raise _unknown_reduction(reduction)


def _unknown_reduction(reduction) -> ValueError:
    return ValueError(f"unknown reduction {reduction!r}; known: {', '.join(REDUCTIONS)}")


def _as_tensor(x) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _pair(y_true, y_pred, loss: str):
    """Check that targets and predictions have the same shape; targets take y_pred's dtype."""
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
def mse_loss(y_true, y_pred, reduction: str = "mean") -> Tensor:
    """Mean squared error: l_i = (y_i - y^_i)^2, then reduced (mean over all elements).

    Equals ``torch.nn.MSELoss``.

    >>> import layerwise as lw
    >>> float(lw.F.mse_loss([1.0, 2.0], [1.5, 2.0]))
    0.125
    """
    y_true, y_pred = _pair(y_true, y_pred, "mse_loss")
    d = y_pred - y_true
    return reduce(d * d, reduction)


def mae_loss(y_true, y_pred, reduction: str = "mean") -> Tensor:
    """Mean absolute error: l_i = |y_i - y^_i| (gradient sign(y^ - y), 0 at 0). ``torch.nn.L1Loss``.

    >>> import layerwise as lw
    >>> float(lw.F.mae_loss([1.0, 2.0], [1.5, 2.0]))
    0.25
    """
    y_true, y_pred = _pair(y_true, y_pred, "mae_loss")
    return reduce(ops.absolute(y_pred - y_true), reduction)


l1_loss = mae_loss


def huber_loss(y_true, y_pred, delta: float = 1.0, reduction: str = "mean") -> Tensor:
    """Huber loss (the chapter's exercise 3), equal to ``torch.nn.HuberLoss``.

    l_i = 0.5 d_i^2 if |d_i| <= delta else delta (|d_i| - 0.5 delta),  d = y - y^.

    Written as 0.5 q^2 + delta (|d| - q) with q = min(|d|, delta): the same two branches,
    with a gradient of exactly delta * sign(d) at |d| = delta.

    >>> import layerwise as lw
    >>> float(lw.F.huber_loss([0.0, 0.0], [0.5, 3.0]))
    1.3125
    """
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be > 0, got {delta}")
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
    y_true, y_pred = _pair(y_true, y_pred, "binary_cross_entropy")
    return reduce(_binary_cross_entropy(y_pred, y_true, epsilon=epsilon), reduction)


@primitive("binary_cross_entropy_with_logits")
def _bce_with_logits(x, y):
    # log(1 + exp(-|x|)) never overflows; max(x, 0) - x y restores the branch.
    out = np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))
    return out, lambda g, needs: (g * (_sigmoid(x) - y), None)


def binary_cross_entropy_with_logits(y_true, logits, reduction: str = "mean") -> Tensor:
    """Sigmoid + binary cross-entropy in one stable step, as ``torch.nn.BCEWithLogitsLoss``.

    l_i = max(x_i, 0) - x_i y_i + log(1 + exp(-|x_i|));  dl/dx = sigmoid(x) - y.

    >>> import layerwise as lw
    >>> round(float(lw.F.binary_cross_entropy_with_logits([1.0], [0.0])), 6)
    0.693147
    """
    y_true, logits = _pair(y_true, logits, "binary_cross_entropy_with_logits")
    return reduce(_bce_with_logits(logits, y_true), reduction)


@primitive("categorical_cross_entropy")
def _categorical_cross_entropy(p, y, epsilon=1e-15):
    lo, hi = _probability_bounds(p.dtype, epsilon)
    pc = np.clip(p, lo, hi)
    out = -np.sum(y * np.log(pc), axis=-1)
    # As for BCE: the derivative at the clipped point, so a zero probability still learns.
    return out, lambda g, needs: (-np.expand_dims(g, -1) * y / pc, None)


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


def cross_entropy(y_true, logits, label_smoothing: float = 0.0, reduction: str = "mean"):
    """Softmax cross-entropy from logits, as ``torch.nn.CrossEntropyLoss``.

    l_n = -sum_c t_{n,c} log_softmax(x_n)_c, with t the one-hot of the integer label (or the
    given per-class probabilities), smoothed as t (1 - s) + s / C. Gradient: softmax(x) - t.

    Args:
        y_true: integer class labels ``(N,)`` or class probabilities ``(N, C)``.
        logits: ``(N, C)`` unnormalised scores.
        label_smoothing: s in [0, 1].

    >>> import numpy as np, layerwise as lw
    >>> round(float(lw.F.cross_entropy(np.array([0]), [[0.0, 0.0]])), 6)
    0.693147
    """
    logits = _as_tensor(logits)
    if reduction not in REDUCTIONS:
        raise _unknown_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    shape = logits.data.shape
    if not shape:
        raise ValueError("cross_entropy: logits must have a class axis, got a scalar")
    target = y_true.data if isinstance(y_true, Tensor) else np.asarray(y_true)
    kind = target.dtype.kind
    if target.shape == shape and kind == "f":
        labels = False
        target = target.astype(logits.dtype, copy=False)
    elif target.shape == shape[:-1]:
        if kind not in "iu":
            raise ValueError(
                f"cross_entropy: class labels must be integers, got {target.dtype} labels of "
                f"shape {target.shape} (convert with y.astype(int), or pass probabilities of "
                f"shape {shape})"
            )
        n_classes = shape[-1]
        # one reduction checks both ends: viewed as unsigned, negative labels are huge
        unsigned = target.view(_UNSIGNED[target.itemsize]) if kind == "i" else target
        if target.size and np.maximum.reduce(unsigned, axis=None) >= n_classes:
            bad = target[(target < 0) | (target >= n_classes)][0]
            raise ValueError(
                f"cross_entropy: class label {bad} is out of range for {n_classes} classes "
                f"(labels must be in 0..{n_classes - 1})"
            )
        labels = True
    else:
        raise ValueError(
            f"cross_entropy: y_true must be integer labels of shape {shape[:-1]} or "
            f"probabilities of shape {shape}; got {target.dtype} of shape {target.shape}"
        )
    return _cross_entropy(logits, target, label_smoothing=label_smoothing, labels=labels,
                          reduction=reduction)


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
