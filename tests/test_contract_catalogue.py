"""The contract of the registries: every declared activation, loss, module class and optimiser
passes the same checks, read from its declaration alone (issue 9's contract test, extended by
issue 10's catalogue).

For each entry: repr, get_config/from_config round trip, save/load round trip, a summary row,
the PyTorch round trip where a counterpart is declared, and for optimisers state dicts and
trajectories against torch.optim. A module class needs one example below (how to build it and
what it takes); a registered class without one fails ``test_every_module_class_has_an_example``.
"""

import json

import numpy as np
import pytest

import layerwise as lw
from layerwise import nn
from layerwise.functional.activations import ACTIVATIONS
from layerwise.functional.losses import LOSSES
from layerwise.optim import OPTIMIZERS

F64 = np.float64


def _builtin(registry):
    return [d for d in registry.declarations() if d.builtin]


ACTIVATION_DECLS = _builtin(ACTIVATIONS)
LOSS_DECLS = _builtin(LOSSES)

# module class name -> (build it, an input shape); activation and loss classes are built from
# their declarations and need no row
EXAMPLES = {
    "Dense": (lambda: nn.Dense(4, 3, "tanh", rng=0, dtype=F64), (5, 4)),
    "Linear": (lambda: nn.Linear(4, 3, rng=0, dtype=F64), (5, 4)),
    "Sequential": (lambda: nn.Sequential(nn.Dense(4, 3, rng=0, dtype=F64), nn.Sigmoid()),
                   (5, 4)),
    "MLP": (lambda: lw.MLP([4, 6, 3], rng=0, dtype=F64, dropout=0.1, norm="batch"), (5, 4)),
    "Activation": (lambda: nn.Activation("leaky_relu", negative_slope=0.2), (5, 4)),
    "Dropout": (lambda: nn.Dropout(0.3, rng=0), (5, 4)),
    "LayerNorm": (lambda: nn.LayerNorm(4, dtype=F64), (5, 4)),
    "BatchNorm1d": (lambda: nn.BatchNorm1d(4, dtype=F64), (5, 4)),
    "Flatten": (lambda: nn.Flatten(), (5, 2, 2)),
}


def _activation_module(decl):
    return nn.MODULES[decl.module]() if decl.module else nn.Activation(decl.name)


def _loss_decl(cls):
    return getattr(cls, "declaration", None)


def _examples():
    rows = []
    for name, cls in nn.MODULES.items():
        if name not in nn.MODULES.names() or not nn.MODULES.declaration(name).builtin:
            continue
        if issubclass(cls, nn.Loss) or (issubclass(cls, nn.Activation) and cls is not
                                        nn.Activation):
            continue
        rows.append(name)
    return rows


def _x(shape, seed=0):
    return np.random.default_rng(seed).uniform(-2, 2, shape)


def _roundtrip_file(module, tmp_path):
    path = tmp_path / "m.safetensors"
    lw.save(module, path)
    return lw.load(path)


# ---------------------------------------------------------------------------- modules
def test_every_module_class_has_an_example():
    missing = [n for n in _examples() if n not in EXAMPLES]
    assert not missing, f"module classes without a contract example: {missing}"


def _module_cases():
    cases = [(n, *EXAMPLES[n]) for n in EXAMPLES]
    cases += [(d.module or d.name, (lambda d=d: _activation_module(d)), (5, 4))
              for d in ACTIVATION_DECLS]
    return cases


MODULE_CASES = _module_cases()


@pytest.mark.parametrize(("name", "make", "shape"), MODULE_CASES,
                         ids=[c[0] for c in MODULE_CASES])
def test_module_contract(name, make, shape, tmp_path):
    module = make()
    assert repr(module).startswith(type(module).__name__)
    config = module.get_config()
    assert json.loads(json.dumps(config)) == config
    again = type(module).from_config(config)
    assert again.get_config() == config and repr(again) == repr(module)
    x = _x(shape)
    module.train()(x)  # running statistics move off their initial values
    back = _roundtrip_file(module, tmp_path)
    assert repr(back) == repr(module)
    np.testing.assert_array_equal(back.predict(x), module.predict(x))
    for (n, a), (_, b) in zip(module.named_buffers(), back.named_buffers()):
        np.testing.assert_array_equal(a, b, err_msg=n)
    s = lw.summary(module, (None, *shape[1:]))
    assert any(r.type == type(module).__name__ or r.name for r in s.rows)
    assert s.total_params == module.num_parameters()


@pytest.mark.parametrize(("name", "make", "shape"), MODULE_CASES,
                         ids=[c[0] for c in MODULE_CASES])
