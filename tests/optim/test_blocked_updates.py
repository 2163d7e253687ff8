"""Block-by-block optimiser updates: bit for bit the whole-array formula, and no allocation.

The optimisers update each parameter in cache-sized blocks along its leading axis with
preallocated scratch (``lw.optim.optimizer.BLOCK_BYTES``). The oracle here is each update rule
written out as plain whole-array NumPy expressions (the docstrings' formulas); shapes are
chosen so that blocks do not divide them evenly, at the default block size and at a tiny one.
"""

import tracemalloc

import numpy as np
import pytest

import layerwise as lw
from layerwise.optim import SGD, Adam, AdamW, RMSprop, lr_scheduler
from layerwise.optim import optimizer as optimizer_module

# 3000 rows of 37 split unevenly at 256 KiB (1771 float32 / 885 float64 rows a block)
SHAPES = [(3000, 37), (1, 37), (70001,), (3, 5)]
STEPS = 4


def sgd_formula(p, g, state, t, lr, momentum=0.0, weight_decay=0.0, nesterov=False,
                dampening=0.0):
    if weight_decay:
        g = g + weight_decay * p
    if momentum:
        b = g.copy() if t == 1 else momentum * state["b"] + (1 - dampening) * g
        state["b"] = b
        g = g + momentum * b if nesterov else b
    return p - lr * g


def adam_formula(p, g, state, t, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 decoupled=False):
    beta1, beta2 = betas
    if decoupled:
        p = p * (1 - lr * weight_decay)
    elif weight_decay:
        g = g + weight_decay * p
    m = state.get("m", np.zeros_like(p))
    v = state.get("v", np.zeros_like(p))
    m = m + (1 - beta1) * (g - m)
    v = beta2 * v + (1 - beta2) * (g * g)
    state["m"], state["v"] = m, v
    denom = np.sqrt(v) / (1 - beta2**t) ** 0.5 + eps
    return p + (m / denom) * (-lr / (1 - beta1**t))


def rmsprop_formula(p, g, state, t, lr, alpha=0.99, eps=1e-8, momentum=0.0, weight_decay=0.0,
                    centered=False):
    if weight_decay:
        g = g + weight_decay * p
    v = alpha * state.get("v", np.zeros_like(p)) + (1 - alpha) * (g * g)
    state["v"] = v
    if centered:
        m = state.get("m", np.zeros_like(p))
        m = m + (1 - alpha) * (g - m)
        state["m"] = m
        d = np.sqrt(v - m * m) + eps
    else:
        d = np.sqrt(v) + eps
    if momentum:
        b = momentum * state.get("b", np.zeros_like(p)) + g / d
        state["b"] = b
        return p - lr * b
    return p - lr * (g / d)


