"""``Optimizer``: the parameter list, validated hyper-parameters, ``zero_grad`` and state dicts.

Subclasses implement ``step()``. Hyper-parameters are declared with :class:`hyperparameter`,
which validates every assignment (at construction and later, e.g. a learning-rate schedule
setting ``opt.lr``) and drops the precomputed per-step constants so that ``step`` rebuilds
them once. That keeps the per-step Python work to one loop over the parameters.

Updates run block by block along each parameter's leading axis (blocks of about
``BLOCK_BYTES``): the few temporaries an update rule needs are then block-sized scratch
arrays, allocated once, that stay in the core's cache, so a step reads and writes each
parameter, gradient and state array once instead of once per arithmetic operation, and
allocates nothing. Every element still goes through the same operations in the same order,
so the result is bit for bit the whole-array formula's.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ..autodiff.tensor import Tensor
from ..registry import Registry

__all__ = ["BLOCK_BYTES", "OPTIMIZERS", "Optimizer", "hyperparameter"]

BLOCK_BYTES = 256 * 1024
"""The size of one update block: with its handful of scratch and state blocks it fits a
core's L2 cache (1-2 MiB on current CPUs); much smaller blocks cost Python time per block."""

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

    # ------------------------------------------------------------------- state dicts
    _state_names: tuple = ()  # per-parameter state lists (arrays, None or step counts)
    _settings: tuple = ()  # settings that are not hyperparameters (``nesterov``, ...)

    def _hyperparameter_names(self) -> list:
        return [name for klass in reversed(type(self).__mro__)
                for name, value in vars(klass).items() if isinstance(value, hyperparameter)]

    def state_dict(self) -> dict:
        """The optimiser's whole state: ``{"optimizer": name, "hyperparameters": {...},
        "state": {name: [one entry per parameter]}}``.

        Hyperparameters (``lr`` included) and step counts are JSON-able numbers; the state
        entries are ndarray copies, or None where nothing was accumulated yet. As PyTorch's, it
        names no parameters: it belongs to an optimiser over the same parameter list.

        >>> import numpy as np, layerwise as lw
        >>> w = lw.Tensor(np.ones(2), requires_grad=True)
        >>> lw.optim.SGD([w], lr=0.1, momentum=0.9).state_dict()["hyperparameters"]["lr"]
        0.1
        """
        values = {name: getattr(self, name) for name in self._hyperparameter_names()}
        values.update((name, getattr(self, name)) for name in self._settings)
        state = {name: [v.copy() if isinstance(v, np.ndarray) else v
                        for v in getattr(self, name)] for name in self._state_names}
        return {"optimizer": OPTIMIZERS.name_of(type(self)) or type(self).__name__,
                "hyperparameters": values, "state": state}

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict`'s result (learning rate included, as PyTorch does).

        Everything is checked before anything changes: the optimiser's kind, one entry per
        parameter, each array's shape; arrays are copied in each parameter's dtype.
        """
        where = f"{type(self).__name__}.load_state_dict"
        name = OPTIMIZERS.name_of(type(self)) or type(self).__name__
        if not isinstance(state, dict) or state.get("optimizer") != name:
            got = state.get("optimizer") if isinstance(state, dict) else type(state).__name__
            raise ValueError(f"{where}: this is the state of {got!r}, not of {name!r}")
        lists = state.get("state", {})
        loaded = {}
        for key in self._state_names:
            entries = lists.get(key)
            if not isinstance(entries, list) or len(entries) != len(self.params):
                raise ValueError(f"{where}: state {key!r} must hold one entry for each of the "
                                 f"{len(self.params)} parameters")
            loaded[key] = [_state_entry(v, p, f"{where}: {key}[{i}]")
                           for i, (v, p) in enumerate(zip(entries, self.params))]
        values = state.get("hyperparameters", {})
        unknown = set(values) - set(self._hyperparameter_names()) - set(self._settings)
        if unknown:
            raise ValueError(f"{where}: unknown settings {sorted(unknown)}")
        for key, value in values.items():
            setattr(self, key, value)
        for key, entries in loaded.items():
            setattr(self, key, entries)
        self._constants = None  # the per-step plan holds the old arrays

    def _scratch(self):
        """One block-sized work array per parameter, allocated once (the update rules need
        temporaries); a parameter that fits one block gets one of its own shape."""
        return [np.empty((len(p.data) if cuts is None else cuts[0].stop, *p.data.shape[1:]),
                         p.data.dtype) if p.data.ndim else np.empty_like(p.data)
                for p, cuts in zip(self.params, self._block_slices())]

    def _block_slices(self) -> list:
        """For each parameter, slices of its leading axis cutting it into blocks of about
        ``BLOCK_BYTES``, or None where the whole parameter is one block."""
        slices = []
        for p in self.params:
            shape, rows = p.data.shape, 0
            if shape:
                row_bytes = p.data.itemsize * math.prod(shape[1:])
                rows = max(1, BLOCK_BYTES // max(row_bytes, 1))
            slices.append(tuple(slice(start, min(start + rows, shape[0]))
                                for start in range(0, shape[0], rows))
                          if 0 < rows < shape[0] else None)
        return slices

    def _blocks(self, *scratch) -> list:
        """Per parameter, its update blocks ``((slice, (scratch views...)), ...)``: the slice
        of the leading axis, or None for the whole parameter (no views to make per step),
        with each scratch list's matching block-sized view."""
        self._shapes = [p.data.shape for p in self.params]  # what the blocks were cut for
        plans = []
        for i, cuts in enumerate(self._block_slices()):
            arrays = tuple(work[i] for work in scratch)
            plans.append(((None, arrays),) if cuts is None else tuple(
                (cut, tuple(a[:cut.stop - cut.start] for a in arrays)) for cut in cuts))
        return plans

    def _with_grads(self):
        """``(plan entry, data, grad)`` for each parameter that has a gradient, in order (the
        plan entries of ``_constants`` start with the index and the parameter); a parameter
        whose data or gradient changed shape since the plan was made raises."""
        shapes = self._shapes
        for entry in self._constants:
            i, p = entry[0], entry[1]
            g = p.grad
            if g is None:
                continue
            data = p.data
            if data.shape != shapes[i] or g.shape != shapes[i]:
                raise self._reshaped(i)
            yield entry, data, g

    def _reshaped(self, i: int) -> ValueError:
        """The error for parameter i whose ``.data`` or ``.grad`` does not have the shape the
        parameter was given with (its update blocks and scratch were cut for that shape)."""
        p, shape = self.params[i], self._shapes[i]
        what, got = (("data", p.data.shape) if p.data.shape != shape
                     else ("grad", np.shape(p.grad)))
        return ValueError(f"{type(self).__name__}: params[{i}].{what} has shape {got}, but the "
                          f"optimiser was made for {shape}; assign values in place "
                          "(p.data[...] = x) or make a new optimiser")

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


def _state_entry(value, param, where):
    """A state entry as stored: None, a step count, or an array shaped and typed like ``param``."""
    if value is None or (isinstance(value, (int, np.integer)) and not isinstance(value, bool)):
        return None if value is None else int(value)
    arr = np.asarray(value)
    if arr.shape != param.data.shape:
        raise ValueError(f"{where} has shape {arr.shape}, the parameter {param.data.shape}")
    return arr.astype(param.data.dtype, copy=True)