def test_module_pytorch_round_trip(name, make, shape, torch64):
    from layerwise.interop import from_torch, to_torch

    module = make()
    if isinstance(module, nn.Activation) and module.declaration.torch is None:
        with pytest.raises(ValueError, match="names no PyTorch counterpart"):
            to_torch(module)
        return
    x = _x(shape)
    module.train()(x)
    theirs = to_torch(module).eval()
    want = theirs(torch64.tensor(x)).detach().numpy()
    np.testing.assert_allclose(module.predict(x), want, rtol=1e-12, atol=1e-12)
    back = from_torch(theirs)
    np.testing.assert_allclose(back.predict(x), want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("decl", ACTIVATION_DECLS, ids=[d.name for d in ACTIVATION_DECLS])
def test_activation_works_in_dense_everywhere(decl, tmp_path):
    dense = nn.Dense(4, 3, decl.name, rng=0, dtype=F64)
    x = _x((5, 4))
    np.testing.assert_allclose(dense(x).data, decl.obj(x @ dense.W.data + dense.b.data).data,
                               rtol=1e-12, atol=1e-12)
    back = _roundtrip_file(nn.Sequential(dense), tmp_path)
    np.testing.assert_array_equal(back.predict(x), dense.predict(x))
    graph = lw.graph.trace(nn.Sequential(dense), x)
    assert graph.ops[:2] == ["matmul", "add"] and graph.num_parameters == 15


# ----------------------------------------------------------------------------- losses
def _loss_inputs(decl, rng):
    n, c = 6, 3
    logits = rng.uniform(-2, 2, (n, c))
    preds = {
        "values": logits, "logits": logits, "binary_logits": logits,
        "probabilities": np.exp(logits) / np.exp(logits).sum(1, keepdims=True),
        "log_probabilities": logits - np.log(np.exp(logits).sum(1, keepdims=True)),
    }
    pred = preds[decl.predictions]
    if decl.targets == "labels":
        target = rng.integers(0, c, n)
    elif decl.targets == "one_hot":
        target = np.eye(c)[rng.integers(0, c, n)]
    elif decl.targets == "binary":
        target = rng.integers(0, 2, (n, c)).astype(float)
    elif decl.targets == "distribution":
        target = preds["probabilities"][::-1].copy()
    else:
        target = rng.uniform(-2, 2, (n, c))
    if decl.targets == "binary" and decl.predictions == "probabilities":
        pred = 1 / (1 + np.exp(-logits))
    return target, pred


@pytest.mark.parametrize("decl", LOSS_DECLS, ids=[d.name for d in LOSS_DECLS])
def test_loss_contract(decl, torch64):
    cls = nn.MODULES[decl.module]
    loss = cls()
    assert repr(loss) == f"{decl.module}()" and loss.declaration is decl
    assert cls.from_config(json.loads(json.dumps(loss.get_config()))).get_config() == \
        loss.get_config()
    target, pred = _loss_inputs(decl, np.random.default_rng(0))
    value = loss(target, lw.Tensor(pred, requires_grad=True))
    assert value.shape == () and np.isfinite(float(value))
    if decl.torch is not None:
        tloss = getattr(torch64.nn, decl.torch)(reduction=loss.reduction)
        tp = torch64.tensor(pred, requires_grad=True)
        want = tloss(tp, torch64.tensor(target))
        np.testing.assert_allclose(float(value), want.item(), rtol=1e-10)
        value.backward()
        want.backward()
    net = lw.MLP([3, 3], output_activation=_output(decl), rng=0, dtype=F64)
    history = lw.fit(net, _x((6, 3)), target, loss, lw.optim.SGD(net.parameters(), lr=0.01), 1,
                     progress=False)
    assert np.isfinite(history["loss"][0])


def _output(decl):
    from layerwise.functional.losses import PREDICTIONS

    activation = PREDICTIONS[decl.predictions][0]
    if activation is None:
        return "softmax" if decl.targets == "one_hot" else "sigmoid"
    return activation


# ------------------------------------------------------------------------- optimisers
OPTIMIZER_DECLS = _builtin(OPTIMIZERS)


@pytest.mark.parametrize("decl", OPTIMIZER_DECLS, ids=[d.name for d in OPTIMIZER_DECLS])
def test_optimizer_contract(decl, torch64):
    rng = np.random.default_rng(0)
    init = [rng.standard_normal((3, 4)), rng.standard_normal(4)]
    ours = [lw.Tensor(a.copy(), requires_grad=True) for a in init]
    twin = [lw.Tensor(a.copy(), requires_grad=True) for a in init]
    theirs = [torch64.tensor(a.copy(), requires_grad=True) for a in init]
    opt, other = decl.obj(ours, lr=0.01), decl.obj(twin, lr=0.5)
    topt = getattr(torch64.optim, decl.obj.__name__)(theirs, lr=0.01)
    assert repr(opt).startswith(decl.obj.__name__)
    for step in range(8):
        if step == 4:  # the twin takes over the state mid-way, through JSON for the numbers
            state = opt.state_dict()
            other.load_state_dict({**state, "hyperparameters": json.loads(
                json.dumps(state["hyperparameters"]))})
            for p, q in zip(ours, twin):
                q.data[...] = p.data
        for params in (ours, twin, theirs):
            for p, a in zip(params, init):
                g = np.sin(3 * step + a)
                p.grad = torch64.tensor(g) if params is theirs else g
        opt.step()
        other.step() if step >= 4 else None
        topt.step()
    for p, q, tp in zip(ours, twin, theirs):
        np.testing.assert_array_equal(p.data, q.data)
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-10, atol=1e-12)
