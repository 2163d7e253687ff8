"""The examples print the chapter's numbers; the README tour and the docstring examples run.

Each example redoes one listing of the chapter with layerwise and runs as
``python examples/NAME.py``. The oracle is the chapter's own code (``chapter_listings.py``),
run here with the same seed: the example's output must begin with exactly the lines the
chapter's code prints (what follows is the example's own extra material). Two listings cannot
be compared line by line and are compared numerically: the bias plot (the chapter shows a
window, the example writes a PNG and prints its curves) and the PyTorch listing (float32, and
torch prints ``torch.Size``).
"""

import contextlib
import doctest
import importlib
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import chapter_listings as chapter
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

LINE_BY_LINE = {
    "forward_layer": chapter.listing_forward_layer,
    "initialization": chapter.listing_initialization,
    "computational_node": chapter.listing_computational_node,
    "multilayer_network": chapter.listing_multilayer_network,
    "mse_loss": chapter.listing_mse_loss,
    "cross_entropy": chapter.listing_cross_entropy,
    "dense_layer": chapter.listing_dense_layer,
    "complete_forward_pass": chapter.listing_complete_forward_pass,
}
NUMERIC = {"bias_effect", "pytorch_network"}


def run_python(script: Path, *args: str, cwd: Path) -> str:
    """Run a script as a user would; return its stdout (it must exit cleanly, unwarned)."""
    paths = [str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in paths if p))
    proc = subprocess.run([sys.executable, str(script), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, f"{script.name} failed:\n{proc.stderr}"
    assert "Warning" not in proc.stderr, f"{script.name} warned:\n{proc.stderr}"
    return proc.stdout


def run_example(name: str, *args: str, cwd: Path) -> str:
    return run_python(EXAMPLES / f"{name}.py", *args, cwd=cwd)


def printed(listing, *args) -> str:
    """What a chapter listing prints."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        listing(*args)
    return out.getvalue()


def floats(text: str) -> np.ndarray:
    return np.array([float(x) for x in re.findall(r"-?\d+\.\d*(?:e[-+]?\d+)?", text)])


def between(text: str, start: str, end: str) -> str:
    """The part of ``text`` after the line starting ``start`` and before ``end``."""
    return text.split(start, 1)[1].split(end, 1)[0]


@pytest.mark.parametrize("name", list(LINE_BY_LINE))
def test_example_prints_the_chapters_numbers(name, tmp_path):
    expected = printed(LINE_BY_LINE[name]).splitlines()
    got = run_example(name, cwd=tmp_path).splitlines()
    assert got[:len(expected)] == expected


def test_bias_effect_plots_the_chapters_curves(tmp_path):
    pytest.importorskip("matplotlib")
    out = run_example("bias_effect", cwd=tmp_path)
    png = (tmp_path / "bias_effect.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
    lines = [line for line in out.splitlines() if line.startswith("bias = ")]
    curves = chapter.listing_bias_effect()
    assert len(lines) == len(curves)
    for line, (b, (x, y)) in zip(lines, curves.items()):
        assert line.startswith(f"bias = {b:+d}: crosses 0.5 at x = {-b:+.1f}")
        values = dict(re.findall(r"(first|mean|last)=([-\d.]+)", line))
        assert float(values["first"]) == pytest.approx(y[0], abs=1e-6)
        assert float(values["mean"]) == pytest.approx(y.mean(), abs=1e-6)
        assert float(values["last"]) == pytest.approx(y[-1], abs=1e-6)


def test_bias_effect_takes_an_output_path(tmp_path):
    pytest.importorskip("matplotlib")
    run_example("bias_effect", str(tmp_path / "figure.png"), cwd=tmp_path)
    assert (tmp_path / "figure.png").read_bytes().startswith(b"\x89PNG")


def test_pytorch_network_matches_the_chapters_pytorch_listing(tmp_path):
    pytest.importorskip("torch")
    got = run_example("pytorch_network", cwd=tmp_path)
    # the example seeds NumPy with 42 and draws He weights layer by layer, b = 0
    np.random.seed(42)
    sizes = [(4, 8), (8, 4), (4, 3)]
    weights = [np.random.randn(n_in, n_out) * np.sqrt(2.0 / n_in) for n_in, n_out in sizes]
    biases = [np.zeros((1, n_out)) for _, n_out in sizes]
    expected = printed(chapter.listing_pytorch_network, weights, biases)

    shape = r"Logits shape: \D*(\d+), (\d+)"
    assert re.search(shape, got).groups() == re.search(shape, expected).groups()
    probs_got = floats(between(got, "Probabilities:", "Predicted classes:"))
    probs_want = floats(between(expected, "Probabilities:", "Predicted classes:"))
    assert probs_got.shape == (15,)
    np.testing.assert_allclose(probs_got, probs_want, rtol=1e-6, atol=1e-7)
    classes = r"Predicted classes: (\[.*\])"
    assert re.search(classes, got).group(1) == re.search(classes, expected).group(1)
    loss = r"\nCross Entropy Loss: ([\d.]+)"
    assert float(re.search(loss, got).group(1)) == pytest.approx(
        float(re.search(loss, expected).group(1)), abs=1e-4)
    # the example's own side-by-side agrees too
    assert re.search(r"PyTorch Cross Entropy Loss: ([\d.]+)", got).group(1) == (
        re.search(loss, got).group(1))


OTHERS = sorted(p.stem for p in EXAMPLES.glob("*.py")
                if p.stem not in LINE_BY_LINE and p.stem not in NUMERIC)


@pytest.mark.parametrize("name", OTHERS)
def test_other_examples_run_cleanly(name, tmp_path):
    assert run_example(name, cwd=tmp_path).strip()


def test_readme_python_blocks_run(tmp_path):
    """The README's tour works as written (each ```python block, run in order, in one process)."""
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.DOTALL)
    assert blocks, "the README has no python block"
    script = tmp_path / "readme_tour.py"
    script.write_text("\n".join(blocks))
    run_python(script, cwd=tmp_path)


# --------------------------------------------------------------- docstring examples
def _package_modules() -> list:
    """Every module of the package (no hand-kept list), except the ``__main__`` entry points."""
    import pkgutil

    import layerwise

    names = ["layerwise"] + [m.name for m in pkgutil.walk_packages(layerwise.__path__,
                                                                  "layerwise.")]
    return [n for n in names if not n.endswith("__main__")]


ALL_MODULES = _package_modules()


@pytest.mark.parametrize("module", ALL_MODULES)
def test_docstring_examples_run(module):
    try:
        imported = importlib.import_module(module)
    except ImportError as err:  # an optional part whose extra is not installed
        pytest.skip(f"{module} needs an extra: {err}")
    result = doctest.testmod(imported,
                             optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {module}"
