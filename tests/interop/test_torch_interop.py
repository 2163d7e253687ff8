"""``to_torch`` / ``from_torch``: the same network in both libraries, outputs and gradients.

layerwise's ``W`` is ``(n_in, n_out)``; ``torch.nn.Linear.weight`` is its transpose.
"""

import numpy as np
import pytest

import layerwise as lw
from layerwise import nn
from layerwise.autodiff.tensor import Tensor
from layerwise.interop import from_torch, to_torch

torch = pytest.importorskip("torch")
TOL = {np.float64: 1e-12, np.float32: 1e-6}
DTYPES = [np.float64, np.float32]
ACTIVATIONS = ["relu", "tanh", "sigmoid", "leaky_relu", "none"]


def random_mlp(seed, dtype, output_activation="none", hidden=None):
    rng = np.random.default_rng(seed)
    sizes = [int(n) for n in rng.integers(2, 7, size=int(rng.integers(2, 5)))]
    hidden = hidden or str(rng.choice(ACTIVATIONS))
    net = lw.MLP(sizes, hidden_activation=hidden, output_activation=output_activation,
                 rng=rng, dtype=dtype)
    for layer in net.layers:  # non-zero biases, so that a transposed bias would show
        layer.b.data[...] = rng.standard_normal(layer.b.shape)
    return net


def torch_linears(module):
    return [m for m in module.modules() if isinstance(m, torch.nn.Linear)]


def assert_close(got, want, dtype, scale=1.0):
    np.testing.assert_allclose(got, want, rtol=TOL[dtype], atol=TOL[dtype] * scale)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("output_activation", ["none", "softmax", "log_softmax", "sigmoid"])
