"""``lw.callbacks``: code that ``lw.fit`` runs at fixed points of training.

A callback subclasses :class:`Callback` and overrides the hooks it needs; ``fit`` gives it
``self.model``, ``self.optimizer`` and ``self.history`` before training starts, then calls,
in the order the callbacks were given::

    on_train_begin(logs)            logs: {} (reserved)
      on_epoch_begin(epoch)         epoch counts from 0
        on_batch_end(batch, logs)   logs: {'loss': this batch's loss, 'size': its rows}
      on_epoch_end(epoch, logs)     logs: the epoch's figures ('loss', 'val_loss', ...)
    on_train_end(logs)              logs: the last epoch's figures

Setting ``model.stop_training = True`` in any hook stops training after the current epoch
(the epoch always runs to its end, unlike Keras).

Built in: :class:`EarlyStopping`, :class:`ModelCheckpoint`, :class:`LearningRateScheduler`,
:class:`CSVLogger`, :class:`LivePlot`, and :class:`TrainingCheckpoint` (everything needed to
resume, with ``lw.save_checkpoint``).
"""

from __future__ import annotations

import csv
import math
import os
import sys
from typing import Any, TextIO

__all__ = ["CSVLogger", "Callback", "EarlyStopping", "LearningRateScheduler", "LivePlot",
           "ModelCheckpoint", "TrainingCheckpoint"]


class Callback:
    """Base class: every hook does nothing. ``model``, ``optimizer`` and ``history`` are set
    by ``fit`` before ``on_train_begin``."""

    model: Any = None
    optimizer: Any = None
    history: Any = None

    def _bind(self, model, optimizer, history) -> None:
        self.model, self.optimizer, self.history = model, optimizer, history

    def on_train_begin(self, logs=None) -> None:
        pass

    def on_epoch_begin(self, epoch: int) -> None:
        pass

    def on_batch_end(self, batch: int, logs=None) -> None:
        pass

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        pass

    def on_train_end(self, logs=None) -> None:
        pass

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _watched(logs: dict, monitor: str, who: str) -> float:
    if monitor not in logs:
        raise ValueError(f"{who}: monitor={monitor!r} is not among this run's figures "
                         f"({', '.join(logs)}); pass validation_data to fit for val_* figures")
    return float(logs[monitor])


def _mode(mode: str, monitor: str, who: str) -> str:
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{who}: mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":
        return "max" if "acc" in monitor else "min"
    return mode


def _improved(value: float, best: float, mode: str, min_delta: float = 0.0) -> bool:
    return value < best - min_delta if mode == "min" else value > best + min_delta


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved for ``patience`` epochs, and (by default) put
    back the weights of the best epoch at the end of training.

    Args:
        monitor: a figure of the epoch's logs (``'val_loss'``, ``'val_accuracy'``, ``'loss'``).
        patience: epochs without improvement to wait, >= 0 (0: stop at the first one).
        restore_best_weights: load the best epoch's weights (and buffers) when training ends.
        min_delta: a change smaller than this is no improvement.
        mode: ``'min'``, ``'max'``, or ``'auto'`` (max for accuracies).

    After training, ``history.best_epoch`` and ``history.stopped_epoch`` (None if it never
    stopped early) say what happened.
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 0,
                 restore_best_weights: bool = True, min_delta: float = 0.0,
                 mode: str = "auto"):
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ValueError(f"EarlyStopping: patience must be an integer >= 0, got "
                             f"{patience!r}")
        self.monitor, self.patience = monitor, patience
        self.restore_best_weights, self.min_delta = restore_best_weights, float(min_delta)
        self.mode = _mode(mode, monitor, "EarlyStopping")

    def on_train_begin(self, logs=None) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_state, self.best_epoch, self.stopped_epoch, self.wait = None, None, None, 0

    def on_epoch_end(self, epoch, logs=None) -> None:
        value = _watched(logs, self.monitor, "EarlyStopping")
        if _improved(value, self.best, self.mode, self.min_delta):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_state = self.model.state_dict()
            self.history.best_epoch = epoch
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = self.history.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None) -> None:
        if self.best_state is not None:
            self.model.load_state_dict(self.best_state)

    def summary(self) -> str | None:
        """One line saying when training stopped and which weights were kept (or None)."""
        if self.stopped_epoch is None:
            return None
        kept = (f"; restored the weights of epoch {self.best_epoch + 1} "
                f"({self.monitor} {self.best:.4f})") if self.best_state is not None else ""
        return (f"Early stopping: {self.monitor} has not improved for {self.wait} epochs"
                f"{kept}")

    def __repr__(self) -> str:
        return f"EarlyStopping(monitor={self.monitor!r}, patience={self.patience})"


