"""The ``layerwise`` command, run as a user would: in fresh processes, checking exit codes,
outputs, and that every bad argument or file is one clear line, never a traceback."""

import os
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import layerwise as lw
from layerwise import cli

SRC = Path(__file__).resolve().parents[1] / "src"


def run(*args, cwd=None):
    env = {**os.environ, "PYTHONPATH": str(SRC), "COLUMNS": "120"}
    return subprocess.run([sys.executable, "-m", "layerwise", *map(str, args)], env=env,
                          cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def write_csv(path, header, rows):
    lines = [",".join(header)] + [",".join(map(str, row)) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def flowers(tmp_path_factory):
    """Iris as a user's CSV (class names in the last column), and rows to predict with the
    feature columns in another order and no label column."""
    folder = tmp_path_factory.mktemp("flowers")
    X, y, features, classes = lw.datasets.load_iris(return_names=True)
    rows = [[*x.tolist(), classes[k]] for x, k in zip(X, y)]
    train = write_csv(folder / "flowers.csv", [*features, "species"], rows)
    order = [2, 0, 3, 1]
    new = write_csv(folder / "new.csv", [features[i] for i in order],
                    [[x[i] for i in order] for x in X[::7].tolist()])
    return folder, train, new, X[::7], classes


@pytest.fixture(scope="module")
def trained(flowers):
    folder, train, *_ = flowers
    result = run("train", "--data", train, "--target", "species", "--layers", "8",
                 "--epochs", "40", "--lr", "0.02", "--batch-size", "16", "--seed", "1",
                 "--out", folder / "model.safetensors", "--plot", folder / "curves.png",
                 "--quiet")
    return result, folder / "model.safetensors"


def test_train_writes_model_and_plot_and_reports_accuracy(trained, flowers):
    result, model_path = trained
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("training    accuracy ") and "loss (cross_entropy)" in lines[0]
    assert lines[1].startswith("validation  accuracy ")
    assert float(lines[0].split()[2]) >= 0.9
    assert lines[2:] == [f"model written to {model_path}",
                         f"training curves written to {flowers[0] / 'curves.png'}"]
    assert result.stderr == ""  # --quiet: no progress
    assert (flowers[0] / "curves.png").read_bytes()[:4] == b"\x89PNG"


def test_summary_of_the_saved_model(trained):
    result = run("summary", trained[1])
    assert result.returncode == 0, result.stderr
    out = result.stdout.splitlines()
    assert out[0] == "Model: Sequential"
    assert out[5].split() == ["0", "(Standardize)", "(None,", "4)", "0", "--"]
    assert out[6].split() == ["1.layers.0", "(Dense)", "(None,", "8)", "40", "yes"]
    assert "Total params: 67" in out
    assert out[-3:] == ["Target: species", "Loss: cross_entropy",
                        "Classes: setosa, versicolor, virginica"]


def test_predict_in_a_fresh_process_equals_load_and_forward(trained, flowers):
    _, model_path = trained
    folder, _, new, X, classes = flowers
    model, meta = lw.load(model_path, return_metadata=True)
    with lw.no_grad():
        logits = model(X.astype(np.float32))
    probs = lw.F.softmax(logits).data
    result = run("predict", model_path, new)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["prediction"] + [classes[k] for k in probs.argmax(1)]
    assert meta["classes"] == classes
    result = run("predict", model_path, new, "--proba", "--out", folder / "p.csv")
    assert result.returncode == 0 and result.stdout == "", result.stderr
    lines = (folder / "p.csv").read_text().splitlines()
    assert lines[0] == ",".join(classes)
    written = np.array([[np.float32(v) for v in line.split(",")] for line in lines[1:]])
    np.testing.assert_array_equal(written, probs)  # printed digits round-trip float32


def test_predict_accepts_the_training_file_with_its_label_column(trained, flowers):
    result = run("predict", trained[1], flowers[1])
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 151


def test_evaluate_equals_evaluate_in_process(trained, flowers):
    result = run("evaluate", trained[1], "--data", flowers[1], "--target", "species")
    assert result.returncode == 0, result.stderr
    X, y = lw.datasets.load_iris()  # same rows; class names sorted as the CSV's
    scores = lw.training.evaluate(lw.load(trained[1]), X, y, lw.nn.CrossEntropyLoss())
    assert result.stdout.splitlines() == [f"loss (cross_entropy): {scores['loss']:.4f}",
                                          f"accuracy: {scores['accuracy']:.4f}"]
    assert run("evaluate", trained[1], "--data", "iris").stdout == result.stdout


def test_regression_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (120, 3))
    target = X @ np.array([1.5, -2.0, 0.5]) + 3.0
    data = write_csv(tmp_path / "r.csv", ["a", "b", "c", "t"],
                     [[*x, t] for x, t in zip(X.tolist(), target.tolist())])
    result = run("train", "--data", data, "--loss", "mse", "--layers", "none", "--epochs", "60",
                 "--lr", "0.05", "--out", tmp_path / "r.safetensors", "--quiet")
    assert result.returncode == 0, result.stderr
    assert "accuracy" not in result.stdout and "loss (mse)" in result.stdout
    result = run("predict", tmp_path / "r.safetensors", data)
    model = lw.load(tmp_path / "r.safetensors")
    expected = model(X.astype(np.float32)).data[:, 0]
    lines = result.stdout.splitlines()
    assert lines[0] == "prediction"
    np.testing.assert_array_equal(np.array(lines[1:], dtype=np.float32), expected)
    np.testing.assert_allclose(expected, target, atol=0.1)  # it learned the plane


def test_train_on_digits_shows_progress_and_reaches_95_percent(tmp_path):
    result = run("train", "--data", "digits", "--epochs", "10", "--seed", "0")
    assert result.returncode == 0, result.stderr
    assert "Epoch 10/10 - " in result.stderr and "val_accuracy: " in result.stderr
    validation = result.stdout.splitlines()[1].split()
    assert validation[0] == "validation" and float(validation[2]) >= 0.95


# ---------------------------------------------------------------------- bad arguments
@pytest.mark.parametrize("args, message", [
    (["--lr", "nan"], "argument --lr: must be a finite number > 0, got 'nan'"),
    (["--lr", "inf"], "argument --lr: must be a finite number > 0, got 'inf'"),
    (["--lr", "-1"], "argument --lr: must be a finite number > 0, got '-1'"),
    (["--lr", "0"], "argument --lr: must be a finite number > 0, got '0'"),
    (["--epochs", "0"], "argument --epochs: must be a positive integer, got '0'"),
    (["--epochs", "-1"], "argument --epochs: must be a positive integer"),
    (["--epochs", "nan"], "argument --epochs: must be a positive integer"),
    (["--batch-size", "0"], "argument --batch-size: must be a positive integer, got '0'"),
    (["--batch-size", "inf"], "argument --batch-size: must be a positive integer"),
    (["--val-split", "1"], "argument --val-split: must be a number in [0, 1), got '1'"),
    (["--val-split", "nan"], "argument --val-split: must be a number in [0, 1)"),
    (["--optimizer", "sgd", "--momentum", "1"], "argument --momentum: must be a number in"),
    (["--momentum", "0.9"], "--momentum does not apply to --optimizer adam"),
    (["--weight-decay", "-1"], "argument --weight-decay: must be a finite number >= 0"),
    (["--layers", "64,0"], "argument --layers: must be hidden layer sizes such as 64,32"),
    (["--data", "mnist"], ("argument --data: unknown dataset 'mnist': use iris, digits or the "
                          "path of a .csv file")),
    (["--data", "missing.csv"], "argument --data: file not found: missing.csv"),
    (["--out", "no/such/folder/m.safetensors"], "argument --out: the folder "),
    (["--target", "x"], "--target applies to CSV files; iris has its own labels"),
])
def test_bad_train_arguments_exit_2_with_usage_and_one_line(tmp_path, args, message):
    if "--data" not in args:
        args = ["--data", "iris", *args]
    result = run("train", *args, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and lines[0].startswith("usage: layerwise train ")
    assert lines[1].startswith("layerwise train: error: ") and message in lines[1]
    assert result.stdout == ""


@pytest.mark.parametrize("args, message", [
    (["summary", "nothing.safetensors"], "argument MODEL: file not found: nothing.safetensors"),
    (["predict", "nothing.safetensors", "x.csv"], "file not found: nothing.safetensors"),
    (["evaluate", "nothing.safetensors", "--data", "iris"], "file not found"),
    (["summary"], "the following arguments are required: MODEL"),
    ([], "the following arguments are required: COMMAND"),
])
def test_bad_command_lines_exit_2(tmp_path, args, message):
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 2
    assert message in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("content, message", [
    (b"\x00" * 3 + os.urandom(200), "random.safetensors: "),
    (b"\x80\x04\x95" + b"\x00" * 40, "random.safetensors: this is a Python pickle"),
    (b"", "random.safetensors: not a safetensors file: only 0 bytes"),
])
def test_corrupt_model_files_are_one_line_exit_1(tmp_path, content, message):
    (tmp_path / "random.safetensors").write_bytes(content)
    result = run("summary", "random.safetensors", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith("layerwise summary: error: ") and message in result.stderr


def test_bad_data_files_are_one_line_exit_1(tmp_path, trained):
    write_csv(tmp_path / "bad.csv", ["a", "b", "label"], [[1, 2, "x"], [3, "oops", "y"]])
    result = run("train", "--data", tmp_path / "bad.csv", "--quiet")
    assert result.returncode == 1 and len(result.stderr.splitlines()) == 1
    assert "bad.csv: non-numeric value 'oops' at line 3, column 'b'" in result.stderr
    write_csv(tmp_path / "three.csv", ["x", "y"], [[1, 2], [3, 4]])
    result = run("predict", trained[1], tmp_path / "three.csv")
    assert result.returncode == 1 and len(result.stderr.splitlines()) == 1
    assert "three.csv: the model needs the columns ['sepal length (cm)'" in result.stderr
    write_csv(tmp_path / "float.csv", ["a", "t"], [[1, 0.5], [2, 1.5], [3, 2.5]])
    result = run("train", "--data", tmp_path / "float.csv", "--quiet")
    assert result.returncode == 1
    assert "non-integer values; use --loss mse" in result.stderr


def test_version_and_help():
    assert run("--version").stdout.strip() == f"layerwise {lw.__version__}"
    result = run("--help")
    assert result.returncode == 0
    for command in ("train", "predict", "evaluate", "summary", "lab"):
        assert command in result.stdout


# ------------------------------------------------------------------ in-process parts
def test_lab_is_delegated(monkeypatch):
    seen = []
    fake = types.ModuleType("layerwise.lab.cli")
    fake.main = lambda argv: seen.append(argv) or 7
    monkeypatch.setitem(sys.modules, "layerwise.lab.cli", fake)
    assert cli.main(["lab", "all", "--out", "x"]) == 7 and seen == [["all", "--out", "x"]]


def test_lab_unavailable_is_said(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "layerwise.lab.cli", None)  # import fails
    assert cli.main(["lab"]) == 1
    assert capsys.readouterr().err == (
        "layerwise lab: the lab is not available in this installation\n")


def test_the_saved_model_standardises_raw_features_itself(trained, flowers):
    """train puts a Standardize layer (saved with the model) in front of the network."""
    model = lw.load(trained[1])
    scaling = model[0]
    assert isinstance(scaling, lw.nn.Standardize)
    X, _ = lw.datasets.load_iris()
    np.testing.assert_allclose(scaling(X).data, (X - scaling.mean) / scaling.scale)
    assert np.all(scaling.scale > 0)
    assert "0.mean" in model.state_dict() and "0.scale" in model.state_dict()


def test_standardize_from_data_and_its_pytorch_form():
    X, _ = lw.datasets.load_digits()
    layer = lw.nn.Standardize.from_data(X.astype(np.float64))
    assert np.all(layer.scale > 0)  # constant pixels keep scale 1
    out = layer(X).data
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-12)
    torch = pytest.importorskip("torch")
    t = lw.interop.to_torch(layer)
    np.testing.assert_allclose(t(torch.from_numpy(X.astype(np.float64))).detach().numpy(), out,
                               rtol=1e-10, atol=1e-10)
