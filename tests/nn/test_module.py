"""Module behaviour: names, counts, state dicts, modes, reprs; modules are thin over functional."""

import functools

import numpy as np
import pytest

import layerwise as lw
from layerwise import functional as F
from layerwise import nn
from layerwise.autodiff.tensor import Tensor


def mlp(seed=0, **kwargs):
    return lw.MLP([4, 8, 4, 3], rng=seed, **kwargs)


# -------------------------------------------------------------------- names and counts
def test_named_parameters_are_dotted_paths_in_order():
    assert [name for name, _ in mlp().named_parameters()] == [
        "layers.0.W", "layers.0.b", "layers.1.W", "layers.1.b", "layers.2.W", "layers.2.b"]
    seq = nn.Sequential(nn.Dense(2, 3), nn.ReLU(), nn.Linear(3, 1, bias=False))
    assert [name for name, _ in seq.named_parameters()] == ["0.W", "0.b", "2.W"]


def test_custom_module_finds_its_parameters_and_children():
    class Net(nn.Module):
        def __init__(self):
            self.scale = Tensor(np.ones(1), requires_grad=True)
            self.body = nn.Sequential(nn.Dense(2, 2, rng=0))

        def forward(self, x):
            return self.body(x) * self.scale

    net = Net()
    assert [name for name, _ in net.named_parameters()] == ["scale", "body.0.W", "body.0.b"]
    assert [name for name, _ in net.named_modules()] == ["", "body", "body.0"]
    assert net.num_parameters() == 1 + 4 + 2


@pytest.mark.parametrize("sizes, count", [
    ([4, 8, 4, 3], 4 * 8 + 8 + 8 * 4 + 4 + 4 * 3 + 3),
    ([784, 256, 10], 784 * 256 + 256 + 256 * 10 + 10),
    ([2, 3, 2], 2 * 3 + 3 + 3 * 2 + 2),  # the chapter's exercise 6
])
def test_num_parameters(sizes, count):
    net = lw.MLP(sizes, rng=0)
    assert net.num_parameters() == count == sum(p.size for p in net.parameters())


def test_num_parameters_trainable_only():
    net = mlp()
    net.layers[0].W.requires_grad = False
    assert net.num_parameters(trainable_only=True) == net.num_parameters() - 32


def test_zero_grad_clears_every_parameter():
    net = mlp()
    F.cross_entropy(np.array([0, 1]), net(np.ones((2, 4)))).backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_train_and_eval_reach_every_submodule():
    net = mlp()
    assert net.eval() is net
    assert all(not m.training for _, m in net.named_modules())
    net.train()
    assert all(m.training for _, m in net.named_modules())


# ------------------------------------------------------------------------ state dicts
def test_state_dict_round_trip_gives_the_same_model():
    a, b = mlp(seed=1), mlp(seed=2)
    X = np.random.default_rng(0).standard_normal((5, 4))
    assert not np.allclose(a(X).data, b(X).data)
    b.load_state_dict(a.state_dict())
    np.testing.assert_array_equal(a(X).data, b(X).data)
    for (na, pa), (nb, pb) in zip(a.named_parameters(), b.named_parameters()):
        assert na == nb and pa is not pb
        np.testing.assert_array_equal(pa.data, pb.data)


def test_state_dict_holds_copies():
    net = mlp()
    state = net.state_dict()
    state["layers.0.W"][...] = 123.0
    assert not np.any(net.layers[0].W.data == 123.0)
    assert list(state) == [name for name, _ in net.named_parameters()]


def test_load_state_dict_keeps_the_parameters_dtype_and_objects():
    net = mlp()  # float32
    W = net.layers[0].W
    state = {k: v.astype(np.float64) + 1 for k, v in net.state_dict().items()}
    net.load_state_dict(state)
    assert net.layers[0].W is W and W.dtype == np.float32
    np.testing.assert_array_equal(W.data, state["layers.0.W"].astype(np.float32))


def test_load_state_dict_accepts_tensors():
    a, b = mlp(seed=1), mlp(seed=2)
    b.load_state_dict(dict(a.named_parameters()))
    np.testing.assert_array_equal(a.layers[2].W.data, b.layers[2].W.data)


def test_load_state_dict_names_a_wrong_name():
    net = mlp()
    state = net.state_dict()
    state["layers.0.weight"] = state.pop("layers.0.W")
    with pytest.raises(ValueError) as info:
        net.load_state_dict(state)
    message = str(info.value)
    assert "missing: layers.0.W" in message and "unexpected: layers.0.weight" in message


def test_load_state_dict_names_a_wrong_shape_and_changes_nothing():
    net = mlp()
    before = net.state_dict()
    state = {k: v + 1 for k, v in before.items()}
    state["layers.1.b"] = np.zeros((4,))
    with pytest.raises(ValueError, match=r"layers\.1\.b has shape \(4,\) but the parameter has "
                                         r"shape \(1, 4\)"):
        net.load_state_dict(state)
    for name, value in net.state_dict().items():
        np.testing.assert_array_equal(value, before[name])  # nothing loaded, not even layer 0


def test_load_state_dict_non_strict_skips_missing_names():
    a, b = mlp(seed=1), mlp(seed=2)
    state = a.state_dict()
    del state["layers.2.W"]
    b.load_state_dict(state, strict=False)
    np.testing.assert_array_equal(b.layers[0].W.data, a.layers[0].W.data)
    assert not np.array_equal(b.layers[2].W.data, a.layers[2].W.data)


