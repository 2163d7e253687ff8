"""Learning-rate schedules with PyTorch's signatures and the same rates step by step.

A scheduler sets its optimiser's ``lr`` (and, for ``OneCycleLR``, its momentum) each time
``step()`` is called: per epoch for most, per batch for ``OneCycleLR``, and with the watched
metric for ``ReduceLROnPlateau``. Each keeps PyTorch's own recurrences (not closed forms), so
the sequences agree to the last bits. Making one applies its first rate at once.

>>> import numpy as np, layerwise as lw
>>> opt = lw.optim.SGD([lw.Tensor(np.ones(2), requires_grad=True)], lr=0.1)
>>> sched = lw.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
>>> rates = []
>>> for epoch in range(5):
...     rates.append(opt.lr)   # ... train one epoch ...
...     sched.step()
>>> rates
[0.1, 0.1, 0.05, 0.05, 0.025]

``state_dict()`` is JSON-able numbers (PyTorch's: everything but the optimiser); with the
optimiser's own state it resumes a schedule exactly (``lw.save_checkpoint``).
"""

from __future__ import annotations

import math
import numbers
from typing import Any

__all__ = ["CosineAnnealingLR", "ExponentialLR", "LRScheduler", "OneCycleLR",
           "ReduceLROnPlateau", "StepLR"]


def _number(value, name, where, low=-math.inf, high=math.inf, low_open=False,
            high_open=False) -> float:
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and \
        math.isfinite(value)
    ok = ok and (value > low if low_open else value >= low) and \
        (value < high if high_open else value <= high)
    if not ok:
        raise ValueError(f"{where}: {name} must be a finite number in "
                         f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
                         f", got {value!r}")
    return float(value)


def _positive_int(value, name, where) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{where}: {name} must be a positive integer, got {value!r}")
    return int(value)


def _check_optimizer(optimizer, where):
    if not hasattr(optimizer, "lr") or not callable(getattr(optimizer, "step", None)):
        raise TypeError(f"{where}: expected an optimiser with an lr (e.g. lw.optim.SGD), got "
                        f"{type(optimizer).__name__}")


