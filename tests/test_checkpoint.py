"""lw.save_checkpoint / lw.load_checkpoint: exact round trips, and training resumed from a
checkpoint giving bit for bit the weights of a run that never stopped."""

import json
import os

import numpy as np
import pytest

import layerwise as lw
from layerwise import callbacks as cbs
from layerwise.checkpoint import set_rng_state
from layerwise.optim import lr_scheduler


def _setup(make_opt):
    X, y = lw.datasets.load_digits()
    X, y = X[:300].astype(np.float64) / 16, y[:300]
    net = lw.MLP([64, 32, 16, 10], output_activation="none", rng=0, dtype=np.float64,
                 dropout=0.2, norm="batch")
    opt = make_opt(net.parameters())
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=6)
    return X, y, net, opt, sched


def _fit(X, y, net, opt, sched, rng, epochs, initial_epoch=0, more=()):
    return lw.fit(net, X, y, lw.nn.CrossEntropyLoss(), opt, epochs, batch_size=32, rng=rng,
                  progress=False, initial_epoch=initial_epoch,
                  callbacks=[cbs.LearningRateScheduler(sched), *more])


@pytest.mark.parametrize("make_opt", [
    lambda ps: lw.optim.Adam(ps, lr=0.01),
    lambda ps: lw.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    lambda ps: lw.optim.RMSprop(ps, lr=0.01, momentum=0.5, centered=True),
], ids=["adam", "sgd", "rmsprop"])
def test_resume_is_bit_for_bit(tmp_path, make_opt):
    path = os.fspath(tmp_path / "run.ckpt")
    X, y, net, opt, sched = _setup(make_opt)
    straight = _fit(X, y, net, opt, sched, np.random.default_rng(1), epochs=6)

    X, y, first, opt, sched = _setup(make_opt)
    rng = np.random.default_rng(1)
    _fit(X, y, first, opt, sched, rng, epochs=3,
         more=[cbs.TrainingCheckpoint(path, rng=rng, scheduler=sched)])

    X, y, resumed, opt, sched = _setup(make_opt)  # a fresh process, as far as state goes
    rng = np.random.default_rng(12345)
    extra = lw.load_checkpoint(path, resumed, opt)
    set_rng_state(rng, extra["rng"])
    sched.load_state_dict(extra["scheduler"])
    assert extra["epoch"] == 3
    history = _fit(X, y, resumed, opt, sched, rng, epochs=6, initial_epoch=extra["epoch"])
    assert extra["history"]["loss"] + history["loss"] == straight["loss"]
    for name, a in net.state_dict().items():
        np.testing.assert_array_equal(resumed.state_dict()[name], a, err_msg=name)


def test_extra_round_trips_exactly(tmp_path):
    path = tmp_path / "x.ckpt"
    net = lw.MLP([3, 4, 2], rng=0)
    opt = lw.optim.Adam(net.parameters())
    legacy = np.random.RandomState(5)
    extra = {"epoch": 7, "big": 2**130 + 1, "generator": np.random.default_rng(3)
             .bit_generator.state, "legacy": legacy.get_state(legacy=False),
             "nested": {"list": [1, 2.5, None, "text", True]},
             "array": np.arange(6, dtype=np.int32).reshape(2, 3), "inf": float("inf")}
    lw.save_checkpoint(path, net, opt, **extra)
    back = lw.load_checkpoint(path, net, opt)
    assert back["big"] == 2**130 + 1 and back["generator"] == extra["generator"]
    np.testing.assert_array_equal(back["legacy"]["state"]["key"], extra["legacy"]["state"]["key"])
    np.testing.assert_array_equal(back["array"], extra["array"])
    assert back["array"].dtype == np.int32
    assert {k: back[k] for k in ("epoch", "nested", "inf")} == \
        {k: extra[k] for k in ("epoch", "nested", "inf")}
    restored = np.random.RandomState(0)
    set_rng_state(restored, back["legacy"])
    assert restored.random() == legacy.random()


def test_load_checkpoint_restores_optimizer_and_checks_the_model(tmp_path):
    path = tmp_path / "x.ckpt"
    net = lw.MLP([3, 4, 2], rng=0)
    opt = lw.optim.SGD(net.parameters(), lr=0.3, momentum=0.9)
    lw.save_checkpoint(path, net, opt, note="hi")
    other = lw.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    assert lw.load_checkpoint(path, net, other) == {"note": "hi"}
    assert other.lr == 0.3
    with pytest.raises(ValueError, match="the model does not match the checkpoint"):
        lw.load_checkpoint(path, lw.MLP([3, 5, 2], rng=0), other)
    lw.save(net, tmp_path / "model.safetensors")
    with pytest.raises(ValueError, match="not a layerwise checkpoint"):
        lw.load_checkpoint(tmp_path / "model.safetensors", net, other)
    with pytest.raises(ValueError, match="extra must be JSON-serialisable"):
        lw.save_checkpoint(path, net, opt, bad=object())
    assert lw.load_checkpoint(path, net, other) == {"note": "hi"}  # the old file is intact


def test_checkpoint_header_is_json_and_holds_no_pickle(tmp_path):
    path = tmp_path / "x.ckpt"
    net = lw.MLP([3, 4, 2], rng=0, dropout=0.5)
    lw.save_checkpoint(path, net, lw.optim.Adam(net.parameters()), epoch=1)
    data = path.read_bytes()
    header = json.loads(data[8:8 + int.from_bytes(data[:8], "little")])
    meta = header["__metadata__"]
    assert meta["format"] == "layerwise-checkpoint"
    assert "layers.1" in json.loads(meta["rngs"])  # the Dropout's generator
    assert b"\x80\x04" not in data[:64]