# ------------------------------------------------------------------------------ reprs
def test_reprs():
    assert repr(nn.Dense(4, 8)) == "Dense(4 -> 8, activation=relu)"
    assert repr(nn.Dense(4, 8, "softmax", bias=False)) == (
        "Dense(4 -> 8, activation=softmax, bias=False)")
    assert repr(nn.Linear(3, 2)) == "Linear(3 -> 2)"
    assert repr(nn.Linear(3, 2, bias=False)) == "Linear(3 -> 2, bias=False)"
    assert repr(nn.ReLU()) == "ReLU()"
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(nn.Softmax()) == "Softmax(axis=-1)"
    assert repr(nn.MSELoss()) == "MSELoss()"
    assert repr(nn.MSELoss(reduction="sum")) == "MSELoss(reduction='sum')"
    assert repr(nn.HuberLoss(0.5)) == "HuberLoss(delta=0.5)"
    assert repr(nn.CrossEntropyLoss(label_smoothing=0.1, reduction="none")) == (
        "CrossEntropyLoss(label_smoothing=0.1, reduction='none')")


def test_mlp_prints_its_tree():
    assert repr(mlp()) == (
        "MLP(4 -> 8 -> 4 -> 3\n"
        "  (layers): Sequential(\n"
        "    (0): Dense(4 -> 8, activation=relu)\n"
        "    (1): Dense(8 -> 4, activation=relu)\n"
        "    (2): Dense(4 -> 3, activation=softmax)\n"
        "  )\n"
        ")")


# ------------------------------------------------------------------------- containers
def test_sequential_is_indexable_sliceable_and_iterable():
    layers = [nn.Dense(4, 8, rng=0), nn.Dense(8, 4, rng=0), nn.Dense(4, 3, "none", rng=0)]
    seq = nn.Sequential(*layers)
    assert len(seq) == 3 and seq[1] is layers[1] and list(seq) == layers
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and list(head) == layers[:2]
    X = np.ones((2, 4), dtype=np.float32)
    np.testing.assert_array_equal(seq(X).data, layers[2](layers[1](layers[0](X))).data)
    seq.append(nn.Softmax())
    assert len(seq) == 4 and isinstance(seq[-1], nn.Softmax)


def test_sequential_rejects_a_non_module():
    with pytest.raises(TypeError, match="item 1 is a function, not a Module"):
        nn.Sequential(nn.ReLU(), F.relu)


def test_module_without_forward():
    class Empty(nn.Module):
        pass

    with pytest.raises(NotImplementedError, match="Empty must define forward"):
        Empty()(1)


# ---------------------------------------------------------- modules are thin wrappers
X = np.random.default_rng(0).standard_normal((4, 5))


@pytest.mark.parametrize("module, fn", [
    (nn.ReLU(), F.relu), (nn.LeakyReLU(0.3), functools.partial(F.leaky_relu, negative_slope=0.3)),
    (nn.Sigmoid(), F.sigmoid), (nn.Tanh(), F.tanh), (nn.Softmax(), F.softmax),
    (nn.Softmax(axis=0), functools.partial(F.softmax, axis=0)), (nn.LogSoftmax(), F.log_softmax),
    (nn.Identity(), F.identity),
], ids=lambda v: repr(v) if isinstance(v, nn.Module) else "")
def test_activation_modules_equal_the_functions(module, fn):
    np.testing.assert_array_equal(module(X).data, fn(X).data)


Y_REG, P_REG = np.random.default_rng(1).uniform(0, 1, (2, 4, 5))
Y_ONEHOT = np.eye(5)[[0, 3, 1, 4]]
LABELS = np.array([0, 3, 1, 4])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("module, fn, y, p", [
    (nn.MSELoss, F.mse_loss, Y_REG, P_REG),
    (nn.L1Loss, F.mae_loss, Y_REG, P_REG),
    (nn.MAELoss, F.l1_loss, Y_REG, P_REG),
    (functools.partial(nn.HuberLoss, 0.3), functools.partial(F.huber_loss, delta=0.3),
     Y_REG, P_REG),
    (nn.BCELoss, F.binary_cross_entropy, Y_REG, P_REG),
    (nn.BCEWithLogitsLoss, F.binary_cross_entropy_with_logits, Y_REG, X),
    (nn.CategoricalCrossEntropyLoss, F.categorical_cross_entropy, Y_ONEHOT, F.softmax(X)),
    (nn.CrossEntropyLoss, F.cross_entropy, LABELS, X),
    (functools.partial(nn.CrossEntropyLoss, label_smoothing=0.2),
     functools.partial(F.cross_entropy, label_smoothing=0.2), LABELS, X),
], ids=["MSELoss", "L1Loss", "MAELoss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss",
        "CategoricalCrossEntropyLoss", "CrossEntropyLoss", "CrossEntropyLoss(smoothing)"])
def test_loss_modules_equal_the_functions(module, fn, y, p, reduction):
    got = module(reduction=reduction)(y, p)
    want = fn(y, p, reduction=reduction)
    assert got.shape == want.shape
    np.testing.assert_array_equal(got.data, want.data)