@pytest.mark.parametrize("seed", range(4))
def test_to_torch_gives_the_same_outputs(seed, output_activation, dtype):
    net = random_mlp(seed, dtype, output_activation)
    tnet = to_torch(net)
    X = np.random.default_rng(seed + 100).standard_normal((7, net.layer_sizes[0])).astype(dtype)
    with torch.no_grad():
        want = tnet(torch.from_numpy(X)).numpy()
    got = net(X).data
    assert want.dtype == got.dtype == dtype
    assert_close(got, want, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", range(4))
def test_to_torch_gives_the_same_parameter_gradients_for_cross_entropy(seed, dtype):
    net = random_mlp(seed, dtype)
    tnet = to_torch(net)
    rng = np.random.default_rng(seed + 200)
    X = rng.standard_normal((9, net.layer_sizes[0])).astype(dtype)
    y = rng.integers(0, net.layer_sizes[-1], size=9)

    loss = lw.F.cross_entropy(y, net(X))
    loss.backward()
    tloss = torch.nn.CrossEntropyLoss()(tnet(torch.from_numpy(X)), torch.from_numpy(y))
    tloss.backward()

    assert_close(loss.item(), tloss.item(), dtype)
    for layer, linear in zip(net.layers, torch_linears(tnet), strict=True):
        assert layer.W.grad.dtype == dtype
        assert_close(layer.W.grad, linear.weight.grad.numpy().T, dtype, scale=10)
        assert_close(layer.b.grad, linear.bias.grad.numpy().reshape(1, -1), dtype, scale=10)


@pytest.mark.parametrize("seed", range(3))
def test_softmax_output_with_categorical_cross_entropy_matches_torch(seed):
    net = random_mlp(seed, np.float64, output_activation="softmax")
    tnet = to_torch(net)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((6, net.layer_sizes[0]))
    onehot = np.eye(net.layer_sizes[-1])[rng.integers(0, net.layer_sizes[-1], size=6)]
    lw.F.categorical_cross_entropy(onehot, net(X)).backward()
    p = tnet(torch.from_numpy(X))
    (-(torch.from_numpy(onehot) * p.log()).sum(1)).mean().backward()
    for layer, linear in zip(net.layers, torch_linears(tnet), strict=True):
        assert_close(layer.W.grad, linear.weight.grad.numpy().T, np.float64)


def test_to_torch_layout_and_copies():
    net = lw.MLP([3, 4, 2], rng=0, dtype=np.float64)
    tnet = to_torch(net)
    assert [type(m).__name__ for m in tnet] == ["Linear", "ReLU", "Linear", "Softmax"]
    linear = tnet[0]
    assert linear.weight.shape == (4, 3) and linear.weight.dtype == torch.float64
    np.testing.assert_array_equal(linear.weight.detach().numpy(), net.layers[0].W.data.T)
    net.layers[0].W.data[...] = 0.0  # the torch model holds its own copy
    assert linear.weight.detach().abs().sum() > 0


def test_to_torch_of_sequentials_with_activation_modules_and_no_bias():
    seq = nn.Sequential(nn.Linear(3, 4, bias=False, rng=0), nn.LeakyReLU(0.2),
                        nn.Sequential(nn.Dense(4, 2, "tanh", rng=1)), nn.Identity())
    tseq = to_torch(seq)
    assert [type(m).__name__ for m in tseq] == ["Linear", "LeakyReLU", "Linear", "Tanh",
                                                "Identity"]
    assert tseq[0].bias is None and tseq[1].negative_slope == 0.2
    X = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    with torch.no_grad():
        assert_close(seq(X).data, tseq(torch.from_numpy(X)).numpy(), np.float32)


@pytest.mark.parametrize("module", [nn.Softmax(axis=0), nn.LogSoftmax(axis=0), nn.Softmax()],
                         ids=repr)
def test_to_torch_keeps_the_softmax_axis(module):
    seq = nn.Sequential(nn.Linear(3, 4, rng=0, dtype=np.float64), module)
    X = np.random.default_rng(0).standard_normal((5, 3))
    with torch.no_grad():
        assert_close(seq(X).data, to_torch(seq)(torch.from_numpy(X)).numpy(), np.float64)


def test_to_torch_refuses_what_it_cannot_convert():
    with pytest.raises(ValueError, match="unknown activation '<lambda>'"):
        to_torch(nn.Dense(2, 2, activation=lambda z: z * 2))

    class Custom(nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(ValueError, match="to_torch: Custom has no PyTorch form"):
        to_torch(nn.Sequential(nn.Linear(2, 2), Custom()))


# -------------------------------------------------------------------------- from_torch
def torch_stack(dtype, seed=0):
    torch.manual_seed(seed)
    t = getattr(torch, np.dtype(dtype).name)
    return torch.nn.Sequential(
        torch.nn.Linear(4, 8, dtype=t), torch.nn.ReLU(),
        torch.nn.Linear(8, 5, dtype=t), torch.nn.Tanh(),
        torch.nn.Linear(5, 6, dtype=t), torch.nn.LeakyReLU(),
        torch.nn.Linear(6, 3, dtype=t),
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", range(3))
def test_from_torch_gives_the_same_outputs_and_gradients(seed, dtype):
    tnet = torch_stack(dtype, seed)
    net = from_torch(tnet)
    assert [repr(m) for m in net] == [
        "Dense(4 -> 8, activation=relu)", "Dense(8 -> 5, activation=tanh)",
        "Dense(5 -> 6, activation=leaky_relu)", "Dense(6 -> 3, activation=none)"]
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((8, 4)).astype(dtype)
    y = rng.integers(0, 3, size=8)
    loss = lw.F.cross_entropy(y, net(X))
    loss.backward()
    tloss = torch.nn.CrossEntropyLoss()(tnet(torch.from_numpy(X)), torch.from_numpy(y))
    tloss.backward()
    assert_close(loss.item(), tloss.item(), dtype)
    for layer, linear in zip(net, torch_linears(tnet), strict=True):
        assert layer.W.dtype == dtype
        assert_close(layer.W.grad, linear.weight.grad.numpy().T, dtype, scale=10)
        assert_close(layer.b.grad, linear.bias.grad.numpy().reshape(1, -1), dtype, scale=10)


def test_from_torch_of_the_chapters_simple_network():
    class SimpleNetwork(torch.nn.Module):  # the chapter's class, in float64
        def __init__(self, input_size, hidden_sizes, output_size):
            super().__init__()
            layers = []
            prev_size = input_size
            for hidden_size in hidden_sizes:
                layers.append(torch.nn.Linear(prev_size, hidden_size, dtype=torch.float64))
                layers.append(torch.nn.ReLU())
                prev_size = hidden_size
            layers.append(torch.nn.Linear(prev_size, output_size, dtype=torch.float64))
            self.network = torch.nn.Sequential(*layers)

        def forward(self, x):
            return self.network(x)

    torch.manual_seed(0)
    model = SimpleNetwork(4, [8, 4], 3)
    net = from_torch(model)
    assert [repr(m) for m in net] == ["Dense(4 -> 8, activation=relu)",
                                      "Dense(8 -> 4, activation=relu)",
                                      "Dense(4 -> 3, activation=none)"]
    X = np.random.default_rng(0).uniform(0, 7, (5, 4))
    with torch.no_grad():
        assert_close(net(X).data, model(torch.from_numpy(X)).numpy(), np.float64)


def test_from_torch_keeps_a_non_default_leaky_slope_as_its_own_module():
    torch.manual_seed(0)
    tnet = torch.nn.Sequential(torch.nn.Linear(3, 4, dtype=torch.float64),
                               torch.nn.LeakyReLU(0.3), torch.nn.Softmax(dim=-1))
    net = from_torch(tnet)
    assert [repr(m) for m in net] == ["Dense(3 -> 4, activation=none)",
                                      "LeakyReLU(negative_slope=0.3)", "Softmax(axis=-1)"]
    X = np.random.default_rng(0).standard_normal((2, 3))
    with torch.no_grad():
        assert_close(net(X).data, tnet(torch.from_numpy(X)).numpy(), np.float64)


def test_from_torch_refuses_what_it_cannot_convert():
    with pytest.raises(ValueError, match=r"module.0 \(Conv1d.*has no layerwise counterpart"):
        from_torch(torch.nn.Sequential(torch.nn.Conv1d(1, 1, 3)))


def test_from_torch_refuses_what_it_cannot_convert_faithfully():
    """Shared layers, functions called in forward and layers called out of order."""
    shared = torch.nn.Linear(3, 3)
    with pytest.raises(ValueError, match="module.0 is called twice"):
        from_torch(torch.nn.Sequential(shared, torch.nn.ReLU(), shared))

    class WithFunction(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = torch.nn.Linear(3, 3)

        def forward(self, x):
            return torch.tanh(self.a(x))

    with pytest.raises(ValueError, match="does more than call its layers.*tanh"):
        from_torch(WithFunction())

    class OutOfOrder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = torch.nn.Linear(3, 4), torch.nn.Linear(4, 3)

        def forward(self, x):
            return self.a(self.b(x).relu())

    with pytest.raises(ValueError, match="does more than call its layers"):
        from_torch(OutOfOrder())

    class Reordered(torch.nn.Module):  # registered a, b; called b then a: converts in call order
        def __init__(self):
            super().__init__()
            self.a, self.b = torch.nn.Linear(4, 3), torch.nn.Linear(3, 4)

        def forward(self, x):
            return self.a(self.b(x))

    model = Reordered().double()
    x = np.random.default_rng(0).normal(size=(5, 3))
    np.testing.assert_allclose(from_torch(model)(x).data,
                               model(torch.from_numpy(x)).detach().numpy(), rtol=1e-12)


# ------------------------------------------------------------------------- round trips
@pytest.mark.parametrize("dtype", DTYPES)
def test_round_trip_from_layerwise(dtype):
    net = random_mlp(3, dtype, output_activation="softmax", hidden="tanh")
    back = from_torch(to_torch(net))
    for (_, p), (_, q) in zip(net.named_parameters(), back.named_parameters(), strict=True):
        assert q.dtype == p.dtype
        np.testing.assert_array_equal(q.data, p.data)
    assert [layer.activation for layer in back] == [layer.activation for layer in net.layers]


def test_round_trip_from_torch():
    tnet = torch_stack(np.float64)
    again = to_torch(from_torch(tnet))
    want, got = tnet.state_dict(), again.state_dict()
    assert list(want) == list(got)
    for key in want:
        assert torch.equal(want[key], got[key]), key


def test_converted_model_trains_the_same_step():
    """One SGD step by hand on both sides keeps them equal (gradients are in the right layout)."""
    net = random_mlp(1, np.float64)
    tnet = to_torch(net)
    X = np.random.default_rng(5).standard_normal((4, net.layer_sizes[0]))
    y = np.arange(4) % net.layer_sizes[-1]
    lw.F.cross_entropy(y, net(X)).backward()
    torch.nn.CrossEntropyLoss()(tnet(torch.from_numpy(X)), torch.from_numpy(y)).backward()
    with lw.no_grad(), torch.no_grad():
        for p in net.parameters():
            p.data -= 0.1 * p.grad
        for q in tnet.parameters():
            q -= 0.1 * q.grad
    with torch.no_grad():
        assert_close(net(Tensor(X)).data, tnet(torch.from_numpy(X)).numpy(), np.float64)


@pytest.mark.parametrize("activation", [torch.nn.Softmax, torch.nn.LogSoftmax])
@pytest.mark.parametrize("dim", [1, -1, 0])
def test_from_torch_keeps_the_softmax_axis_for_3d_inputs(activation, dim):
    """Softmax(dim=1) is the last axis only for 2-D inputs: it must stay axis 1."""
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(4, 3).double(), activation(dim=dim))
    x = torch.randn(2, 5, 4, dtype=torch.float64)
    ours = from_torch(module)
    np.testing.assert_allclose(ours(x.numpy()).data, module(x).detach().numpy(),
                               rtol=1e-12, atol=1e-14)


def test_from_torch_folds_identity_and_activations_into_the_dense():
    module = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Identity(), torch.nn.ReLU())
    ours = from_torch(module)
    assert len(ours) == 1 and ours[0].activation == "relu"  # ReLU joins the Dense
    module.eval()
    x = torch.randn(6, 4)
    np.testing.assert_allclose(ours(x.numpy()).data, module(x).detach().numpy(), rtol=1e-6)
