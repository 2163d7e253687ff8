"""Rich display in Jupyter: each object's MIME bundle, through IPython's own formatter.

The oracles are the parsers: the HTML must be well formed (every tag closed in order, checked
with ``html.parser``), the SVG must parse as XML, and the numbers shown must be the model's.
"""

import doctest
import html.parser
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import layerwise as lw
from layerwise import display
from layerwise.lab._common import LabResult, Table
from layerwise.lab.report import LabReport

VOID = {"br", "hr", "img", "input", "meta", "link", "col", "wbr", "source"}


class _Balanced(html.parser.HTMLParser):
    """Fails on a closing tag that does not close the innermost open one."""

    def __init__(self):
        super().__init__()
        self.stack, self.text = [], []

    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def parse_html(text: str) -> str:
    """The text content of well-formed HTML (raises AssertionError otherwise)."""
    parser = _Balanced()
    parser.feed(text)
    parser.close()
    assert not parser.stack, f"unclosed tags: {parser.stack}"
    return " ".join(parser.text)


def formatted(obj) -> dict:
    """What Jupyter receives for ``obj``: IPython's DisplayFormatter, as a kernel runs it."""
    formatters = pytest.importorskip("IPython.core.formatters")
    data, _ = formatters.DisplayFormatter().format(obj)
    return data


@pytest.fixture(scope="module")
def history():
    X, y = lw.datasets.load_iris()
    model = lw.MLP([4, 8, 3], output_activation="none", rng=0)
    return lw.fit(model, X, y, loss=lw.nn.CrossEntropyLoss(),
                  optimizer=lw.optim.Adam(model.parameters(), lr=0.01), epochs=3,
                  validation_data=(X[:30], y[:30]), rng=0, progress=False)


# ------------------------------------------------------------------------------ modules
@pytest.mark.parametrize("model", [
    lw.MLP([4, 8, 3], rng=0),
    lw.nn.Dense(4, 8, rng=0),
    lw.nn.Sequential(lw.nn.Linear(3, 5, rng=0), lw.nn.ReLU(), lw.nn.Linear(5, 2, rng=0)),
    lw.nn.CrossEntropyLoss(),
], ids=["MLP", "Dense", "Sequential", "loss"])
def test_module_shows_a_table_of_layers_and_its_repr(model):
    data = formatted(model)
    assert set(data) == {"text/plain", "text/html"}
    assert data["text/plain"] == repr(model)
    text = parse_html(data["text/html"])
    assert "Total params" in text
    assert f"{model.num_parameters():,}" in text


def test_module_table_rows_and_shapes():
    model = lw.MLP([4, 8, 3], rng=0)
    text = parse_html(model._repr_mimebundle_()["text/html"])
    for cell in ["layers.0", "Dense(4 -> 8, activation=relu)", "(None, 8)", "40",
                 "layers.1", "Dense(8 -> 3, activation=softmax)", "(None, 3)", "27", "67"]:
        assert cell in text
    # a layer without a fixed output size shows the shape of its last forward pass
    seq = lw.nn.Sequential(lw.nn.Linear(3, 5, rng=0), lw.nn.ReLU())
    assert "(None, 5)" in seq._repr_mimebundle_()["text/html"]
    seq(np.ones((2, 3)))
    assert seq._repr_mimebundle_()["text/html"].count("(None, 5)") == 1  # Linear's only


def test_module_html_escapes_what_a_module_says():
    class Tricky(lw.nn.Module):
        def extra_repr(self):
            return "<script>alert('x')</script> & more"

    page = Tricky()._repr_mimebundle_()["text/html"]
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    assert "<script>alert('x')</script> & more" in parse_html(page)


def test_include_and_exclude_are_honoured():
    model = lw.MLP([2, 2], rng=0)
    assert set(model._repr_mimebundle_(include={"text/plain"})) == {"text/plain"}
    assert set(model._repr_mimebundle_(exclude={"text/html"})) == {"text/plain"}


# ------------------------------------------------------------------------------ summary
def test_summary_html_holds_the_table_and_the_parameter_total():
    model = lw.MLP([64, 64, 10], rng=0)
    s = lw.summary(model, (None, 64))
    data = formatted(s)
    assert set(data) == {"text/plain", "text/html"}
    assert data["text/plain"] == str(s)
    text = parse_html(data["text/html"])
    assert s.total_params == 4810
    assert "4,810" in text
    for row in s.rows:
        assert row.name in text and f"{row.params:,}" in text
    assert "(None, 64)" in text and "(None, 10)" in text


