"""Optimisers: trajectories equal torch.optim's in float64, in place, validated settings."""

import itertools
import tracemalloc

import numpy as np
import pytest

import layerwise as lw
from layerwise.optim import SGD, Adam, AdamW

torch = pytest.importorskip("torch")

SHAPES = [(3, 4), (1, 4), (4, 2), (1, 2), (5,)]
STEPS = 7


def run_both(make_lw, make_torch, schedule=None, skip=None):
    """Run both optimisers on the same gradients g_k = A_k * p + B_k and compare every step.

    ``skip[k]`` lists parameters left without a gradient at step k; ``schedule[k]`` a new lr.
    """
    rng = np.random.default_rng(0)
    init = [rng.standard_normal(s) for s in SHAPES]
    ours = [lw.Tensor(a.copy(), requires_grad=True) for a in init]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    opt, topt = make_lw(ours), make_torch(theirs)
    for k in range(STEPS):
        if schedule and k in schedule:
            opt.lr = schedule[k]
            for group in topt.param_groups:
                group["lr"] = schedule[k]
        opt.zero_grad()
        topt.zero_grad()
        for i, (p, tp) in enumerate(zip(ours, theirs)):
            if skip and i in skip.get(k, ()):
                continue
            a, b = rng.standard_normal(p.shape), rng.standard_normal(p.shape)
            g = a * p.data + b
            p.grad = g
            tp.grad = torch.from_numpy(g.copy())
        opt.step()
        topt.step()
        for i, (p, tp) in enumerate(zip(ours, theirs)):
            np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=0, atol=1e-10,
                                       err_msg=f"step {k}, parameter {i}")
    return ours


SGD_OPTIONS = [
    {"momentum": m, "dampening": d, "nesterov": n, "weight_decay": w}
    for m, d, n, w in itertools.product([0.0, 0.9], [0.0, 0.3], [False, True], [0.0, 0.1])
    if not (n and (m == 0 or d != 0))
]


@pytest.mark.parametrize("options", SGD_OPTIONS, ids=str)
def test_sgd_matches_torch(options):
    run_both(lambda ps: SGD(ps, lr=0.05, **options),
             lambda ps: torch.optim.SGD(ps, lr=0.05, **options))


@pytest.mark.parametrize("cls, tcls", [(Adam, "Adam"), (AdamW, "AdamW")])
@pytest.mark.parametrize("options", [
    {}, {"weight_decay": 0.1}, {"betas": (0.5, 0.9), "eps": 1e-6},
    {"betas": (0.0, 0.0), "weight_decay": 0.3},
], ids=str)
def test_adam_family_matches_torch(cls, tcls, options):
    run_both(lambda ps: cls(ps, lr=0.01, **options),
             lambda ps: getattr(torch.optim, tcls)(ps, lr=0.01, **options))


@pytest.mark.parametrize("make", [
    (lambda ps: SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
     lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    (lambda ps: Adam(ps, lr=0.1, weight_decay=0.01),
     lambda ps: torch.optim.Adam(ps, lr=0.1, weight_decay=0.01)),
    (lambda ps: AdamW(ps, lr=0.1), lambda ps: torch.optim.AdamW(ps, lr=0.1)),
], ids=["sgd", "adam", "adamw"])
def test_missing_gradients_and_lr_schedule_match_torch(make):
    # parameters without a gradient are skipped (Adam's per-parameter step count stays put),
    # and a learning rate changed between steps takes effect at the next step
    run_both(*make, schedule={2: 0.03, 5: 0.2}, skip={0: [1, 4], 1: [1], 3: [0, 2, 3], 4: [4]})


@pytest.mark.parametrize("make", [
    lambda ps: SGD(ps, lr=0.1),
    lambda ps: SGD(ps, lr=0.1, momentum=0.9, dampening=0.5, weight_decay=0.1),
    lambda ps: SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1),
    lambda ps: Adam(ps, weight_decay=0.1),
    lambda ps: AdamW(ps),
], ids=["sgd", "sgd-momentum", "sgd-nesterov", "adam", "adamw"])
def test_updates_in_place_and_keep_float32(make):
    net = lw.MLP([4, 8, 3], output_activation="none", rng=0)
    arrays = [p.data for p in net.parameters()]
    before = [a.copy() for a in arrays]
    opt = make(net.parameters())
    for _ in range(2):
        opt.zero_grad()
        lw.F.cross_entropy(np.array([0, 2]), net(np.ones((2, 4)))).backward()
        grads = [p.grad.copy() for p in net.parameters()]
        opt.step()
        for p, g in zip(net.parameters(), grads):
            np.testing.assert_array_equal(p.grad, g)  # gradients are not modified
    for p, a, b in zip(net.parameters(), arrays, before):
        assert p.data is a and a.dtype == np.float32 and not np.array_equal(a, b)


