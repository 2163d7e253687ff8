"""What a loss means for a model's data: the output layer it needs, how its outputs become
class probabilities, and how raw targets become what it takes — all read from the loss's
declaration in ``lw.F.LOSSES`` (its ``targets`` and ``predictions`` kinds).

>>> import numpy as np, layerwise as lw
>>> decl = lw.F.LOSSES.declaration("cross_entropy")
>>> lw.tasks.output_activation(decl)
'none'
>>> lw.tasks.probabilities(decl, np.array([[0.0, 0.0]]))
array([[0.5, 0.5]])
"""

from __future__ import annotations

import numpy as np

from .functional.activations import sigmoid, softmax
from .functional.losses import LOSSES, PREDICTIONS

__all__ = ["loss_for", "loss_of_model_file", "output_activation", "output_size", "prepare_targets", "probabilities"]


def loss_for(name: str):
    """The declaration of the loss called ``name`` (or an alias); ValueError if unknown."""
    try:
        return LOSSES.declaration(name)
    except KeyError as err:
        raise ValueError(err.args[0]) from None


def loss_of_model_file(metadata: dict, n_outputs: int):
    """The declaration of the loss a model file's metadata names (``layerwise train`` writes
    it); a file naming none is taken as a classifier of logits when the model has several
    outputs, as regression otherwise (None). ValueError for a name that is not declared."""
    name = metadata.get("loss") or ("cross_entropy" if n_outputs > 1 else None)
    return loss_for(name) if name else None


def output_activation(decl) -> str:
    """The output activation producing what the loss takes (``'none'`` for logits/values)."""
    activation = PREDICTIONS[decl.predictions][0]
    if activation is None:  # probabilities: one per class (softmax) or per output (sigmoid)
        activation = "sigmoid" if decl.targets == "binary" else "softmax"
    return activation


def output_size(decl, classes) -> int:
    """Output units: one per class for class targets, one for binary and regression."""
    return len(classes) if decl.targets in ("labels", "one_hot", "distribution") else 1


def probabilities(decl, out: np.ndarray) -> np.ndarray | None:
    """Class probabilities ``(N, C)`` from a model's outputs, or None for regression.

    Binary models (one output) give ``(N, 2)``: ``[1 - p, p]``.
    """
    if decl.targets == "values":
        return None
    kind = decl.predictions
    if kind == "logits":
        probs = softmax(out).data
    elif kind == "binary_logits":
        probs = sigmoid(out).data
    elif kind == "log_probabilities":
        probs = np.exp(out)
    else:
        probs = np.asarray(out)
    if decl.targets == "binary":
        p = probs.reshape(len(probs), -1)[:, 0]
        probs = np.stack([1 - p, p], axis=1)
    return probs


def prepare_targets(y: np.ndarray, classes, decl, where: str):
    """``(targets as the loss takes them, class names or None)`` from a data set's column.

    ``classes`` names the labels when the column held names; numeric labels become 0..K-1
    in sorted order, named by their values. Raises ValueError with the fix in the message.
    """
    name = decl.name
    if decl.targets == "values":
        if classes is not None:
            raise ValueError(f"{where}: the target column holds class names; use "
                             "--loss cross_entropy")
        return y.astype(np.float32).reshape(-1, 1), None
    if classes is None:
        if y.dtype.kind != "i":
            raise ValueError(f"{where}: the target column has non-integer values; use "
                             "--loss mse (or mae, huber) for regression")
        values, y = np.unique(y, return_inverse=True)
        classes = [str(v) for v in values]
    if decl.targets == "binary":
        if len(classes) != 2:
            raise ValueError(f"{where}: --loss {name} needs exactly two classes, the data has "
                             f"{len(classes)}; use --loss cross_entropy")
        return y.astype(np.float32).reshape(-1, 1), classes
    if len(classes) < 2:
        raise ValueError(f"{where}: the data has a single class ({classes[0]})")
    if decl.targets in ("one_hot", "distribution"):
        return np.eye(len(classes), dtype=np.float32)[y], classes
    return y.astype(np.int64), classes
