"""``lw.compile``: a replayed call gives the same numbers, bit for bit, as the unreplayed one.

Every test runs the same steps twice on twin models (the same seeds): once plainly, once
compiled, and compares outputs, input gradients, parameter gradients, parameters after an
optimiser step and buffers with ``assert_array_equal`` (exact), after checking that the
compiled run really replayed (``STATS``): a parity test that never replays cannot fail.
"""

from __future__ import annotations

import contextlib

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given, settings
from module_catalogue import MODULES

import layerwise as lw
from layerwise import replay
from layerwise.functional.activations import ACTIVATIONS

# module calls that are not replayed, and why (anything else in the catalogue must replay)
REFUSED: dict = {}


def _rows():
    rows = dict(MODULES)
    for decl in ACTIVATIONS.declarations():
        if decl.fields.get("module"):
            rows[decl.fields["module"]] = (lambda dtype, m=decl.fields["module"]:
                                           getattr(lw.nn, m)(), (5, 4))
    rows["MLP(dropout, norm)"] = (lambda dtype: lw.MLP([4, 8, 8, 3], dropout=0.2, norm="layer",
                                                       rng=0, dtype=dtype), (5, 4))
    return rows


ROWS = _rows()


@contextlib.contextmanager
def counting():
    before = dict(replay.STATS)
    counts: dict = {}
    yield counts
    counts.update({k: replay.STATS[k] - before[k] for k in before})


def _assert_same(a, b, what):
    if a is None or b is None:
        assert a is None and b is None, what
        return
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape, what
    np.testing.assert_array_equal(a, b, err_msg=what)


def _step(module, x, seed, opt, compiled):
    """One step: forward, backward of sum(out * upstream) for a random upstream gradient, an
    SGD step; returns what to compare."""
    context = replay.replaying() if compiled else contextlib.nullcontext()
    with context:
        opt.zero_grad()
        out = module(x)
        upstream = np.random.default_rng(seed).standard_normal(out.shape).astype(out.dtype)
        if out.requires_grad:
            (out * upstream).sum().backward()
        opt.step()
    grad = getattr(x, "grad", None)
    return out.data.copy(), None if grad is None else grad.copy()


def _compare(name, dtype, training, make_input, n_steps=4):
    factory, shape = ROWS[name]
    plain, compiled = factory(dtype), factory(dtype)
    plain.train(training)
    compiled.train(training)
    rng = np.random.default_rng(1)
    opts = [lw.optim.SGD(m.parameters(), lr=0.1, momentum=0.9) if m.parameters()
            else _NoOptimiser() for m in (plain, compiled)]
    shapes = [shape] * n_steps + [(3, *shape[1:])]  # then another batch size: a new recording
    with counting() as counts:
        for i, s in enumerate(shapes):
            data = rng.standard_normal(s).astype(dtype)
            got = [_step(m, make_input(data), i, o, c)
                   for m, o, c in ((plain, opts[0], False), (compiled, opts[1], True))]
            for what, a, b in zip(("output", "input gradient"), *got):
                _assert_same(a, b, f"{name} step {i}: {what}")
            for (key, a), (_, b) in zip(plain.state_dict().items(),
                                        compiled.state_dict().items()):
                _assert_same(a, b, f"{name} step {i}: {key}")
            for (key, a), (_, b) in zip(plain.named_parameters(), compiled.named_parameters()):
                _assert_same(a.grad, b.grad, f"{name} step {i}: {key}.grad")
    return counts


class _NoOptimiser:
    def zero_grad(self):
        pass

    def step(self):
        pass


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(ROWS))
def test_replayed_module_equals_unreplayed(name, dtype, training):
    def tensor_input(data):
        return lw.Tensor(data, requires_grad=True)

    counts = _compare(name, dtype, training, tensor_input)
    if (name, training) in REFUSED:
        assert counts["replayed"] == 0
    else:
        assert counts["replayed"] >= 3, f"{name} was never replayed: {counts}"


@pytest.mark.parametrize("name", ["MLP", "Sequential", "LayerNorm"])
def test_replay_takes_arrays_and_integer_inputs(name):
    counts = _compare(name, np.float64, True, lambda data: data)
    assert counts["replayed"] >= 3
    counts = _compare(name, np.float32, True, lambda data: (data * 10).astype(np.int64))
    assert counts["replayed"] >= 3


# ------------------------------------------------------------------------ whole steps
def _twins(**kwargs):
    return [lw.MLP([4, 8, 4, 3], output_activation="none", rng=0, **kwargs) for _ in "ab"]


