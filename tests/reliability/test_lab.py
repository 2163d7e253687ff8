"""`layerwise lab` never shows a traceback (issue 14 item 6): huge numbers, huge sizes, an
--out that is a file, running out of memory and Ctrl-C each give one clear line and the exit
status the command line promises (1, 2 for a bad argument, 130 for Ctrl-C)."""

import functools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import layerwise as lw
from layerwise.lab import cli as lab_cli
from layerwise.lab.cli import main

SRC = str(Path(lw.__file__).resolve().parents[1])


def run(argv, capsys):
    status = main([*argv, "--quiet"])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return status, captured.err.strip().splitlines(), captured.out


def test_forward_with_inputs_near_the_float_limit_works(capsys):
    status, err, out = run(["forward", "--x", "1e308", "1e308"], capsys)
    assert status == 0 and err == []
    assert "output [0.0000, 1.0000]" in out and "inf" not in out and "nan" not in out
    assert max(len(line) for line in out.splitlines()) < 120  # no 300-digit numbers


def test_forward_refuses_values_that_overflow():
    with pytest.raises(ValueError, match=r"forward lab: Z1 = \[inf, inf\] overflows float64"):
        lw.lab.forward(x=(10, 10), W1=((1e308, 1e308), (1e308, 1e308)))
    with pytest.raises(ValueError, match="forward lab: x must be finite"):
        lw.lab.forward(x=(np.nan, 1))


@pytest.mark.parametrize("argv, message", [
    (["init", "--sizes", "100000", "100000"],
     "the weights of layer 1 would hold 10,000,000,000 numbers (74.5 GiB in float64)"),
    (["init", "--samples", "100000000"], "the activations of layer 0 would hold"),
    (["batching", "--samples", "1000000000"], "the activations of layer 0 would hold"),
    (["graph", "--sizes", "2", "100000", "100000"], "the weights of layer 2 would hold"),
    (["huber", "--samples", "1000000000"], "the data would hold 1,000,000,000 numbers"),
    (["losses", "--points", "1000000000"], "the predictions would hold"),
])
def test_sizes_that_would_exhaust_memory_are_bad_arguments(argv, message, capsys):
    status, err, out = run(argv, capsys)
    assert status == 2 and out == ""
    assert err[0].startswith("usage: layerwise lab") and message in err[-1]


@pytest.mark.parametrize("exercise", ["huber", "forward", "all", "graph"])
def test_an_out_that_is_a_file_is_a_bad_argument(tmp_path, exercise, capsys):
    existing = tmp_path / "notes.txt"
    existing.write_text("keep me")
    status, err, _ = run([exercise, "--out", str(existing)], capsys)
    assert status == 2
    assert err[-1] == (f"layerwise lab {exercise}: error: argument --out: {existing} is a file, "
                       "not a folder (it is created if needed)")
    assert existing.read_text() == "keep me"


def test_a_figures_file_inside_the_report_folder_is_one_line(tmp_path, capsys):
    (tmp_path / "figures").write_text("")
    status, err, _ = run(["all", "--out", str(tmp_path)], capsys)
    assert status == 1
    assert err == [(f"layerwise lab all: {tmp_path / 'figures'} exists and is not a folder; give "
                   "a folder for --out (it is created if needed)")]


def test_the_library_refuses_a_file_as_the_figure_folder(tmp_path):
    existing = tmp_path / "f"
    existing.write_text("")
    with pytest.raises(NotADirectoryError, match="exists and is not a folder"):
        lw.lab.forward(out=existing)


def test_running_out_of_memory_is_one_line_and_exit_1(monkeypatch, capsys):
    @functools.wraps(lw.lab.graph)  # the parser reads its docstring and signature
    def greedy(**kwargs):
        raise MemoryError

    monkeypatch.setitem(lab_cli.EXERCISES, "graph", greedy)
    status, err, _ = run(["graph"], capsys)
    assert status == 1 and err == ["layerwise lab graph: out of memory; choose smaller sizes"]


def test_an_unwritable_folder_is_one_line_and_exit_1(monkeypatch, capsys):
    @functools.wraps(lw.lab.graph)
    def denied(**kwargs):
        raise PermissionError(13, "Permission denied", "/report/figures/x.png")

    monkeypatch.setitem(lab_cli.EXERCISES, "graph", denied)
    status, err, _ = run(["graph"], capsys)
    assert status == 1
    assert err == ["layerwise lab graph: [Errno 13] Permission denied: '/report/figures/x.png'"]


@pytest.mark.skipif(os.name != "posix", reason="SIGINT to a child process needs POSIX")
@pytest.mark.parametrize("command", [["-m", "layerwise.lab"], ["-m", "layerwise", "lab"]])
def test_ctrl_c_during_lab_all_exits_130_with_one_line(tmp_path, command):
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "PYTHONUNBUFFERED": "1"}
    child = subprocess.Popen([sys.executable, *command, "all", "--out", str(tmp_path / "r")],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        first = child.stderr.readline()  # the first progress line: main() is running
        assert first.startswith("lab all: started"), first
        time.sleep(0.5)
        child.send_signal(signal.SIGINT)
        _, rest = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 130, (child.returncode, rest)
    assert "Traceback" not in rest
    assert rest.strip().splitlines()[-1] == "layerwise lab all: interrupted"
    assert "lab all: done" not in rest  # an interrupted run is never reported as done


@pytest.mark.parametrize("argv", [["huber", "--shift", "1e308"], ["huber", "--lr", "1e308"],
                                  ["huber", "--noise", "1e308"]])
def test_training_that_diverges_is_one_line_and_exit_1(argv, capsys):
    status, err, _ = run([*argv, "--epochs", "5"], capsys)
    assert status == 1 and len(err) == 1  # no NumPy overflow warnings before it
    assert err[0].startswith("layerwise lab huber: fit: the loss became inf at epoch")
