"""``lw.fit``: mini-batch training with a progress bar, validation and early stopping.

One epoch is one pass over the shuffled rows in mini-batches; for each batch::

    out = model(Xb);  l = loss(yb, out);  optimizer.zero_grad();  l.backward();  optimizer.step()

as inside ``lw.compile``: after the first batch of each shape, the model's and a built-in
loss's NumPy work is replayed without rebuilding graph nodes (the same numbers, bit for bit).

The epoch's ``loss`` is the mean of the batch losses weighted by batch size (the mean over
the rows for a ``'mean'`` loss); ``val_loss`` is the loss on ``validation_data`` after the
epoch. ``accuracy`` is recorded where the loss's declaration says what a correct prediction
is (see :class:`~layerwise.training.targets.Accuracy`).

A nan or inf loss stops training at once with :class:`NonFiniteLossError` (a
``FloatingPointError``) naming the epoch and batch; the weights are those before that batch
(or, with early stopping, the best epoch's) and the error carries the history so far. Targets that cannot fit the loss (float labels for
``CrossEntropyLoss``, shapes that differ) raise ``ValueError`` before the first step.
"""

from __future__ import annotations

import math
import time

import numpy as np

from .. import nn
from ..autodiff.tensor import no_grad
from ..checks import positive_int
from ..data.batching import as_rows, batches, num_batches
from ..nn.module import training_mode
from ..replay import replaying
from ..rng import resolve_rng
from .history import History
from .progress import progress_display
from .targets import Accuracy, check_targets, ignored_label
from .weights import per_row_loss, row_weights

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
    accuracy = Accuracy(check_targets(model, loss, X, y, where), ignored_label(loss))
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
        early_stopping: int | None = None, callbacks=None, class_weight=None,
        sample_weight=None, initial_epoch: int = 0) -> History:
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
        epochs: train until this many epochs are done (counting ``initial_epoch``).
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
            ``validation_data``); the same as ``callbacks=[EarlyStopping(patience=...)]``.
        callbacks: ``lw.callbacks.Callback`` objects, called in order (see ``lw.callbacks``);
            any of them may set ``model.stop_training = True`` to stop after the epoch.
        class_weight: ``'balanced'`` (n / (classes * count), as scikit-learn) or
            ``{class: weight}`` (others 1), for label, one-hot or binary targets.
        sample_weight: ``(n,)`` non-negative weights, one per row.
        initial_epoch: epochs already done (when resuming from a checkpoint).

    With weights, each row's loss (the loss run with ``reduction='none'``, averaged over any
    other axes) is weighted: a batch's loss is sum(w l) / sum(w) (sum(w l) for a ``'sum'``
    loss), so equal weights change nothing. Validation figures are not weighted.

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
    X, y, epochs, batch_size, callbacks, validation_data, decl = _check_arguments(
        model, X, y, loss, optimizer, epochs, batch_size, validation_data, early_stopping,
        callbacks, initial_epoch, where)
    accuracy = Accuracy(decl, ignored_label(loss))
    weights = row_weights(y, decl, loss, class_weight, sample_weight, where)
    row_loss = None if weights is None else per_row_loss(loss, where)

    rng = resolve_rng(rng)  # once: a seed gives a new permutation every epoch
    n_batches = num_batches(len(X), batch_size)
    history = History()
    display = progress_display(progress, epochs, n_batches)
    model.stop_training = False
    for cb in callbacks:
        cb._bind(model, optimizer, history)
    logs = {}
    try:
        # replaying: each batch after the first runs the recorded NumPy work of the model and
        # a built-in loss (lw.compile); a user's loss, metric or callback still runs as written
        with training_mode(model, True), replaying():
            for cb in callbacks:
                cb.on_train_begin({})
            for epoch in range(initial_epoch, epochs):
                for cb in callbacks:
                    cb.on_epoch_begin(epoch)
                started = time.perf_counter()
                logs = _train_epoch(model, X, y, loss, optimizer, batch_size, shuffle, rng,
                                    epoch, epochs, n_batches, accuracy, display, callbacks,
                                    weights, row_loss, history)
                if validation_data is not None:
                    X_val, y_val = validation_data
                    scores = _evaluate(model, X_val, y_val, loss, accuracy,
                                       max(batch_size, 256))
                    logs.update({"val_" + k: v for k, v in scores.items()})
                history._record(epoch, logs)
                if display:
                    display.epoch_end(epoch, logs, time.perf_counter() - started)
                for cb in callbacks:
                    cb.on_epoch_end(epoch, logs)
                if model.stop_training:
                    break
            _end_callbacks(callbacks, logs, display)
    except NonFiniteLossError:
        _restore_best_weights(model, callbacks)
        raise
    finally:
        if display:
            display.close()
    return history


