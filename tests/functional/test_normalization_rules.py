"""The fused rules of ``layer_norm``, ``batch_norm`` and ``dropout`` (issue 15): one graph node
each, against PyTorch in float64 (tight) and float32, on inputs large enough for the rules'
block-by-block paths (several blocks, a short last one), with and without weight and bias, in
training and evaluation; and the work that must happen on every call (running statistics,
dropout masks) done inside the rules, which is what ``lw.compile`` replays.
"""

import numpy as np
import pytest

import layerwise as lw
from layerwise import nn
from layerwise.autodiff import PRIMITIVES
from layerwise.functional import normalization

TOL64, TOL32 = 1e-10, 2e-4


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of a few rows: every input below spans several blocks and a shorter last one."""
    monkeypatch.setattr(normalization, "_BLOCK_BYTES", 200)


def _close(got, want, tol):
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=tol, atol=tol)


def _inputs(shape, channels, dtype, seed=0, offset=0.0):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * 3 + offset).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    w, b = (rng.standard_normal(channels).astype(dtype) for _ in range(2))
    return x, g, w, b


def _run(lw_fn, torch_fn, torch, arrays, g, tol):
    """Forward and backward (upstream ``g``) through every operand, both libraries; the
    torch side in float64 whatever the inputs' dtype."""
    ours = [lw.Tensor(a, requires_grad=True) if a is not None else None for a in arrays]
    theirs = [torch.tensor(a.astype(np.float64), requires_grad=True) if a is not None else None
              for a in arrays]
    out, want = lw_fn(*ours), torch_fn(*theirs)
    out.backward(g)
    want.backward(torch.tensor(g.astype(np.float64)))
    assert out.dtype == arrays[0].dtype
    _close(out.data, want.detach().numpy(), tol)
    for a, t in zip(ours, theirs):
        if a is not None:
            assert a.grad.dtype == a.dtype
            _close(a.grad, t.grad.numpy(), tol)
    return out


@pytest.mark.parametrize("dtype,tol", [(np.float64, TOL64), (np.float32, TOL32)])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("shape,normalized", [((13, 7), (7,)), ((3, 5, 2, 6), (2, 6))])
def test_layer_norm_matches_torch_over_several_blocks(torch64, small_blocks, dtype, tol,
                                                      affine, shape, normalized):
    torch = torch64
    x, g, w, b = _inputs(shape, normalized, dtype)
    params = (w, b) if affine else (None, None)
    out = _run(lambda x, w, b: lw.F.layer_norm(x, normalized, w, b, eps=1e-3),
               lambda x, w, b: torch.nn.functional.layer_norm(x, normalized, w, b, eps=1e-3),
               torch, (x, *params), g, tol)
    assert out.op == "layer_norm"
    graph = lw.graph.trace(lambda t: lw.F.layer_norm(t, normalized), x)
    assert graph.ops == ["layer_norm"] and "layer_norm" in str(graph)


@pytest.mark.parametrize("dtype,tol", [(np.float64, TOL64), (np.float32, TOL32)])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(11, 5), (9, 4, 3)])
def test_batch_norm_matches_torch_over_several_blocks(torch64, small_blocks, dtype, tol, affine,
                                                      training, shape):
    torch = torch64
    channels = shape[1]
    x, g, w, b = _inputs(shape, channels, dtype)
    stats = np.linspace(-1, 1, channels).astype(dtype), np.linspace(0.5, 2, channels).astype(dtype)
    ours_stats = [s.copy() for s in stats]
    theirs_stats = [torch.tensor(s.astype(np.float64)) for s in stats]
    params = (w, b) if affine else (None, None)
    out = _run(lambda x, w, b: lw.F.batch_norm(x, *ours_stats, w, b, training, 0.3),
               lambda x, w, b: torch.nn.functional.batch_norm(x, *theirs_stats, w, b,
                                                              training, 0.3),
               torch, (x, *params), g, tol)
    assert out.op == "batch_norm"
    for ours, theirs in zip(ours_stats, theirs_stats):
        assert ours.dtype == dtype
        _close(ours, theirs.numpy(), tol)