def _train(model, steps, loss_fn, compiled, weight_decay=0.0):
    opt = lw.optim.Adam(model.parameters(), lr=0.01)

    def step(X, y):
        opt.zero_grad()
        loss = loss_fn(y, model(X))
        if weight_decay:  # the parameters used inside the replayed call and outside it
            loss = loss + weight_decay * sum((p * p).sum() for p in model.parameters())
        loss.backward()
        opt.step()
        return float(loss.data)

    if compiled:
        step = lw.compile(step)
    return [step(X, y) for X, y in steps]


def _batches(n=6, batch=5, seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((batch, 4)).astype(np.float32), rng.integers(0, 3, batch))
            for _ in range(n)]


@pytest.mark.parametrize("weight_decay", [0.0, 1e-2])
@pytest.mark.parametrize("loss", ["CrossEntropyLoss", "MSELoss", "python"])
def test_compiled_training_equals_plain_training(loss, weight_decay):
    if loss == "python":
        def loss_fn(y, out):  # a user's loss: plain Python on Tensors, never replayed
            return ((out - np.eye(3, dtype=np.float32)[y]) ** 2).mean()
    elif loss == "MSELoss":
        mse = lw.nn.MSELoss()

        def loss_fn(y, out):
            return mse(np.eye(3, dtype=np.float32)[y], out)
    else:
        loss_fn = lw.nn.CrossEntropyLoss()
    a, b = _twins()
    batches = _batches()
    with counting() as counts:
        losses = _train(b, batches, loss_fn, compiled=True, weight_decay=weight_decay)
    assert counts["replayed"] >= 5
    assert _train(a, batches, loss_fn, compiled=False, weight_decay=weight_decay) == losses
    for p, q in zip(a.parameters(), b.parameters()):
        _assert_same(p.data, q.data, "parameters")


def test_users_python_runs_on_every_call():
    net = lw.MLP([4, 8, 3], output_activation="none", rng=0)
    calls = []

    @lw.nn.register
    class Wrapper(lw.nn.Module):  # a user's module: its forward runs; its MLP is replayed
        def __init__(self):
            self.net = net

        def forward(self, x):
            calls.append("forward")
            return self.net(x) * 2

    wrapper = Wrapper()
    try:
        def loss_fn(y, out):
            calls.append("loss")
            return lw.F.cross_entropy(y, out)

        @lw.compile
        def step(X, y):
            loss = loss_fn(y, wrapper(X))
            loss.backward()
            return loss

        with counting() as counts:
            for X, y in _batches(4):
                step(X, y)
        assert calls == ["forward", "loss"] * 4
        assert counts["replayed"] == 3 and counts["refused"] == 1  # the MLP; the wrapper
    finally:
        lw.nn.MODULES.remove("Wrapper")


def test_a_python_activation_is_never_replayed():
    seen = []

    def act(z):
        seen.append(1)
        return lw.F.relu(z)

    layer = lw.nn.Dense(4, 3, activation=act, rng=0)
    step = lw.compile(layer)
    for X, _ in _batches(3):
        step(X)
    assert len(seen) == 3


# --------------------------------------------------------------------- falling back
def test_changes_fall_back_and_stay_exact():
    a, b = _twins()
    batches = _batches(8)
    loss_fn = lw.nn.CrossEntropyLoss()

    def run(model, compiled):
        opt = lw.optim.SGD(model.parameters(), lr=0.1)
        out = []
        for i, (X, y) in enumerate(batches):
            if i == 2:
                model.layers[0].W.requires_grad = False  # frozen: its gradient stops
            if i == 4:
                model.eval()  # another path (for Dropout and BatchNorm; here the flags)
            if i == 5:
                model.train()
                X = X[:3]  # another shape
                y = y[:3]
            if i == 6:
                X = X.astype(np.float64)  # another dtype: cast by the first layer
            with replay.replaying() if compiled else contextlib.nullcontext():
                opt.zero_grad()
                loss = loss_fn(y, model(X))
                loss.backward()
                opt.step()
            out.append((float(loss.data), [None if p.grad is None else p.grad.copy()
                                           for p in model.parameters()]))
        return out

    with counting() as counts:
        compiled = run(b, True)
    assert counts["recorded"] >= 4 and counts["replayed"] >= 2
    for (la, ga), (lb, gb) in zip(run(a, False), compiled):
        assert la == lb
        for x, y in zip(ga, gb):
            _assert_same(x, y, "gradient")


