"""lw.lab.all: figures that are real images, results.json, and one self-contained HTML file."""

import base64
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import layerwise as lw

image = pytest.importorskip("matplotlib.image")

DPI = 110
FIGURES = {  # file: size in inches (width, height), as drawn
    "forward_network.png": (8.6, 4.8),
    "losses_values.png": (7.0, 4.2),
    "losses_gradients.png": (10.5, 4.2),
    "huber_losses.png": (10.5, 4.0),
    "huber_fit.png": (7.5, 5.0),
    "batching_times.png": (7.0, 4.4),
    "init_histograms.png": (11.0, 8.4),
    "init_std.png": (6.5, 4.0),
}


def test_every_figure_is_a_real_image_of_the_expected_size(lab_report):
    folder = lab_report.out / "figures"
    for name, (w, h) in FIGURES.items():
        path = folder / name
        assert path.stat().st_size > 10_000, name
        pixels = image.imread(path)
        assert pixels.shape[:2] == (round(h * DPI), round(w * DPI)), name
        assert pixels[..., :3].std() > 0.05, f"{name} looks blank"


def test_graph_files_are_svg_png_and_dot(lab_report):
    folder = lab_report.out / "figures"
    root = ET.parse(folder / "graph.svg").getroot()
    assert root.tag.endswith("svg") and float(root.get("width")) > 100
    texts = {t.text for t in root.iter("{http://www.w3.org/2000/svg}text")}
    assert {"matmul", "add", "relu", "softmax", "layers.0.W (2, 3)"} <= texts
    assert image.imread(folder / "graph.png").shape[0] > 300
    assert (folder / "graph.dot").read_text().startswith('digraph "MLP"')


def test_results_json_holds_every_exercise(lab_report):
    data = json.loads(lab_report.results_json.read_text())
    assert list(data["exercises"]) == ["forward", "losses", "huber", "batching", "init", "graph"]
    assert data["seed"] == 42 and data["layerwise"] == lw.__version__
    assert data["exercises"]["graph"]["data"]["num_parameters"] == 17
    for result in data["exercises"].values():
        for rel in [*result["figures"].values(), *result["files"].values()]:
            assert not Path(rel).is_absolute() and (lab_report.out / rel).is_file()


def test_html_is_self_contained(lab_report):
    text = lab_report.index.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert "<script" not in text and "<link" not in text and "@import" not in text
    for _, value in re.findall(r'\b(src|href)="([^"]*)"', text):
        # links to the documentation site are navigation, never loaded to display the page
        assert value.startswith(("data:image/png;base64,", "#", lw.lab.report.DOCS_URL)), value
    assert "url(" not in text
    n_png = sum(len([p for p in r.figures.values() if str(p).endswith(".png")])
                for r in lab_report.results.values())
    images = re.findall(r'<img src="data:image/png;base64,([^"]+)"', text)
    assert len(images) == n_png == len(FIGURES)
    for encoded in images:  # every embedded figure decodes
        assert image.imread(io.BytesIO(base64.b64decode(encoded)), format="png").size > 0
    assert text.count("<svg") == 1 and "<?xml" not in text


def test_html_has_every_exercise_table_and_explanation(lab_report):
    text = lab_report.index.read_text(encoding="utf-8")
    for name, r in lab_report.results.items():
        assert f'<section id="{name}">' in text
        assert r.title in text
    assert "Why cross-entropy wins for classification" in text
    assert text.count("<table>") == sum(len(r.tables) for r in lab_report.results.values()) + 1


def test_summary_ends_with_the_report_path(lab_report):
    assert str(lab_report).rstrip().endswith(f"Numbers: {lab_report.results_json}")
    assert lab_report["graph"]["num_parameters"] == 17


def test_all_rejects_unknown_exercises(tmp_path):
    with pytest.raises(ValueError, match="unknown exercises in options: \\['nope'\\]"):
        lw.lab.all(tmp_path, options={"nope": {}})