class ModelCheckpoint(Callback):
    """Write the model with ``lw.save`` after an epoch: only when ``monitor`` improved
    (``save_best_only``), or after every epoch.

    Args:
        path: the file; may hold ``{epoch}`` and figure names (``'net-{epoch:02d}.safetensors'``).
        monitor, mode: the figure that decides "best" and which way is better.
        save_best_only: write only improvements (else every epoch).
    """

    def __init__(self, path, monitor: str = "val_loss", save_best_only: bool = True,
                 mode: str = "auto"):
        self.path, self.monitor, self.save_best_only = os.fspath(path), monitor, save_best_only
        self.mode = _mode(mode, monitor, "ModelCheckpoint")
        self.best: float | None = None
        self.saved: list[str] = []  # the paths written, in order

    def on_train_begin(self, logs=None) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf

    def on_epoch_end(self, epoch, logs=None) -> None:
        from .serialization import save

        if self.save_best_only:
            value = _watched(logs, self.monitor, "ModelCheckpoint")
            assert self.best is not None  # set by on_train_begin
            if not _improved(value, self.best, self.mode):
                return
            self.best = value
        path = self.path.format(epoch=epoch + 1, **logs)
        save(self.model, path)
        self.saved.append(path)

    def __repr__(self) -> str:
        return f"ModelCheckpoint({self.path!r}, monitor={self.monitor!r})"


class LearningRateScheduler(Callback):
    """Step an ``lw.optim.lr_scheduler`` object during ``fit``: once per epoch (default), or
    after every batch (``per='batch'``, for ``OneCycleLR``). A ``ReduceLROnPlateau`` gets the
    epoch's ``monitor`` figure (``val_loss``, else ``loss``)."""

    def __init__(self, scheduler, per: str = "epoch", monitor: str | None = None):
        if not callable(getattr(scheduler, "step", None)):
            raise TypeError(f"LearningRateScheduler: expected a scheduler with step(), got "
                            f"{type(scheduler).__name__}")
        if per not in ("epoch", "batch"):
            raise ValueError(f"LearningRateScheduler: per must be 'epoch' or 'batch', got "
                             f"{per!r}")
        self.scheduler, self.per, self.monitor = scheduler, per, monitor

    def _plateau(self) -> bool:
        from .optim.lr_scheduler import ReduceLROnPlateau

        return isinstance(self.scheduler, ReduceLROnPlateau)

    def on_batch_end(self, batch, logs=None) -> None:
        if self.per == "batch" and not self._plateau():
            self.scheduler.step()

    def on_epoch_end(self, epoch, logs=None) -> None:
        if self._plateau():
            monitor = self.monitor or ("val_loss" if "val_loss" in logs else "loss")
            self.scheduler.step(_watched(logs, monitor, "LearningRateScheduler"))
        elif self.per == "epoch":
            self.scheduler.step()

    def __repr__(self) -> str:
        return f"LearningRateScheduler({type(self.scheduler).__name__}, per={self.per!r})"


