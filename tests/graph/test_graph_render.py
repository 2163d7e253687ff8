"""Graph drawings: DOT that parses, SVG that is well-formed, PNG that decodes, a sane layout."""

import itertools
import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import layerwise as lw
from layerwise.graph.layout import NODE_GAP, layout

SVG = "{http://www.w3.org/2000/svg}"

# pydot's parser calls pyparsing's old camelCase names; that is pydot's business, not ours.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pydot")


@pytest.fixture
def g232():
    return lw.graph.trace(lw.MLP([2, 3, 2], rng=0), np.array([[1.0, 2.0]], dtype=np.float32))


def branching_graph():
    """Skip connection, a constant, a tensor used twice: long edges and shared sources."""
    W = lw.Tensor(np.ones((2, 2)), requires_grad=True, name="W")

    def f(x):
        h = lw.F.relu(x @ W)
        return lw.F.mse_loss(np.zeros((3, 2)), h + x * 2.0)

    return lw.graph.trace(f, np.ones((3, 2)))


def test_dot_parses_and_round_trips(g232):
    pydot = pytest.importorskip("pydot")
    (parsed,) = pydot.graph_from_dot_data(g232.to_dot())
    nodes = {n.get_name().strip('"'): n for n in parsed.get_nodes()
             if n.get_name() not in ("node", "edge", "graph")}
    assert set(nodes) == {n.id for n in g232.nodes}
    for n in g232.nodes:
        assert nodes[n.id].get_label().strip('"') == n.label
    edges = [(e.get_source().strip('"'), e.get_destination().strip('"'),
              e.get_label().strip('"')) for e in parsed.get_edges()]
    assert edges == [(e.source, e.target, e.label) for e in g232.edges]


def test_dot_quotes_awkward_names():
    pydot = pytest.importorskip("pydot")
    w = lw.Tensor(np.ones(2), requires_grad=True, name='my "odd" \\ name')
    g = lw.graph.trace(lambda x: x * w, np.ones(2))
    (parsed,) = pydot.graph_from_dot_data(g.to_dot())
    assert len([n for n in parsed.get_nodes() if n.get_name() not in ("node", "edge")]) == 4


def test_svg_is_well_formed_and_shows_every_label(g232, tmp_path):
    path = g232.render(tmp_path / "g.svg")
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG}svg"
    lay = layout(g232)
    assert float(root.get("width")) == pytest.approx(lay.width, abs=1)
    assert float(root.get("height")) == pytest.approx(lay.height, abs=1)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    for n in g232.nodes:
        assert n.label in texts
    assert {"(1, 2)", "(2, 3)", "(1, 3)", "(3, 2)"} <= set(texts)
    assert len(list(root.iter(f"{SVG}path"))) == len(g232.edges)  # one curve per edge
    assert "xlink" not in path.read_text() and "url(" not in path.read_text()


@pytest.mark.parametrize("dpi", [96, 150])
def test_png_decodes_at_the_expected_size(g232, tmp_path, dpi):
    image = pytest.importorskip("matplotlib.image")
    path = g232.render(tmp_path / "g.png", dpi=dpi)
    pixels = image.imread(path)
    lay = layout(g232)
    assert pixels.shape[0] == pytest.approx(lay.height * dpi / 96, abs=1)
    assert pixels.shape[1] == pytest.approx(lay.width * dpi / 96, abs=1)
    assert pixels[..., :3].std() > 0.05  # something is drawn, not a blank canvas


def test_render_picks_the_format_from_the_suffix(g232, tmp_path):
    assert g232.render(tmp_path / "g.dot").read_text() == g232.to_dot()
    with pytest.raises(ValueError, match=r"suffix '\.pdf'.*\.svg, \.png, \.dot"):
        g232.render(tmp_path / "g.pdf")
    with pytest.raises(ValueError, match="unknown engine"):
        g232.render(tmp_path / "g.svg", engine="neato")


@pytest.mark.skipif(shutil.which("dot") is not None, reason="Graphviz is installed here")
def test_dot_engine_without_graphviz_says_so(g232, tmp_path):
    with pytest.raises(RuntimeError, match="needs Graphviz"):
        g232.render(tmp_path / "g.svg", engine="dot")


@pytest.mark.parametrize("make", [
    lambda: lw.graph.trace(lw.MLP([2, 3, 2], rng=0), np.ones((1, 2), dtype=np.float32)),
    branching_graph,
    lambda: lw.graph.trace(lw.MLP([5, 4, 4, 4, 3], rng=0), np.ones((2, 5), dtype=np.float32)),
])
def test_layout_ranks_flow_down_and_boxes_never_overlap(make):
    g = make()
    lay = layout(g)
    boxes = lay.boxes
    for e in g.edges:  # every edge goes down the page
        assert boxes[e.target][1] > boxes[e.source][1]
    by_row = {}
    for cx, cy, w, h in boxes.values():
        assert w / 2 <= cx <= lay.width - w / 2 and h / 2 <= cy <= lay.height - h / 2
        by_row.setdefault(cy, []).append((cx - w / 2, cx + w / 2))
    for spans in by_row.values():
        spans.sort()
        for (_, right), (left, _) in itertools.pairwise(spans):
            assert left - right >= NODE_GAP - 1e-6
    for pts in lay.routes:  # routes start under their source and end above their target
        assert all(b[1] > a[1] for a, b in itertools.pairwise(pts))


def test_long_edges_are_routed_through_every_rank_they_cross():
    g = branching_graph()
    lay = layout(g)
    rows = sorted({cy for _, cy, _, _ in lay.boxes.values()})
    step = rows[1] - rows[0]
    for e, pts in zip(g.edges, lay.routes):
        span = round((lay.boxes[e.target][1] - lay.boxes[e.source][1]) / step)
        assert len(pts) == span + 1


def test_jupyter_shows_the_svg(g232):
    assert g232._repr_svg_().startswith("<svg")
