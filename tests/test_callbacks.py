"""lw.callbacks and fit's callbacks=, class_weight=, sample_weight=: each callback's effect."""

import csv
import io

import numpy as np
import pytest

import layerwise as lw
from layerwise import callbacks as cbs
from layerwise.optim import lr_scheduler


def blobs(n=60, n_in=3, n_classes=3, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, n)
    X = rng.standard_normal((n, n_in)) + 3 * np.eye(n_classes, n_in)[y]
    return X, y


def run(callbacks=None, epochs=5, lr=0.05, validation=True, **options):
    X, y = blobs()
    net = lw.MLP([3, 8, 3], output_activation="none", rng=0)
    opt = lw.optim.SGD(net.parameters(), lr=lr)
    history = lw.fit(net, X, y, lw.nn.CrossEntropyLoss(), opt, epochs, batch_size=16, rng=0,
                     progress=False, validation_data=(X, y) if validation else None,
                     callbacks=callbacks, **options)
    return net, opt, history


class Recorder(cbs.Callback):
    def __init__(self, stop_at_batch=None):
        self.calls, self.stop_at_batch = [], stop_at_batch

    def on_train_begin(self, logs=None):
        self.calls.append(("train_begin",))
        assert self.model is not None and self.optimizer is not None

    def on_epoch_begin(self, epoch):
        self.calls.append(("epoch_begin", epoch))

    def on_batch_end(self, batch, logs=None):
        self.calls.append(("batch_end", batch, sorted(logs)))
        if self.stop_at_batch == batch:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append(("epoch_end", epoch, sorted(logs)))

    def on_train_end(self, logs=None):
        self.calls.append(("train_end",))


def test_hooks_run_in_order_with_their_logs():
    rec = Recorder()
    run([rec], epochs=2)
    names = [c[0] for c in rec.calls]
    assert names == ["train_begin", "epoch_begin", *["batch_end"] * 4, "epoch_end",
                     "epoch_begin", *["batch_end"] * 4, "epoch_end", "train_end"]
    assert rec.calls[2] == ("batch_end", 0, ["loss", "size"])
    assert rec.calls[6] == ("epoch_end", 0, ["accuracy", "loss", "val_accuracy", "val_loss"])


def test_stop_training_set_in_a_batch_finishes_the_epoch():
    rec = Recorder(stop_at_batch=1)
    _, _, history = run([rec], epochs=5)
    assert len(history) == 1
    assert [c[1] for c in rec.calls if c[0] == "batch_end"] == [0, 1, 2, 3]


def test_early_stopping_callback_matches_the_argument():
    X, y = blobs(n=90)
    wrong = (y + 1) % 3  # validation gets worse as training gets better
    results = []
    for kwargs in ({"early_stopping": 2},
                   {"callbacks": [cbs.EarlyStopping("val_loss", patience=2)]}):
        net = lw.MLP([3, 8, 3], output_activation="none", rng=0)
        history = lw.fit(net, X, y, lw.nn.CrossEntropyLoss(),
                         lw.optim.Adam(net.parameters(), 0.05), epochs=50, rng=0,
                         progress=False, validation_data=(X, wrong), **kwargs)
        results.append((history.best_epoch, history.stopped_epoch, net.state_dict()))
    (b1, s1, w1), (b2, s2, w2) = results
    assert (b1, s1) == (b2, s2) and s1 == b1 + 2
    for k in w1:
        np.testing.assert_array_equal(w1[k], w2[k])


def test_early_stopping_on_accuracy_and_bad_monitor():
    stop = cbs.EarlyStopping("val_accuracy", patience=0)
    assert stop.mode == "max"
    with pytest.raises(ValueError, match="monitor='val_loss' is not among"):
        run([cbs.EarlyStopping()], validation=False)
    with pytest.raises(ValueError, match="patience must be an integer >= 0"):
        cbs.EarlyStopping(patience=-1)
    with pytest.raises(TypeError, match=r"callbacks\[0\] is a str"):
        run(["EarlyStopping"])


def test_model_checkpoint_writes_the_best_models(tmp_path):
    best = cbs.ModelCheckpoint(tmp_path / "best.safetensors", monitor="val_loss")
    every = cbs.ModelCheckpoint(tmp_path / "net-{epoch:02d}.safetensors", save_best_only=False)
    net, _, history = run([best, every], epochs=4)
    assert every.saved == [str(tmp_path / f"net-{e:02d}.safetensors") for e in range(1, 5)]
    improvements = np.flatnonzero(np.diff(np.minimum.accumulate(history["val_loss"])) < 0)
    assert len(best.saved) == 1 + len(improvements)
    last = lw.load(tmp_path / "net-04.safetensors")
    x = np.ones((2, 3))
    np.testing.assert_array_equal(last.predict(x), net.predict(x))


