"""What a loss expects of its targets, read from its declaration in ``lw.F.LOSSES``: the
checks ``fit`` and ``evaluate`` make before the first step, and how accuracy is counted."""

from __future__ import annotations

import inspect
import warnings

import numpy as np

from .. import nn
from ..autodiff.tensor import Tensor, no_grad
from ..functional.losses import LOSSES
from ..nn.module import training_mode

__all__ = ["Accuracy", "check_targets", "ignored_label", "loss_declaration"]


def loss_declaration(loss):
    """The declaration of a loss module or function in ``lw.F.LOSSES``; None for a user's own
    callable (which ``fit`` then trains with, checking only its output)."""
    if isinstance(loss, nn.Loss):
        return loss.declaration
    return LOSSES.declaration_of(loss)


def ignored_label(loss):
    """The label value a loss skips (its ``ignore_index`` option), or None."""
    options = getattr(loss, "options", None)
    if options is None:
        decl = LOSSES.declaration_of(loss)
        if decl is None:
            return None
        param = inspect.signature(decl.obj).parameters.get("ignore_index")
        return None if param is None else param.default
    return options.get("ignore_index")


def loss_name(loss) -> str:
    if isinstance(loss, nn.Module):
        return type(loss).__name__
    return getattr(loss, "__name__", type(loss).__name__)


class Accuracy:
    """How a loss's predictions count as correct, from its declared targets and predictions:

    ============================  =========================================================
    targets (predictions)         a prediction is correct when
    ============================  =========================================================
    labels, one_hot               the argmax of the output is the label (or the argmax of
                                  the target row)
    binary (probabilities)        (p > 0.5) = (y > 0.5), per element
    binary (binary_logits)        (logit > 0) = (y > 0.5), per element
    values, distribution          (no accuracy)
    ============================  =========================================================
    """

    def __init__(self, decl, ignore_index=None):
        self.rule = None
        self.ignore_index = ignore_index  # labels that count for nothing (cross_entropy's)
        if decl is not None and decl.targets in ("labels", "one_hot"):
            self.rule = "argmax"
        elif decl is not None and decl.targets == "binary":
            self.threshold = 0.0 if decl.predictions == "binary_logits" else 0.5
            self.rule = "threshold"

    def __bool__(self) -> bool:
        return self.rule is not None

    def count(self, y_true: np.ndarray, out: np.ndarray):
        """``(number correct, number counted)`` for one batch."""
        if self.rule == "argmax":
            pred = out.argmax(axis=-1)
            if y_true.ndim != out.ndim - 1:
                return int(np.count_nonzero(pred == y_true.argmax(axis=-1))), pred.size
            if self.ignore_index is None:
                return int(np.count_nonzero(pred == y_true)), pred.size
            counted = y_true != self.ignore_index
            return int(np.count_nonzero((pred == y_true) & counted)), \
                int(np.count_nonzero(counted))
        return int(np.count_nonzero((out > self.threshold) == (y_true > 0.5))), out.size


def check_targets(model, loss, X, y, where: str):
    """Fail before training if ``X`` does not fit the model or ``y`` does not fit the loss.

    Runs the model on the first two rows (no graph, eval mode) for the output's shape, checks
    the targets against what the loss needs (all labels in range, integer labels, shapes),
    then runs the loss on those two rows. Returns the loss's declaration (None for a user's
    own loss function).
    """
    if len(y) != len(X):
        raise ValueError(f"{where}: X has {len(X)} rows but y has {len(y)}; they must match")
    if len(X) == 0:
        raise ValueError(f"{where}: X has no rows")
    try:
        out = _forward(model, np.asarray(X[:2]))
    except ValueError as err:
        raise ValueError(f"{where}: the model does not accept X of shape {X.shape}: {err}"
                         ) from None
    name, decl = loss_name(loss), loss_declaration(loss)
    if decl is not None:
        _check_against_declaration(decl, loss, y, out.shape, name, where)
    _warn_if_the_output_does_not_fit(decl, out.data, name, where)
    try:
        with no_grad():
            value = loss(np.asarray(y[:2]), out)
    except (ValueError, TypeError, IndexError) as err:
        raise ValueError(f"{where}: the targets do not fit {name}: {err}") from None
    if not isinstance(value, Tensor) or value.size != 1:
        shape = getattr(value, "shape", None)
        raise ValueError(
            f"{where}: the loss must return a scalar Tensor, {name} returned "
            f"{type(value).__name__}{f' of shape {shape}' if shape else ''} "
            "(use reduction='mean')"
        )
    return decl