class LRScheduler:
    """Base class: ``step()`` advances ``last_epoch`` and sets ``optimizer.lr`` to
    ``get_lr()``; ``get_last_lr()`` is ``[the rate set last]``, as PyTorch's.

    Args:
        optimizer: a ``lw.optim`` optimiser; its ``lr`` when the scheduler is made is
            ``base_lr``.
        last_epoch: -1 to start a schedule (the only value layerwise accepts; resume with
            ``load_state_dict`` instead).
    """

    def __init__(self, optimizer, last_epoch: int = -1):
        where = type(self).__name__
        _check_optimizer(optimizer, where)
        if last_epoch != -1:
            raise ValueError(f"{where}: last_epoch must be -1; resume a schedule with "
                             "load_state_dict")
        self.optimizer = optimizer
        self.base_lr = float(getattr(self, "initial_lr", optimizer.lr))
        self.last_epoch = -1
        self._step_count = 0
        self._initial = True  # the first step() applies the first rate (PyTorch's _is_initial)
        self.step()
        self._initial = False

    def get_lr(self) -> float:
        raise NotImplementedError(f"{type(self).__name__} must define get_lr()")

    def step(self) -> None:
        """Advance one step (an epoch, or a batch for ``OneCycleLR``) and set the new rate."""
        self._step_count += 1
        self.last_epoch += 1
        # a chained recurrence can land a hair below 0 at its minimum; lr is never negative
        self.optimizer.lr = max(self.get_lr(), 0.0)
        self._last_lr = [self.optimizer.lr]

    def get_last_lr(self) -> list:
        """The rate set by the last ``step()``, as a one-element list (PyTorch's form)."""
        return list(self._last_lr)

    def state_dict(self) -> dict:
        """Everything but the optimiser: JSON-able numbers, strings and lists."""
        return {k: v for k, v in vars(self).items() if k != "optimizer"}

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict`'s result (the optimiser's lr comes with the optimiser's
        own state)."""
        if not isinstance(state, dict):
            raise TypeError(f"{type(self).__name__}.load_state_dict: expected a dict, got "
                            f"{type(state).__name__}")
        unknown = set(state) - set(vars(self))
        if unknown:
            raise ValueError(f"{type(self).__name__}.load_state_dict: unknown entries "
                             f"{sorted(unknown)} (the state of another scheduler?)")
        self.__dict__.update(state)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, lr={self.optimizer.lr:g})"


class StepLR(LRScheduler):
    """Multiply the rate by ``gamma`` every ``step_size`` steps:
    lr_t = base_lr * gamma ** (t // step_size).

    >>> import numpy as np, layerwise as lw
    >>> opt = lw.optim.SGD([lw.Tensor(np.ones(1), requires_grad=True)], lr=1.0)
    >>> s = lw.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5); s.step(); opt.lr
    0.5
    """

    def __init__(self, optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1):
        self.step_size = _positive_int(step_size, "step_size", "StepLR")
        self.gamma = _number(gamma, "gamma", "StepLR", 0.0)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> float:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self.optimizer.lr
        return self.optimizer.lr * self.gamma


class ExponentialLR(LRScheduler):
    """Multiply the rate by ``gamma`` every step: lr_t = base_lr * gamma ** t.

    >>> import numpy as np, layerwise as lw
    >>> opt = lw.optim.SGD([lw.Tensor(np.ones(1), requires_grad=True)], lr=1.0)
    >>> s = lw.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9); s.step(); opt.lr
    0.9
    """

    def __init__(self, optimizer, gamma: float, last_epoch: int = -1):
        self.gamma = _number(gamma, "gamma", "ExponentialLR", 0.0)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> float:
        return self.optimizer.lr if self._initial else self.optimizer.lr * self.gamma


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing (Loshchilov & Hutter, 2017) from ``base_lr`` down to ``eta_min`` in
    ``T_max`` steps (and back up after, as PyTorch's):
    lr_t = eta_min + (base_lr - eta_min) (1 + cos(pi t / T_max)) / 2, computed with
    PyTorch's recurrence.

    >>> import numpy as np, layerwise as lw
    >>> opt = lw.optim.SGD([lw.Tensor(np.ones(1), requires_grad=True)], lr=1.0)
    >>> s = lw.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=2)
    >>> s.step(); round(opt.lr, 6); s.step(); opt.lr
    0.5
    0.0
    """

    def __init__(self, optimizer, T_max: int, eta_min: float = 0.0,
                 last_epoch: int = -1):
        self.T_max = _positive_int(T_max, "T_max", "CosineAnnealingLR")
        self.eta_min = _number(eta_min, "eta_min", "CosineAnnealingLR", 0.0)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> float:
        lr, t, T, low = self.optimizer.lr, self.last_epoch, self.T_max, self.eta_min
        if self._initial:
            return lr
        if self._step_count == 1 and t > 0:
            return low + (self.base_lr - low) * (1 + math.cos(t * math.pi / T)) / 2
        if (t - 1 - T) % (2 * T) == 0:
            return lr + (self.base_lr - low) * (1 - math.cos(math.pi / T)) / 2
        return (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T)) * \
            (lr - low) + low


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin, 2018), stepped once per batch: the rate rises from
    ``max_lr / div_factor`` to ``max_lr`` over ``pct_start`` of the steps, then anneals to
    ``initial_lr / final_div_factor``; momentum (SGD's, RMSprop's, or Adam's beta1) moves the
    opposite way between ``max_momentum`` and ``base_momentum`` when ``cycle_momentum``.
    PyTorch's signature and phases (``three_phase`` included).

    Args:
        optimizer, max_lr: the peak rate.
        total_steps: the number of ``step()`` calls, or ``epochs`` times ``steps_per_epoch``.
        pct_start, anneal_strategy ('cos' | 'linear'), cycle_momentum, base_momentum,
        max_momentum, div_factor, final_div_factor, three_phase: as PyTorch's.

    >>> import numpy as np, layerwise as lw
    >>> opt = lw.optim.Adam([lw.Tensor(np.ones(1), requires_grad=True)])
    >>> s = lw.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10)
    >>> round(opt.lr, 6), opt.beta1   # max_lr / div_factor, max_momentum
    (0.004, 0.95)
    """

    def __init__(self, optimizer, max_lr: float, total_steps: int | None = None,
                 epochs: int | None = None, steps_per_epoch: int | None = None,
                 pct_start: float = 0.3, anneal_strategy: str = "cos",
                 cycle_momentum: bool = True, base_momentum: float = 0.85,
                 max_momentum: float = 0.95, div_factor: float = 25.0,
                 final_div_factor: float = 1e4, three_phase: bool = False,
                 last_epoch: int = -1):
        where = "OneCycleLR"
        _check_optimizer(optimizer, where)
        if total_steps is not None:
            self.total_steps = _positive_int(total_steps, "total_steps", where)
        elif epochs is not None and steps_per_epoch is not None:
            self.total_steps = _positive_int(epochs, "epochs", where) * \
                _positive_int(steps_per_epoch, "steps_per_epoch", where)
        else:
            raise ValueError(f"{where}: give total_steps, or epochs and steps_per_epoch")
        pct = _number(pct_start, "pct_start", where, 0.0, 1.0)
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"{where}: anneal_strategy must be 'cos' or 'linear', got "
                             f"{anneal_strategy!r}")
        self.anneal_strategy = anneal_strategy
        n = self.total_steps
        phases = [(pct * n - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum")]
        if three_phase:
            phases += [(2 * pct * n - 2, "max_lr", "initial_lr", "base_momentum",
                        "max_momentum"),
                       (n - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum")]
        else:
            phases += [(n - 1, "max_lr", "min_lr", "base_momentum", "max_momentum")]
        self._phases: list[list[Any]] = [list(p) for p in phases]
        self.max_lr = _number(max_lr, "max_lr", where, 0.0)
        self.initial_lr = self.max_lr / _number(div_factor, "div_factor", where, 0.0,
                                                low_open=True)
        self.min_lr = self.initial_lr / _number(final_div_factor, "final_div_factor", where,
                                                0.0, low_open=True)
        self.cycle_momentum = bool(cycle_momentum)
        if self.cycle_momentum:
            if not (hasattr(optimizer, "momentum") or hasattr(optimizer, "beta1")):
                raise ValueError(f"{where}: cycle_momentum needs an optimiser with momentum "
                                 f"or betas; {type(optimizer).__name__} has neither "
                                 "(pass cycle_momentum=False)")
            self.use_beta1 = hasattr(optimizer, "beta1")
            self.max_momentum = _number(max_momentum, "max_momentum", where, 0.0, 1.0,
                                        high_open=True)
            self.base_momentum = _number(base_momentum, "base_momentum", where, 0.0, 1.0,
                                         high_open=True)
            setattr(optimizer, "beta1" if self.use_beta1 else "momentum", self.max_momentum)
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start, end, pct):
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self) -> float:
        t = self.last_epoch
        if t > self.total_steps:
            raise ValueError(f"OneCycleLR: tried to step {t} times; total_steps is "
                             f"{self.total_steps}")
        start_step = 0.0
        for i, (end_step, start_lr, end_lr, start_m, end_m) in enumerate(self._phases):
            if t <= end_step or i == len(self._phases) - 1:
                pct = (t - start_step) / (end_step - start_step)
                lr = self._anneal(getattr(self, start_lr), getattr(self, end_lr), pct)
                if self.cycle_momentum:
                    momentum = self._anneal(getattr(self, start_m), getattr(self, end_m), pct)
                    setattr(self.optimizer, "beta1" if self.use_beta1 else "momentum",
                            momentum)
                return lr
            start_step = end_step
        raise AssertionError("unreachable")  # pragma: no cover


class ReduceLROnPlateau(LRScheduler):
    """Multiply the rate by ``factor`` when a metric has stopped improving for more than
    ``patience`` steps, as PyTorch's: ``step(metric)`` once per epoch (e.g. with val_loss).

    Args:
        mode: 'min' (lower is better) or 'max'; factor: in [0, 1);
        patience: steps without improvement to wait; threshold, threshold_mode ('rel' |
        'abs'): what counts as an improvement; cooldown: steps to wait after a reduction;
        min_lr: the floor; eps: reductions smaller than this are skipped.

    >>> import numpy as np, layerwise as lw
    >>> opt = lw.optim.SGD([lw.Tensor(np.ones(1), requires_grad=True)], lr=1.0)
    >>> s = lw.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=1)
    >>> for loss in [1.0, 1.0, 1.0]:
    ...     s.step(loss)
    >>> opt.lr
    0.1
    """

    def __init__(self, optimizer, mode: str = "min", factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0,
                 min_lr: float = 0.0, eps: float = 1e-8):
        where = "ReduceLROnPlateau"
        _check_optimizer(optimizer, where)
        if mode not in ("min", "max") or threshold_mode not in ("rel", "abs"):
            raise ValueError(f"{where}: mode must be 'min' or 'max' and threshold_mode 'rel' "
                             f"or 'abs', got {mode!r} and {threshold_mode!r}")
        self.optimizer = optimizer
        self.mode, self.threshold_mode = mode, threshold_mode
        self.factor = _number(factor, "factor", where, 0.0, 1.0, high_open=True)
        self.patience = int(_number(patience, "patience", where, 0.0))
        self.threshold = _number(threshold, "threshold", where, 0.0)
        self.cooldown = int(_number(cooldown, "cooldown", where, 0.0))
        self.min_lr = _number(min_lr, "min_lr", where, 0.0)
        self.eps = _number(eps, "eps", where, 0.0)
        self.last_epoch = 0
        self.best = math.inf if mode == "min" else -math.inf
        self.cooldown_counter = 0
        self.num_bad_epochs = 0
        self._last_lr = [optimizer.lr]

    def _is_better(self, a, best) -> bool:
        if self.mode == "min":
            return a < best * (1.0 - self.threshold) if self.threshold_mode == "rel" \
                else a < best - self.threshold
        return a > best * (self.threshold + 1.0) if self.threshold_mode == "rel" \
            else a > best + self.threshold

    def step(self, metrics) -> None:  # type: ignore[override]  # PyTorch's step(metric)
        """Record this step's metric; reduce the rate if it has stalled for too long."""
        current = float(metrics)
        self.last_epoch += 1
        if self._is_better(current, self.best):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            old = self.optimizer.lr
            new = max(old * self.factor, self.min_lr)
            if old - new > self.eps:
                self.optimizer.lr = new
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = [self.optimizer.lr]