def test_module_changes_are_seen():
    net = lw.nn.Sequential(lw.nn.Dense(4, 4, rng=0), lw.nn.LeakyReLU(0.1))
    step = lw.compile(net)
    X = _batches(1)[0][0]
    step(X)
    step(X)
    net[1].negative_slope = 0.5  # an activation's parameter
    _assert_same(step(X).data, net.forward(X).data, "after changing negative_slope")
    net.append(lw.nn.Dense(4, 2, rng=1))  # a new layer
    assert step(X).shape == (5, 2)
    net[0].b = None  # an attribute replaced
    _assert_same(step(X).data, net.forward(X).data, "after dropping the bias")


def test_bad_labels_raise_as_without_compile():
    net = lw.MLP([4, 3], output_activation="none", rng=0)
    loss_fn = lw.nn.CrossEntropyLoss()
    step = lw.compile(lambda X, y: loss_fn(y, net(X)))
    X, y = _batches(1)[0]
    step(X, y)
    step(X, y)
    with pytest.raises(ValueError, match="class label 7 is out of range"):
        step(X, np.array([0, 1, 7, 0, 1]))
    ignored = np.array([0, -100, 2, 0, 1])  # ignore_index: another path, still exact
    _assert_same(step(X, ignored).data, loss_fn(ignored, net(X)).data, "ignored label")


def test_in_place_changes_before_backward_still_raise():
    net = lw.MLP([4, 3], output_activation="none", rng=0)
    X = _batches(1)[0][0]
    with replay.replaying():
        net(X)
        out = net(X)
        net.layers[0].W.data += 1
        with pytest.raises(RuntimeError, match="modified in place"):
            out.sum().backward()


def test_retain_graph_and_no_grad():
    a, b = _twins()
    X = _batches(1)[0][0]
    with replay.replaying():
        b(X)
        out = b(X)
        with lw.no_grad():
            b(X)
            assert not b(X).requires_grad
    out.sum().backward(retain_graph=True)
    out.sum().backward()
    ref = a(X)
    ref.sum().backward(retain_graph=True)
    ref.sum().backward()
    for p, q in zip(a.parameters(), b.parameters()):
        _assert_same(p.grad, q.grad, "gradient after two backward passes")


def test_graph_draws_the_real_graph_inside_compile():
    net = lw.MLP([4, 8, 3], rng=0)
    X = _batches(1)[0][0]
    with replay.replaying():
        net(X)
        net(X)
        ops = lw.graph.trace(net, X).ops
    assert ops == lw.graph.trace(net, X).ops and "replay" not in ops


def test_the_replayed_code_can_be_read():
    net = lw.MLP([4, 8, 3], rng=0)
    X = _batches(1)[0][0]
    with replay.replaying():
        net(X)
    (segment,) = net._replays[1].values()
    assert "def replay(a0):" in segment.code and "def backward(b, g, needs):" in segment.code


def test_compile_refuses_what_is_not_callable():
    with pytest.raises(TypeError, match="expected a function"):
        lw.compile(3)