class CSVLogger(Callback):
    """Write one CSV row per epoch: ``epoch`` (from 1), then the epoch's figures.

    Args:
        path: the file (replaced, or appended to with ``append=True``).
        separator: the field separator.
    """

    def __init__(self, path, separator: str = ",", append: bool = False):
        self.path, self.separator, self.append = os.fspath(path), separator, append
        self._file: TextIO | None = None
        self._writer: csv.DictWriter | None = None

    def on_train_begin(self, logs=None) -> None:
        exists = self.append and os.path.exists(self.path) and os.path.getsize(self.path) > 0
        self._file = open(self.path, "a" if self.append else "w", newline="")  # noqa: SIM115
        self._header = exists  # appending: the header is there already

    def on_epoch_end(self, epoch, logs=None) -> None:
        assert self._file is not None  # opened by on_train_begin
        if self._writer is None:
            self._writer = csv.DictWriter(self._file, ["epoch", *logs],
                                          delimiter=self.separator, extrasaction="ignore")
            if not self._header:
                self._writer.writeheader()
        self._writer.writerow({"epoch": epoch + 1, **logs})
        self._file.flush()

    def on_train_end(self, logs=None) -> None:
        if self._file is not None:
            self._file.close()
            self._file = self._writer = None

    def __repr__(self) -> str:
        return f"CSVLogger({self.path!r})"


def _in_notebook() -> bool:
    """True inside a running Jupyter kernel (IPython importable and a kernel app present)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def _show(fig) -> None:
    """Replace the cell's output with ``fig`` (in a notebook)."""
    from IPython.display import clear_output, display

    clear_output(wait=True)
    display(fig)


class LivePlot(Callback):
    """Show the training curves as they grow: in Jupyter the figure is redrawn after every
    epoch (with matplotlib, through ``IPython.display``); elsewhere one line per epoch is
    printed (to ``file``, stdout by default). No dependency beyond what is installed.
    """

    def __init__(self, file=None):
        self.file = file
        self.notebook = None

    def on_train_begin(self, logs=None) -> None:
        self.notebook = _in_notebook()
        if self.notebook:
            try:
                import matplotlib  # noqa: F401
            except ImportError:
                self.notebook = False

    def on_epoch_end(self, epoch, logs=None) -> None:
        if self.notebook:
            self._redraw()
        else:
            figures = "  ".join(f"{k} {v:.4f}" for k, v in logs.items())
            print(f"epoch {epoch + 1}: {figures}", file=self.file or sys.stdout, flush=True)

    def _redraw(self) -> None:
        _show(self.history.plot())  # the History's own figure (no path: nothing written)

    def __repr__(self) -> str:
        return "LivePlot()"


class TrainingCheckpoint(Callback):
    """Write everything needed to resume training with ``lw.save_checkpoint`` after every
    epoch: the model (buffers included), the optimiser's state, and in ``extra`` the number of
    epochs done, the figures so far, the shuffling ``rng``'s state and a scheduler's state.

    Args:
        path: the checkpoint file (replaced atomically each epoch).
        rng: the Generator (or RandomState) given to ``fit`` as ``rng=``, whose state decides
            the next epochs' shuffles.
        scheduler: an ``lw.optim.lr_scheduler`` object stepped during training, if any.
        **extra: more JSON-able values to store (e.g. the options that made the run).

    Resume with ``extra = lw.load_checkpoint(path, model, optimizer)``: restore the rng with
    ``layerwise.checkpoint.set_rng_state(rng, extra['rng'])``, the scheduler with
    ``scheduler.load_state_dict(extra['scheduler'])``, then ``fit(...,
    initial_epoch=extra['epoch'])``: the weights come out bit for bit those of a run that
    never stopped.
    """

    def __init__(self, path, rng=None, scheduler=None, **extra):
        self.path, self.rng, self.scheduler = os.fspath(path), rng, scheduler
        self.extra = extra

    def on_epoch_end(self, epoch, logs=None) -> None:
        from .checkpoint import rng_state, save_checkpoint

        extra = {**self.extra, "epoch": epoch + 1, "history": self.history.history}
        if self.rng is not None:
            extra["rng"] = rng_state(self.rng)
        if self.scheduler is not None:
            extra["scheduler"] = self.scheduler.state_dict()
        save_checkpoint(self.path, self.model, self.optimizer, **extra)

    def __repr__(self) -> str:
        return f"TrainingCheckpoint({self.path!r})"
