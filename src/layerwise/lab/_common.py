"""What every exercise shares: its result, its tables, its figures and its progress line.

Randomness: every exercise takes ``seed`` and draws from ``np.random.RandomState(seed)``,
the same stream as the chapter's ``np.random.seed(seed)`` followed by ``np.random.randn``,
so the chapter's own code with the same seed reproduces the lab's numbers.
"""

from __future__ import annotations

import itertools
import math
import sys
import textwrap
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..display import _numeric

__all__ = ["MAX_ELEMENTS", "LabResult", "Progress", "Table", "chapter_rng", "check_sizes",
           "jsonable", "network_counts", "new_figure", "output_folder", "save_figure", "task"]

MAX_ELEMENTS = 2**26
"""The most numbers an exercise puts in one array (512 MiB in float64): an exercise is a
demonstration, and sizes beyond this would only exhaust memory."""


def check_sizes(lab: str, **counts) -> None:
    """Refuse, before allocating, any array of more than :data:`MAX_ELEMENTS` numbers.

    ``counts`` maps a description (``weights_of_layer_1``) to its number of elements.
    """
    for what, count in counts.items():
        if count > MAX_ELEMENTS:
            raise ValueError(
                f"{lab} lab: the {what.replace('_', ' ')} would hold {count:,} numbers "
                f"({count * 8 / 2**30:,.1f} GiB in float64); the lab keeps each array below "
                f"{MAX_ELEMENTS:,} (choose smaller sizes)")


def network_counts(sizes, rows: int) -> dict:
    """The element counts of an MLP of ``sizes`` run on ``rows`` inputs, for :func:`check_sizes`:
    each layer's weights and each layer's activations (the input's included)."""
    counts = {f"weights_of_layer_{i}": a * b
              for i, (a, b) in enumerate(itertools.pairwise(sizes), start=1)}
    counts.update({f"activations_of_layer_{i}": rows * n for i, n in enumerate(sizes)})
    return counts


def output_folder(out) -> Path:
    """``out`` as a Path, refused at once if it exists and is not a folder."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"{out} exists and is not a folder; give a folder for --out "
                                 "(it is created if needed)")
    return out


def chapter_rng(seed: int) -> np.random.RandomState:
    """The stream the chapter gets from ``np.random.seed(seed)`` (without touching it)."""
    return np.random.RandomState(seed)


def jsonable(obj):
    """``obj`` with ndarrays, NumPy scalars, tuples and Paths turned into JSON types."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return jsonable(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, Path):
        return str(obj)
    return obj


@dataclass
class Table:
    """A small table of already formatted cells, printable as text and as HTML."""

    title: str
    columns: list
    rows: list

    def text(self) -> str:
        cells = [list(map(str, self.columns))] + [list(map(str, r)) for r in self.rows]
        widths = [max(len(row[i]) for row in cells) for i in range(len(self.columns))]

        def line(row):
            return "  ".join(c.rjust(w) if _numeric(c) else c.ljust(w)
                             for c, w in zip(row, widths)).rstrip()

        rule = "  ".join("-" * w for w in widths)
        return "\n".join([self.title, line(cells[0]), rule] + [line(r) for r in cells[1:]])

    def to_dict(self) -> dict:
        return {"title": self.title, "columns": list(self.columns),
                "rows": [list(map(str, r)) for r in self.rows]}


@dataclass
class LabResult:
    """One exercise's outcome: its numbers (``data``), tables, notes and figure files.

    ``print(result)`` shows the summary the command line prints; ``result.data`` holds the
    numbers (JSON-ready, also reachable as ``result[key]``); ``result.figures`` maps each
    figure's caption to the file written (empty when no ``out`` folder was given) and
    ``result.files`` other files written; ``headline`` is the result in one line.
    """

    name: str
    title: str
    question: str
    data: dict
    tables: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    figures: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)
    headline: str = ""

    def __post_init__(self):
        self.data = jsonable(self.data)  # plain lists and floats: JSON as it stands

    def __getitem__(self, key):
        return self.data[key]

    def summary(self) -> str:
        """The printed summary: title, tables, notes, and the files written."""
        parts = [f"{self.title}\n{'=' * len(self.title)}"]
        if self.headline:
            parts.append(self.headline)
        parts += [t.text() for t in self.tables]
        parts += [textwrap.fill(note, width=96) for note in self.notes]
        written = {**self.figures, **self.files}
        if written:
            parts.append("Written:\n" + "\n".join(f"  {p}  ({c})" for c, p in written.items()))
        return "\n\n".join(parts)

    __str__ = summary

    def __repr__(self) -> str:
        return f"LabResult({self.name!r}, data keys={list(self.data)}, figures={len(self.figures)})"

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        """Jupyter's view: the printed summary as text; tables and figures as HTML."""
        from ..display import lab_result_mimebundle

        return lab_result_mimebundle(self, include, exclude)

    def to_dict(self) -> dict:
        return jsonable({
            "name": self.name, "title": self.title, "question": self.question,
            "data": self.data, "tables": [t.to_dict() for t in self.tables],
            "notes": self.notes, "figures": self.figures, "files": self.files,
            "headline": self.headline,
        })


