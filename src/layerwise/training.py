"""``lw.fit``: mini-batch training with a progress bar, validation and early stopping.

One epoch is one pass over the shuffled rows in mini-batches; for each batch::

    out = model(Xb);  l = loss(yb, out);  optimizer.zero_grad();  l.backward();  optimizer.step()

The epoch's ``loss`` is the mean of the batch losses weighted by batch size (the mean over
the rows for a ``'mean'`` loss); ``val_loss`` is the loss on ``validation_data`` after the
epoch. ``accuracy`` is recorded where the loss says what a correct prediction is:

===========================================  =============================================
loss                                         a prediction is correct when
===========================================  =============================================
``CrossEntropyLoss`` / ``F.cross_entropy``    argmax of the logits = the label (or argmax of
                                             the target probabilities)
``CategoricalCrossEntropyLoss``              argmax of the output = argmax of the one-hot
``BCELoss`` / ``F.binary_cross_entropy``      (p > 0.5) = (y > 0.5), per element
``BCEWithLogitsLoss``                        (logit > 0) = (y > 0.5), per element
===========================================  =============================================

A nan or inf loss stops training at once with :class:`NonFiniteLossError` (a
``FloatingPointError``) naming the epoch and batch; the weights are those before that batch
and the error carries the history so far. Targets that cannot fit the loss (float labels for
``CrossEntropyLoss``, shapes that differ) raise ``ValueError`` before the first step.
"""

from __future__ import annotations

import math
import numbers
import sys
import time

import numpy as np

from . import functional as F
from . import nn
from .autodiff.tensor import Tensor, no_grad
from .data.batching import as_rows, batches, num_batches
from .nn.module import training_mode
from .rng import resolve_rng

__all__ = ["History", "NonFiniteLossError", "evaluate", "fit"]


class NonFiniteLossError(FloatingPointError):
    """The training loss became nan or inf; ``.epoch`` and ``.batch`` (1-based) say where and
    ``.history`` holds the epochs completed before it."""

    def __init__(self, message, epoch, batch, history):
        super().__init__(message)
        self.epoch, self.batch, self.history = epoch, batch, history


class History:
    """Per-epoch figures of a ``fit`` run, as Keras' ``History``.

    Attributes:
        history: ``{'loss': [...], 'accuracy': [...], 'val_loss': [...], ...}``, one value
            per epoch (only the keys that apply).
        epoch: the epoch indices, ``[0, 1, ...]``.
        best_epoch, stopped_epoch: with early stopping, the epoch whose weights were kept and
            the epoch training stopped after (else None).

    ``history['loss']`` is ``history.history['loss']``; ``history.plot('run.png')`` draws it.
    """

    def __init__(self):
        self.history = {}
        self.epoch = []
        self.best_epoch = None
        self.stopped_epoch = None

    def __getitem__(self, key: str) -> list:
        try:
            return self.history[key]
        except KeyError:
            raise KeyError(f"History has no {key!r}; it has {', '.join(self.history) or 'nothing'}"
                           ) from None

    def __contains__(self, key) -> bool:
        return key in self.history

    def keys(self):
        return self.history.keys()

    def __len__(self) -> int:
        return len(self.epoch)

    def _record(self, epoch: int, logs: dict) -> None:
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self.history.items())
        return f"History({len(self.epoch)} epochs{', last: ' + last if last else ''})"

    def plot(self, path="history.png", title: str | None = None, dpi: int = 100):
        """Draw the losses (and accuracies, if any) per epoch and write the picture to ``path``.

        The format follows the suffix (``.png``, ``.svg``, ``.pdf``); no window is opened and
        the global matplotlib backend is left alone. With early stopping, a dotted line marks
        the epoch whose weights were kept. Needs matplotlib (``pip install 'layerwise[plot]'``).

        Returns:
            ``path``.
        """
        try:
            from matplotlib.figure import Figure
        except ImportError:
            raise ImportError("History.plot needs matplotlib: pip install 'layerwise[plot]'"
                              ) from None
        if not self.epoch:
            raise ValueError("History.plot: there is nothing to plot (no epoch was recorded)")
        groups = [[k for k in self.history if not k.endswith("accuracy")],
                  [k for k in self.history if k.endswith("accuracy")]]
        groups = [g for g in groups if g]
        fig = Figure(figsize=(5.5 * len(groups), 4), dpi=dpi, layout="constrained")
        epochs = np.asarray(self.epoch) + 1
        for axes, keys in zip(fig.subplots(1, len(groups), squeeze=False)[0], groups):
            for key in keys:
                axes.plot(epochs, self.history[key], marker="." if len(epochs) < 30 else None,
                          linestyle="--" if key.startswith("val_") else "-", label=key)
            if self.best_epoch is not None:
                axes.axvline(self.best_epoch + 1, color="grey", linestyle=":",
                             label="kept weights")
            axes.set_xlabel("epoch")
            axes.set_ylabel("accuracy" if keys[0].endswith("accuracy") else "loss")
            axes.grid(alpha=0.3)
            axes.legend()
        if title:
            fig.suptitle(title)
        fig.savefig(path)
        return path


