"""``History``: the per-epoch figures of a ``fit`` run, and their plot."""

from __future__ import annotations

import numpy as np

__all__ = ["History"]


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
