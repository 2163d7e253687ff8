"""``lw.lab.all``: every exercise in turn, written up as one self-contained HTML report.

``DIR/index.html`` needs nothing else to display: CSS inline, PNG figures as base64
``data:`` URIs, SVG figures inline, no scripts and no external references. Beside it,
``DIR/results.json`` holds every number and ``DIR/figures/`` every figure as a file.
"""

from __future__ import annotations

import html
import importlib.util
import inspect
import json
import os
import platform
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from ..display import figure_html, lab_report_mimebundle, lab_table_html
from ._common import LabResult, Progress, Table, output_folder
from .ex1_forward import forward
from .ex2_losses import losses
from .ex3_huber import huber
from .ex4_batching import batching
from .ex5_init import init
from .ex6_graph import graph

__all__ = ["DOCS_URL", "DOCUMENTED", "EXERCISES", "LabReport", "docs_link", "run_all",
           "write_html"]

EXERCISES: dict[str, Callable[..., LabResult]] = {
    "forward": forward,
    "losses": losses,
    "huber": huber,
    "batching": batching,
    "init": init,
    "graph": graph,
}
"""The chapter's exercises in order, by command name."""

DOCUMENTED = {
    "forward": ["lw.nn.Dense", "lw.nn.Sequential", "lw.F.relu", "lw.F.softmax"],
    "losses": ["lw.F.mse_loss", "lw.F.binary_cross_entropy", "lw.F.sigmoid", "lw.Tensor"],
    "huber": ["lw.F.huber_loss", "lw.F.mse_loss", "lw.F.mae_loss", "lw.nn.Linear",
              "lw.optim.SGD", "lw.fit"],
    "batching": ["lw.data.batches", "lw.MLP", "lw.no_grad"],
    "init": ["lw.init.initialize_weights", "lw.MLP"],
    "graph": ["lw.graph.trace", "lw.graph.Graph", "lw.MLP"],
}
"""The public names each exercise uses; the report links each to its reference page."""

DOCS_URL = "../site/"
"""Where the report looks for the documentation site by default: ``site/`` beside the report's
folder, which is where ``make docs`` and ``make run`` put them at the repository root."""


def docs_link(name: str, docs_url: str = DOCS_URL) -> str:
    """The address of ``name`` (as a user writes it: ``lw.F.relu``, ``lw.MLP``) on the site.

    A name in a module (``lw.nn.Dense``) is on that module's reference page, a top-level name
    (``lw.MLP``) on the ``layerwise`` page; the anchor is the full dotted path, as
    mkdocstrings writes it.

    >>> docs_link("lw.F.relu")
    '../site/reference/functional.html#layerwise.functional.relu'
    >>> docs_link("lw.MLP", "https://example.org/docs/")
    'https://example.org/docs/reference/layerwise.html#layerwise.MLP'
    """
    dotted = name.removeprefix("lw.")
    if dotted.startswith("F."):  # lw.F is lw.functional
        dotted = "functional." + dotted[2:]
    path = "layerwise." + dotted
    module = path.split(".")[1]
    page = module if importlib.util.find_spec(f"layerwise.{module}") else "layerwise"
    return f"{docs_url}reference/{page}.html#{path}"


@dataclass
class LabReport:
    """What ``lw.lab.all`` wrote: the folder, the report, the JSON, and every result."""

    out: Path
    index: Path
    results_json: Path
    results: dict

    def __getitem__(self, name: str) -> LabResult:
        return self.results[name]

    def summary(self) -> str:
        """Every exercise's printed summary, then where the report is."""
        parts = [r.summary() for r in self.results.values()]
        parts.append(f"Report: {self.index}\nNumbers: {self.results_json}")
        return "\n\n\n".join(parts)

    __str__ = summary

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        """Jupyter's view: the printed summaries as text; each exercise in one line as HTML."""
        return lab_report_mimebundle(self, include, exclude)


def run_all(out="lab-report", seed: int = 42, options=None, progress=None,
            docs_url: str | None = DOCS_URL) -> LabReport:
    """Run every exercise and write ``out/index.html``, ``out/results.json``, ``out/figures/``.

    Args:
        out: the report folder (created if needed).
        seed: passed to every exercise that draws random numbers.
        options: per-exercise keyword arguments, e.g. ``{'batching': {'repeats': 3}}``.
        progress: True, False or None (show when stderr is a terminal), or a ``Progress``.
        docs_url: the documentation site's address, relative to ``out`` or absolute (default
            ``../site/``: the site built beside the report); None leaves the links out.

    Returns:
        A ``LabReport``; ``report['init']`` is that exercise's ``LabResult``.
    """
    options = dict(options or {})
    unknown = sorted(set(options) - set(EXERCISES))
    if unknown:
        raise ValueError(f"lab all: unknown exercises in options: {unknown}; "
                         f"known: {', '.join(EXERCISES)}")
    out = output_folder(out)
    if (out / "figures").exists():
        output_folder(out / "figures")
    figures = out / "figures"
    reporter = progress if isinstance(progress, Progress) else Progress(progress)
    results = {}
    try:
        with reporter.task("all", len(EXERCISES)) as overall:
            for name, fn in EXERCISES.items():
                kwargs = dict(options.get(name, {}))
                if "seed" in inspect.signature(fn).parameters:
                    kwargs.setdefault("seed", seed)
                results[name] = fn(out=figures, progress=reporter, **kwargs)
                overall.advance(name)
    finally:
        if reporter is not progress:
            reporter.close()

    meta = {
        "layerwise": _version(), "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "seed": seed, "python": platform.python_version(), "numpy": np.__version__,
        "machine": f"{platform.system()} {platform.machine()}",
    }
    results_json = out / "results.json"
    payload = {**meta, "exercises": {n: _relative(r.to_dict(), out) for n, r in results.items()}}
    results_json.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    index = write_html(results, out / "index.html", meta, docs_url=docs_url)
    return LabReport(out, index, results_json, results)


