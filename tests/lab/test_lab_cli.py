"""`layerwise lab ...` (through layerwise.lab.cli.main) and `python -m layerwise.lab`."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from layerwise.lab import Progress
from layerwise.lab.cli import main
from layerwise.lab.report import EXERCISES

SRC = str(Path(__file__).resolve().parents[2] / "src")


@pytest.mark.parametrize("name", [*EXERCISES, "all"])
def test_every_command_has_help(name, capsys):
    assert main([name, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: layerwise lab {name}") and "--out DIR" in out


def test_top_level_help_lists_every_exercise(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in [*EXERCISES, "all"]:
        assert f"    {name}" in out


def test_graph_command_prints_its_summary(capsys):
    assert main(["graph", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("Exercise 6 - The computational graph")
    assert "total" in captured.out and "17" in captured.out and "add --out DIR" in captured.out
    assert captured.err == ""  # --quiet: no progress lines


def test_options_reach_the_exercise_and_figures_are_written(tmp_path, capsys):
    assert main(["init", "--sizes", "20", "20", "5", "--methods", "he", "--samples", "50",
                 "--activation", "tanh", "--out", str(tmp_path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["data"]["layer_sizes"] == [20, 20, 5]
    assert list(result["data"]["stats"]) == ["he"]
    assert result["data"]["activation"] == "tanh"
    assert (tmp_path / "init_histograms.png").stat().st_size > 0


def test_progress_lines_go_to_stderr(capsys):
    assert main(["losses", "--points", "5"]) == 0
    err = capsys.readouterr().err
    assert "lab losses: started (3 steps)" in err and "lab losses: [3/3]" in err


@pytest.mark.parametrize("argv, message", [
    (["huber", "--lr", "nan"], "argument --lr: must be a finite number > 0, got 'nan'"),
    (["huber", "--lr", "0"], "argument --lr: must be a finite number > 0, got '0'"),
    (["batching", "--repeats", "-1"], "argument --repeats: must be a positive integer"),
    (["losses", "--low", "1.5"], "must be a number strictly between 0 and 1"),
    (["losses", "--low", "0.6", "--high", "0.5"], "need 0 < low < high < 1"),
    (["huber", "--outliers", "60"], "0 <= n_outliers < n_samples"),
    (["init", "--methods", "orthogonal"], "invalid choice: 'orthogonal'"),
    (["forward", "--x", "1"], "argument --x: expected 2 arguments"),
    (["nope"], "invalid choice: 'nope'"),
])
def test_bad_arguments_exit_2_with_a_usage_line_and_one_error(argv, message, capsys):
    assert main([*argv, "--quiet"] if argv != ["nope"] else argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert lines[0].startswith("usage: layerwise lab")
    assert lines[-1].startswith("layerwise lab") and message in lines[-1]
    assert "Traceback" not in captured.err and captured.out == ""


def test_all_writes_the_report_and_ends_with_its_path(tmp_path):
    out = tmp_path / "rep"
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, "-m", "layerwise.lab", "all", "--quick", "--out",
                           str(out)], check=False, capture_output=True, text=True, env=env,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    last = done.stdout.strip().splitlines()[-1]
    assert last == f"Report written to {(out / 'index.html').resolve()}"
    assert (out / "index.html").is_file() and (out / "results.json").is_file()
    assert "lab all: [6/6] graph" in done.stderr  # progress while it runs
    for name in EXERCISES:
        assert f"\n  {name:<9} " in done.stdout  # the one-line overview


def test_progress_writes_plain_lines_when_asked_and_nothing_otherwise():
    stream = io.StringIO()
    progress = Progress(True, stream=stream)
    with progress.task("demo", 2) as step:
        step.advance("first")
        step.advance("second")
    progress.close()
    lines = stream.getvalue().splitlines()
    assert lines[:3] == ["lab demo: started (2 steps)", "lab demo: [1/2] first",
                         "lab demo: [2/2] second"]
    assert lines[3].startswith("lab demo: done in ")
    quiet = io.StringIO()
    for enabled in (False, None):  # None: only on a terminal, and StringIO is not one
        with Progress(enabled, stream=quiet).task("demo", 1) as step:
            step.advance()
    assert quiet.getvalue() == ""
