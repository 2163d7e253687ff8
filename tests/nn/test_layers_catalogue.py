"""The wave-2 layers (Dropout, LayerNorm, BatchNorm1d, Flatten) and MLP(dropout=, norm=):
PyTorch parity in float64 in training and evaluation modes (outputs, every gradient, running
statistics), Dropout's statistics, conversions both ways, saving with buffers, summary, graph.
"""

import os

import numpy as np
import pytest

import layerwise as lw
from layerwise import nn

TOL = 1e-10


def _close(got, want, tol=TOL):
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=tol, atol=tol)


def _random_params(module, seed=0):
    rng = np.random.default_rng(seed)
    for p in module.parameters():
        p.data[...] = rng.standard_normal(p.shape)
    return module


def _compare_steps(torch, ours, theirs, shape, steps=4, seed=1):
    """Run both modules on the same batches (forward, backward of a random direction) and
    compare outputs, input gradients, parameter gradients and the state after every step."""
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        x = rng.standard_normal(shape)
        xl = lw.Tensor(x, requires_grad=True)
        xt = torch.tensor(x, requires_grad=True)
        ours.zero_grad()
        theirs.zero_grad()
        out, want = ours(xl), theirs(xt)
        g = rng.standard_normal(out.shape)
        out.backward(g)
        want.backward(torch.from_numpy(g))
        _close(out.data, want.detach().numpy())
        _close(xl.grad, xt.grad.numpy())
        params = dict(theirs.named_parameters())
        for name, p in ours.named_parameters():
            _close(p.grad, params[name].grad.numpy())
        buffers = dict(theirs.named_buffers())
        for name, b in ours.named_buffers():
            _close(b, buffers[name].numpy())


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("momentum", [0.1, 0.5, None])
@pytest.mark.parametrize("shape", [(6, 3), (5, 3, 4)])
def test_batchnorm_matches_torch(torch64, mode, momentum, shape):
    torch = torch64
    ours = _random_params(nn.BatchNorm1d(3, momentum=momentum, dtype=np.float64))
    theirs = nn.BatchNorm1d.to_torch_modules(ours, torch.nn)[0]
    # some running statistics to start from, so evaluation uses non-trivial ones
    ours.running_mean[...] = [0.5, -1.0, 2.0]
    ours.running_var[...] = [0.5, 2.0, 1.5]
    theirs.running_mean.copy_(torch.tensor([0.5, -1.0, 2.0]))
    theirs.running_var.copy_(torch.tensor([0.5, 2.0, 1.5]))
    getattr(ours, mode)()
    getattr(theirs, mode)()
    before = ours.running_mean.copy()
    _compare_steps(torch, ours, theirs, shape)
    assert int(ours.num_batches_tracked) == (4 if mode == "train" else 0)
    assert (mode == "train") == (not np.array_equal(before, ours.running_mean))


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("normalized_shape", [4, (3, 4)])
def test_layernorm_matches_torch(torch64, affine, normalized_shape):
    torch = torch64
    ours = _random_params(nn.LayerNorm(normalized_shape, 1e-3, affine, dtype=np.float64))
    theirs = ours.to_torch_modules(torch.nn)[0]
    _compare_steps(torch, ours, theirs, (5, 3, 4))
    _compare_steps(torch, ours.eval(), theirs.eval(), (5, 3, 4), steps=1)


def test_batchnorm_rejects_what_torch_rejects():
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(np.ones((1, 3)))
    with pytest.raises(ValueError, match=r"expected input \(N, 3\)"):
        bn(np.ones((4, 2)))
    bn.eval()(np.ones((1, 3)))  # one row is fine in evaluation


# ------------------------------------------------------------------------------ Dropout
def test_dropout_statistics_and_scaling():
    p, x = 0.3, np.full(200_000, 2.0)
    t = lw.Tensor(x, requires_grad=True)
    out = nn.Dropout(p, rng=0)(t)
    kept = out.data != 0
    n = x.size
    # the kept fraction within 5 standard deviations of 1 - p
    assert abs(kept.mean() - (1 - p)) < 5 * np.sqrt(p * (1 - p) / n)
    np.testing.assert_array_equal(out.data[kept], 2.0 / (1 - p))
    out.sum().backward()
    np.testing.assert_array_equal(t.grad, kept / (1 - p))
    assert abs(out.data.mean() - 2.0) < 0.02  # the expectation is kept


def test_dropout_rng_reproducible_and_eval_identity():
    x = np.ones((50, 8))
    a, b = nn.Dropout(0.5, rng=7), nn.Dropout(0.5, rng=7)
    first = a(x).data
    np.testing.assert_array_equal(first, b(x).data)  # same seed, same masks
    assert not np.array_equal(first, a(x).data)  # a stream: the next mask differs
    np.testing.assert_array_equal(a.eval()(x).data, x)
    np.random.seed(3)
    legacy = nn.Dropout(0.5)(x).data
    np.random.seed(3)
    np.testing.assert_array_equal(legacy, nn.Dropout(0.5)(x).data)  # rng=None: global state
    np.testing.assert_array_equal(nn.Dropout(0.0)(x).data, x)
    np.testing.assert_array_equal(nn.Dropout(1.0)(x).data, 0 * x)
    for bad in (-0.1, 1.5, "half", True, float("nan")):
        with pytest.raises(ValueError, match="p must be a number in"):
            nn.Dropout(bad)


