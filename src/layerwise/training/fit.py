"""``lw.fit``: mini-batch training with a progress bar, validation and early stopping.

One epoch is one pass over the shuffled rows in mini-batches; for each batch::

    out = model(Xb);  l = loss(yb, out);  optimizer.zero_grad();  l.backward();  optimizer.step()

The epoch's ``loss`` is the mean of the batch losses weighted by batch size (the mean over
the rows for a ``'mean'`` loss); ``val_loss`` is the loss on ``validation_data`` after the
epoch. ``accuracy`` is recorded where the loss's declaration says what a correct prediction
is (see :class:`~layerwise.training.targets.Accuracy`).

A nan or inf loss stops training at once with :class:`NonFiniteLossError` (a
``FloatingPointError``) naming the epoch and batch; the weights are those before that batch
and the error carries the history so far. Targets that cannot fit the loss (float labels for
``CrossEntropyLoss``, shapes that differ) raise ``ValueError`` before the first step.
"""

from __future__ import annotations

import math
import time

from .. import nn
from ..autodiff.tensor import no_grad
from ..checks import positive_int
from ..data.batching import as_rows, batches, num_batches
from ..nn.module import training_mode
from ..rng import resolve_rng
from .history import History
from .progress import progress_display
from .targets import Accuracy, check_targets

__all__ = ["NonFiniteLossError", "evaluate", "fit"]


class NonFiniteLossError(FloatingPointError):
    """The training loss became nan or inf; ``.epoch`` and ``.batch`` (1-based) say where and
    ``.history`` holds the epochs completed before it."""

    def __init__(self, message, epoch, batch, history):
        super().__init__(message)
        self.epoch, self.batch, self.history = epoch, batch, history


# ------------------------------------------------------------------------- evaluate
def evaluate(model, X, y, loss, batch_size: int = 256) -> dict:
    """The loss (and accuracy, where it applies) of ``model`` on ``(X, y)``; no training.

    Runs in eval mode without building a graph, ``batch_size`` rows at a time.

    Returns:
        ``{'loss': float}`` plus ``'accuracy'`` for classification losses.

    >>> import numpy as np, layerwise as lw
    >>> net = lw.MLP([2, 3], output_activation='none', rng=0)
    >>> sorted(lw.training.evaluate(net, np.ones((4, 2)), np.zeros(4, int),
    ...                             lw.nn.CrossEntropyLoss()))
    ['accuracy', 'loss']
    """
    where = "evaluate"
    if not isinstance(model, nn.Module):
        raise TypeError(f"{where}: model must be a lw.nn.Module, got {type(model).__name__}")
    X, y = as_rows(X, "X", where), as_rows(y, "y", where)
    batch_size = positive_int(batch_size, "batch_size", where)
    accuracy = Accuracy(check_targets(model, loss, X, y, where))
    return _evaluate(model, X, y, loss, accuracy, batch_size)


def _evaluate(model, X, y, loss, accuracy, batch_size):
    total = correct = counted = 0.0
    with training_mode(model, False), no_grad():
        for Xb, yb in batches(X, y, batch_size):
            out = model(Xb)
            total += float(loss(yb, out).data) * len(Xb)
            if accuracy:
                c, n = accuracy.count(yb, out.data)
                correct, counted = correct + c, counted + n
    logs = {"loss": total / len(X)}
    if accuracy:
        logs["accuracy"] = correct / counted
    return logs


