"""``to_torch`` / ``from_torch``: the same network in PyTorch, with the same weights.

The one deliberate layout difference: layerwise's ``W`` is ``(n_in, n_out)`` (the chapter's),
``torch.nn.Linear.weight`` is ``(out, in)``; conversion transposes it.
"""

from __future__ import annotations

from ..nn import MODULES, Module, Sequential
from ..nn.container import append_folded

__all__ = ["from_torch", "to_torch"]


def _torch():
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "lw.interop needs PyTorch: pip install 'layerwise[torch]'"
        ) from exc
    return torch


def to_torch(model: Module):
    """Return an equivalent ``torch.nn.Sequential`` holding copies of the weights.

    Each module gives its own PyTorch form (``Module.to_torch_modules``): a ``Dense`` becomes
    ``Linear`` (weight = W.T, same dtype) followed by its activation's module, an activation
    module the ``torch.nn`` class its declaration names. A module with no PyTorch form raises
    ``ValueError`` naming it.

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
    if not isinstance(model, Module):
        raise TypeError(f"to_torch: expected a lw.nn.Module, got {type(model).__name__}")
    return torch.nn.Sequential(*model.to_torch_modules(torch.nn))


def _converters() -> dict:
    """``torch.nn`` class name -> the registered layerwise class converting from it."""
    return {name: cls for cls in MODULES.values() for name in cls.torch_counterparts()}


def from_torch(module) -> Sequential:
    """Return a layerwise ``Sequential`` equivalent to a PyTorch stack of layers.

    Each leaf module becomes the registered layerwise module that declares it as its
    counterpart: ``Linear`` a ``Dense`` (W = weight.T, in the weight's dtype), an activation
    the module of the activation declaring it. An activation right after a ``Linear`` becomes
    that Dense's activation when it has its default settings (softmax over the last axis);
    otherwise it stays a module of its own (``Softmax(dim=1)`` as ``Softmax(axis=1)``).

    Only what converts faithfully does: the forward (read with ``torch.fx``) must call leaf
    layers one after another, each once, like a ``torch.nn.Sequential`` or the chapter's
    ``SimpleNetwork``. A function call such as ``torch.tanh``, a branch, a layer used twice
    (shared weights) or a layer without a counterpart raises ``ValueError`` naming it.
    """
    torch = _torch()
    leaves = _traced_leaves(torch, module)
    converters = _converters()
    out: list = []
    for where, m in leaves:
        cls = converters.get(type(m).__name__)
        if cls is None:
            raise ValueError(f"from_torch: {where} ({m!r}) has no layerwise counterpart; "
                             f"known: {', '.join(sorted(converters))}")
        append_folded(out, cls.from_torch_module(m))
    return Sequential(*out)


def _traced_leaves(torch, module) -> list:
    """``(dotted name, leaf module)`` in the order ``module``'s forward calls them.

    Read from ``torch.fx``'s trace of the forward, so a custom module converts only when its
    forward is a plain chain of layer calls; a function call (``torch.tanh``), a method call,
    a branch or a layer used twice (shared weights) raises ``ValueError`` naming it.
    """
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"from_torch: expected a torch.nn.Module, got {type(module).__name__}")
    try:
        traced = torch.fx.symbolic_trace(module)
    except Exception as err:  # noqa: BLE001 - any tracing failure means: not a plain chain
        raise ValueError(f"from_torch: cannot read the forward of {type(module).__name__} "
                         f"({type(err).__name__}: {err}); convert a torch.nn.Sequential"
                         ) from None
    modules = dict(traced.named_modules())
    leaves, seen, previous = [], set(), None
    for node in traced.graph.nodes:
        if node.op == "placeholder":
            if previous is not None:
                raise ValueError(f"from_torch: {type(module).__name__} takes several inputs")
            previous = node
        elif node.op == "call_module" and node.args == (previous,) and not node.kwargs:
            if node.target in seen:
                raise ValueError(f"from_torch: module.{node.target} is called twice (shared "
                                 "weights), which layerwise would make two independent layers")
            seen.add(node.target)
            leaves.append((f"module.{node.target}", modules[node.target]))
            previous = node
        elif node.op == "output" and node.args == (previous,):
            break
        else:
            what = getattr(node.target, "__name__", node.target)
            raise ValueError(
                f"from_torch: the forward of {type(module).__name__} does more than call its "
                f"layers one after another ({node.op} {what}); only such chains convert "
                "faithfully")
    return leaves
