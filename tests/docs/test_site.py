"""The documentation site: ``mkdocs build --strict`` succeeds and documents every public module.

Runs wherever the ``dev`` extra is installed (mkdocs, Material, mkdocstrings); skipped only
where mkdocs itself is missing.
"""

import argparse
import importlib
import os
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import layerwise

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

# Modules that are not a reference page of their own: `cli` is the generated command-line
# page, the others are internal helpers (argument checks, dtype and rng resolution) whose
# public names, if any, are re-exported at the top level.
NOT_A_PAGE = {"checks", "cli", "cli_types", "dtypes", "rng"}


def public_modules() -> list:
    return sorted(m.name for m in pkgutil.iter_modules(layerwise.__path__)
                  if not m.name.startswith("_") and m.name not in NOT_A_PAGE)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    pytest.importorskip("mkdocs")
    out = tmp_path_factory.mktemp("site")
    run = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT, capture_output=True, text=True, check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert run.returncode == 0, f"mkdocs build --strict failed:\n{run.stdout}\n{run.stderr}"
    return out


def test_every_public_module_has_a_reference_page(site):
    modules = public_modules()
    assert {"nn", "functional", "autodiff", "training", "lab", "graph"} <= set(modules)
    for name in ["layerwise", *(f"layerwise.{m}" for m in modules)]:
        page = site / "reference" / f"{name.removeprefix('layerwise.')}.html"
        assert page.is_file(), f"no reference page for {name} (add docs/reference/...md)"
        assert f'id="{name}"' in page.read_text(encoding="utf-8"), f"{page} lacks {name}"


def test_the_dense_reference_shows_its_docstring(site):
    page = (site / "reference" / "nn.html").read_text(encoding="utf-8")
    assert 'id="layerwise.nn.Dense"' in page
    assert "Fully connected layer" in page
    # doctest examples are code blocks, not Markdown quotations
    assert "<blockquote>" not in page
    assert "lw.nn.Dense(4, 8, rng=0)" in re.sub(r"<[^>]+>", "", page).replace("&gt;", ">")


def test_cli_page_is_generated_from_the_parser(site):
    from layerwise.cli import build_parser

    page = (site / "cli.html").read_text(encoding="utf-8")
    text = re.sub(r"<[^>]+>", "", page)
    commands = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    names = list(commands[0].choices)
    assert {"train", "predict", "evaluate", "summary", "lab"} <= set(names)
    for name, sub in commands[0].choices.items():
        assert f"layerwise {name}" in text
        for action in sub._actions:
            for option in action.option_strings:
                assert option in text, f"{option} of `layerwise {name}` is not on the CLI page"


def test_performance_page_is_the_benchmark_readme(site):
    text = re.sub(r"<[^>]+>", "", (site / "performance.html").read_text(encoding="utf-8"))
    assert "Where the time goes" in text and "matmul bound" in text


def test_lab_report_links_point_at_documented_names(site):
    from layerwise.lab.report import DOCUMENTED

    for exercise, names in DOCUMENTED.items():
        for name in names:
            page, anchor = layerwise.lab.report.docs_link(name, "").split("#")
            assert f'id="{anchor}"' in (site / page).read_text(encoding="utf-8"), \
                f"exercise {exercise}: {name} is not at {page}#{anchor}"


# ----------------------------------------------------------------- the pages' examples
PAGES = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")
               if "```python" in p.read_text(encoding="utf-8"))


@pytest.mark.parametrize("page", PAGES)
def test_python_examples_on_the_page_run(page, tmp_path):
    """Every ```python block of a page, in order, as one script (in a scratch folder)."""
    text = (DOCS / page).read_text(encoding="utf-8")
    if "import torch" in text:
        pytest.importorskip("torch")
    blocks = re.findall(r"```python\n(.*?)```", text, re.DOTALL)
    script = tmp_path / "page.py"
    script.write_text("\n".join(blocks), encoding="utf-8")
    env = {**os.environ, "MPLBACKEND": "Agg"}
    run = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                         text=True, env=env, timeout=300, check=False)
    assert run.returncode == 0, f"{page}:\n{run.stderr[-3000:]}"


def test_pages_were_found():
    assert {"index.md", "tour.md", "training.md", "inspection.md"} <= set(PAGES)
    importlib.import_module("layerwise.display")


def test_lab_report_links_each_exercise_to_the_site(tmp_path):
    from layerwise.lab.report import write_html

    results = {"graph": layerwise.lab.graph()}
    page = write_html(results, tmp_path / "a" / "index.html").read_text(encoding="utf-8")
    assert '<a href="../site/reference/graph.html#layerwise.graph.trace"><code>lw.graph.trace' \
        in page
    page = write_html(results, tmp_path / "b" / "index.html",
                      docs_url="https://example.org/lw/").read_text(encoding="utf-8")
    assert 'href="https://example.org/lw/reference/layerwise.html#layerwise.MLP"' in page
    page = write_html(results, tmp_path / "c" / "index.html", docs_url=None).read_text(
        encoding="utf-8")
    assert "reference/" not in page
