"""Class and sample weights for ``fit``: one weight per row, and the loss that uses them."""

from __future__ import annotations

import functools
import inspect
import numbers

import numpy as np

from .. import nn
from ..autodiff import ops
from .targets import ignored_label, loss_declaration, loss_name

__all__ = ["per_row_loss", "row_weights"]


def _class_of_each_row(y, decl, where):
    kind = decl.targets if decl is not None else None
    if kind == "labels" and y.ndim == 1 and y.dtype.kind in "iu":
        return y
    if kind in ("labels", "one_hot") and y.ndim == 2:
        return y.argmax(axis=-1)
    if kind == "binary" and (y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1)):
        return (y.reshape(len(y)) > 0.5).astype(np.int64)
    raise ValueError(f"{where}: class_weight needs class labels, one-hot rows or one binary "
                     f"column as targets; the loss takes {kind or 'unknown'} targets of shape "
                     f"{y.shape} (use sample_weight)")


def row_weights(y, decl, loss, class_weight, sample_weight, where: str):
    """One float64 weight per row (the product of the class and sample weights), or None.

    ``class_weight='balanced'`` gives class c the weight n / (k count_c) over the k classes
    present (scikit-learn's); a dict gives its classes their weights and the others 1. Rows
    whose label the loss ignores get 0.
    """
    if class_weight is None and sample_weight is None:
        return None
    weights = np.ones(len(y))
    if sample_weight is not None:
        sw = np.asarray(sample_weight, dtype=np.float64) if not isinstance(
            sample_weight, str) else np.array(np.nan)
        if sw.shape != (len(y),) or not np.all(np.isfinite(sw)) or np.any(sw < 0):
            raise ValueError(f"{where}: sample_weight must be {len(y)} finite numbers >= 0 (one "
                             f"per row), got shape {sw.shape}")
        weights *= sw
    if class_weight is not None:
        labels = _class_of_each_row(y, decl, where)
        ignore = ignored_label(loss)
        counted = np.ones(len(labels), bool) if ignore is None else labels != ignore
        classes, counts = np.unique(labels[counted], return_counts=True)
        if isinstance(class_weight, str) and class_weight == "balanced":
            table = dict(zip(classes.tolist(),
                             (counted.sum() / (len(classes) * counts)).tolist()))
        elif isinstance(class_weight, dict):
            table = {}
            for c, w in class_weight.items():
                if isinstance(w, bool) or not isinstance(w, numbers.Real) or \
                        not np.isfinite(w) or w < 0:  # type: ignore[call-overload]  # Real
                    raise ValueError(f"{where}: class_weight[{c!r}] must be a finite number "
                                     f">= 0, got {w!r}")
                table[int(c)] = float(w)
        else:
            raise ValueError(f"{where}: class_weight must be 'balanced' or a dict "
                             f"{{class: weight}}, got {class_weight!r}")
        lookup = np.array([table.get(int(c), 1.0) for c in labels.tolist()])
        weights *= np.where(counted, lookup, 0.0)
    return weights


def per_row_loss(loss, where: str):
    """``weighted(y_true, y_pred, w)``: ``loss`` run with ``reduction='none'``, each row's
    losses averaged, then sum(w l) / sum(w) (or sum(w l) for a ``'sum'`` loss)."""
    decl = loss_declaration(loss)
    if decl is None or "reduction" not in inspect.signature(decl.obj).parameters:
        raise ValueError(f"{where}: class_weight and sample_weight need a declared loss with "
                         f"a reduction option (e.g. lw.nn.CrossEntropyLoss); got "
                         f"{loss_name(loss)}")
    options = dict(loss.options) if isinstance(loss, nn.Loss) else {}
    reduction = options.pop("reduction", "mean")
    unreduced = functools.partial(decl.obj, **options, reduction="none")

    def weighted(y_true, y_pred, w):
        per = unreduced(y_true, y_pred)
        if per.ndim > 1:
            per = ops.mean(per, axis=tuple(range(1, per.ndim)))
        w = w.astype(per.dtype)
        total = ops.reduce_sum(per * w)
        if reduction == "sum":
            return total
        return total / w.sum() if w.sum() > 0 else total * 0.0

    return weighted
