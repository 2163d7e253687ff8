"""``layerwise convert`` and the commands that open model files, with .onnx files: in-process
(``cli.main``), checking exit codes and outputs."""

from __future__ import annotations

import numpy as np
import pytest

import layerwise as lw
from layerwise import cli

pytest.importorskip("onnx")


@pytest.fixture(scope="module")
def iris_model(tmp_path_factory):
    """The ``make run`` Iris model, trained by the command line."""
    folder = tmp_path_factory.mktemp("iris")
    path = folder / "iris.safetensors"
    assert cli.main(["train", "--data", "iris", "--layers", "8,4", "--lr", "0.01", "--epochs",
                     "20", "--seed", "42", "--quiet", "--out", str(path)]) == 0
    return path


def test_convert_round_trip_keeps_weights_class_and_feature_names(iris_model, tmp_path, capsys):
    onnx_path, back = tmp_path / "iris.onnx", tmp_path / "back.safetensors"
    assert cli.main(["convert", str(iris_model), str(onnx_path)]) == 0
    assert cli.main(["convert", str(onnx_path), str(back)]) == 0
    assert f"model written to {back}" in capsys.readouterr().out
    model, meta = lw.load(iris_model, return_metadata=True)
    again, meta_again = lw.load(back, return_metadata=True)
    assert meta_again == meta and meta["classes"] == ["setosa", "versicolor", "virginica"]
    assert repr(again) == repr(model)
    X, _ = lw.datasets.load_iris()
    np.testing.assert_array_equal(again(X).data, model(X).data)


def test_predict_evaluate_and_summary_read_onnx_files(iris_model, tmp_path, capsys):
    onnx_path = tmp_path / "iris.onnx"
    assert cli.main(["convert", str(iris_model), str(onnx_path)]) == 0
    capsys.readouterr()
    for command in (["evaluate", "{}", "--data", "iris"], ["summary", "{}"]):
        outputs = []
        for path in (iris_model, onnx_path):
            assert cli.main([c.format(path) for c in command]) == 0
            outputs.append(capsys.readouterr().out)
        assert outputs[0] == outputs[1]
    rows = tmp_path / "rows.csv"
    X, _, features, _ = lw.datasets.load_iris(return_names=True)
    rows.write_text(",".join(features) + "\n" + "\n".join(",".join(map(str, x)) for x in X[::10]))
    outputs = []
    for path in (iris_model, onnx_path):
        assert cli.main(["predict", str(path), str(rows), "--proba"]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1] and outputs[0].startswith("setosa,versicolor,virginica")


@pytest.mark.parametrize("args, status, message", [
    (["m.safetensors", "out.txt"], 1, "cannot tell the format of the output from its suffix"),
    (["junk.onnx", "out.safetensors"], 1, "junk.onnx: not an ONNX model"),
    (["missing.onnx", "out.safetensors"], 2, "file not found: missing.onnx"),
])
def test_convert_errors_are_one_line(args, status, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    lw.save(lw.MLP([2, 2], rng=0), "m.safetensors")
    (tmp_path / "junk.onnx").write_bytes(b"\x08\x07junk" * 10)
    assert cli.main(["convert", *args]) == status
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "out.safetensors").exists()
