"""RMSprop trajectories, optimiser state dicts, and the learning-rate schedulers, all against
torch.optim over 30+ steps in float64."""

import json

import numpy as np
import pytest

import layerwise as lw
from layerwise.optim import OPTIMIZERS, SGD, Adam, AdamW, RMSprop
from layerwise.optim import lr_scheduler as sched

torch = pytest.importorskip("torch")

SHAPES = [(3, 4), (1, 4), (5,)]
STEPS = 35


def _params(seed=0):
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s) for s in SHAPES]
    return ([lw.Tensor(a.copy(), requires_grad=True) for a in init],
            [torch.tensor(a.copy(), requires_grad=True) for a in init])


def _gradients(ours, theirs, rng):
    for p, tp in zip(ours, theirs):
        g = rng.standard_normal(p.shape) * p.data + rng.standard_normal(p.shape)
        p.grad = g
        tp.grad = torch.from_numpy(g.copy())


@pytest.mark.parametrize("options", [
    {}, {"momentum": 0.9}, {"centered": True}, {"weight_decay": 0.1, "alpha": 0.9},
    {"momentum": 0.5, "centered": True, "weight_decay": 0.01, "eps": 1e-3},
])
def test_rmsprop_matches_torch(options):
    ours, theirs = _params()
    opt = RMSprop(ours, lr=0.01, **options)
    topt = torch.optim.RMSprop(theirs, lr=0.01, **options)
    rng = np.random.default_rng(1)
    for _ in range(STEPS):
        _gradients(ours, theirs, rng)
        opt.step()
        topt.step()
        for p, tp in zip(ours, theirs):
            np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-10, atol=1e-12)


def _make(name, params):
    return {"sgd": lambda: SGD(params, lr=0.05, momentum=0.9, nesterov=True),
            "adam": lambda: Adam(params, lr=0.01, weight_decay=0.01),
            "adamw": lambda: AdamW(params, lr=0.01),
            "rmsprop": lambda: RMSprop(params, lr=0.01, momentum=0.5, centered=True)}[name]()


@pytest.mark.parametrize("name", ["sgd", "adam", "adamw", "rmsprop"])
def test_state_dict_resumes_bit_for_bit_through_json(name):
    assert set(OPTIMIZERS.names()) >= {"sgd", "adam", "adamw", "rmsprop"}
    ours, _ = _params()
    twin = [lw.Tensor(p.data.copy(), requires_grad=True) for p in ours]
    a, b = _make(name, ours), _make(name, twin)
    rng = np.random.default_rng(2)
    grads = [[rng.standard_normal(p.shape) for p in ours] for _ in range(12)]
    for k, gs in enumerate(grads):
        if k == 6:  # b restarts from a's state (through JSON for the numbers), lr changed
            a.lr = 0.02
            state = a.state_dict()
            meta = json.loads(json.dumps(state["hyperparameters"]))
            b = _make(name, twin)
            b.load_state_dict({**state, "hyperparameters": meta})
            assert b.lr == 0.02
            for p, q in zip(ours, twin):
                q.data[...] = p.data
        for opt, params in ((a, ours), (b, twin)):
            for p, g in zip(params, gs):
                p.grad = g.copy()
            opt.step()
    for p, q in zip(ours, twin):
        np.testing.assert_array_equal(p.data, q.data)


def test_load_state_dict_checks_before_changing_anything():
    ours, _ = _params()
    adam = Adam(ours, lr=0.01)
    with pytest.raises(ValueError, match="the state of 'sgd', not of 'adam'"):
        adam.load_state_dict(SGD(ours, lr=0.1).state_dict())
    state = adam.state_dict()
    state["state"]["exp_avg"][0] = np.zeros((2, 2))
    with pytest.raises(ValueError, match=r"exp_avg\[0\] has shape \(2, 2\)"):
        adam.load_state_dict(state)
    state = adam.state_dict()
    state["state"]["steps"] = state["state"]["steps"][:1]
    with pytest.raises(ValueError, match="one entry for each of the 3 parameters"):
        adam.load_state_dict(state)
    assert adam.lr == 0.01


def test_lr_may_be_zero_never_negative():
    ours, _ = _params()
    for cls in OPTIMIZERS.values():
        opt = cls(ours, lr=0.0)
        opt.lr = 0.0
        with pytest.raises(ValueError, match="lr must be a finite number in"):
            opt.lr = -1e-3
        with pytest.raises(ValueError, match="lr must be a finite number in"):
            opt.lr = float("nan")