# ---------------------------------------------------------------------------- losses
# What each known loss expects of its targets, which decides the checks and the accuracy.
_KINDS = [
    ((nn.CrossEntropyLoss, F.cross_entropy), "labels"),
    ((nn.CategoricalCrossEntropyLoss, F.categorical_cross_entropy), "one_hot"),
    ((nn.BCELoss, F.binary_cross_entropy), "probability"),
    ((nn.BCEWithLogitsLoss, F.binary_cross_entropy_with_logits), "logit"),
    ((nn.MSELoss, F.mse_loss), "values"),
    ((nn.L1Loss, F.mae_loss), "values"),
    ((nn.HuberLoss, F.huber_loss), "values"),
]
_CLASSIFICATION = ("labels", "one_hot", "probability", "logit")


def _loss_kind(loss):
    """``'labels' | 'one_hot' | 'probability' | 'logit' | 'values'`` for a known loss."""
    for (cls, fn), kind in _KINDS:
        if isinstance(loss, cls) or loss is fn:
            return kind
    return None


def _loss_name(loss) -> str:
    if isinstance(loss, nn.Module):
        return type(loss).__name__
    return getattr(loss, "__name__", type(loss).__name__)


def _correct(kind, y_true: np.ndarray, out: np.ndarray):
    """``(number correct, number counted)`` for one batch of a classification loss."""
    if kind in ("labels", "one_hot"):
        pred = out.argmax(axis=-1)
        target = y_true if y_true.ndim == out.ndim - 1 else y_true.argmax(axis=-1)
        return int(np.count_nonzero(pred == target)), pred.size
    threshold = 0.5 if kind == "probability" else 0.0
    return int(np.count_nonzero((out > threshold) == (y_true > 0.5))), out.size