# ------------------------------------------------------------------------------ fit
def fit(model, X, y, loss, optimizer, epochs: int, batch_size: int = 32,
        validation_data=None, shuffle: bool = True, rng=None, progress: bool = True,
        early_stopping: int | None = None) -> History:
    """Train ``model`` on ``(X, y)`` with mini-batch gradient descent.

    Per batch: ``l = loss(yb, model(Xb))``, ``optimizer.zero_grad()``, ``l.backward()``,
    ``optimizer.step()``. The model is put in training mode and left in the mode it had.

    Args:
        model: a ``lw.nn.Module`` (e.g. ``lw.MLP``).
        X: ``(n, n_in)`` inputs (ndarray, memmap, Tensor); y: ``(n, ...)`` targets in the form
            the loss takes (integer labels for ``CrossEntropyLoss``, one-hot for
            ``CategoricalCrossEntropyLoss``, ``(n, n_out)`` values for regression).
        loss: a loss module or any callable ``loss(y_true, y_pred)`` returning a scalar Tensor.
        optimizer: e.g. ``lw.optim.Adam(model.parameters())``.
        epochs: passes over the data, a positive int.
        batch_size: rows per step, a positive int.
        validation_data: ``(X_val, y_val)``, scored after every epoch (``val_loss`` and
            ``val_accuracy``).
        shuffle: reshuffle the rows every epoch (drawn from ``rng``).
        rng: ``None`` (NumPy's global state), an int seed, a Generator or a RandomState.
        progress: print one line per epoch on stderr (loss, accuracy, validation figures,
            time), under a live bar (epoch, batch, running loss and accuracy, time left) on a
            terminal or in Jupyter; the bar needs ``rich`` (``pip install
            'layerwise[progress]'``). ``False``: print nothing.
        early_stopping: ``None``, or a patience: stop when ``val_loss`` has not improved for
            that many epochs and put back the weights of the best epoch (needs
            ``validation_data``).

    Returns:
        :class:`History`.

    Raises:
        ValueError: bad arguments, or targets that do not fit the model or the loss (before
            any step).
        NonFiniteLossError: the loss became nan or inf (names the epoch and the batch).

    >>> import numpy as np, layerwise as lw
    >>> X, y = lw.datasets.load_iris()
    >>> net = lw.MLP([4, 16, 3], output_activation='none', rng=0)
    >>> history = lw.fit(net, X, y, lw.nn.CrossEntropyLoss(),
    ...                  lw.optim.Adam(net.parameters(), lr=0.01), epochs=3, rng=0,
    ...                  progress=False)
    >>> len(history['loss']), sorted(history.keys())
    (3, ['accuracy', 'loss'])
    """
    where = "fit"
    if not isinstance(model, nn.Module):
        raise TypeError(f"{where}: model must be a lw.nn.Module, got {type(model).__name__}")
    X, y = as_rows(X, "X", where), as_rows(y, "y", where)
    epochs = positive_int(epochs, "epochs", where)
    batch_size = positive_int(batch_size, "batch_size", where)
    if not (callable(getattr(optimizer, "step", None))
            and callable(getattr(optimizer, "zero_grad", None))):
        raise TypeError(f"{where}: optimizer must have step() and zero_grad(), got "
                        f"{type(optimizer).__name__} (e.g. lw.optim.Adam(model.parameters()))")
    params = getattr(optimizer, "params", None)
    if isinstance(params, list):
        owned = {id(p) for p in model.parameters()}
        if not any(id(p) in owned for p in params):
            raise ValueError(f"{where}: the optimizer holds none of the model's parameters "
                             "(was it made for another model?)")
    if early_stopping is not None:
        early_stopping = positive_int(early_stopping, "early_stopping (a patience)", where)
        if validation_data is None:
            raise ValueError(f"{where}: early_stopping watches val_loss, so it needs "
                             "validation_data=(X_val, y_val)")
    accuracy = Accuracy(check_targets(model, loss, X, y, where))
    if validation_data is not None:
        try:
            X_val, y_val = validation_data
        except (TypeError, ValueError):
            raise ValueError(f"{where}: validation_data must be a pair (X_val, y_val)") from None
        X_val, y_val = as_rows(X_val, "X_val", where), as_rows(y_val, "y_val", where)
        check_targets(model, loss, X_val, y_val, f"{where} (validation_data)")

    rng = resolve_rng(rng)  # once: a seed gives a new permutation every epoch
    n_batches = num_batches(len(X), batch_size)
    history = History()
    display = progress_display(progress, epochs, n_batches)
    best, best_state, waited = math.inf, None, 0
    try:
        with training_mode(model, True):
            for epoch in range(epochs):
                started = time.perf_counter()
                total = correct = counted = 0.0
                seen = 0
                for b, (Xb, yb) in enumerate(batches(X, y, batch_size, shuffle, rng)):
                    out = model(Xb)
                    value = loss(yb, out)
                    number = float(value.data)
                    if not math.isfinite(number):
                        raise NonFiniteLossError(
                            f"{where}: the loss became {number} at epoch {epoch + 1}/{epochs}, "
                            f"batch {b + 1}/{n_batches}; training stopped before that batch's "
                            f"update. Try a smaller learning rate"
                            f"{f' (lr={optimizer.lr:g})' if hasattr(optimizer, 'lr') else ''}, "
                            "or check X and y for nan/inf", epoch + 1, b + 1, history)
                    optimizer.zero_grad()
                    value.backward()
                    optimizer.step()
                    rows = len(Xb)
                    seen += rows
                    total += number * rows
                    if accuracy:
                        c, n = accuracy.count(yb, out.data)
                        correct, counted = correct + c, counted + n
                    if display:
                        display.batch(epoch, b, total / seen,
                                      correct / counted if accuracy else None)
                logs = {"loss": total / seen}
                if accuracy:
                    logs["accuracy"] = correct / counted
                if validation_data is not None:
                    scores = _evaluate(model, X_val, y_val, loss, accuracy,
                                       max(batch_size, 256))
                    logs.update({"val_" + k: v for k, v in scores.items()})
                history._record(epoch, logs)
                if display:
                    display.epoch_end(epoch, logs, time.perf_counter() - started)
                if early_stopping is not None:
                    if logs["val_loss"] < best:
                        best, waited = logs["val_loss"], 0
                        best_state, history.best_epoch = model.state_dict(), epoch
                    else:
                        waited += 1
                        if waited >= early_stopping:
                            history.stopped_epoch = epoch
                            break
            if best_state is not None:
                model.load_state_dict(best_state)
                if display and history.stopped_epoch is not None:
                    display.note(f"Early stopping: val_loss has not improved for {early_stopping} "
                                 f"epochs; restored the weights of epoch {history.best_epoch + 1} "
                                 f"(val_loss {best:.4f})")
    finally:
        if display:
            display.close()
    return history


