"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, hyperparameter

__all__ = ["SGD"]


class SGD(Optimizer, name="sgd"):
    """Stochastic gradient descent, with PyTorch's exact update rule (``torch.optim.SGD``).

    For each parameter p with gradient g, at step t::

        g <- g + weight_decay * p                          (if weight_decay)
        b <- g                               at t = 1      (if momentum)
        b <- momentum * b + (1 - dampening) * g   t > 1
        g <- g + momentum * b   if nesterov  else  g <- b
        p <- p - lr * g

    Args:
        params: iterable of parameter Tensors (``model.parameters()``).
        lr: learning rate, finite and >= 0.
        momentum: in [0, 1).
        weight_decay: L2 penalty added to the gradient, >= 0.
        nesterov: Nesterov momentum (needs momentum > 0 and dampening 0).
        dampening: in [0, 1], scales the gradient's share of the momentum buffer.

    Updates are in place on ``p.data``; a parameter whose ``.grad`` is None is skipped.

    >>> import numpy as np, layerwise as lw
    >>> w = lw.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    >>> opt = lw.optim.SGD([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w.data
    array([0.8, 1.6])
    """

    lr = hyperparameter()  # 0 allowed: schedules such as CosineAnnealingLR reach it
    momentum = hyperparameter(0.0, 1.0)
    weight_decay = hyperparameter()
    dampening = hyperparameter(0.0, 1.0, high_open=False)

    _state_names = ("momentum_buffers",)
    _settings = ("nesterov",)

    def __init__(self, params, lr: float, momentum: float = 0.0, weight_decay: float = 0.0,
                 nesterov: bool = False, dampening: float = 0.0):
        super().__init__(params)
        self.lr = lr
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.dampening = dampening
        self.nesterov = nesterov
        self._prepare()
        self.momentum_buffers = [None] * len(self.params)

    @property
    def nesterov(self) -> bool:
        return self._nesterov

    @nesterov.setter
    def nesterov(self, value: bool):
        self._nesterov = bool(value)
        self._constants = None

    def _prepare(self):
        """Check the settings together; build the per-parameter plan that ``step`` runs.

        Constants are 0-d arrays in each parameter's dtype: NumPy then skips converting a
        Python float on every call, which is most of the cost for small layers.
        """
        if self.nesterov and (self.momentum == 0 or self.dampening != 0):
            raise ValueError(
                f"SGD: nesterov=True needs momentum > 0 and dampening = 0 (got momentum="
                f"{self.momentum}, dampening={self.dampening})"
            )
        if getattr(self, "_work", None) is None:
            # two block-sized temporaries: the gradient term, and momentum * b beside it
            self._work, self._work2 = self._scratch(), self._scratch()
            self._plan_blocks = self._blocks(self._work, self._work2)
        self._plain = not (self.momentum or self.weight_decay)
        self._constants = [
            (i, p, blocks, *(np.array(c, dtype=p.data.dtype) for c in (
                -self.lr, self.weight_decay, self.momentum, 1.0 - self.dampening)))
            for i, (p, blocks) in enumerate(zip(self.params, self._plan_blocks))
        ]

    def step(self) -> None:
        """Update every parameter that has a gradient, in place, block by block."""
        if self._constants is None:
            self._prepare()
            assert self._constants is not None  # _prepare sets it
        if self._plain:
            self._plain_step()
            return
        buffers, nesterov = self.momentum_buffers, self.nesterov
        damped = self.dampening != 0
        for entry, data, g in self._with_grads():
            i, _, blocks, neg_lr, weight_decay, momentum, keep = entry
            buf = first = None
            if momentum:
                buf = buffers[i]
                if buf is None:  # b <- g at the first step
                    buffers[i] = buf = np.empty_like(data)
                    first = True
            for cut, (work, work2) in blocks:
                if cut is None:
                    _sgd_block(data, g, buf, work, work2, neg_lr, weight_decay, momentum, keep,
                               first, damped, nesterov)
                else:
                    _sgd_block(data[cut], g[cut], None if buf is None else buf[cut], work,
                               work2, neg_lr, weight_decay, momentum, keep, first, damped,
                               nesterov)

    def _plain_step(self) -> None:
        """p <- p - lr g (no momentum, no weight decay): the common case, written out."""
        multiply, add = np.multiply, np.add
        for (_, _, blocks, neg_lr, _, _, _), data, g in self._with_grads():
            for cut, (work, _) in blocks:
                if cut is None:
                    add(data, multiply(g, neg_lr, out=work), out=data)
                else:
                    d = data[cut]
                    add(d, multiply(g[cut], neg_lr, out=work), out=d)

    def extra_repr(self) -> str:
        text = f"lr={self.lr:g}"
        if self.momentum:
            text += f", momentum={self.momentum:g}"
            if self.dampening:
                text += f", dampening={self.dampening:g}"
            if self.nesterov:
                text += ", nesterov=True"
        if self.weight_decay:
            text += f", weight_decay={self.weight_decay:g}"
        return text


def _sgd_block(data, g, buf, work, work2, neg_lr, weight_decay, momentum, keep, first, damped,
               nesterov):
    """SGD's update of one block, in place on ``data`` (and ``buf``, the momentum buffer)."""
    multiply, add = np.multiply, np.add
    if weight_decay:
        g = add(multiply(data, weight_decay, out=work), g, out=work)
    if buf is not None:
        if first:
            np.copyto(buf, g)
        else:
            buf *= momentum
            buf += multiply(g, keep, out=work) if damped else g
        if nesterov:
            extra = work2 if g is work else work
            g = add(g, multiply(buf, momentum, out=extra), out=work)
        else:
            g = buf
    add(data, multiply(g, neg_lr, out=work), out=data)