def test_learning_rate_scheduler_steps_per_epoch_or_batch():
    X, y = blobs()
    net = lw.MLP([3, 8, 3], output_activation="none", rng=0)
    opt = lw.optim.SGD(net.parameters(), lr=0.1)
    step = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    lw.fit(net, X, y, lw.nn.CrossEntropyLoss(), opt, 5, batch_size=16, rng=0, progress=False,
           callbacks=[cbs.LearningRateScheduler(step)])
    assert opt.lr == pytest.approx(0.1 * 0.5 ** 2) and step.last_epoch == 5
    opt = lw.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    cycle = lr_scheduler.OneCycleLR(opt, max_lr=0.2, epochs=3, steps_per_epoch=4)
    lw.fit(net, X, y, lw.nn.CrossEntropyLoss(), opt, 3, batch_size=16, rng=0, progress=False,
           callbacks=[cbs.LearningRateScheduler(cycle, per="batch")])
    assert cycle.last_epoch == 12
    opt = lw.optim.SGD(net.parameters(), lr=0.1)
    plateau = lr_scheduler.ReduceLROnPlateau(opt, mode="max", patience=0)
    lw.fit(net, X, y, lw.nn.CrossEntropyLoss(), opt, 3, batch_size=16, rng=0, progress=False,
           callbacks=[cbs.LearningRateScheduler(plateau, monitor="loss")])
    assert opt.lr < 0.1  # a falling loss is no improvement in mode 'max'


def test_csv_logger_writes_the_history(tmp_path):
    path = tmp_path / "log.csv"
    _, _, history = run([cbs.CSVLogger(path)], epochs=3)
    rows = list(csv.DictReader(path.read_text().splitlines()))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    np.testing.assert_allclose([float(r["val_loss"]) for r in rows], history["val_loss"])
    run([cbs.CSVLogger(path, append=True)], epochs=2)
    assert len(list(csv.DictReader(path.read_text().splitlines()))) == 5


def test_live_plot_prints_a_line_per_epoch_outside_jupyter():
    out = io.StringIO()
    run([cbs.LivePlot(file=out)], epochs=3)
    lines = out.getvalue().splitlines()
    assert len(lines) == 3 and lines[0].startswith("epoch 1: loss ")


# -------------------------------------------------------------------- class/sample weights
def _one_batch_loss(net, X, y, **weights):
    opt = lw.optim.SGD(net.parameters(), lr=0.0)  # score only: nothing moves
    history = lw.fit(net, X, y, lw.nn.CrossEntropyLoss(), opt, 1, batch_size=len(X),
                     shuffle=False, progress=False, **weights)
    return history["loss"][0]


def test_class_and_sample_weights_weigh_each_rows_loss():
    X, y = blobs(n=40)
    y[:30] = 0  # imbalanced
    net = lw.MLP([3, 8, 3], output_activation="none", rng=0, dtype=np.float64)
    per_row = lw.F.cross_entropy(y, net(X), reduction="none").data
    counts = np.bincount(y, minlength=3)
    balanced = (len(y) / (3 * counts))[y]
    got = _one_batch_loss(net, X, y, class_weight="balanced")
    assert got == pytest.approx(np.sum(balanced * per_row) / balanced.sum(), rel=1e-12)
    sample = np.linspace(0, 2, len(y))
    got = _one_batch_loss(net, X, y, sample_weight=sample, class_weight={1: 3.0})
    w = sample * np.where(y == 1, 3.0, 1.0)
    assert got == pytest.approx(np.sum(w * per_row) / w.sum(), rel=1e-12)
    plain = _one_batch_loss(net, X, y)
    assert _one_batch_loss(net, X, y, sample_weight=np.full(len(y), 2.0)) == \
        pytest.approx(plain, rel=1e-12)


def test_balanced_class_weight_helps_the_rare_class():
    rng = np.random.default_rng(0)
    y = (rng.random(400) < 0.08).astype(int)
    X = rng.standard_normal((400, 2)) + 1.2 * y[:, None]
    recalls = []
    for weights in (None, "balanced"):
        net = lw.MLP([2, 8, 2], output_activation="none", rng=0)
        lw.fit(net, X, y, lw.nn.CrossEntropyLoss(), lw.optim.Adam(net.parameters(), 0.01), 20,
               rng=0, progress=False, class_weight=weights)
        recalls.append(np.mean(net.predict(X)[y == 1].argmax(1) == 1))
    assert recalls[1] > recalls[0]


def test_weights_are_checked():
    X, y = blobs()
    with pytest.raises(ValueError, match="sample_weight must be 60 finite numbers >= 0"):
        run(sample_weight=np.ones(3))
    with pytest.raises(ValueError, match=r"class_weight must be 'balanced' or a dict"):
        run(class_weight="even")
    with pytest.raises(ValueError, match=r"class_weight\[1\] must be a finite number"):
        run(class_weight={1: -2})
    net = lw.MLP([3, 3], output_activation="none", rng=0)
    with pytest.raises(ValueError, match="need a declared loss with a reduction option"):
        lw.fit(net, X, y, lambda t, p: lw.F.cross_entropy(t, p), lw.optim.SGD(
            net.parameters(), lr=0.1), 1, progress=False, sample_weight=np.ones(60))
    with pytest.raises(ValueError, match="class_weight needs class labels"):
        lw.fit(net, X, np.zeros((60, 3)), lw.nn.MSELoss(), lw.optim.SGD(
            net.parameters(), lr=0.1), 1, progress=False, class_weight="balanced")


def test_live_plot_redraws_a_figure_per_epoch_in_a_notebook(monkeypatch):
    pytest.importorskip("matplotlib")
    shown = []
    monkeypatch.setattr(cbs, "_in_notebook", lambda: True)
    monkeypatch.setattr(cbs, "_show", shown.append)
    out = io.StringIO()
    run([cbs.LivePlot(file=out)], epochs=3)
    assert len(shown) == 3 and out.getvalue() == ""
    assert {line.get_label() for ax in shown[-1].axes for line in ax.lines} == {
        "loss", "val_loss", "accuracy", "val_accuracy"}
    assert len(shown[-1].axes[0].lines[0].get_xdata()) == 3