CASES = {
    "sgd": (SGD, sgd_formula, {"lr": 0.1}),
    "sgd-momentum": (SGD, sgd_formula, {"lr": 0.1, "momentum": 0.9}),
    "sgd-dampening-decay": (SGD, sgd_formula,
                            {"lr": 0.1, "momentum": 0.8, "dampening": 0.3,
                             "weight_decay": 0.01}),
    "sgd-nesterov": (SGD, sgd_formula, {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    "sgd-nesterov-decay": (SGD, sgd_formula,
                           {"lr": 0.1, "momentum": 0.9, "nesterov": True,
                            "weight_decay": 0.05}),
    "adam": (Adam, adam_formula, {"lr": 0.01}),
    "adam-l2": (Adam, adam_formula, {"lr": 0.01, "weight_decay": 0.1}),
    "adamw": (AdamW, lambda *a, **k: adam_formula(*a, decoupled=True, **k),
              {"lr": 0.01, "weight_decay": 0.1}),
    "rmsprop": (RMSprop, rmsprop_formula, {"lr": 0.01}),
    "rmsprop-all": (RMSprop, rmsprop_formula,
                    {"lr": 0.01, "momentum": 0.9, "weight_decay": 0.01, "centered": True}),
    "rmsprop-momentum": (RMSprop, rmsprop_formula, {"lr": 0.01, "momentum": 0.5}),
}


@pytest.mark.parametrize("block_bytes", [None, 1000])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", sorted(CASES))
def test_blocked_update_equals_the_formula_bit_for_bit(case, dtype, block_bytes, monkeypatch):
    if block_bytes is not None:  # many uneven blocks, on every shape
        monkeypatch.setattr(optimizer_module, "BLOCK_BYTES", block_bytes)
    make, formula, kwargs = CASES[case]
    rng = np.random.default_rng(1)
    params = [lw.Tensor(rng.standard_normal(s).astype(dtype), requires_grad=True)
              for s in SHAPES]
    expected = [p.data.copy() for p in params]
    states = [{} for _ in params]
    opt = make(params, **kwargs)
    if block_bytes is not None:
        assert len(opt._plan_blocks[0]) > 10  # the test really cuts the parameter
    assert len(opt._plan_blocks[0]) > 1  # the first parameter is cut even by default
    for t in range(1, STEPS + 1):
        for i, p in enumerate(params):
            p.grad = rng.standard_normal(p.shape).astype(dtype)
            expected[i] = formula(expected[i], p.grad, states[i], t, **kwargs)
        opt.step()
        for p, want in zip(params, expected):
            assert p.data.dtype == dtype
            np.testing.assert_array_equal(p.data, want, strict=True)


SCHEDULES = {
    "step": lambda opt: lr_scheduler.StepLR(opt, step_size=3, gamma=0.5),
    "exponential": lambda opt: lr_scheduler.ExponentialLR(opt, gamma=0.99),
    "cosine": lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=50),
    "one-cycle": lambda opt: lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=1000),
    "plateau": lambda opt: lr_scheduler.ReduceLROnPlateau(opt, patience=2),
}
OPTIMISERS = {
    "sgd": lambda ps: SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    "adam": lambda ps: Adam(ps, lr=0.01, weight_decay=0.01),
    "adamw": lambda ps: AdamW(ps, lr=0.01),
    "rmsprop": lambda ps: RMSprop(ps, lr=0.01, momentum=0.9, centered=True, weight_decay=0.1),
}


@pytest.mark.parametrize("schedule", sorted(SCHEDULES))
@pytest.mark.parametrize("name", sorted(OPTIMISERS))
def test_steps_allocate_nothing_that_grows_or_is_parameter_sized(name, schedule):
    rng = np.random.default_rng(0)
    params = [lw.Tensor(rng.standard_normal(s), requires_grad=True) for s in
              [(400, 300), (1, 300), (20000,)]]
    for p in params:
        p.grad = rng.standard_normal(p.shape) * 1e-3
    opt = OPTIMISERS[name](params)
    sched = SCHEDULES[schedule](opt)

    def run(steps):
        for k in range(steps):
            opt.step()
            if schedule == "plateau":
                sched.step(1.0 / (k + 1))
            else:
                sched.step()

    run(5)  # state allocated at the first step, plans built
    tracemalloc.start()
    try:
        run(20)
        after_few, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        run(200)
        after_many, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert after_many - after_few < 2048  # nothing accumulates with the step count
    assert peak - after_few < 64 * 1024  # no temporary of a parameter's size (960 KB)


@pytest.mark.parametrize("name", [*sorted(OPTIMISERS), "plain sgd"])
def test_a_parameter_given_a_new_shape_is_an_error_not_a_partial_update(name):
    p = lw.Tensor(np.ones((20000, 3)), requires_grad=True)  # cut into blocks
    opt = SGD([p], lr=0.1) if name == "plain sgd" else OPTIMISERS[name]([p])
    p.data = np.ones((30000, 3))
    p.grad = np.ones((30000, 3))
    with pytest.raises(ValueError, match=r"params\[0\]\.data has shape \(30000, 3\), but the "
                                         r"optimiser was made for \(20000, 3\)"):
        opt.step()


def test_a_gradient_of_another_shape_is_an_error_before_anything_changes():
    p = lw.Tensor(np.ones((20000, 3)), requires_grad=True)
    opt = SGD([p], lr=0.1)
    p.grad = np.ones((1, 3))  # would broadcast over the first block only
    with pytest.raises(ValueError, match=r"params\[0\]\.grad has shape \(1, 3\)"):
        opt.step()
    np.testing.assert_array_equal(p.data, 1.0)