@pytest.mark.parametrize("momentum", [0.1, None])
@pytest.mark.parametrize("shape", [(10, 4), (6, 4, 5)])
def test_batchnorm1d_running_statistics_follow_torch_over_training_steps(
        torch64, small_blocks, momentum, shape):
    torch = torch64
    ours = nn.BatchNorm1d(4, momentum=momentum, dtype=np.float64)
    theirs = ours.to_torch_modules(torch.nn)[0]
    rng = np.random.default_rng(3)
    for step in range(5):
        x = rng.standard_normal(shape) * (step + 1) + step
        ours(x).backward(np.ones(shape))
        theirs(torch.tensor(x)).sum().backward()
        _close(ours.running_mean, theirs.running_mean.numpy(), TOL64)
        _close(ours.running_var, theirs.running_var.numpy(), TOL64)
        assert int(ours.num_batches_tracked) == int(theirs.num_batches_tracked) == step + 1
    ours.eval()
    theirs.eval()
    x = rng.standard_normal(shape)
    before = ours.running_mean.copy(), int(ours.num_batches_tracked)
    _close(ours(x).data, theirs(torch.tensor(x)).detach().numpy(), TOL64)
    np.testing.assert_array_equal(ours.running_mean, before[0])  # evaluation changes nothing
    assert int(ours.num_batches_tracked) == before[1]


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-9), (np.float32, 2e-3)])
def test_statistics_stay_accurate_when_the_mean_dwarfs_the_spread(torch64, small_blocks, dtype,
                                                                 tol):
    """A mean 10^4 times the standard deviation: the naive E[x^2] - E[x]^2 loses every digit
    in float32; the rules' shifted sums and centred passes do not."""
    torch = torch64
    x, g, _, _ = _inputs((12, 6), 6, dtype, offset=3e4)
    _run(lambda x: lw.F.layer_norm(x, 6), lambda x: torch.nn.functional.layer_norm(x, (6,)),
         torch, (x,), g, tol)
    _run(lambda x: lw.F.batch_norm(x, training=True),
         lambda x: torch.nn.functional.batch_norm(x, None, None, training=True),
         torch, (x,), g, tol)


def test_the_rules_do_every_call_s_work():
    """``lw.compile`` replays primitive rules, not the Python around them: calling a rule
    alone must update the running statistics and draw a new dropout mask."""
    x = np.random.default_rng(0).standard_normal((8, 3))
    mean, var, count = np.zeros(3), np.ones(3), np.zeros(())
    for _ in range(2):
        PRIMITIVES["batch_norm"].rule(x, running_mean=mean, running_var=var,
                                      num_batches_tracked=count, training=True,
                                      momentum=None, eps=1e-5)
    assert count == 2
    np.testing.assert_allclose(mean, x.mean(axis=0))  # momentum None: the average of both
    rng = np.random.default_rng(0)
    first, _ = PRIMITIVES["dropout"].rule(x, p=0.5, rng=rng)
    second, _ = PRIMITIVES["dropout"].rule(x, p=0.5, rng=rng)
    assert not np.array_equal(first, second)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_extremes_and_gradient(dtype):
    x = lw.Tensor(np.arange(1.0, 9.0, dtype=dtype).reshape(2, 4), requires_grad=True)
    assert lw.F.dropout(x, 0.0, rng=0) is x  # p = 0: the identity, nothing drawn
    dropped = lw.F.dropout(x, 1.0, rng=0)
    assert dropped.op == "dropout" and dropped.dtype == dtype
    np.testing.assert_array_equal(dropped.data, np.zeros((2, 4)))
    dropped.backward(np.ones((2, 4), dtype))
    np.testing.assert_array_equal(x.grad, np.zeros((2, 4)))
    x.grad = None
    half = lw.F.dropout(x, 0.5, rng=1)
    half.backward(np.ones((2, 4), dtype))
    # the same stream as ever: a float64 uniform draw of x's shape, kept where >= p
    keep = np.random.default_rng(1).random((2, 4)) >= 0.5
    np.testing.assert_array_equal(half.data, np.where(keep, x.data * 2, 0))
    np.testing.assert_array_equal(x.grad, np.where(keep, 2.0, 0.0))
    assert x.grad.dtype == dtype


def test_dropout_rule_draws_from_the_global_state_when_rng_is_none():
    np.random.seed(5)
    a = lw.F.dropout(np.ones(6), 0.5).data
    np.random.seed(5)
    np.testing.assert_array_equal(lw.F.dropout(np.ones(6), 0.5).data, a)
    np.random.seed(5)
    np.testing.assert_array_equal(a, np.where(np.random.random(6) >= 0.5, 2.0, 0.0))


def test_bad_parameter_shapes_are_named():
    with pytest.raises(ValueError, match="weight of shape \\(3,\\) does not match"):
        lw.F.layer_norm(np.ones((2, 4)), 4, np.ones(3))
    with pytest.raises(ValueError, match="running_var of shape \\(2,\\) does not match the 3"):
        lw.F.batch_norm(np.ones((4, 3)), np.zeros(3), np.ones(2))
    with pytest.raises(ValueError, match="momentum=None"):
        lw.F.batch_norm(np.ones((4, 3)), np.zeros(3), np.ones(3), training=True, momentum=None)