def _end_callbacks(callbacks, logs, display) -> None:
    for cb in callbacks:
        cb.on_train_end(logs)
    for cb in callbacks:
        note = getattr(cb, "summary", lambda: None)()
        if display and note:
            display.note(note)


def _restore_best_weights(model, callbacks) -> None:
    """After a diverged step (the weights before it may already be huge): put back the best
    epoch's weights where early stopping kept them."""
    for cb in callbacks:
        best = getattr(cb, "best_state", None)
        if best is not None and getattr(cb, "restore_best_weights", False):
            model.load_state_dict(best)
            return


def _check_optimizer(model, optimizer, where):
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


def _check_arguments(model, X, y, loss, optimizer, epochs, batch_size, validation_data,
                     early_stopping, callbacks, initial_epoch, where):
    """Every argument of ``fit`` checked (and the targets against the loss's declaration)
    before the first step; returns them in the form the loop uses."""
    from ..callbacks import Callback, EarlyStopping

    if not isinstance(model, nn.Module):
        raise TypeError(f"{where}: model must be a lw.nn.Module, got {type(model).__name__}")
    X, y = as_rows(X, "X", where), as_rows(y, "y", where)
    epochs = positive_int(epochs, "epochs", where)
    batch_size = positive_int(batch_size, "batch_size", where)
    if isinstance(initial_epoch, bool) or not isinstance(initial_epoch, int) or \
            not 0 <= initial_epoch <= epochs:
        raise ValueError(f"{where}: initial_epoch must be an integer in 0..epochs ({epochs}), "
                         f"got {initial_epoch!r}")
    _check_optimizer(model, optimizer, where)
    callbacks = list(callbacks or [])
    for i, cb in enumerate(callbacks):
        if not isinstance(cb, Callback):
            raise TypeError(f"{where}: callbacks[{i}] is a {type(cb).__name__}, not a "
                            "lw.callbacks.Callback")
    if early_stopping is not None:
        early_stopping = positive_int(early_stopping, "early_stopping (a patience)", where)
        if validation_data is None:
            raise ValueError(f"{where}: early_stopping watches val_loss, so it needs "
                             "validation_data=(X_val, y_val)")
        callbacks.append(EarlyStopping("val_loss", patience=early_stopping))
    decl = check_targets(model, loss, X, y, where)
    if validation_data is not None:
        try:
            X_val, y_val = validation_data
        except (TypeError, ValueError):
            raise ValueError(f"{where}: validation_data must be a pair (X_val, y_val)") from None
        X_val, y_val = as_rows(X_val, "X_val", where), as_rows(y_val, "y_val", where)
        check_targets(model, loss, X_val, y_val, f"{where} (validation_data)")
        validation_data = (X_val, y_val)
    return X, y, epochs, batch_size, callbacks, validation_data, decl


def _train_epoch(model, X, y, loss, optimizer, batch_size, shuffle, rng, epoch, epochs,
                 n_batches, accuracy, display, callbacks, weights, row_loss, history):
    """One pass over the batches; returns the epoch's logs."""
    where = "fit"
    total = correct = counted = 0.0
    seen = 0
    if weights is None:
        pairs = batches(X, y, batch_size, shuffle, rng)
    else:  # the same rows as above (the same permutation), with their weights
        pairs = ((Xb, (y[idx], weights[idx]))
                 for Xb, idx in batches(X, np.arange(len(X)), batch_size, shuffle, rng))
    for b, (Xb, yb) in enumerate(pairs):
        out = model(Xb)
        if weights is None:
            value = loss(yb, out)
        else:
            yb, wb = yb
            value = row_loss(yb, out, wb)
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
            display.batch(epoch, b, total / seen, correct / counted if accuracy else None)
        for cb in callbacks:
            cb.on_batch_end(b, {"loss": number, "size": rows})
    logs = {"loss": total / seen}
    if accuracy:
        logs["accuracy"] = correct / counted if counted else 0.0
    return logs