@pytest.mark.parametrize("make", [
    lambda ps: SGD(ps, lr=0.1),
    lambda ps: SGD(ps, lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.1),
    lambda ps: SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1),
    lambda ps: Adam(ps, weight_decay=0.1),
    lambda ps: AdamW(ps),
], ids=["sgd", "sgd-momentum", "sgd-nesterov", "adam", "adamw"])
def test_step_allocates_no_parameter_sized_arrays(make):
    p = lw.Tensor(np.zeros((500, 500)), requires_grad=True)   # 2 MB
    p.grad = np.ones((500, 500))
    opt = make([p])
    opt.step()
    opt.step()  # buffers exist now
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        opt.step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < p.data.nbytes // 4


def test_zero_grad_sets_none_and_none_grads_are_skipped():
    a = lw.Tensor(np.ones(3), requires_grad=True)
    b = lw.Tensor(np.ones(3), requires_grad=True)
    opt = SGD([a, b], lr=0.5, momentum=0.9)
    a.grad = np.ones(3)
    opt.step()
    np.testing.assert_array_equal(a.data, 0.5)
    np.testing.assert_array_equal(b.data, 1.0)
    opt.zero_grad()
    assert a.grad is None and b.grad is None


@pytest.mark.parametrize("kwargs, message", [
    ({"lr": float("nan")}, "SGD: lr must be a finite number in [0, inf)"),
    ({"lr": float("inf")}, "lr must be a finite number"),
    ({"lr": -1e-9}, "got -1e-09"),
    ({"lr": -1}, "got -1.0"),
    ({"lr": 0.1, "momentum": 1.0}, "momentum must be a finite number in [0, 1)"),
    ({"lr": 0.1, "momentum": -0.1}, "momentum"),
    ({"lr": 0.1, "dampening": 1.5}, "dampening must be a finite number in [0, 1]"),
    ({"lr": 0.1, "weight_decay": -1e-3}, "weight_decay"),
    ({"lr": 0.1, "nesterov": True}, "nesterov=True needs momentum > 0 and dampening = 0"),
    ({"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "nesterov": True}, "dampening = 0"),
])
def test_sgd_rejects_bad_settings(kwargs, message):
    with pytest.raises(ValueError) as err:
        SGD([lw.Tensor(np.ones(2), requires_grad=True)], **kwargs)
    assert message in str(err.value)


@pytest.mark.parametrize("kwargs, message", [
    ({"lr": float("nan")}, "Adam: lr must be a finite number"),
    ({"betas": (1.0, 0.9)}, "beta1 must be a finite number in [0, 1)"),
    ({"betas": (0.9, float("nan"))}, "beta2"),
    ({"betas": 0.9}, "betas must be a pair"),
    ({"eps": 0.0}, "eps must be a finite number in (0, inf)"),
    ({"weight_decay": float("inf")}, "weight_decay"),
])
def test_adam_rejects_bad_settings(kwargs, message):
    with pytest.raises(ValueError) as err:
        Adam([lw.Tensor(np.ones(2), requires_grad=True)], **kwargs)
    assert message in str(err.value)


def test_settings_are_checked_when_changed_later():
    opt = Adam([lw.Tensor(np.ones(2), requires_grad=True)])
    with pytest.raises(ValueError, match="lr"):
        opt.lr = float("nan")
    with pytest.raises(TypeError, match="lr must be a real number"):
        opt.lr = "0.1"
    with pytest.raises(TypeError, match="real number"):
        opt.lr = True


@pytest.mark.parametrize("params, error, message", [
    ([], ValueError, "empty parameter list"),
    ("model", TypeError, "pass model.parameters()"),
    ("tensor", TypeError, "iterable of Tensors"),
    ([np.ones(2)], TypeError, "params[0] is a ndarray, not a Tensor"),
    ("twice", ValueError, "params[1] appears more than once"),
    ("ints", ValueError, "only floating tensors"),
    ("computed", ValueError, "only leaf tensors"),
    (3, TypeError, "iterable of Tensors, got int"),
])
def test_rejects_bad_parameter_lists(params, error, message):
    t = lw.Tensor(np.ones(2), requires_grad=True)
    params = {
        "model": lw.MLP([2, 2], rng=0), "tensor": t, "twice": [t, t],
        "ints": [lw.Tensor(np.ones(2, dtype=int))], "computed": [t * 2],
    }.get(params, params) if isinstance(params, str) else params
    with pytest.raises(error) as err:
        SGD(params, lr=0.1)
    assert message in str(err.value)


def test_repr_names_settings():
    p = [lw.Tensor(np.ones((2, 3)), requires_grad=True)]
    assert repr(SGD(p, lr=0.1, momentum=0.9, nesterov=True)) == (
        "SGD(lr=0.1, momentum=0.9, nesterov=True; 1 tensors, 6 values)")
    assert "weight_decay=0.01" in repr(AdamW(p))


def test_docstring_examples():
    import doctest

    from layerwise.optim import adam, sgd
    for module in (lw.optim, sgd, adam):
        assert doctest.testmod(module).failed == 0
