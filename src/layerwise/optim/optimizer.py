"""``Optimizer``: the parameter list, validated hyper-parameters and ``zero_grad``.

Subclasses implement ``step()``. Hyper-parameters are declared with :class:`hyperparameter`,
which validates every assignment (at construction and later, e.g. a learning-rate schedule
setting ``opt.lr``) and drops the precomputed per-step constants so that ``step`` rebuilds
them once. That keeps the per-step Python work to one loop over the parameters.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ..autodiff.tensor import Tensor
from ..registry import Registry

__all__ = ["OPTIMIZERS", "Optimizer", "hyperparameter"]

OPTIMIZERS: Registry = Registry("optimizer")
"""Every optimiser class by name (``'sgd'``, ``'adam'``, ...): what ``--optimizer`` offers.
A subclass declares itself with its name: ``class SGD(Optimizer, name="sgd")``."""


class hyperparameter:
    """A validated optimiser setting: ``hyperparameter(low, high, low_open, high_open)``.

    Assigning a value outside the interval (or a nan, an inf, a bool, a non-number) raises
    ``ValueError``/``TypeError`` naming the optimiser and the setting.
    """

    def __init__(self, low: float = 0.0, high: float = math.inf, *, low_open: bool = False,
                 high_open: bool = True):
        self.low, self.high, self.low_open, self.high_open = low, high, low_open, high_open

    def __set_name__(self, owner, name):
        self.name = name
        self.attr = "_" + name

    def __get__(self, obj, owner=None):
        return self if obj is None else getattr(obj, self.attr)

    def __set__(self, obj, value):
        where = f"{type(obj).__name__}: {self.name}"
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{where} must be a real number, got {value!r}")
        value = float(value)
        low_ok = value > self.low if self.low_open else value >= self.low
        high_ok = value < self.high if self.high_open else value <= self.high
        if not (math.isfinite(value) and low_ok and high_ok):
            interval = ("(" if self.low_open else "[") + f"{self.low:g}, {self.high:g}" + (
                ")" if self.high_open else "]")
            raise ValueError(f"{where} must be a finite number in {interval}, got {value!r}")
        setattr(obj, self.attr, value)
        obj._constants = None


class Optimizer:
    """Base class: holds ``params`` (a list of Tensors) and clears their gradients.

    Args:
        params: an iterable of parameter Tensors, e.g. ``model.parameters()``.

    A parameter whose ``.grad`` is None at ``step()`` is left unchanged (as in PyTorch).
    Updates are made in place on ``p.data``, which must keep its shape and dtype.
    """

    _constants: list | None = None

    def __init_subclass__(cls, name: str | None = None, **kwargs):
        super().__init_subclass__(**kwargs)
        if name is not None:
            OPTIMIZERS.add(name, cls, builtin=cls.__module__.startswith("layerwise.optim."))

    def __init__(self, params):
        self.params = _parameter_list(params, type(self).__name__)

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to None (PyTorch's default, ``set_to_none=True``)."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define step()")

    def _scratch(self):
        """One work array per parameter, allocated once (the per-step rules need temporaries)."""
        return [np.empty_like(p.data) for p in self.params]

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        n = sum(p.data.size for p in self.params)
        return f"{type(self).__name__}({self.extra_repr()}; {len(self.params)} tensors, {n} values)"


def _parameter_list(params, owner: str) -> list:
    """Check ``params`` and return it as a list of distinct floating leaf Tensors."""
    if isinstance(params, Tensor) or hasattr(params, "named_parameters"):
        raise TypeError(
            f"{owner}: params must be an iterable of Tensors, got a {type(params).__name__}; "
            "pass model.parameters()"
        )
    try:
        params = list(params)
    except TypeError:
        raise TypeError(
            f"{owner}: params must be an iterable of Tensors, got {type(params).__name__}"
        ) from None
    if not params:
        raise ValueError(f"{owner}: got an empty parameter list (does the model have layers?)")
    seen = set()
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{owner}: params[{i}] is a {type(p).__name__}, not a Tensor")
        if p.data.dtype.kind != "f":
            raise ValueError(f"{owner}: params[{i}] has dtype {p.data.dtype}; only floating "
                             "tensors can be optimised")
        if not p.is_leaf:
            raise ValueError(f"{owner}: params[{i}] is computed by op {p.op!r}; only leaf "
                             "tensors (parameters) can be optimised")
        if id(p) in seen:
            raise ValueError(f"{owner}: params[{i}] appears more than once in the list")
        seen.add(id(p))
    return params
