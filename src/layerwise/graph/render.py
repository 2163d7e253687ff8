"""Drawing a traced graph: SVG written by hand, PNG through matplotlib, both from one layout.

No Graphviz is needed. ``engine="dot"`` hands the DOT text to Graphviz's ``dot`` program
instead, for those who have it and prefer its layout.
"""

from __future__ import annotations

import itertools
import shutil
import subprocess
from pathlib import Path
from xml.sax.saxutils import escape

from .layout import FONT_PX, LABEL_FONT_PX, layout

__all__ = ["FORMATS", "STYLES", "render", "to_png", "to_svg"]

FONT_FAMILY = "DejaVu Sans Mono, Menlo, Consolas, monospace"
EDGE_COLOR = "#555555"
LABEL_COLOR = "#2b2b2b"
CSS_PX_PER_INCH = 96.0

STYLES = {
    "input": {"fill": "#d9f0d3", "stroke": "#3f7f35", "radius": 4, "dot_shape": "box"},
    "parameter": {"fill": "#fde9c8", "stroke": "#b07814", "radius": 4, "dot_shape": "box"},
    "constant": {"fill": "#eeeeee", "stroke": "#888888", "radius": 4, "dot_shape": "box"},
    "op": {"fill": "#dbe9f6", "stroke": "#3d6e9e", "radius": 14, "dot_shape": "ellipse"},
    "output": {"fill": "#ece3f7", "stroke": "#6b4c9a", "radius": 4, "dot_shape": "box"},
}
"""Colours and shapes per node kind, shared by the SVG, PNG and DOT outputs."""

FORMATS = (".svg", ".png", ".dot")


def _segments(points):
    """Cubic Bezier segments through ``points``, leaving and arriving vertically."""
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        my = (y0 + y1) / 2
        yield (x0, y0), (x0, my), (x1, my), (x1, y1)


def _arrowhead(x, y, size=7.0):
    """Triangle pointing down with its tip at ``(x, y)``."""
    return [(x, y), (x - size / 2, y - size), (x + size / 2, y - size)]