# -------------------------------------------------------------------- generated shapes
@settings(max_examples=25, deadline=None)
@given(sizes=st.lists(st.integers(1, 6), min_size=2, max_size=4),
       batches=st.lists(st.integers(1, 4), min_size=2, max_size=4),
       activation=st.sampled_from(["relu", "tanh", "sigmoid", "gelu", "leaky_relu"]),
       output=st.sampled_from(["none", "softmax", "log_softmax"]),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_generated_networks_replay_exactly(sizes, batches, activation, output, dtype):
    nets = [lw.MLP(sizes, hidden_activation=activation, output_activation=output, rng=0, dtype=dtype)
            for _ in "ab"]
    rng = np.random.default_rng(0)
    for n in batches * 2:
        X = rng.standard_normal((n, sizes[0])).astype(dtype)
        upstream = rng.standard_normal((n, sizes[-1])).astype(dtype)
        results = []
        for net, compiled in zip(nets, (False, True)):
            x = lw.Tensor(X, requires_grad=True)
            with replay.replaying() if compiled else contextlib.nullcontext():
                out = net(x)
                (out * upstream).sum().backward()
            results.append([out.data, x.grad] + [p.grad for p in net.parameters()])
            net.zero_grad()
        for a, b in zip(*results):
            _assert_same(a, b, "generated network")


def test_another_threads_operations_are_not_recorded():
    import threading

    net = lw.MLP([4, 3], output_activation="none", rng=0)
    X = _batches(1)[0][0]
    stop = threading.Event()

    def busy():  # tensors computed elsewhere while the model is recorded here
        t = lw.Tensor(np.ones(3), requires_grad=True)
        while not stop.is_set():
            (t * 2).sum()

    worker = threading.Thread(target=busy)
    worker.start()
    try:
        with replay.replaying():
            for _ in range(20):
                net._replays = None  # record again on every call
                net(X)
            out = net(X)
    finally:
        stop.set()
        worker.join()
    _assert_same(out.data, net.forward(X).data, "output")


def test_train_and_eval_keep_their_recordings_and_a_submodule_switch_is_seen():
    nets = [lw.MLP([4, 8, 3], dropout=0.5, rng=0) for _ in "ab"]
    for net in nets:
        net.layers[1].rng = np.random.default_rng(0)  # the same masks in both
    X = _batches(1)[0][0]
    with counting() as counts:
        for i in range(6):
            outs = []
            for net, compiled in zip(nets, (False, True)):
                net.train(i % 2 == 0)
                if i == 4:
                    net.layers[1].eval()  # only the Dropout inside: a path the top flag misses
                with replay.replaying() if compiled else contextlib.nullcontext():
                    outs.append(net(X).data)
            _assert_same(*outs, f"call {i}")
    assert counts["replayed"] >= 2


@pytest.mark.parametrize("options", [{}, {"dropout": 0.3, "norm": "batch"},
                                     {"norm": "layer"}])
def test_fit_replays_and_trains_exactly_as_without(monkeypatch, options):
    import sys

    fit_module = sys.modules["layerwise.training.fit"]  # (lw.training.fit is the function)

    X, y = lw.datasets.load_iris()
    X = X.astype(np.float32)

    def train():
        net = lw.MLP([4, 16, 3], output_activation="none", rng=0, **options)
        for m in net.layers:
            if isinstance(m, lw.nn.Dropout):
                m.rng = np.random.default_rng(0)
        history = lw.fit(net, X, y, lw.nn.CrossEntropyLoss(),
                         lw.optim.Adam(net.parameters(), lr=0.01), epochs=3, batch_size=32,
                         validation_data=(X[:30], y[:30]), rng=0, progress=False)
        return history, net.state_dict()

    with counting() as counts:
        replayed = train()
    assert counts["replayed"] > 10
    monkeypatch.setattr(fit_module, "replaying", contextlib.nullcontext)
    with counting() as counts:
        plain = train()
    assert counts["replayed"] == 0
    assert replayed[0].history == plain[0].history
    for key in plain[1]:
        _assert_same(replayed[1][key], plain[1][key], key)


def test_a_new_default_dtype_is_a_new_recording():
    act = lw.nn.ReLU()
    x = np.array([[-1, 2]])  # integers: computed in the default dtype
    with replay.replaying():
        act(x)
        assert act(x).dtype == np.float32
        lw.set_default_dtype(np.float64)
        try:
            assert act(x).dtype == np.float64
        finally:
            lw.set_default_dtype(np.float32)


def test_an_array_replaced_in_a_modules_dict_is_seen():
    loss_fn = lw.nn.BCEWithLogitsLoss(pos_weight=np.array([1.0, 2.0, 3.0], np.float32))
    rng = np.random.default_rng(0)
    out = lw.Tensor(rng.standard_normal((5, 3)).astype(np.float32))
    y = (rng.random((5, 3)) > 0.5).astype(np.float32)
    with counting() as counts, replay.replaying():
        loss_fn(y, out)
        first = loss_fn(y, out).data
        loss_fn.options["pos_weight"] = np.array([3.0, 2.0, 1.0], np.float32)  # no setattr
        second = loss_fn(y, out).data
    assert counts["replayed"] == 1  # the first replay; the replaced array forced a recording
    _assert_same(second, loss_fn.forward(y, out).data, "after replacing pos_weight")
    assert first != second


def test_a_copy_records_its_own_replays():
    import copy
    import pickle

    net = lw.MLP([4, 3], output_activation="none", rng=0)
    X = _batches(1)[0][0]
    with replay.replaying():
        net(X)
        net(X)
        for twin in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
            twin.layers[0].W.data[...] = 0.5  # its own weights, not the original's
            _assert_same(twin(X).data, twin.forward(X).data, "the copy's output")


def test_a_users_subclass_of_a_layer_runs_its_own_forward():
    calls = []

    class Noisy(lw.nn.Dense):  # neither built in nor registered: its forward is user code
        def forward(self, X):
            calls.append(1)
            return super().forward(X) + 1

    layer = Noisy(4, 3, rng=0)
    step = lw.compile(layer)
    for X, _ in _batches(3):
        _assert_same(step(X).data, layer.forward(X).data, "the subclass's output")
    assert len(calls) == 6
