"""``History``: the per-epoch figures of a ``fit`` run, and their plot."""

from __future__ import annotations

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

    def plot(self, path=None, title: str | None = None, dpi: int = 100):
        """Draw the losses (and accuracies, if any) per epoch.

        Validation curves are dashed; with early stopping a dotted line marks the epoch whose
        weights were kept. No window is opened and the global matplotlib backend is left
        alone. Needs matplotlib (``pip install 'layerwise[plot]'``).

        Args:
            path: None (write nothing and return the matplotlib ``Figure``, which Jupyter
                shows), or a file to write, its format by suffix (``.png``, ``.svg``, ``.pdf``).

        Returns:
            the ``Figure`` without ``path``; ``path`` with one.
        """
        from ..display import plot_history

        figure = plot_history(self, path, title=title, dpi=dpi)
        return figure if path is None else path

    def _repr_mimebundle_(self, include=None, exclude=None):
        """Jupyter shows the curves (SVG) with the repr as text."""
        from ..display import history_mimebundle

        return history_mimebundle(self, include, exclude)
