"""The notebooks in ``examples/`` run top to bottom on a real Jupyter kernel, without error.

Each runs in a scratch folder on an ipykernel started from this interpreter (so it imports
the layerwise under test), with a per-cell timeout; any cell error fails the test with the
cell's traceback. The notebooks are stored without outputs, so a diff shows only code.
"""

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "examples").glob("*.ipynb"))
CELL_TIMEOUT_S = 180


def test_the_chapter_tour_is_there():
    names = [p.stem for p in NOTEBOOKS]
    assert names == ["01_forward_pass", "02_losses", "03_graph", "04_initialization",
                     "05_training_digits"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path):
    for i, cell in enumerate(json.loads(path.read_text(encoding="utf-8"))["cells"]):
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, \
                f"{path.name} cell {i} has outputs: clear them before committing"


@pytest.fixture
def kernel(tmp_path, monkeypatch):
    """A kernel spec for this interpreter, found first on JUPYTER_PATH."""
    pytest.importorskip("ipykernel")
    spec = tmp_path / "jupyter" / "kernels" / "layerwise-tests"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "layerwise tests", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    return "layerwise-tests"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_without_error(path, kernel, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(path, as_version=4)
    work = tmp_path / "work"
    work.mkdir()
    client = nbclient.NotebookClient(nb, kernel_name=kernel, timeout=CELL_TIMEOUT_S,
                                     startup_timeout=120,
                                     resources={"metadata": {"path": str(work)}})
    client.execute()  # raises CellExecutionError naming the cell and its traceback
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    rich = {m for o in outputs if o.output_type in ("execute_result", "display_data")
            for m in o.data}
    assert "text/plain" in rich
    assert list(work.iterdir()) == [], "a notebook wrote into its working folder"