def _version() -> str:
    from .. import __version__

    return __version__


def _relative(result: dict, out: Path) -> dict:
    for key in ("figures", "files"):
        result[key] = {c: os.path.relpath(p, out) for c, p in result[key].items()}
    return result


# ----------------------------------------------------------------------------------- HTML
CSS = """
:root { color-scheme: light; }
body { margin: 0; background: #f6f7f9; color: #1d2330;
  font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 24px 28px 48px; background: #ffffff; }
h1 { font-size: 1.9em; margin: 0.2em 0; }
h2 { font-size: 1.4em; margin: 1.8em 0 0.4em; padding-top: 0.6em; border-top: 2px solid #e3e6eb; }
.meta { color: #5b6475; font-size: 0.9em; }
blockquote { margin: 0.6em 0 1em; padding: 0.6em 1em; background: #f2f5fa;
  border-left: 4px solid #6b8fc7; color: #2f3a4d; }
.headline { font-weight: 600; }
table { border-collapse: collapse; margin: 0.8em 0 1.2em; font-size: 0.88em; }
caption { text-align: left; font-weight: 600; padding-bottom: 0.3em; }
th, td { padding: 3px 10px; border-bottom: 1px solid #e3e6eb; text-align: left; }
th { background: #eef1f5; }
td.num { text-align: right; font-variant-numeric: tabular-nums;
  font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
tbody tr:nth-child(even) { background: #fafbfc; }
figure { margin: 1em 0 1.6em; }
figure img, figure svg { max-width: 100%; height: auto; border: 1px solid #e3e6eb; }
figcaption { color: #5b6475; font-size: 0.9em; margin-top: 0.3em; }
details pre { background: #f6f7f9; padding: 0.8em; overflow-x: auto; font-size: 0.8em; }
code { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
nav ol { padding-left: 1.4em; }
"""


def write_html(results: dict, path, meta: dict | None = None,
               docs_url: str | None = DOCS_URL) -> Path:
    """Write the report for ``{name: LabResult}`` to ``path``; returns the path.

    Each exercise links the functions it uses (``DOCUMENTED``) to their reference pages on
    the documentation site at ``docs_url`` (see ``run_all``); None leaves the links out.
    """
    path = Path(path)
    meta = meta or {}
    esc = html.escape
    overview = Table("Each exercise in one line", ["exercise", "result"],
                     [[r.title, r.headline] for r in results.values()])
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>layerwise lab: forward propagation, by experiment</title>",
        f"<style>{CSS}</style></head><body><main>",
        "<header><h1>layerwise lab: forward propagation, by experiment</h1>",
        '<p class="meta">The chapter\'s six exercises, each computed with layerwise and '
        "checked against an independent calculation. "
        + esc(", ".join(f"{k} {v}" for k, v in meta.items())) + "</p></header>",
        "<nav><ol>" + "".join(f'<li><a href="#{esc(n)}">{esc(r.title)}</a></li>'
                              for n, r in results.items()) + "</ol></nav>",
        lab_table_html(overview),
    ]
    for name, r in results.items():
        parts.append(f'<section id="{esc(name)}"><h2>{esc(r.title)}</h2>')
        parts.append(f"<blockquote>{esc(r.question)}</blockquote>")
        if r.headline:
            parts.append(f'<p class="headline">{esc(r.headline)}</p>')
        parts += [lab_table_html(t) for t in r.tables]
        parts += [f"<p>{esc(note)}</p>" for note in r.notes]
        parts += [figure_html(caption, p) for caption, p in r.figures.items()]
        if r.files:
            parts.append("<p>Also written: " + ", ".join(
                f"<code>{esc(os.path.relpath(p, path.parent))}</code> ({esc(c)})"
                for c, p in r.files.items()) + "</p>")
        if docs_url is not None and DOCUMENTED.get(name):
            parts.append('<p class="docs">Reference: ' + ", ".join(
                f'<a href="{esc(docs_link(n, docs_url))}"><code>{esc(n)}</code></a>'
                for n in DOCUMENTED[name]) + "</p>")
        parts.append(f"<details><summary>Printed summary (<code>layerwise lab {esc(name)}"
                     f"</code>)</summary><pre>{esc(r.summary())}</pre></details></section>")
    parts.append(
        "<footer><h2>Files</h2><p>Every number is in <code>results.json</code>, every figure in "
        "<code>figures/</code>. Reproduce with <code>layerwise lab all --out DIR"
        + (f" --seed {esc(str(meta['seed']))}" if "seed" in meta else "")
        + "</code>; each exercise runs alone as <code>layerwise lab NAME</code>.</p></footer>"
    )
    parts.append("</main></body></html>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return path
