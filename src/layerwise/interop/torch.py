"""``to_torch`` / ``from_torch``: the same network in PyTorch, with the same weights.

The one deliberate layout difference: layerwise's ``W`` is ``(n_in, n_out)`` (the chapter's),
``torch.nn.Linear.weight`` is ``(out, in)``; conversion transposes it.
"""

from __future__ import annotations

import numpy as np

from .. import functional as F
from ..nn import MLP, Dense, Module, Sequential
from ..nn import activation as act

__all__ = ["from_torch", "to_torch"]

# layerwise activation name -> (torch module factory name, kwargs)
_TO_TORCH = {
    "relu": ("ReLU", {}),
    "sigmoid": ("Sigmoid", {}),
    "tanh": ("Tanh", {}),
    "softmax": ("Softmax", {"dim": -1}),
    "log_softmax": ("LogSoftmax", {"dim": -1}),
    "leaky_relu": ("LeakyReLU", {}),
}
_MODULES = {
    act.ReLU: "relu", act.Sigmoid: "sigmoid", act.Tanh: "tanh", act.Softmax: "softmax",
    act.LogSoftmax: "log_softmax", act.LeakyReLU: "leaky_relu",
}


def _torch():
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "lw.interop needs PyTorch: pip install 'layerwise[torch]' (torch==2.13.0)"
        ) from exc
    return torch


def _leaves(model: Module):
    if isinstance(model, MLP):
        return list(model.layers)
    if isinstance(model, Sequential):
        out = []
        for m in model:
            out += _leaves(m)
        return out
    return [model]


def to_torch(model: Module):
    """Return an equivalent ``torch.nn.Sequential`` holding copies of the weights.

    Each ``Dense`` becomes ``Linear`` (weight = W.T, same dtype) followed by its activation
    module; activation modules map one to one.

    >>> import layerwise as lw
    >>> lw.interop.to_torch(lw.MLP([4, 8, 3], rng=0))  # doctest: +SKIP
    Sequential(
      (0): Linear(in_features=4, out_features=8, bias=True)
      (1): ReLU()
      (2): Linear(in_features=8, out_features=3, bias=True)
      (3): Softmax(dim=-1)
    )
    """
    torch = _torch()
    nn = torch.nn
    layers = []
    for m in _leaves(model):
        if isinstance(m, Dense):
            dtype = getattr(torch, m.W.dtype.name)
            linear = nn.Linear(m.n_input, m.n_output, bias=m.b is not None, dtype=dtype)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(m.W.data.T)))
                if m.b is not None:
                    linear.bias.copy_(torch.from_numpy(m.b.data.reshape(-1).copy()))
            layers.append(linear)
            name = m.activation
        elif isinstance(m, act.Identity):
            continue
        elif type(m) in _MODULES:
            name = _MODULES[type(m)]
        else:
            raise TypeError(f"to_torch: no PyTorch equivalent for {m!r}")
        if name == "none":
            continue
        if name not in _TO_TORCH:
            raise TypeError(f"to_torch: no PyTorch equivalent for activation {name!r} in {m!r}")
        cls, kwargs = _TO_TORCH[name]
        if name == "leaky_relu" and isinstance(m, act.LeakyReLU):
            kwargs = {"negative_slope": m.negative_slope}
        elif isinstance(m, (act.Softmax, act.LogSoftmax)):
            kwargs = {"dim": m.axis}
        layers.append(getattr(nn, cls)(**kwargs))
    return nn.Sequential(*layers)


def from_torch(module) -> Sequential:
    """Return a layerwise ``Sequential`` equivalent to a stack of ``Linear`` and activations.

    Each ``Linear`` becomes a ``Dense`` (W = weight.T, in the weight's dtype). An activation
    right after it becomes that Dense's activation when the two mean the same thing
    (softmax over the last axis, LeakyReLU with the default slope); otherwise it is kept as its
    own module (``Softmax(dim=1)`` as ``Softmax(axis=1)``, right for 3-D inputs too).
    ``Identity`` and ``Dropout`` (an identity at inference) are skipped.
    """
    torch = _torch()
    nn = torch.nn
    names = {nn.ReLU: "relu", nn.Sigmoid: "sigmoid", nn.Tanh: "tanh", nn.Softmax: "softmax",
             nn.LogSoftmax: "log_softmax", nn.LeakyReLU: "leaky_relu"}
    flat = [m for m in module.modules() if not list(m.children())]
    out = []
    for m in flat:
        if isinstance(m, nn.Linear):
            weight = m.weight.detach().cpu().numpy()
            dense = Dense(m.in_features, m.out_features, "none", init="zeros",
                          bias=m.bias is not None, dtype=weight.dtype)
            dense.W.data[...] = weight.T
            if m.bias is not None:
                dense.b.data[...] = m.bias.detach().cpu().numpy().reshape(1, -1)
            out.append(dense)
        elif type(m) in names:
            name = names[type(m)]
            dim = getattr(m, "dim", None)
            axis = -1 if dim is None else dim
            slope = getattr(m, "negative_slope", 0.01)
            previous = out[-1] if out else None
            if (axis == -1 and slope == 0.01 and isinstance(previous, Dense)
                    and previous.activation == "none"):
                previous.activation, previous._activation = F.get_activation(name)
            elif name in ("softmax", "log_softmax"):
                out.append((act.Softmax if name == "softmax" else act.LogSoftmax)(axis=axis))
            elif name == "leaky_relu":
                out.append(act.LeakyReLU(slope))
            else:
                out.append({"relu": act.ReLU, "sigmoid": act.Sigmoid, "tanh": act.Tanh}[name]())
        elif isinstance(m, (nn.Identity, nn.Dropout)):
            continue
        else:
            raise TypeError(f"from_torch: no layerwise equivalent for {m!r}")
    return Sequential(*out)
