"""How layerwise objects show themselves in Jupyter: HTML tables, SVG drawings, MIME bundles.

Every object that Jupyter draws (a module, a ``Summary``, a traced ``Graph``, a ``History``,
a lab result) has a thin ``_repr_mimebundle_`` that calls one function here, so the HTML and
its escaping live in one place. Nothing here needs IPython: a MIME bundle is a plain dict
``{mime_type: text}``, always with ``text/plain``; the curves of a ``History`` need matplotlib
and fall back to an HTML table without it.

>>> import layerwise as lw
>>> bundle = lw.MLP([4, 8, 3], rng=0)._repr_mimebundle_()
>>> sorted(bundle)
['text/html', 'text/plain']
>>> '<td class="num">67</td>' in bundle["text/html"]  # the parameter total
True
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

from .autodiff.tensor import Tensor

__all__ = [
    "figure_html",
    "history_mimebundle",
    "html_table",
    "lab_report_mimebundle",
    "lab_result_html",
    "lab_result_mimebundle",
    "lab_table_html",
    "mimebundle",
    "module_mimebundle",
    "plot_history",
    "summary_mimebundle",
    "svg_mimebundle",
]

# Scoped to the wrapper's class, so a notebook's or the lab report's other styles stay
# untouched; colours that read on light and dark notebook themes alike.
_CSS = (
    "<style>"
    ".lw-display table{border-collapse:collapse;font-size:0.9em;margin:0.4em 0}"
    ".lw-display caption{text-align:left;font-weight:600;padding-bottom:0.3em}"
    ".lw-display th,.lw-display td{padding:2px 10px;text-align:left;"
    "border-bottom:1px solid rgba(128,128,128,0.35)}"
    ".lw-display td.num{text-align:right;font-variant-numeric:tabular-nums}"
    ".lw-display tfoot td{font-weight:600}"
    "</style>"
)


def _panel(body: str) -> str:
    """HTML for a notebook: the body, in a styled wrapper."""
    return f'<div class="lw-display">{_CSS}{body}</div>'


def mimebundle(text: str, include=None, exclude=None, **rich) -> dict:
    """A MIME bundle: ``text/plain`` plus each rich form given, filtered as IPython asks.

    Args:
        text: the plain-text form (what ``repr`` or ``print`` shows).
        include, exclude: MIME types to keep or drop (IPython passes them; None keeps all).
        **rich: ``html=``, ``svg=``, ``png=`` (base64 text); None values are left out.

    >>> mimebundle("x", html="<b>x</b>", svg=None, exclude={"text/html"})
    {'text/plain': 'x'}
    """
    names = {"html": "text/html", "svg": "image/svg+xml", "png": "image/png"}
    bundle = {"text/plain": text}
    bundle.update({names[k]: v for k, v in rich.items() if v is not None})
    return {k: v for k, v in bundle.items()
            if (include is None or k in include) and (exclude is None or k not in exclude)}


def _numeric(text: str) -> bool:
    try:
        float(text.replace(",", "").replace("%", "").replace("x", ""))
    except ValueError:
        return False
    return True


def html_table(columns, rows, caption: str | None = None, footer=(), links=None,
               names_first: bool = False) -> str:
    """An escaped HTML ``<table>``; cells that read as numbers are right-aligned.

    Args:
        columns: header cells.
        rows: a list of rows, each a list of cells (anything ``str`` can format).
        caption: an optional caption above the table.
        footer: rows of ``(label, value)`` shown under the body, e.g. the totals.
        links: ``{cell text: href}``; a cell with that exact text becomes a link.
        names_first: the first column holds names (``0``, ``layers.1``): never right-aligned.

    >>> html_table(["name", "size"], [["<x>", 12]])[-73:]
    '<tbody><tr><td>&lt;x&gt;</td><td class="num">12</td></tr></tbody></table>'
    """
    links = links or {}
    esc = html.escape

    def cell(value, name: bool = False) -> str:
        text = str(value)
        body = esc(text)
        if text in links:
            body = f'<a href="{esc(links[text])}">{body}</a>'
        return f'<td class="num">{body}</td>' if _numeric(text) and not name else \
            f"<td>{body}</td>"

    def row(cells) -> str:
        return "<tr>" + "".join(cell(c, names_first and i == 0) for i, c in enumerate(cells)) \
            + "</tr>"

    parts = ["<table>"]
    if caption:
        parts.append(f"<caption>{esc(caption)}</caption>")
    parts.append("<thead><tr>" + "".join(f"<th>{esc(str(c))}</th>" for c in columns)
                 + "</tr></thead>")
    parts.append("<tbody>" + "".join(map(row, rows)) + "</tbody>")
    if footer:
        span = max(len(columns) - 1, 1)
        parts.append("<tfoot>" + "".join(
            f'<tr><td colspan="{span}">{esc(str(k))}</td>{cell(v)}</tr>' for k, v in footer)
            + "</tfoot>")
    parts.append("</table>")
    return "".join(parts)


def _shape(shape) -> str:
    from .summary import _shape

    return _shape(shape)


# -------------------------------------------------------------------------------- modules
def module_mimebundle(module, include=None, exclude=None) -> dict:
    """A module as ``text/plain`` (its repr) and ``text/html`` (a table of its layers).

    The table has one row per layer that holds parameters or has no sub-modules, with its
    output shape where the module knows it without running (the last forward pass's output,
    else ``(None, n_output)`` for a layer with a fixed output size) and its parameter count.
    Drawing it never runs the model; ``lw.summary(model, input_shape)`` does, for every shape.
    """
    rows = []
    for name, m in module.named_modules():
        children = any(True for _ in m.named_children())
        own = [p for p in vars(m).values() if isinstance(p, Tensor)]
        if children and not own:
            continue
        own_size = sum(p.size for p in own)
        label = f"{type(m).__name__}({m.extra_repr()})"
        rows.append([name or "-", label, _known_shape(m), f"{own_size:,}"])
    total = module.num_parameters()
    trainable = module.num_parameters(trainable_only=True)
    footer = [("Total params", f"{total:,}")]
    if trainable != total:
        footer.append(("Trainable params", f"{trainable:,}"))
    table = html_table(["Layer", "Type", "Output shape", "Param #"], rows,
                       caption=type(module).__name__, footer=footer, names_first=True)
    return mimebundle(repr(module), include, exclude, html=_panel(table))


def _known_shape(module) -> str:
    cache = getattr(module, "cache", None)
    if isinstance(cache, dict) and getattr(cache.get("A"), "shape", None) is not None:
        shape = cache["A"].shape
        return _shape((None, *shape[1:])) if len(shape) > 1 else _shape(shape)
    n_out = getattr(module, "n_output", None)
    return _shape((None, n_out)) if isinstance(n_out, int) else ""


def summary_mimebundle(summary, include=None, exclude=None) -> dict:
    """A ``Summary`` as ``text/plain`` (the printed table) and ``text/html`` (the same table)."""
    from .summary import _size, _trainable

    rows = [[r.name or "-", r.type, _shape(r.output_shape), f"{r.params:,}", _trainable(r)]
            for r in summary.rows]
    footer = [("Total params", f"{summary.total_params:,}"),
              ("Trainable params", f"{summary.trainable_params:,}"),
              ("Non-trainable params", f"{summary.non_trainable_params:,}"),
              ("Params size", _size(summary.param_bytes))]
    table = html_table(["Layer", "Type", "Output shape", "Param #", "Trainable"], rows,
                       caption=f"Model: {summary.title}, input shape "
                               f"{_shape(summary.input_shape)}", footer=footer,
                       names_first=True)
    return mimebundle(str(summary), include, exclude, html=_panel(table))


def svg_mimebundle(text: str, svg: str, include=None, exclude=None) -> dict:
    """``text/plain`` plus an SVG drawing (any XML prolog dropped, as Jupyter inlines it)."""
    return mimebundle(text, include, exclude, svg=svg[svg.index("<svg"):])


# -------------------------------------------------------------------------------- history
def plot_history(history, path=None, title: str | None = None, dpi: int = 100):
    """Draw a ``History``'s losses (and accuracies, if any) per epoch.

    Validation curves are dashed; with early stopping a dotted line marks the epoch whose
    weights were kept. No window opens and the global matplotlib backend is left alone.

    Args:
        history: a ``lw.History`` (anything with ``.history``, ``.epoch``, ``.best_epoch``).
        path: where to write the picture, its format by suffix (``.png``, ``.svg``, ``.pdf``);
            None writes nothing.
        title: an optional title over the plots.
        dpi: the figure's resolution.

    Returns:
        The matplotlib ``Figure`` (Jupyter shows it inline).

    Needs matplotlib: ``pip install 'layerwise[plot]'``.
    """
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("History.plot needs matplotlib: pip install 'layerwise[plot]'"
                          ) from None
    if not history.epoch:
        raise ValueError("History.plot: there is nothing to plot (no epoch was recorded)")
    groups = [[k for k in history.history if not k.endswith("accuracy")],
              [k for k in history.history if k.endswith("accuracy")]]
    groups = [g for g in groups if g]
    fig = Figure(figsize=(5.5 * len(groups), 4), dpi=dpi, layout="constrained")
    epochs = [e + 1 for e in history.epoch]
    for axes, keys in zip(fig.subplots(1, len(groups), squeeze=False)[0], groups):
        for key in keys:
            axes.plot(epochs, history.history[key], marker="." if len(epochs) < 30 else None,
                      linestyle="--" if key.startswith("val_") else "-", label=key)
        if history.best_epoch is not None:
            axes.axvline(history.best_epoch + 1, color="grey", linestyle=":",
                         label="kept weights")
        axes.set_xlabel("epoch")
        axes.set_ylabel("accuracy" if keys[0].endswith("accuracy") else "loss")
        axes.grid(alpha=0.3)
        axes.legend()
    if title:
        fig.suptitle(title)
    if path is not None:
        fig.savefig(path)
    return fig


def history_mimebundle(history, include=None, exclude=None) -> dict:
    """A ``History`` as ``text/plain`` (its repr) and its curves as ``image/svg+xml``.

    Without matplotlib the curves become ``text/html``, a table of the per-epoch values; an
    empty history is text only.
    """
    text = repr(history)
    if not history.epoch:
        return mimebundle(text, include, exclude)
    try:
        fig = plot_history(history)
    except ImportError:
        keys = list(history.history)
        rows = [[e + 1] + [f"{history.history[k][i]:.4g}" for k in keys]
                for i, e in enumerate(history.epoch)]
        return mimebundle(text, include, exclude,
                          html=_panel(html_table(["epoch", *keys], rows, caption="History")))
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    return svg_mimebundle(text, buffer.getvalue(), include, exclude)


# ------------------------------------------------------------------------------------ lab
def figure_html(caption: str, path) -> str:
    """A figure file inline in HTML: SVG as markup, PNG as a base64 ``data:`` URI."""
    path = Path(path)
    esc = html.escape
    if path.suffix.lower() == ".svg":
        svg = path.read_text(encoding="utf-8")
        body = svg[svg.index("<svg"):]  # an XML prolog is not allowed inside HTML
    else:
        encoded = base64.b64encode(path.read_bytes()).decode("ascii")
        body = f'<img src="data:image/png;base64,{encoded}" alt="{esc(caption)}">'
    return f"<figure>{body}<figcaption>{esc(caption)}</figcaption></figure>"


def lab_table_html(table, links=None) -> str:
    """A lab ``Table`` (title, columns, rows of formatted cells) as HTML."""
    return html_table(table.columns, table.rows, caption=table.title, links=links)


def lab_result_html(result) -> str:
    """One exercise's headline, question, tables, notes and figures, as an HTML fragment."""
    esc = html.escape
    parts = [f"<h3>{esc(result.title)}</h3>", f"<blockquote>{esc(result.question)}</blockquote>"]
    if result.headline:
        parts.append(f"<p><strong>{esc(result.headline)}</strong></p>")
    parts += [lab_table_html(t) for t in result.tables]
    parts += [f"<p>{esc(note)}</p>" for note in result.notes]
    parts += [figure_html(c, p) for c, p in result.figures.items() if Path(p).is_file()]
    return "".join(parts)


def lab_result_mimebundle(result, include=None, exclude=None) -> dict:
    """A ``LabResult`` as ``text/plain`` (its printed summary) and ``text/html``."""
    return mimebundle(result.summary(), include, exclude, html=_panel(lab_result_html(result)))


def lab_report_mimebundle(report, include=None, exclude=None) -> dict:
    """A ``LabReport``: each exercise in one line, with where the report was written."""
    esc = html.escape
    rows = [[r.title, r.headline] for r in report.results.values()]
    table = html_table(["exercise", "result"], rows, caption="The chapter's exercises")
    where = (f"<p>Report: <code>{esc(str(report.index))}</code>; numbers: "
             f"<code>{esc(str(report.results_json))}</code></p>")
    return mimebundle(report.summary(), include, exclude, html=_panel(table + where))