# ------------------------------------------------------------------------------ figures
def new_figure(nrows: int = 1, ncols: int = 1, size=(7.0, 4.2), **kwargs):
    """A matplotlib ``Figure`` (Agg, no pyplot state) and its axes."""
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the lab's figures need matplotlib: pip install 'layerwise[plot]' "
            "(or call the exercise without out= for the numbers only)"
        ) from exc
    fig = Figure(figsize=size, layout="constrained")
    axes = fig.subplots(nrows, ncols, **kwargs)
    return fig, axes


def save_figure(fig, out, filename: str, dpi: int = 110) -> Path:
    """Write ``fig`` to ``out/filename`` (the folder is created) and return the path."""
    out = output_folder(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / filename
    fig.savefig(path, dpi=dpi, facecolor="white")
    return path


# ----------------------------------------------------------------------------- progress
class Progress:
    """Says which exercise runs and how far it is: rich bars, plain lines, or nothing.

    Args:
        enabled: True (show), False (silent) or None (show when stderr is a terminal).
        stream: where to write (default ``sys.stderr``).
    """

    def __init__(self, enabled=None, stream=None):
        self.stream = stream or sys.stderr
        interactive = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.enabled = interactive if enabled is None else bool(enabled)
        self._rich = None
        if self.enabled and interactive:
            try:
                from rich.console import Console
                from rich.progress import (
                    BarColumn,
                    MofNCompleteColumn,
                    TextColumn,
                    TimeElapsedColumn,
                )
                from rich.progress import Progress as Bars
            except ImportError:
                pass
            else:
                self._rich = Bars(
                    TextColumn("[bold]{task.description:<10}"), BarColumn(),
                    MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("{task.fields[note]}"),
                    console=Console(file=self.stream), transient=False,
                )
                self._rich.start()

    @contextmanager
    def task(self, name: str, total: int):
        """A unit of work with ``total`` steps; the yielded object's ``advance(note)`` steps it."""
        step = _Step(self, name, total)
        if self._rich is not None:
            step.rich_id = self._rich.add_task(name, total=total, note="")
        elif self.enabled:
            print(f"lab {name}: started ({total} steps)", file=self.stream, flush=True)
        outcome = "stopped after"  # an error or Ctrl-C: never reported as done
        try:
            yield step
            outcome = "done in"
        finally:
            note = f"{outcome} {step.elapsed():.1f}s"
            if self._rich is not None:
                self._rich.update(step.rich_id, note=note)
            elif self.enabled:
                print(f"lab {name}: {note}", file=self.stream, flush=True)

    def close(self) -> None:
        if self._rich is not None:
            self._rich.stop()
            self._rich = None


class _Step:
    def __init__(self, progress: Progress, name: str, total: int):
        self.progress, self.name, self.total = progress, name, total
        self.done = 0
        self.rich_id = None
        self.start = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def advance(self, note: str = "") -> None:
        self.done += 1
        p = self.progress
        if p._rich is not None:
            p._rich.update(self.rich_id, advance=1, note=note)
        elif p.enabled:
            print(f"lab {self.name}: [{self.done}/{self.total}] {note}", file=p.stream, flush=True)


@contextmanager
def task(progress, name: str, total: int):
    """Run a task on ``progress`` (a ``Progress``, or True/False/None to make one for it)."""
    owned = not isinstance(progress, Progress)
    reporter = Progress(progress) if owned else progress
    try:
        with reporter.task(name, total) as step:
            yield step
    finally:
        if owned:
            reporter.close()
