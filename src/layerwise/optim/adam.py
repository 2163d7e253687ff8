"""Adam and AdamW: adaptive moment estimation, with L2 or decoupled weight decay."""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, hyperparameter

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer, name="adam"):
    """Adam (Kingma & Ba, 2015) with PyTorch's exact update rule (``torch.optim.Adam``).

    For each parameter p with gradient g, at its step t = 1, 2, ...::

        g <- g + weight_decay * p                      (L2 penalty, if weight_decay)
        m <- m + (1 - beta1) (g - m)                   (= beta1 m + (1 - beta1) g)
        v <- beta2 v + (1 - beta2) g^2
        p <- p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    with m = v = 0 before the first step.

    Args:
        params: iterable of parameter Tensors (``model.parameters()``).
        lr: learning rate, finite and >= 0.
        betas: ``(beta1, beta2)``, each in [0, 1).
        eps: added to the denominator, > 0.
        weight_decay: >= 0; added to the gradient (``AdamW`` decouples it instead).

    Updates are in place on ``p.data``; a parameter whose ``.grad`` is None is skipped (its
    step count does not advance).

    >>> import numpy as np, layerwise as lw
    >>> w = lw.Tensor(np.array([1.0, -2.0]), requires_grad=True)
    >>> opt = lw.optim.Adam([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w.data.round(6)
    array([ 0.9, -1.9])
    """

    lr = hyperparameter()  # 0 allowed: schedules such as CosineAnnealingLR reach it
    beta1 = hyperparameter(0.0, 1.0)
    beta2 = hyperparameter(0.0, 1.0)
    eps = hyperparameter(low_open=True)
    weight_decay = hyperparameter()
    _decoupled = False
    _state_names = ("steps", "exp_avg", "exp_avg_sq")

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0):
        super().__init__(params)
        self.lr = lr
        self.betas = betas
        self.eps = eps
        self.weight_decay = weight_decay
        self.steps = [0] * len(self.params)
        self.exp_avg = [np.zeros_like(p.data) for p in self.params]
        self.exp_avg_sq = [np.zeros_like(p.data) for p in self.params]
        self._work, self._work2 = self._scratch(), self._scratch()
        self._plan_blocks = self._blocks(self._work, self._work2)

    @property
    def betas(self) -> tuple:
        return (self.beta1, self.beta2)

    @betas.setter
    def betas(self, value):
        try:
            beta1, beta2 = value
        except (TypeError, ValueError):
            raise ValueError(
                f"{type(self).__name__}: betas must be a pair (beta1, beta2), got {value!r}"
            ) from None
        self.beta1, self.beta2 = beta1, beta2

    def _prepare(self):
        """Build the per-parameter plan: state arrays and 0-d constants in the param's dtype."""
        l2 = self.weight_decay and not self._decoupled
        self._constants = [
            (i, p, m, v, blocks, *(np.array(c, dtype=p.data.dtype) for c in (
                1.0 - self.beta1, self.beta2, 1.0 - self.beta2, self.eps,
                self.weight_decay if l2 else 0.0,
                1.0 - self.lr * self.weight_decay if self._decoupled else 1.0)))
            for i, (p, m, v, blocks) in enumerate(
                zip(self.params, self.exp_avg, self.exp_avg_sq, self._plan_blocks))
        ]

    def step(self) -> None:
        """Update every parameter that has a gradient, in place, block by block."""
        if self._constants is None:
            self._prepare()
            assert self._constants is not None  # _prepare sets it
        lr, beta1, beta2 = self.lr, self.beta1, self.beta2
        steps = self.steps
        for (i, _, m, v, blocks, *constants), data, g in self._with_grads():
            t = steps[i] = steps[i] + 1
            root_correction = (1.0 - beta2**t) ** 0.5
            scale = -lr / (1.0 - beta1**t)
            for cut, (work, tmp) in blocks:
                if cut is None:
                    _adam_block(data, g, m, v, work, tmp, root_correction, scale, *constants)
                else:
                    _adam_block(data[cut], g[cut], m[cut], v[cut], work, tmp, root_correction,
                                scale, *constants)

    def extra_repr(self) -> str:
        text = f"lr={self.lr:g}, betas=({self.beta1:g}, {self.beta2:g}), eps={self.eps:g}"
        return text + (f", weight_decay={self.weight_decay:g}" if self.weight_decay else "")


class AdamW(Adam, name="adamw"):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019), as ``torch.optim.AdamW``.

    Before the Adam update of each step: ``p <- p * (1 - lr * weight_decay)``; the gradient
    itself is not changed. Arguments as :class:`Adam`; ``weight_decay`` defaults to 0.01.

    >>> import numpy as np, layerwise as lw
    >>> w = lw.Tensor(np.array([1.0]), requires_grad=True)
    >>> opt = lw.optim.AdamW([w], lr=0.1, weight_decay=0.5)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w.data.round(6)   # 1 * (1 - 0.1 * 0.5) - 0.1
    array([0.85])
    """

    _decoupled = True

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2):
        super().__init__(params, lr, betas, eps, weight_decay)


def _adam_block(data, g, m, v, work, tmp, root_correction, scale, one_minus_b1, b2,
                one_minus_b2, eps, l2, decay):
    """Adam's update of one block, in place on ``data``, ``m`` and ``v``."""
    multiply = np.multiply
    if decay != 1:
        data *= decay
    if l2:
        g = np.add(multiply(data, l2, out=work), g, out=work)
    m += multiply(np.subtract(g, m, out=tmp), one_minus_b1, out=tmp)
    v *= b2
    v += multiply(multiply(g, g, out=tmp), one_minus_b2, out=tmp)
    denom = np.sqrt(v, out=tmp)
    denom /= root_correction
    denom += eps
    update = np.divide(m, denom, out=tmp)
    update *= scale
    data += update
