"""lw.fit and History: the loop equals a hand-written one and PyTorch's, it reaches the accuracy
it should on Iris and digits, and every misuse fails before the first step."""

import sys
import time
import warnings

import numpy as np
import pytest

import layerwise as lw
from layerwise.training import NonFiniteLossError, evaluate


def mlp(sizes, dtype=None, seed=0, out="none", hidden="relu"):
    return lw.MLP(sizes, hidden_activation=hidden, output_activation=out, rng=seed, dtype=dtype)


def blobs(n=60, n_in=3, n_classes=3, seed=0):
    """Separable-ish classes: centres far apart plus noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, n)
    X = rng.standard_normal((n, n_in)) + 3 * np.eye(n_classes, n_in)[y]
    return X, y


class Idle:
    """An optimiser that changes nothing, so per-epoch figures can be recomputed exactly."""

    def step(self):
        pass

    def zero_grad(self):
        pass


# ------------------------------------------------------------------ what the loop does
def test_fit_is_the_hand_written_loop():
    X, y = blobs()
    net, ref = mlp([3, 8, 3]), mlp([3, 8, 3])
    loss = lw.nn.CrossEntropyLoss()
    history = lw.fit(net, X, y, loss, lw.optim.SGD(net.parameters(), lr=0.1, momentum=0.9),
                     epochs=3, batch_size=16, rng=5, progress=False)
    opt, rng, epoch_losses = lw.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9), \
        np.random.default_rng(5), []
    for _ in range(3):
        total = 0.0
        for Xb, yb in lw.data.batches(X, y, 16, shuffle=True, rng=rng):
            value = loss(yb, ref(Xb))
            opt.zero_grad()
            value.backward()
            opt.step()
            total += float(value) * len(Xb)
        epoch_losses.append(total / len(X))
    for (name, p), q in zip(net.named_parameters(), ref.parameters()):
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)
    np.testing.assert_allclose(history["loss"], epoch_losses, rtol=1e-12)


def test_fit_matches_a_pytorch_loop_in_float64():
    torch = pytest.importorskip("torch")
    X, y = blobs(n=50)
    net = mlp([3, 6, 5, 3], dtype=np.float64)
    tnet = lw.interop.to_torch(net)
    lw.fit(net, X, y, lw.nn.CrossEntropyLoss(), lw.optim.Adam(net.parameters(), lr=0.01),
           epochs=4, batch_size=8, rng=3, progress=False)
    topt, tloss, rng = torch.optim.Adam(tnet.parameters(), lr=0.01), \
        torch.nn.CrossEntropyLoss(), np.random.default_rng(3)
    for _ in range(4):
        for Xb, yb in lw.data.batches(X, y, 8, shuffle=True, rng=rng):
            topt.zero_grad()
            tloss(tnet(torch.from_numpy(Xb)), torch.from_numpy(yb)).backward()
            topt.step()
    ours = [layer.W.data for layer in net.layers] + [layer.b.data for layer in net.layers]
    linears = [m for m in tnet if isinstance(m, torch.nn.Linear)]
    theirs = [m.weight.detach().numpy().T for m in linears] + \
        [m.bias.detach().numpy()[None] for m in linears]
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)


def test_epoch_figures_are_means_over_rows():
    X, y = blobs(n=37)
    net, loss = mlp([3, 4, 3]), lw.nn.CrossEntropyLoss()
    history = lw.fit(net, X, y, loss, Idle(), epochs=2, batch_size=10,
                     validation_data=(X[:9], y[:9]), progress=False, rng=0)
    logits = net(X).data
    expected = {
        "loss": float(loss(y, logits)),  # 'mean' per batch, weighted by rows = mean over rows
        "accuracy": np.mean(logits.argmax(1) == y),
        "val_loss": float(loss(y[:9], logits[:9])),
        "val_accuracy": np.mean(logits[:9].argmax(1) == y[:9]),
    }
    assert list(history.keys()) == list(expected)
    for key, value in expected.items():
        np.testing.assert_allclose(history[key], [value, value], rtol=1e-5, err_msg=key)
    assert history.epoch == [0, 1] and len(history) == 2
    assert evaluate(net, X[:9], y[:9], loss) == pytest.approx(
        {"loss": expected["val_loss"], "accuracy": expected["val_accuracy"]})


@pytest.mark.parametrize("loss, y_of, out", [
    (lw.nn.CrossEntropyLoss(), lambda y: np.eye(3)[y], "none"),  # class probabilities
    (lw.F.cross_entropy, lambda y: y, "none"),
    (lw.nn.CategoricalCrossEntropyLoss(), lambda y: np.eye(3)[y], "softmax"),
])
def test_accuracy_is_argmax_for_class_losses(loss, y_of, out):
    X, y = blobs(n=30)
    net = mlp([3, 5, 3], out=out)
    history = lw.fit(net, X, y_of(y), loss, Idle(), epochs=1, progress=False)
    assert history["accuracy"] == [pytest.approx(np.mean(net(X).data.argmax(1) == y))]


@pytest.mark.parametrize("loss, out, threshold", [
    (lw.nn.BCEWithLogitsLoss(), "none", 0.0), (lw.nn.BCELoss(), "sigmoid", 0.5),
])
def test_accuracy_is_a_threshold_for_binary_losses(loss, out, threshold):
    X, y = blobs(n=40, n_classes=2)
    targets = np.stack([y, 1 - y], axis=1).astype(float)  # two labels per row
    net = mlp([3, 4, 2], out=out)
    history = lw.fit(net, X, targets, loss, Idle(), epochs=1, progress=False)
    expected = np.mean((net(X).data > threshold) == (targets > 0.5))
    assert history["accuracy"] == [pytest.approx(expected)]


def test_regression_and_custom_losses_record_no_accuracy():
    X, _ = blobs(n=20)
    target = X.sum(axis=1, keepdims=True)
    history = lw.fit(mlp([3, 4, 1]), X, target, lw.nn.MSELoss(), Idle(), 1, progress=False)
    assert list(history.keys()) == ["loss"]
    net = mlp([3, 4, 1])

    def custom(y_true, y_pred):
        return ((y_pred - y_true) ** 2).mean() * 0.5

    history = lw.fit(net, X, target, custom, lw.optim.SGD(net.parameters(), lr=0.01), 5,
                     progress=False)
    assert list(history.keys()) == ["loss"] and history["loss"][-1] < history["loss"][0]


def test_same_seed_same_run_and_rng_none_uses_numpys_global_state():
    X, y = blobs()

    def run(rng):
        net = mlp([3, 8, 3])
        h = lw.fit(net, X, y, lw.nn.CrossEntropyLoss(), lw.optim.Adam(net.parameters()), 3,
                   batch_size=7, rng=rng, progress=False)
        return h["loss"]

    assert run(1) == run(1)
    np.random.seed(4)
    first = run(None)
    np.random.seed(4)
    assert run(None) == first and first != run(2)


def test_model_is_trained_in_train_mode_and_left_as_it_was():
    modes = []

    class Spy(lw.nn.Module):
        def __init__(self):
            self.net = mlp([3, 3])

        def forward(self, x):
            modes.append(self.training)
            return self.net(x)

    X, y = blobs(n=8)
    model = Spy().eval()
    lw.fit(model, X, y, lw.nn.CrossEntropyLoss(), lw.optim.SGD(model.parameters(), lr=0.1), 1,
           batch_size=4, progress=False)
    assert modes == [False, True, True]  # the up-front check, then two batches
    assert model.training is False


def test_memmapped_inputs_train(tmp_path):
    X, y = blobs(n=64)
    np.save(tmp_path / "X.npy", X)
    Xm = np.load(tmp_path / "X.npy", mmap_mode="r", allow_pickle=False)
    a, b = mlp([3, 8, 3]), mlp([3, 8, 3])
    for net, data in ((a, X), (b, Xm)):
        lw.fit(net, data, y, lw.nn.CrossEntropyLoss(), lw.optim.Adam(net.parameters()), 2,
               batch_size=10, rng=0, progress=False)
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p.data, q.data)


# ----------------------------------------------------------------------- early stopping
def test_early_stopping_keeps_the_best_epochs_weights():
    X, y = blobs(n=90)
    wrong = (y + 1) % 3  # validation labels that get worse as training gets better
    net = mlp([3, 8, 3])
    history = lw.fit(net, X, y, lw.nn.CrossEntropyLoss(), lw.optim.Adam(net.parameters(), 0.05),
                     epochs=50, rng=0, progress=False, validation_data=(X, wrong),
                     early_stopping=2)
    best = int(np.argmin(history["val_loss"]))
    assert history.best_epoch == best and history.stopped_epoch == best + 2
    assert len(history) == best + 3 < 50
    once = mlp([3, 8, 3])  # the same run stopped after the best epoch
    lw.fit(once, X, y, lw.nn.CrossEntropyLoss(), lw.optim.Adam(once.parameters(), 0.05),
           epochs=best + 1, rng=0, progress=False)
    for p, q in zip(net.parameters(), once.parameters()):
        np.testing.assert_array_equal(p.data, q.data)


# ------------------------------------------------------------------------ nan and inf
def test_nan_loss_stops_naming_epoch_and_batch_with_weights_before_it():
    X, y = blobs(n=40)
    X[25, 1] = np.nan  # row 25 is in batch 3 of 10-row batches
    net = mlp([3, 4, 3])
    with pytest.raises(NonFiniteLossError) as err:
        lw.fit(net, X, y, lw.nn.CrossEntropyLoss(), lw.optim.SGD(net.parameters(), lr=0.1),
               epochs=2, batch_size=10, shuffle=False, progress=False)
    assert isinstance(err.value, FloatingPointError)
    assert (err.value.epoch, err.value.batch) == (1, 3)
    assert "the loss became nan at epoch 1/2, batch 3/4" in str(err.value)
    assert "lr=0.1" in str(err.value) and len(err.value.history) == 0
    assert all(np.isfinite(p.data).all() for p in net.parameters())


def test_diverging_training_stops_with_a_message():
    X, _ = blobs(n=40)
    net = mlp([3, 16, 1])
    with pytest.raises(NonFiniteLossError, match=r"the loss became (nan|inf) at epoch \d+/20, "
                                                 r"batch \d+/2; .* \(lr=10\)"), \
            np.errstate(all="ignore"):
        lw.fit(net, X, X.sum(axis=1, keepdims=True), lw.nn.MSELoss(),
               lw.optim.SGD(net.parameters(), lr=10.0), epochs=20, progress=False)


# ------------------------------------------------------------------- errors up front
CE = lw.nn.CrossEntropyLoss()


@pytest.mark.parametrize("change, error, message", [
    ({"y": np.arange(30) % 3 * 1.0}, ValueError,
     ("CrossEntropyLoss needs integer class labels, but y has dtype float64 (shape (30,)); "
     "convert with y.astype(int)")),
    ({"y": np.arange(30) % 4}, ValueError,
     "y has the class label 3, but the model outputs 3 classes (labels must be in 0..2)"),
    ({"y": np.arange(30) - 1}, ValueError, "class label -1"),
    ({"y": np.zeros(29, int)}, ValueError, "X has 30 rows but y has 29"),
    ({"X": np.zeros((30, 4))}, ValueError,
     "the model does not accept X of shape (30, 4): layer 0 of Sequential: Dense(3 -> 5"),
    ({"loss": lw.nn.CategoricalCrossEntropyLoss()}, ValueError,
     ("CategoricalCrossEntropyLoss needs targets shaped like the model's output (30, 3), but y "
     "has shape (30,); one-hot encode the labels (np.eye(3)[y])")),
    ({"loss": lw.nn.MSELoss()}, ValueError, "MSELoss needs targets shaped like the model's"),
    ({"loss": lw.nn.BCEWithLogitsLoss(), "y": np.eye(3)[np.arange(30) % 3] * 2}, ValueError,
     "BCEWithLogitsLoss needs targets in [0, 1]; y ranges over [0.0, 2.0]"),
    ({"loss": lw.nn.CrossEntropyLoss(reduction="none")}, ValueError,
     ("the loss must return a scalar Tensor, CrossEntropyLoss returned Tensor of shape (2,) "
     "(use reduction='mean')")),
    ({"epochs": 0}, ValueError, "fit: epochs must be a positive integer, got 0"),
    ({"epochs": 2.5}, ValueError, "epochs must be a positive integer, got 2.5"),
    ({"epochs": True}, ValueError, "epochs must be a positive integer, got True"),
    ({"batch_size": -1}, ValueError, "batch_size must be a positive integer, got -1"),
    ({"early_stopping": 3}, ValueError, ("early_stopping watches val_loss, so it needs "
     "validation_data")),
    ({"early_stopping": 0, "validation_data": "ok"}, ValueError,
     "early_stopping (a patience) must be a positive integer, got 0"),
    ({"validation_data": (np.zeros((5, 3)),)}, ValueError,
     "validation_data must be a pair (X_val, y_val)"),
    ({"validation_data": (np.zeros((5, 3)), np.full(5, 0.5))}, ValueError,
     "fit (validation_data): CrossEntropyLoss needs integer class labels"),
    ({"optimizer": "other"}, ValueError, "the optimizer holds none of the model's parameters"),
    ({"optimizer": object()}, TypeError, "optimizer must have step() and zero_grad()"),
    ({"model": lambda x: x}, TypeError, "model must be a lw.nn.Module, got function"),
])
def test_misuse_fails_before_any_step(change, error, message):
    X, y = blobs(n=30)
    net = mlp([3, 5, 3])
    before = [p.data.copy() for p in net.parameters()]
    args = {"model": net, "X": X, "y": y, "loss": CE,
            "optimizer": lw.optim.SGD(net.parameters(), lr=0.1), "epochs": 2}
    args.update(change)
    if args["optimizer"] == "other":
        args["optimizer"] = lw.optim.SGD(mlp([3, 3]).parameters(), lr=0.1)
    if isinstance(args.get("validation_data"), str):
        args["validation_data"] = (X, y)
    with pytest.raises(error) as err:
        lw.fit(**args, progress=False)
    assert message in str(err.value)
    for p, b in zip(net.parameters(), before):
        np.testing.assert_array_equal(p.data, b)


def test_column_targets_for_a_single_output_get_a_reshape_hint():
    with pytest.raises(ValueError, match=r"y has shape \(30,\); reshape them with "
                                         r"y.reshape\(-1, 1\)"):
        lw.fit(mlp([3, 1]), np.zeros((30, 3)), np.zeros(30), lw.nn.MSELoss(), Idle(), 1)


# ------------------------------------------------------------------------- progress
def test_progress_prints_one_line_per_epoch_to_stderr(capsys):
    X, y = blobs(n=30)
    net = mlp([3, 4, 3])
    lw.fit(net, X, y, CE, lw.optim.Adam(net.parameters()), 2, validation_data=(X, y), rng=0)
    out, err = capsys.readouterr()
    assert out == ""
    lines = [line for line in err.splitlines() if line.startswith("Epoch ") and " - " in line]
    assert [line.split(" - ")[0] for line in lines] == ["Epoch 1/2", "Epoch 2/2"]
    assert "loss: " in lines[0] and "val_accuracy: " in lines[0]


def test_progress_on_a_terminal_is_a_live_bar(capsys, monkeypatch):
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # rich: treat stderr as a terminal
    monkeypatch.setenv("COLUMNS", "120")
    X, y = blobs(n=30)
    net = mlp([3, 4, 3])
    lw.fit(net, X, y, CE, lw.optim.Adam(net.parameters()), 2, batch_size=10, rng=0)
    err = capsys.readouterr().err
    assert "━" in err and "eta" in err and "3/3 loss " in err
    assert "Epoch 2/2 - " in err and " - accuracy: " in err


def test_progress_without_rich_falls_back_to_plain_lines(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "rich.console", None)  # import fails
    X, y = blobs(n=30)
    net = mlp([3, 4, 3])
    lw.fit(net, X, y, CE, lw.optim.Adam(net.parameters()), 2, rng=0)
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and err[1].startswith("Epoch 2/2 - ") and "accuracy: " in err[1]


def test_progress_false_prints_nothing(capsys):
    X, y = blobs(n=30)
    net = mlp([3, 4, 3])
    lw.fit(net, X, y, CE, lw.optim.Adam(net.parameters()), 2, progress=False)
    assert capsys.readouterr() == ("", "")


# -------------------------------------------------------------------------- History
def test_history_reads_like_keras_and_plots(tmp_path):
    X, y = blobs(n=30)
    net = mlp([3, 4, 3])
    history = lw.fit(net, X, y, CE, lw.optim.Adam(net.parameters()), 3,
                     validation_data=(X, y), progress=False)
    assert history["loss"] is history.history["loss"] and "val_loss" in history
    assert repr(history).startswith("History(3 epochs, last: loss=")
    with pytest.raises(KeyError, match="History has no 'acc'; it has loss, accuracy, val_loss"):
        history["acc"]
    path = history.plot(tmp_path / "run.png", title="blobs")
    assert path == tmp_path / "run.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = history.plot(tmp_path / "run.svg")
    assert b"<svg" in svg.read_bytes()[:500]
    with pytest.raises(ValueError, match="nothing to plot"):
        lw.History().plot(tmp_path / "empty.png")


# --------------------------------------------------------------- reaching accuracies
def test_iris_reaches_95_percent_training_accuracy():
    X, y = lw.datasets.load_iris()
    net = lw.MLP([4, 16, 3], output_activation="none", rng=0)
    started = time.perf_counter()
    history = lw.fit(net, X, y, CE, lw.optim.Adam(net.parameters(), lr=0.01), epochs=50,
                     batch_size=16, rng=0, progress=False)
    seconds = time.perf_counter() - started
    accuracy = evaluate(net, X, y, CE)["accuracy"]
    print(f"\niris: training accuracy {accuracy:.4f} after 50 epochs in {seconds:.2f} s")
    assert accuracy >= 0.95 and history["accuracy"][-1] >= 0.9


def test_digits_reach_95_percent_held_out_accuracy():
    X, y = lw.datasets.load_digits()
    X_train, X_test, y_train, y_test = lw.data.train_test_split(X / 16, y, test_size=0.2,
                                                                rng=0)
    net = lw.MLP([64, 64, 10], output_activation="none", rng=0)
    started = time.perf_counter()
    lw.fit(net, X_train, y_train, CE, lw.optim.Adam(net.parameters(), lr=3e-3), epochs=10,
           batch_size=32, rng=0, progress=False)
    seconds = time.perf_counter() - started
    accuracy = evaluate(net, X_test, y_test, CE)["accuracy"]
    print(f"\ndigits: held-out accuracy {accuracy:.4f} after 10 epochs in {seconds:.2f} s")
    assert accuracy >= 0.95


def test_docstring_examples():
    import doctest

    import layerwise.training
    assert doctest.testmod(layerwise.training).failed == 0


def test_a_model_whose_output_cannot_fit_the_loss_is_warned_about():
    """MLP's default softmax output with CrossEntropyLoss (softmax twice) or with one unit and
    MSELoss (a constant): a warning with the fix, before training."""
    X, y = lw.datasets.load_iris()
    net = lw.MLP([4, 8, 3], rng=0)  # softmax output
    with pytest.warns(UserWarning, match="softmax would be applied twice.*output_activation='none'"):
        lw.fit(net, X, y, lw.nn.CrossEntropyLoss(), lw.optim.SGD(net.parameters(), lr=0.01),
               epochs=1, progress=False)
    net = lw.MLP([4, 8, 1], rng=0)
    with pytest.warns(UserWarning, match="single output is always 1"):
        lw.fit(net, X, y.reshape(-1, 1).astype(np.float32), lw.nn.MSELoss(),
               lw.optim.SGD(net.parameters(), lr=0.01), epochs=1, progress=False)
    net = lw.MLP([4, 8, 3], output_activation="none", rng=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lw.fit(net, X, y, lw.nn.CrossEntropyLoss(), lw.optim.SGD(net.parameters(), lr=0.01),
               epochs=1, progress=False)


def test_a_diverging_run_with_early_stopping_keeps_the_best_epochs_weights():
    """Issue 14 item 10: the loss becomes inf after good epochs; the model is not left with
    the exploded weights of the last steps but with the best epoch's."""
    X, y = lw.datasets.load_iris(dtype=np.float64)
    net = lw.MLP([4, 8, 3], output_activation="none", rng=0, dtype=np.float64)
    opt = lw.optim.SGD(net.parameters(), lr=0.05)
    best = {}

    class Explode(lw.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            best[epoch] = net.state_dict()
            if epoch == 2:
                opt.lr = 1e300

    with pytest.raises(NonFiniteLossError), np.errstate(all="ignore"):
        lw.fit(net, X, y, lw.nn.CrossEntropyLoss(), opt, epochs=10, batch_size=16, rng=0,
               validation_data=(X, y), early_stopping=5, callbacks=[Explode()],
               progress=False)
    assert all(np.isfinite(p.data).all() for p in net.parameters())
    kept = net.state_dict()
    assert any(all(np.array_equal(kept[k], state[k]) for k in kept) for state in best.values())