def _check_against_declaration(decl, loss, y, out_shape, name: str, where: str) -> None:
    """The targets in the form the loss declares: labels in range, shapes, [0, 1] values."""
    kind = decl.targets
    outputs = (len(y), *out_shape[1:])
    if kind == "labels" and y.shape[1:] == out_shape[1:-1]:
        _check_labels(loss, y, out_shape[-1], outputs, name, where)
    elif y.shape[1:] != out_shape[1:]:
        need = f"targets shaped like the model's output {outputs}"
        hint = ""
        if kind == "labels":
            need = f"integer labels of shape {outputs[:-1]} or class probabilities of shape " \
                   f"{outputs}"
        elif kind == "one_hot":
            hint = f"; one-hot encode the labels (np.eye({out_shape[-1]})[y]) or use " \
                   "CrossEntropyLoss on logits"
        elif y.ndim == len(out_shape) - 1 and out_shape[-1] == 1:
            hint = "; reshape them with y.reshape(-1, 1)"
        raise ValueError(f"{where}: {name} needs {need}, but y has shape {y.shape}{hint}")
    if kind == "binary" and (np.min(y) < 0 or np.max(y) > 1):
        raise ValueError(f"{where}: {name} needs targets in [0, 1]; y ranges over "
                         f"[{np.min(y)}, {np.max(y)}]")


def _check_labels(loss, y, n_classes: int, outputs, name: str, where: str) -> None:
    """Integer class labels, each in 0..n_classes-1 (an ignored label aside)."""
    if y.dtype.kind not in "iu":
        raise ValueError(
            f"{where}: {name} needs integer class labels, but y has dtype {y.dtype} (shape "
            f"{y.shape}); convert with y.astype(int), or pass class probabilities of shape "
            f"{outputs}"
        )
    ignore = ignored_label(loss)
    counted = y if ignore is None else y[y != ignore]
    low, high = int(np.min(counted, initial=0)), int(np.max(counted, initial=0))
    if low < 0 or high >= n_classes:
        raise ValueError(
            f"{where}: y has the class label {low if low < 0 else high}, but the model "
            f"outputs {n_classes} classes (labels must be in 0..{n_classes - 1})"
        )


def _warn_if_the_output_does_not_fit(decl, out: np.ndarray, name: str, where: str) -> None:
    """Warn, with the fix, where the model's output cannot be what the loss takes: trained as
    it is, the model would learn badly or not at all (issue 14: silent wrong models)."""
    if decl is None or not out.size:
        return
    if decl.predictions in ("logits", "binary_logits") and out.shape[-1] > 1 \
            and np.all(out >= 0) and np.allclose(out.sum(axis=-1), 1):
        warnings.warn(f"{where}: {name} takes logits, but the model's outputs are "
                      "probabilities (each row sums to 1), so softmax would be applied twice; "
                      "build the model with output_activation='none'", UserWarning, stacklevel=3)
    elif out.shape[-1] == 1 and np.all(out == 1.0):
        warnings.warn(f"{where}: the model's single output is always 1 (a softmax over one "
                      f"unit?), so {name} cannot train it; use output_activation='none' (or "
                      "'sigmoid' for a probability)", UserWarning, stacklevel=3)


def _forward(model, X):
    """The model's output on ``X`` (a Tensor, as the loss expects), without a graph, in eval
    mode."""
    with training_mode(model, False), no_grad():
        out = model(X)
    return out if isinstance(out, Tensor) else Tensor(out)

