"""``benchmarks/run.py`` runs, checks its contestants agree, and writes its JSON (no timing is
asserted: only that the script works and reports what it says it reports)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("threadpoolctl")

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "run.py"


def run_bench(*args, check=True):
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          env=env, timeout=600, check=False)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_quick_run_prints_the_table_and_writes_json(tmp_path):
    out = tmp_path / "r.json"
    proc = run_bench("--quick", "--only", "W1", "--repeats", "3", "--no-memory", "--threads",
                     "1", "--json", str(out))
    assert "W1 tiny" in proc.stdout and "lw/torch" in proc.stdout
    results = json.loads(out.read_text())
    assert results["threads"] == 1
    assert {(r["workload"], r["case"]) for r in results["results"]} == {
        ("W1", "forward"), ("W1", "forward, eager"), ("W1", "train step"),
        ("W1", "train step, eager")}
    for row in results["results"]:
        assert set(row["stats"]) == {"layerwise", "torch", "numpy", "bound"}
        for stats in row["stats"].values():
            assert len(stats["samples_s"]) == 3
            assert 0 < stats["q1_s"] <= stats["median_s"] <= stats["q3_s"]
        assert row["ratios"]["vs_torch"] > 0
        assert isinstance(row["target_met"], bool) or row["case"].endswith("eager")
    assert results["environment"]["numpy_blas"]["num_threads"] == 1


def test_memory_child_reports_what_a_step_adds():
    proc = run_bench("--memory-child", "layerwise", "--threads", "1")
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["peak_rss"] >= report["setup_rss"] > 0
    # a W3 step at least allocates the gradients of its 1.86 M float32 parameters
    assert report["added_bytes"] > 1_860_000 * 4


@pytest.mark.parametrize("args, message", [
    (["--only", "W9"], "unknown workload(s) W9"),
    (["--threads", "0"], "--threads must be >= 1"),
    (["--repeats", "1"], "--repeats must be >= 3"),
])
def test_bad_flags_exit_2_with_one_clear_line(args, message):
    proc = run_bench(*args, check=False)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_quick_w5_times_the_new_layers_against_torch(tmp_path):
    out = tmp_path / "w5.json"
    proc = run_bench("--quick", "--only", "W5", "--repeats", "3", "--threads", "1", "--json",
                     str(out))
    assert "W5 new layers" in proc.stdout
    results = json.loads(out.read_text())
    layers = ("LayerNorm", "BatchNorm1d", "Dropout")
    assert {(r["workload"], r["case"]) for r in results["results"]} == {
        ("W5", f"{layer} {case}") for layer in layers for case in ("forward", "fwd+bwd")}
    for row in results["results"]:
        assert set(row["stats"]) == {"layerwise", "torch"}
        assert row["ratios"]["vs_torch"] > 0 and isinstance(row["target_met"], bool)


def test_a_list_of_thread_counts_times_every_case_at_each(tmp_path):
    out = tmp_path / "t.json"
    proc = run_bench("--quick", "--only", "W1", "--repeats", "3", "--no-memory", "--threads",
                     "1,2", "--json", str(out))
    assert "1, 2 thread(s)" in proc.stdout
    results = json.loads(out.read_text())
    assert results["threads"] == [1, 2]
    assert sorted((r["threads"], r["case"]) for r in results["results"]) == [
        (1, "forward"), (1, "forward, eager"), (1, "train step"), (1, "train step, eager"),
        (2, "forward"), (2, "forward, eager"), (2, "train step"), (2, "train step, eager")]
    for row in results["results"]:
        assert set(row["ratios"]) == {"vs_torch", "vs_numpy", "vs_bound"}