def to_svg(graph) -> str:
    """The graph as a standalone SVG document (no ids, no external references)."""
    lay = layout(graph)
    out = [
        (f'<svg xmlns="http://www.w3.org/2000/svg" width="{lay.width:.0f}" '
         f'height="{lay.height:.0f}" viewBox="0 0 {lay.width:.1f} {lay.height:.1f}" '
         f'font-family="{FONT_FAMILY}" role="img">'),
        f"<title>{escape(graph.name)}: computational graph</title>",
        f'<rect width="{lay.width:.1f}" height="{lay.height:.1f}" fill="#ffffff"/>',
    ]
    for pts in lay.routes:
        d = f"M{pts[0][0]:.1f},{pts[0][1]:.1f}"
        for _, c1, c2, end in _segments(pts[:-1] + [(pts[-1][0], pts[-1][1] - 6)]):
            d += f" C{c1[0]:.1f},{c1[1]:.1f} {c2[0]:.1f},{c2[1]:.1f} {end[0]:.1f},{end[1]:.1f}"
        tri = " ".join(f"{x:.1f},{y:.1f}" for x, y in _arrowhead(*pts[-1]))
        out.append(f'<path d="{d}" fill="none" stroke="{EDGE_COLOR}" stroke-width="1.3"/>')
        out.append(f'<polygon points="{tri}" fill="{EDGE_COLOR}"/>')
    for node in graph.nodes:
        cx, cy, w, h = lay.boxes[node.id]
        style = STYLES[node.kind]
        out.append(
            f'<rect x="{cx - w / 2:.1f}" y="{cy - h / 2:.1f}" width="{w:.1f}" height="{h:.1f}" '
            f'rx="{style["radius"]}" fill="{style["fill"]}" stroke="{style["stroke"]}" '
            f'stroke-width="1.4"/>'
        )
        out.append(
            f'<text x="{cx:.1f}" y="{cy + FONT_PX * 0.35:.1f}" font-size="{FONT_PX:g}" '
            f'text-anchor="middle" fill="#111111">{escape(node.label)}</text>'
        )
    for x, y, anchor, text in lay.labels:
        out.append(
            f'<text x="{x:.1f}" y="{y:.1f}" font-size="{LABEL_FONT_PX:g}" '
            f'text-anchor="{anchor}" fill="{LABEL_COLOR}" stroke="#ffffff" stroke-width="3" '
            f'paint-order="stroke">{escape(text)}</text>'
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def to_png(graph, path, dpi: int = 150) -> Path:
    """Draw the same layout with matplotlib (Agg) into a PNG of ``size * dpi / 96`` pixels."""
    try:
        from matplotlib.figure import Figure
        from matplotlib.patches import FancyBboxPatch, PathPatch, Polygon
        from matplotlib.path import Path as MplPath
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "rendering a graph to PNG needs matplotlib: pip install 'layerwise[plot]' "
            "(or render to .svg, which needs nothing)"
        ) from exc

    lay = layout(graph)
    pt = 72.0 / CSS_PX_PER_INCH  # CSS pixels -> points
    fig = Figure(figsize=(lay.width / CSS_PX_PER_INCH, lay.height / CSS_PX_PER_INCH), dpi=dpi)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, lay.width)
    ax.set_ylim(lay.height, 0)
    ax.set_axis_off()
    family = "monospace"  # matplotlib's own DejaVu Sans Mono, the SVG's first choice
    for pts in lay.routes:
        verts, codes = [pts[0]], [MplPath.MOVETO]
        for _, c1, c2, end in _segments(pts[:-1] + [(pts[-1][0], pts[-1][1] - 6)]):
            verts += [c1, c2, end]
            codes += [MplPath.CURVE4] * 3
        ax.add_patch(PathPatch(MplPath(verts, codes), fill=False, edgecolor=EDGE_COLOR,
                               linewidth=1.3 * pt))
        ax.add_patch(Polygon(_arrowhead(*pts[-1]), closed=True, color=EDGE_COLOR))
    for node in graph.nodes:
        cx, cy, w, h = lay.boxes[node.id]
        style = STYLES[node.kind]
        ax.add_patch(FancyBboxPatch(
            (cx - w / 2, cy - h / 2), w, h,
            boxstyle=f"round,pad=0,rounding_size={style['radius']}",
            facecolor=style["fill"], edgecolor=style["stroke"], linewidth=1.4 * pt,
        ))
        ax.text(cx, cy, node.label, ha="center", va="center", family=family,
                fontsize=FONT_PX * pt, color="#111111")
    for x, y, anchor, text in lay.labels:
        ax.text(x, y - LABEL_FONT_PX / 3, text, ha="left" if anchor == "start" else "right",
                va="center", family=family, fontsize=LABEL_FONT_PX * pt, color=LABEL_COLOR,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5, "alpha": 0.85})
    fig.savefig(path, dpi=dpi, format="png", facecolor="white")
    return Path(path)


def render(graph, path, engine: str = "builtin", dpi: int = 150) -> Path:
    """Write ``graph`` to ``path`` as SVG, PNG or DOT, chosen by the suffix (see ``Graph.render``)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(
            f"render: cannot tell the format of {str(path)!r} from its suffix "
            f"{path.suffix!r}; use one of {', '.join(FORMATS)}"
        )
    if engine not in ("builtin", "dot"):
        raise ValueError(f"render: unknown engine {engine!r}; use 'builtin' or 'dot'")
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".dot":
        path.write_text(graph.to_dot(), encoding="utf-8")
    elif engine == "dot":
        exe = shutil.which("dot")
        if exe is None:
            raise RuntimeError(
                "render(engine='dot') needs Graphviz's `dot` program on PATH; "
                "the default engine='builtin' needs nothing"
            )
        subprocess.run([exe, f"-T{suffix[1:]}", f"-Gdpi={dpi}", "-o", str(path)],
                       input=graph.to_dot().encode(), check=True, capture_output=True)
    elif suffix == ".svg":
        path.write_text(to_svg(graph), encoding="utf-8")
    else:
        to_png(graph, path, dpi=dpi)
    return path