# ----------------------------------------------------------------------------- schedulers
SCHEDULES = {
    "StepLR": (lambda o: sched.StepLR(o, step_size=4, gamma=0.5),
               lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=4, gamma=0.5)),
    "ExponentialLR": (lambda o: sched.ExponentialLR(o, gamma=0.9),
                      lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.9)),
    "CosineAnnealingLR": (
        lambda o: sched.CosineAnnealingLR(o, T_max=10, eta_min=0.001),
        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=10, eta_min=0.001)),
    "CosineAnnealingLR(to 0)": (
        lambda o: sched.CosineAnnealingLR(o, T_max=30),
        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=30)),
    "OneCycleLR": (lambda o: sched.OneCycleLR(o, max_lr=0.5, total_steps=40),
                   lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.5,
                                                                 total_steps=40)),
    "OneCycleLR(three_phase, linear)": (
        lambda o: sched.OneCycleLR(o, max_lr=0.5, epochs=4, steps_per_epoch=10,
                                   three_phase=True, anneal_strategy="linear"),
        lambda o: torch.optim.lr_scheduler.OneCycleLR(
            o, max_lr=0.5, epochs=4, steps_per_epoch=10, three_phase=True,
            anneal_strategy="linear")),
}


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("name", list(SCHEDULES))
def test_scheduler_rates_match_torch(name, optimizer):
    ours, theirs = _params()
    make, tmake = SCHEDULES[name]
    if optimizer == "sgd":
        opt, topt = SGD(ours, lr=0.1, momentum=0.9), torch.optim.SGD(theirs, lr=0.1,
                                                                    momentum=0.9)
    else:
        opt, topt = Adam(ours, lr=0.1), torch.optim.Adam(theirs, lr=0.1)
    s, ts = make(opt), tmake(topt)
    rng = np.random.default_rng(3)
    for step in range(40 if "OneCycle" in name else 36):
        assert opt.lr == pytest.approx(topt.param_groups[0]["lr"], rel=1e-12, abs=1e-15), step
        if optimizer == "sgd":
            assert opt.momentum == pytest.approx(topt.param_groups[0]["momentum"], abs=1e-15)
        else:
            assert opt.beta1 == pytest.approx(topt.param_groups[0]["betas"][0], abs=1e-15)
        assert s.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-12, abs=1e-15)
        _gradients(ours, theirs, rng)
        opt.step()
        topt.step()
        if step < 39:
            s.step()
            ts.step()
    for p, tp in zip(ours, theirs):  # and the trajectories under the schedule agree
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("options", [{}, {"mode": "max", "threshold_mode": "abs",
                                          "patience": 2, "cooldown": 2, "min_lr": 0.002}])
def test_reduce_lr_on_plateau_matches_torch(options):
    ours, theirs = _params()
    opt, topt = SGD(ours, lr=0.1), torch.optim.SGD(theirs, lr=0.1)
    s = sched.ReduceLROnPlateau(opt, factor=0.5, **{"patience": 3, **options})
    ts = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, factor=0.5,
                                                    **{"patience": 3, **options})
    metrics = np.concatenate([np.linspace(1, 0.5, 8), np.full(30, 0.5)])
    metrics += np.random.default_rng(0).uniform(0, 1e-3, metrics.size)
    for m in metrics:
        s.step(m)
        ts.step(m)
        assert opt.lr == topt.param_groups[0]["lr"]
    assert opt.lr < 0.1


def test_scheduler_state_dict_resumes_the_sequence():
    ours, _ = _params()
    a_opt = SGD(ours, lr=0.1, momentum=0.9)
    a = sched.OneCycleLR(a_opt, max_lr=1.0, total_steps=30)
    for _ in range(10):
        a.step()
    state = json.loads(json.dumps(a.state_dict()))
    b_opt = SGD(ours, lr=0.1, momentum=0.9)
    b = sched.OneCycleLR(b_opt, max_lr=1.0, total_steps=30)
    b.load_state_dict(state)
    b_opt.load_state_dict(a_opt.state_dict())
    for _ in range(15):
        a.step()
        b.step()
        assert (a_opt.lr, a_opt.momentum) == (b_opt.lr, b_opt.momentum)
    with pytest.raises(ValueError, match="unknown entries"):
        sched.StepLR(SGD(ours, lr=0.1), 2).load_state_dict(state)


def test_scheduler_arguments_are_checked():
    ours, _ = _params()
    opt = SGD(ours, lr=0.1)
    with pytest.raises(ValueError, match="step_size must be a positive integer"):
        sched.StepLR(opt, 0)
    with pytest.raises(ValueError, match="total_steps, or epochs and steps_per_epoch"):
        sched.OneCycleLR(opt, max_lr=0.1)
    with pytest.raises(ValueError, match="factor must be a finite number in"):
        sched.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(TypeError, match="expected an optimiser"):
        sched.StepLR(object(), 1)
