"""More of the registries' contract (beside ``test_registries.py``), for issue 10's catalogue:
every module row converts to PyTorch *and back* with its buffers, in training and evaluation
modes; every optimiser's state dict resumes it exactly and its trajectory equals torch.optim's.
Read from the declarations and ``module_catalogue.py`` alone: a new entry is tested here with
no code of its own.
"""

import json

import numpy as np
import pytest
from module_catalogue import MODULES as MODULE_ROWS

import layerwise as lw
from layerwise.optim import OPTIMIZERS

F64 = np.float64


def _x(shape, seed=0):
    return np.random.default_rng(seed).uniform(-2, 2, shape)


def _cases():
    cases = [(name, make, shape) for name, (make, shape) in sorted(MODULE_ROWS.items())]
    cases += [(f"MLP(dropout, norm={norm})",
               lambda dtype, norm=norm: lw.MLP([4, 6, 3], rng=0, dtype=dtype, dropout=0.2,
                                               norm=norm), (5, 4)) for norm in ("batch", "layer")]
    cases += [(d.module or d.name,
               lambda dtype, d=d: getattr(lw.nn, d.module)() if d.module
               else lw.nn.Activation(d.name), (5, 4))
              for d in lw.F.ACTIVATIONS.declarations() if d.builtin]
    return cases


CASES = _cases()


@pytest.mark.parametrize(("name", "make", "shape"), CASES, ids=[c[0] for c in CASES])
def test_module_converts_to_pytorch_and_back(name, make, shape, torch64):
    from layerwise.interop import from_torch, to_torch

    module = make(F64)
    if isinstance(module, lw.nn.Activation) and module.declaration.torch is None:
        with pytest.raises(ValueError, match="names no PyTorch counterpart"):
            to_torch(module)
        return
    for p in module.parameters():
        p.data[...] = np.random.default_rng(1).normal(size=p.shape)
    x = _x(shape)
    module.train()(x)  # running statistics move off their initial values
    theirs = to_torch(module)
    back = from_torch(theirs)
    returned = [b for _, b in back.named_buffers()]
    if returned:  # (a Standardize comes back as the Linear it converts to: no buffers)
        for a, b in zip([b for _, b in module.named_buffers()], returned, strict=True):
            np.testing.assert_array_equal(a, b)
    if not any(isinstance(m, torch64.nn.Dropout) for m in theirs.modules()):
        np.testing.assert_allclose(theirs.train()(torch64.tensor(x)).detach().numpy(),
                                   module.train()(x).data, rtol=1e-10, atol=1e-12)
    want = theirs.eval()(torch64.tensor(x)).detach().numpy()
    np.testing.assert_allclose(module.predict(x), want, rtol=1e-10, atol=1e-12)
    back = from_torch(theirs)  # after training-mode steps on both sides
    np.testing.assert_allclose(back.predict(x), want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("decl", [d for d in OPTIMIZERS.declarations() if d.builtin],
                         ids=[d.name for d in OPTIMIZERS.declarations() if d.builtin])
def test_optimizer_state_dict_and_trajectory(decl, torch64):
    rng = np.random.default_rng(0)
    init = [rng.standard_normal((3, 4)), rng.standard_normal(4)]
    ours = [lw.Tensor(a.copy(), requires_grad=True) for a in init]
    twin = [lw.Tensor(a.copy(), requires_grad=True) for a in init]
    theirs = [torch64.tensor(a.copy(), requires_grad=True) for a in init]
    opt, other = decl.obj(ours, lr=0.01), decl.obj(twin, lr=0.5)
    topt = getattr(torch64.optim, decl.obj.__name__)(theirs, lr=0.01)
    assert repr(opt).startswith(decl.obj.__name__)
    for step in range(32):
        if step == 16:  # the twin takes over the state mid-way, through JSON for the numbers
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
        topt.step()
        if step >= 16:
            other.step()
    for p, q, tp in zip(ours, twin, theirs):
        np.testing.assert_array_equal(p.data, q.data)
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-10, atol=1e-12)