def _check_targets(model, loss, X, y, where: str):
    """Fail before training if ``X`` does not fit the model or ``y`` does not fit the loss.

    Runs the model on the first two rows (no graph, eval mode) for the output's shape, checks
    the targets against what the loss needs (all labels in range, integer labels, shapes),
    then runs the loss on those two rows. Returns the loss's kind (see ``_KINDS``) or None.
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
    name, kind = _loss_name(loss), _loss_kind(loss)
    outputs = (len(y), *out.shape[1:])
    if kind == "labels" and y.shape[1:] == out.shape[1:-1]:
        if y.dtype.kind not in "iu":
            raise ValueError(
                f"{where}: {name} needs integer class labels, but y has dtype {y.dtype} (shape "
                f"{y.shape}); convert with y.astype(int), or pass class probabilities of shape "
                f"{outputs}"
            )
        low, high, n_classes = int(np.min(y)), int(np.max(y)), out.shape[-1]
        if low < 0 or high >= n_classes:
            raise ValueError(
                f"{where}: y has the class label {low if low < 0 else high}, but the model "
                f"outputs {n_classes} classes (labels must be in 0..{n_classes - 1})"
            )
    elif kind is not None and y.shape[1:] != out.shape[1:]:
        need = f"targets shaped like the model's output {outputs}"
        hint = ""
        if kind == "labels":
            need = f"integer labels of shape {outputs[:-1]} or class probabilities of shape " \
                   f"{outputs}"
        elif kind == "one_hot":
            hint = f"; one-hot encode the labels (np.eye({out.shape[-1]})[y]) or use " \
                   "CrossEntropyLoss on logits"
        elif y.ndim == out.ndim - 1 and out.shape[-1] == 1:
            hint = "; reshape them with y.reshape(-1, 1)"
        raise ValueError(f"{where}: {name} needs {need}, but y has shape {y.shape}{hint}")
    if kind in ("probability", "logit") and (np.min(y) < 0 or np.max(y) > 1):
        raise ValueError(f"{where}: {name} needs targets in [0, 1]; y ranges over "
                         f"[{np.min(y)}, {np.max(y)}]")
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
    return kind


def _forward(model, X):
    """The model's output on ``X`` (a Tensor, as the loss expects), without a graph, in eval
    mode."""
    with training_mode(model, False), no_grad():
        out = model(X)
    return out if isinstance(out, Tensor) else Tensor(out)


def _positive_int(value, name: str, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{where}: {name} must be a positive int, got {value!r}")
    return int(value)


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
    batch_size = _positive_int(batch_size, "batch_size", where)
    kind = _check_targets(model, loss, X, y, where)
    return _evaluate(model, X, y, loss, kind if kind in _CLASSIFICATION else None, batch_size)


def _evaluate(model, X, y, loss, kind, batch_size):
    total = correct = counted = 0.0
    with training_mode(model, False), no_grad():
        for Xb, yb in batches(X, y, batch_size):
            out = model(Xb)
            total += float(loss(yb, out).data) * len(Xb)
            if kind:
                c, n = _correct(kind, yb, out.data)
                correct, counted = correct + c, counted + n
    logs = {"loss": total / len(X)}
    if kind:
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
    epochs = _positive_int(epochs, "epochs", where)
    batch_size = _positive_int(batch_size, "batch_size", where)
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
        early_stopping = _positive_int(early_stopping, "early_stopping (a patience)", where)
        if validation_data is None:
            raise ValueError(f"{where}: early_stopping watches val_loss, so it needs "
                             "validation_data=(X_val, y_val)")
    kind = _check_targets(model, loss, X, y, where)
    kind = kind if kind in _CLASSIFICATION else None  # from here on: which accuracy, if any
    if validation_data is not None:
        try:
            X_val, y_val = validation_data
        except (TypeError, ValueError):
            raise ValueError(f"{where}: validation_data must be a pair (X_val, y_val)") from None
        X_val, y_val = as_rows(X_val, "X_val", where), as_rows(y_val, "y_val", where)
        _check_targets(model, loss, X_val, y_val, f"{where} (validation_data)")

    rng = resolve_rng(rng)  # once: a seed gives a new permutation every epoch
    n_batches = num_batches(len(X), batch_size)
    history = History()
    display = _display(progress, epochs, n_batches)
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
                    if kind:
                        c, n = _correct(kind, yb, out.data)
                        correct, counted = correct + c, counted + n
                    if display:
                        display.batch(epoch, b, total / seen, correct / counted if kind else None)
                logs = {"loss": total / seen}
                if kind:
                    logs["accuracy"] = correct / counted
                if validation_data is not None:
                    scores = _evaluate(model, X_val, y_val, loss, kind, max(batch_size, 256))
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


# -------------------------------------------------------------------------- display
def _display(progress, epochs, n_batches):
    """The live rich bar on a terminal or in Jupyter; plain epoch lines elsewhere (a log file,
    a pipe, no rich installed); None for ``progress=False``."""
    if not progress:
        return None
    try:
        from rich.console import Console
    except ImportError:
        return _PlainDisplay(epochs, n_batches)
    console = Console(stderr=True)
    if not (console.is_terminal or console.is_jupyter):
        return _PlainDisplay(epochs, n_batches)
    return _RichDisplay(epochs, n_batches, console)


def _format_logs(logs: dict) -> str:
    return " - ".join(f"{k}: {v:.4f}" for k, v in logs.items())


class _PlainDisplay:
    """One line per epoch on stderr (no rich installed)."""

    def __init__(self, epochs, n_batches):
        self.epochs, self.n_batches = epochs, n_batches

    def batch(self, epoch, b, loss, accuracy):
        pass

    def epoch_end(self, epoch, logs, seconds):
        self.note(f"Epoch {epoch + 1}/{self.epochs} - {seconds:.2f}s - {_format_logs(logs)}")

    def note(self, text):
        print(text, file=sys.stderr, flush=True)

    def close(self):
        pass


class _RichDisplay(_PlainDisplay):
    """A live bar for the whole run (epoch, batch, running loss/accuracy, time left), with one
    printed line per finished epoch above it. Redrawn by the loop itself, at most ten times a
    second (no background thread), so a step costs a clock read unless it is time to redraw."""

    def __init__(self, epochs, n_batches, console):
        from rich.progress import (
            BarColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        super().__init__(epochs, n_batches)
        self.progress = Progress(
            TextColumn("Epoch {task.fields[epoch]}/" + str(epochs)), BarColumn(),
            TextColumn("{task.fields[step]}"), TextColumn("{task.fields[logs]}"),
            TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
            console=console, transient=True, auto_refresh=False,
        )
        self.task = self.progress.add_task("fit", total=epochs * n_batches, epoch=1,
                                           step=f"0/{n_batches}", logs="")
        self.progress.start()
        self.next_draw = 0.0

    def batch(self, epoch, b, loss, accuracy):
        now = time.monotonic()
        if now < self.next_draw and b + 1 < self.n_batches:
            return
        self.next_draw = now + 0.1
        logs = f"loss {loss:.4f}" + (f" acc {accuracy:.4f}" if accuracy is not None else "")
        self.progress.update(self.task, completed=epoch * self.n_batches + b + 1,
                             epoch=epoch + 1, step=f"{b + 1}/{self.n_batches}", logs=logs)
        self.progress.refresh()

    def note(self, text):
        self.progress.console.print(text, highlight=False, markup=False, soft_wrap=True)
        self.progress.refresh()

    def close(self):
        self.progress.stop()
