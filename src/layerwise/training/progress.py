"""Progress displays of ``fit``: a live rich bar on a terminal or in Jupyter, plain lines
elsewhere."""

from __future__ import annotations

import sys
import time

__all__ = ["progress_display"]

def progress_display(progress, epochs, n_batches):
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
