"""The command line's wave-2 training options: --dropout, --norm, --lr-schedule,
--class-weight, --optimizer rmsprop, --checkpoint and --resume (bit for bit)."""

import numpy as np
import pytest
import safetensors.numpy

from layerwise import cli


def train(*args):
    return cli.main(["train", "--data", "iris", "--quiet", "--layers", "8", *map(str, args)])


def test_new_options_train_and_save(tmp_path, capsys):
    out = tmp_path / "m.safetensors"
    assert train("--dropout", 0.1, "--norm", "layer", "--lr-schedule", "onecycle",
                 "--optimizer", "rmsprop", "--class-weight", "balanced", "--epochs", 3,
                 "--out", out) == 0
    text = capsys.readouterr().out
    assert "validation  accuracy" in text and out.exists()
    assert cli.main(["summary", str(out)]) == 0
    summary = capsys.readouterr().out
    assert "LayerNorm" in summary and "Dropout" in summary


@pytest.mark.parametrize("schedule", ["cosine", "step", "plateau"])
def test_each_schedule_runs(schedule, capsys):
    assert train("--lr-schedule", schedule, "--norm", "batch", "--epochs", 4) == 0


def test_resume_gives_the_weights_of_an_unbroken_run(tmp_path, capsys):
    common = ["--dropout", 0.2, "--norm", "batch", "--lr-schedule", "plateau", "--seed", 3]
    train(*common, "--epochs", 6, "--out", tmp_path / "straight.safetensors")
    train(*common, "--epochs", 3, "--checkpoint", tmp_path / "ck")
    checkpoint = tmp_path / "ck" / cli.CHECKPOINT_FILE
    assert checkpoint.exists()
    assert train(*common, "--epochs", 6, "--resume", checkpoint,
                 "--out", tmp_path / "resumed.safetensors") == 0
    assert "resuming after epoch 3" in capsys.readouterr().out
    straight = safetensors.numpy.load_file(tmp_path / "straight.safetensors")
    resumed = safetensors.numpy.load_file(tmp_path / "resumed.safetensors")
    assert straight.keys() == resumed.keys()
    for name, value in straight.items():
        np.testing.assert_array_equal(resumed[name], value, err_msg=name)


def test_resume_refuses_other_options(tmp_path, capsys):
    train("--epochs", 2, "--checkpoint", tmp_path / "ck")
    checkpoint = tmp_path / "ck" / cli.CHECKPOINT_FILE
    assert train("--epochs", 4, "--dropout", 0.5, "--resume", checkpoint) == 1
    assert "the checkpoint's run had --dropout 0.0; give the same options" in \
        capsys.readouterr().err
    assert train("--epochs", 2, "--resume", checkpoint) == 1
    assert "give --epochs above 2" in capsys.readouterr().err


def test_bad_values_are_usage_errors(capsys, tmp_path):
    for args in (["--dropout", "1.5"], ["--norm", "group"], ["--lr-schedule", "linear"],
                 ["--class-weight", "even"], ["--optimizer", "adagrad"]):
        with pytest.raises(SystemExit) as err:
            cli.build_parser().parse_args(["train", "--data", "iris", *args])
        assert err.value.code == 2
    (tmp_path / "file").write_text("x")
    assert train("--checkpoint", tmp_path / "file") == 2
    assert "is a file; give a folder" in capsys.readouterr().err
    assert "rmsprop" in cli.build_parser()._subparsers._group_actions[0].choices[
        "train"].format_help()
