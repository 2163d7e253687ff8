"""The contract test: every declared activation, loss, module class and optimiser works
everywhere layerwise reads the registries — with no test code of its own.

Adding an entry (a declaration, plus a row in ``catalogue.py`` or ``module_catalogue.py``) puts
it through all of these: ``Dense(activation=...)``, save/load, configs, PyTorch conversion
where a counterpart is declared, the summary, the graph, the repr and the command line.
"""

from __future__ import annotations

import numpy as np
import pytest
from module_catalogue import MODULES as MODULE_ROWS

import layerwise as lw
from layerwise import cli, serialization
from layerwise.functional.losses import PREDICTIONS, TARGETS

ACTIVATIONS = lw.F.ACTIVATIONS.declarations()
LOSSES = lw.F.LOSSES.declarations()
GENERATED = {d.module for d in ACTIVATIONS if d.module} | {d.module for d in LOSSES}


def ids(decls):
    return [d.name for d in decls]


def inputs(shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype(dtype)


# ------------------------------------------------------------------------ activations
@pytest.mark.parametrize("decl", ACTIVATIONS, ids=ids(ACTIVATIONS))
def test_activation_works_in_dense_and_saves_by_name(decl, tmp_path):
    layer = lw.nn.Dense(4, 3, activation=decl.name, rng=0, dtype=np.float64)
    assert layer.activation == decl.name and f"activation={decl.name}" in repr(layer)
    x = inputs((5, 4))
    expected = decl.obj(x @ layer.W.data + layer.b.data).data
    np.testing.assert_allclose(layer(x).data, expected, rtol=1e-12)
    lw.save(layer, tmp_path / "m.safetensors")
    np.testing.assert_array_equal(lw.load(tmp_path / "m.safetensors")(x).data, layer(x).data)


@pytest.mark.parametrize("decl", ACTIVATIONS, ids=ids(ACTIVATIONS))
def test_activation_module_from_its_declaration(decl):
    module = getattr(lw.nn, decl.module)() if decl.module else lw.nn.Activation(decl.name)
    assert isinstance(module, lw.nn.Activation) and module.name == decl.name
    x = inputs((5, 4))
    np.testing.assert_array_equal(module(x).data, decl.obj(x, **decl.params).data)
    again = type(module).from_config(module.get_config())
    np.testing.assert_array_equal(again(x).data, module(x).data)
    assert repr(again) == repr(module)


@pytest.mark.parametrize("decl", [d for d in ACTIVATIONS if d.torch], ids=ids(
    [d for d in ACTIVATIONS if d.torch]))
def test_activation_converts_to_pytorch_and_back(decl):
    torch = pytest.importorskip("torch")
    net = lw.nn.Sequential(lw.nn.Dense(4, 3, activation=decl.name, rng=0, dtype=np.float64))
    x = inputs((5, 4))
    t = lw.interop.to_torch(net)
    np.testing.assert_allclose(t(torch.from_numpy(x)).detach().numpy(), net(x).data,
                               rtol=1e-12, atol=1e-14)
    back = lw.interop.from_torch(t)
    np.testing.assert_allclose(back(x).data, net(x).data, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("decl", ACTIVATIONS, ids=ids(ACTIVATIONS))
def test_activation_in_summary_graph_and_cli(decl):
    net = lw.nn.Sequential(lw.nn.Linear(4, 3, rng=0), lw.nn.Activation(decl.name))
    summary = str(lw.summary(net, (None, 4)))
    assert "(Activation)" in summary and "Total params: 15" in summary
    graph = lw.graph.trace(net, np.ones((2, 4), np.float32))
    if decl.obj is not lw.F.identity:
        assert graph.nodes and any(n.kind == "op" for n in graph.nodes)
    choices = cli.build_parser()._subparsers._group_actions[0].choices["train"]
    option = next(a for a in choices._actions if "--activation" in a.option_strings)
    assert decl.name in option.choices


def test_register_activation_is_one_declaration(tmp_path):
    """A user's activation: declared once, then usable in Dense, saved and loaded by name,
    converted to PyTorch through the counterpart it names."""
    torch = pytest.importorskip("torch")

    @lw.register_activation("scaled_tanh", torch=lambda: ScaledTanh())
    def scaled_tanh(x):
        return lw.F.tanh(x) * 1.7159

    class ScaledTanh(torch.nn.Module):
        def forward(self, x):
            return torch.tanh(x) * 1.7159

    try:
        net = lw.nn.Sequential(lw.nn.Dense(4, 3, "scaled_tanh", rng=0, dtype=np.float64))
        x = inputs((5, 4))
        lw.save(net, tmp_path / "m.safetensors")
        np.testing.assert_array_equal(lw.load(tmp_path / "m.safetensors")(x).data, net(x).data)
        t = lw.interop.to_torch(net)
        np.testing.assert_allclose(t(torch.from_numpy(x)).detach().numpy(), net(x).data,
                                   rtol=1e-12)
        assert lw.gradcheck(lambda v: lw.nn.Activation("scaled_tanh")(v), x)
        with pytest.raises(ValueError, match="'scaled_tanh' is already a registered activation"):
            lw.register_activation("scaled_tanh")(scaled_tanh)
        with pytest.raises(ValueError, match="'relu' is a built-in activation"):
            lw.register_activation("relu")(scaled_tanh)
    finally:
        lw.F.ACTIVATIONS.remove("scaled_tanh")
    with pytest.raises(ValueError, match="unknown activation 'scaled_tanh'"):
        lw.load(tmp_path / "m.safetensors")


def test_an_activation_without_a_torch_counterpart_is_refused_by_name():
    @lw.register_activation("cube")
    def cube(x):
        return x * x * x

    try:
        with pytest.raises(ValueError, match="the activation 'cube' names no PyTorch"):
            lw.interop.to_torch(lw.nn.Dense(2, 2, "cube", rng=0))
    finally:
        lw.F.ACTIVATIONS.remove("cube")


# ----------------------------------------------------------------------------- losses
def targets_for(decl, n=6, classes=3, seed=0):
    """Targets of the declared kind, and predictions of the declared kind."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, n)
    logits = rng.normal(size=(n, classes))
    if decl.targets == "labels":
        y = labels
    elif decl.targets in ("one_hot", "distribution"):
        y = np.eye(classes)[labels]
    elif decl.targets == "binary":
        y, logits = (labels % 2).astype(np.float64).reshape(-1, 1), logits[:, :1]
    else:
        y, logits = rng.normal(size=(n, 1)), logits[:, :1]
    return y, logits


@pytest.mark.parametrize("decl", LOSSES, ids=ids(LOSSES))
def test_loss_declaration_is_complete(decl):
    assert decl.targets in TARGETS and decl.predictions in PREDICTIONS
    module_cls = getattr(lw.nn, decl.module)
    assert module_cls.declaration is decl and issubclass(module_cls, lw.nn.Loss)
    module = module_cls()
    again = module_cls.from_config(module.get_config())
    y, logits = targets_for(decl)
    out = getattr(lw.F, lw.tasks.output_activation(decl))(logits) \
        if lw.tasks.output_activation(decl) != "none" else lw.Tensor(logits)
    assert float(module(y, out)) == float(again(y, out)) == float(decl.obj(y, out))


@pytest.mark.parametrize("decl", [d for d in LOSSES if d.torch], ids=ids(
    [d for d in LOSSES if d.torch]))
def test_loss_equals_its_pytorch_counterpart(decl):
    torch = pytest.importorskip("torch")
    y, logits = targets_for(decl)
    activation = lw.tasks.output_activation(decl)
    out = lw.F.ACTIVATIONS[activation](logits).data
    ours = getattr(lw.nn, decl.module)()(y, out)
    theirs = getattr(torch.nn, decl.torch)()(torch.from_numpy(out), torch.from_numpy(y))
    np.testing.assert_allclose(float(ours), theirs.item(), rtol=1e-10)


@pytest.mark.parametrize("decl", LOSSES, ids=ids(LOSSES))
def test_loss_trains_through_fit_and_the_cli_offers_it(decl):
    """fit checks the targets from the declaration and counts accuracy where it applies."""
    y, _ = targets_for(decl, n=12)
    X = inputs((12, 4))
    n_out = 1 if decl.targets in ("binary", "values") else 3
    net = lw.MLP([4, 5, n_out], output_activation=lw.tasks.output_activation(decl), rng=0,
                 dtype=np.float64)
    history = lw.fit(net, X, y, getattr(lw.nn, decl.module)(),
                     lw.optim.SGD(net.parameters(), lr=0.01), epochs=2, progress=False, rng=0)
    assert len(history["loss"]) == 2
    assert ("accuracy" in history) == (decl.targets in ("labels", "one_hot", "binary"))
    choices = cli.build_parser()._subparsers._group_actions[0].choices["train"]
    option = next(a for a in choices._actions if "--loss" in a.option_strings)
    assert decl.name in option.choices


# ------------------------------------------------------------------------- modules
def test_every_module_class_has_a_row():
    missing = [name for name in lw.nn.MODULES.names()
               if name not in MODULE_ROWS and name not in GENERATED]
    assert not missing, f"add a row to tests/module_catalogue.py for {missing}"


@pytest.mark.parametrize("name", sorted(MODULE_ROWS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_module_saves_loads_and_rebuilds_from_its_config(name, dtype, tmp_path):
    make, shape = MODULE_ROWS[name]
    module = make(dtype)
    for p in module.parameters():
        p.data[...] = np.random.default_rng(1).normal(size=p.shape)
    x = inputs(shape, dtype)
    lw.save(module, tmp_path / "m.safetensors")
    loaded = lw.load(tmp_path / "m.safetensors")
    assert type(loaded) is type(module) and repr(loaded) == repr(module)
    np.testing.assert_array_equal(loaded(x).data, module(x).data)
    rebuilt = type(module).from_config(module.get_config())
    assert repr(rebuilt) == repr(module)
    assert serialization.dumps(rebuilt) != b""  # configs are JSON all the way down


@pytest.mark.parametrize("name", sorted(MODULE_ROWS))
def test_module_in_summary_and_graph(name):
    make, shape = MODULE_ROWS[name]
    module = make(np.float32)
    summary = lw.summary(module, (None, *shape[1:]))
    assert summary.total_params == module.num_parameters()
    graph = lw.graph.trace(module, inputs(shape, np.float32))
    assert graph.num_parameters == module.num_parameters()


@pytest.mark.parametrize("name", sorted(MODULE_ROWS))
def test_module_converts_to_pytorch_or_says_why_not(name):
    torch = pytest.importorskip("torch")
    make, shape = MODULE_ROWS[name]
    module = make(np.float64)
    x = inputs(shape)
    t = lw.interop.to_torch(module)
    np.testing.assert_allclose(t(torch.from_numpy(x)).detach().numpy(), module(x).data,
                               rtol=1e-10, atol=1e-12)


def test_unregistered_modules_are_refused_by_name(tmp_path):
    class Mine(lw.nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(ValueError, match="Mine is neither a built-in module nor registered"):
        lw.save(Mine(), tmp_path / "m.safetensors")
    assert not (tmp_path / "m.safetensors").exists()
    lw.nn.register(Mine)
    try:
        lw.save(lw.nn.Sequential(lw.nn.Linear(2, 2, rng=0), Mine()), tmp_path / "m.safetensors")
        assert isinstance(lw.load(tmp_path / "m.safetensors")[1], Mine)
    finally:
        lw.nn.MODULES.remove("Mine")
    with pytest.raises(ValueError, match="module class 'Mine', which is not registered"):
        lw.load(tmp_path / "m.safetensors")


# ------------------------------------------------------------------------- optimisers
@pytest.mark.parametrize("name", lw.optim.OPTIMIZERS.names())
def test_optimiser_trains_and_the_cli_offers_it(name):
    net = lw.MLP([4, 8, 3], output_activation="none", rng=0, dtype=np.float64)
    X, y = inputs((32, 4)), np.random.default_rng(0).integers(0, 3, 32)
    cls = lw.optim.OPTIMIZERS[name]
    try:
        opt = cls(net.parameters())
    except TypeError:  # no default learning rate
        opt = cls(net.parameters(), lr=0.01)
    history = lw.fit(net, X, y, lw.nn.CrossEntropyLoss(), opt, epochs=20, batch_size=32,
                     progress=False)
    assert history["loss"][-1] < history["loss"][0]
    choices = cli.build_parser()._subparsers._group_actions[0].choices["train"]
    option = next(a for a in choices._actions if "--optimizer" in a.option_strings)
    assert name in option.choices