# -------------------------------------------------------------------------------- graph
def test_graph_shows_its_svg():
    g = lw.graph.trace(lw.MLP([2, 3, 2], rng=0), np.ones((1, 2), dtype=np.float32))
    data = formatted(g)
    assert set(data) == {"text/plain", "image/svg+xml"}
    assert data["text/plain"] == repr(g)
    root = ET.fromstring(data["image/svg+xml"])
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    labels = {t.text for t in root.iter("{http://www.w3.org/2000/svg}text")}
    assert "(1, 3)" in labels  # the hidden layer's output, on its edge


# ------------------------------------------------------------------------------ history
def test_history_bundle_is_svg_of_the_curves(history):
    data = display.history_mimebundle(history)
    assert set(data) == {"text/plain", "image/svg+xml"}
    assert data["text/plain"] == repr(history)
    root = ET.fromstring(data["image/svg+xml"])
    assert root.tag == "{http://www.w3.org/2000/svg}svg"


@pytest.mark.skipif(not hasattr(lw.History, "_repr_mimebundle_"),
                    reason="History._repr_mimebundle_ is wired to display.history_mimebundle "
                           "by the training module")
def test_history_through_ipython(history):
    data = formatted(history)
    assert "image/svg+xml" in data
    ET.fromstring(data["image/svg+xml"])


def test_history_without_matplotlib_is_an_html_table(history, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # import raises ImportError
    data = display.history_mimebundle(history)
    assert set(data) == {"text/plain", "text/html"}
    text = parse_html(data["text/html"])
    assert f"{history['loss'][-1]:.4g}" in text and "val_loss" in text


def test_empty_history_is_text_only():
    data = display.history_mimebundle(lw.History())
    assert data == {"text/plain": repr(lw.History())}


def test_plot_history_without_a_path_writes_nothing(history, tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    monkeypatch.chdir(tmp_path)
    fig = display.plot_history(history)
    assert isinstance(fig, Figure)
    assert [ax.get_ylabel() for ax in fig.axes] == ["loss", "accuracy"]
    display.history_mimebundle(history)
    assert list(tmp_path.iterdir()) == []
    fig = display.plot_history(history, tmp_path / "curves.svg", title="iris")
    assert [p.name for p in tmp_path.iterdir()] == ["curves.svg"]
    ET.parse(tmp_path / "curves.svg")


def test_plot_history_of_nothing_is_an_error():
    with pytest.raises(ValueError, match="nothing to plot"):
        display.plot_history(lw.History())


# ---------------------------------------------------------------------------------- lab
def test_lab_result_shows_tables_and_figures(tmp_path):
    result = lw.lab.graph(out=tmp_path)
    data = formatted(result)
    assert set(data) == {"text/plain", "text/html"}
    assert data["text/plain"] == result.summary()
    page = data["text/html"]
    text = parse_html(page)
    assert result.title in text and "17" in text
    assert page.count("<figure>") == len(result.figures) > 0
    # without figure files (no out=), the tables alone
    assert "<figure>" not in lw.lab.graph()._repr_mimebundle_()["text/html"]


def test_lab_report_shows_each_exercise_in_one_line(tmp_path):
    result = LabResult("demo", "Demo <1>", "Why?", {"x": 1},
                       tables=[Table("t", ["a"], [["1"]])], headline="one & two")
    report = LabReport(tmp_path, tmp_path / "index.html", tmp_path / "results.json",
                       {"demo": result})
    data = formatted(report)
    assert set(data) == {"text/plain", "text/html"}
    text = parse_html(data["text/html"])
    assert "Demo <1>" in text and "one & two" in text and "index.html" in text


# ------------------------------------------------------------------------------ general
def test_html_table_escapes_cells_and_links():
    page = display.html_table(["f", "n"], [["lw.F.relu", "1,024"], ['"q"', "x<y"]],
                              caption="<c>", footer=[("total", 3)],
                              links={"lw.F.relu": "api/functional/#layerwise.functional.relu"})
    text = parse_html(page)
    assert "<c>" in text and "x<y" in text
    assert '<a href="api/functional/#layerwise.functional.relu">lw.F.relu</a>' in page
    assert '<td class="num">1,024</td>' in page


def test_display_needs_neither_ipython_nor_matplotlib():
    code = ("import sys, layerwise as lw, numpy as np\n"
            "m = lw.MLP([4, 3], rng=0)\n"
            "m._repr_mimebundle_(); lw.summary(m, 4)._repr_mimebundle_()\n"
            "lw.graph.trace(m, np.ones((1, 4)))._repr_mimebundle_()\n"
            "assert 'IPython' not in sys.modules and 'matplotlib' not in sys.modules\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_docstring_examples_run():
    result = doctest.testmod(display, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_layer_names_are_names_not_numbers():
    seq = lw.nn.Sequential(lw.nn.Linear(3, 5, rng=0), lw.nn.ReLU())
    page = seq._repr_mimebundle_()["text/html"]
    assert "<tr><td>0</td><td>Linear(3 -&gt; 5)</td>" in page
    assert '<td class="num">20</td>' in page