def test_dropout_keeps_float32_and_promotes_integers():
    assert nn.Dropout(0.5, rng=0)(np.ones(4, np.float32)).dtype == np.float32
    assert nn.Dropout(0.5, rng=0)(np.ones(4, int)).dtype == lw.get_default_dtype()


def test_flatten_matches_torch(torch64):
    x = np.arange(24.0).reshape(2, 3, 4)
    for args in [(), (0, 1), (1, 2)]:
        want = torch64.nn.Flatten(*args)(torch64.tensor(x)).numpy()
        np.testing.assert_array_equal(nn.Flatten(*args)(x).data, want)


# ----------------------------------------------------------------------------------- MLP
def test_mlp_defaults_build_the_wave1_layers():
    net = lw.MLP([4, 8, 8, 3], rng=0)
    assert [type(m) for m in net.layers] == [nn.Dense] * 3
    both = lw.MLP([4, 8, 8, 3], rng=0, dropout=0.2, norm="batch")
    assert [type(m).__name__ for m in both.layers] == [
        "Dense", "BatchNorm1d", "ReLU", "Dropout", "Dense", "BatchNorm1d", "ReLU", "Dropout",
        "Dense"]
    dense = [m for m in both.layers if isinstance(m, nn.Dense)]
    for old, new in zip(net.layers, dense):  # the same weight draws, in the same order
        np.testing.assert_array_equal(old.W.data, new.W.data)
    layer = lw.MLP([4, 8, 3], rng=0, norm="layer", hidden_activation="tanh")
    assert [type(m).__name__ for m in layer.layers] == ["Dense", "LayerNorm", "Tanh", "Dense"]
    with pytest.raises(ValueError, match="norm must be one of"):
        lw.MLP([4, 3], norm="group")
    with pytest.raises(ValueError, match="dropout"):
        lw.MLP([4, 3], dropout=2)


@pytest.mark.parametrize("norm", [None, "batch", "layer"])
def test_mlp_with_norm_and_dropout_converts_to_torch_and_back(torch64, norm):
    from layerwise.interop import from_torch, to_torch

    net = lw.MLP([4, 8, 6, 3], output_activation="none", rng=0, dtype=np.float64,
                 dropout=0.25, norm=norm)
    x = np.random.default_rng(0).standard_normal((10, 4))
    net.train()(x)  # move the running statistics off their initial values
    theirs = to_torch(net)
    assert any(isinstance(m, torch64.nn.Dropout) for m in theirs)
    theirs.eval()
    want = theirs(torch64.tensor(x)).detach().numpy()
    _close(net.predict(x), want)
    back = from_torch(theirs)
    _close(back.predict(x), want)
    assert [type(m).__name__ for m in back][:4] == [type(m).__name__ for m in net.layers][:4] \
        or norm is None
    if norm == "batch":  # training mode too (without dropout's random masks)
        net = lw.MLP([4, 8, 3], output_activation="none", rng=0, dtype=np.float64,
                     norm="batch")
        theirs = to_torch(net).train()
        ours_out = net(x).data
        _close(ours_out, theirs(torch64.tensor(x)).detach().numpy())
        _close(net.layers[1].running_var, theirs[1].running_var.numpy())


def test_save_load_keeps_buffers(tmp_path):
    net = lw.MLP([4, 8, 3], rng=0, norm="batch", dropout=0.1)
    net(np.random.default_rng(0).standard_normal((16, 4)).astype(np.float32))
    path = os.fspath(tmp_path / "net.safetensors")
    lw.save(net, path)
    back = lw.load(path)
    assert repr(back) == repr(net)
    for (name, a), (_, b) in zip(net.named_buffers(), back.named_buffers()):
        np.testing.assert_array_equal(a, b, err_msg=name)
    x = np.ones((3, 4), np.float32)
    np.testing.assert_array_equal(back.predict(x), net.predict(x))


def test_summary_lists_buffers_and_graph_draws_the_layers():
    net = lw.MLP([4, 8, 3], rng=0, norm="batch", dropout=0.5)
    s = lw.summary(net, (None, 4))
    assert s.total_params == 40 + 16 + 27 and s.buffers == 8 + 8 + 1
    assert "Buffers (saved, not trained): 17" in str(s)
    assert "Buffers" not in str(lw.summary(lw.MLP([4, 3], rng=0), (None, 4)))
    ops = lw.graph.trace(net, np.ones((5, 4), np.float32)).ops
    # each normalisation (and dropout in training mode) is one node of its own name
    assert ops.count("batch_norm") == 1 and ops.count("dropout") == 1 and "relu" in ops
    ln = lw.graph.trace(nn.Sequential(nn.LayerNorm(4)), np.ones((5, 4), np.float32))
    assert ln.ops == ["layer_norm"]
