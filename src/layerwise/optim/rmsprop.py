"""RMSprop: gradients divided by a running root mean square of their recent values."""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, hyperparameter

__all__ = ["RMSprop"]


class RMSprop(Optimizer, name="rmsprop"):
    """RMSprop (Tieleman & Hinton, 2012) with PyTorch's exact update rule
    (``torch.optim.RMSprop``).

    For each parameter p with gradient g::

        g <- g + weight_decay * p                          (if weight_decay)
        v <- alpha v + (1 - alpha) g^2
        centered:  m <- m + (1 - alpha) (g - m),  d = sqrt(v - m^2) + eps
        otherwise: d = sqrt(v) + eps
        momentum:  b <- momentum b + g / d,  p <- p - lr b
        otherwise: p <- p - lr g / d

    with v = m = b = 0 before the first step.

    Args:
        params: iterable of parameter Tensors (``model.parameters()``).
        lr: learning rate, finite and >= 0.
        alpha: smoothing constant of the squared-gradient average, in [0, 1].
        eps: added to the denominator, > 0.
        momentum: in [0, 1).
        weight_decay: L2 penalty added to the gradient, >= 0.
        centered: divide by the gradient's estimated standard deviation instead.

    >>> import numpy as np, layerwise as lw
    >>> w = lw.Tensor(np.array([1.0, -2.0]), requires_grad=True)
    >>> opt = lw.optim.RMSprop([w], lr=0.01)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w.data.round(4)
    array([ 0.9, -1.9])
    """

    lr = hyperparameter()
    alpha = hyperparameter(0.0, 1.0, high_open=False)
    eps = hyperparameter(low_open=True)
    momentum = hyperparameter(0.0, 1.0)
    weight_decay = hyperparameter()
    _state_names = ("steps", "square_avg", "grad_avg", "momentum_buffer")
    _settings = ("centered",)

    def __init__(self, params, lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8,
                 momentum: float = 0.0, weight_decay: float = 0.0, centered: bool = False):
        super().__init__(params)
        self.lr, self.alpha, self.eps = lr, alpha, eps
        self.momentum, self.weight_decay = momentum, weight_decay
        self.centered = bool(centered)
        n = len(self.params)
        self.steps = [0] * n
        self.square_avg = [None] * n  # allocated at a parameter's first step
        self.grad_avg = [None] * n
        self.momentum_buffer = [None] * n
        self._work, self._work2 = self._scratch(), self._scratch()
        self._plan_blocks = self._blocks(self._work, self._work2)

    def _prepare(self):
        """Build the per-parameter plan: 0-d constants in each parameter's dtype."""
        self._constants = [
            (i, p, blocks, *(np.array(c, dtype=p.data.dtype) for c in (
                self.alpha, 1.0 - self.alpha, self.eps, self.momentum, self.weight_decay,
                -self.lr)))
            for i, (p, blocks) in enumerate(zip(self.params, self._plan_blocks))
        ]

    def step(self) -> None:
        """Update every parameter that has a gradient, in place, block by block."""
        if self._constants is None:
            self._prepare()
            assert self._constants is not None  # _prepare sets it
        centered, steps = self.centered, self.steps
        square_avgs, grad_avgs, buffers = self.square_avg, self.grad_avg, self.momentum_buffer
        for (i, _, blocks, *constants), data, g in self._with_grads():
            steps[i] += 1
            # state allocated at a parameter's first step (None in state_dict until then)
            v = square_avgs[i]
            if v is None:
                v = square_avgs[i] = np.zeros_like(data)
            m = grad_avgs[i]
            if centered and m is None:
                m = grad_avgs[i] = np.zeros_like(data)
            b = buffers[i]
            if constants[3] and b is None:
                b = buffers[i] = np.zeros_like(data)
            for cut, (work, tmp) in blocks:
                if cut is None:
                    _rmsprop_block(data, g, v, m if centered else None,
                                   b if constants[3] else None, work, tmp, *constants)
                else:
                    _rmsprop_block(data[cut], g[cut], v[cut], m[cut] if centered else None,
                                   b[cut] if constants[3] else None, work, tmp, *constants)

    def extra_repr(self) -> str:
        text = f"lr={self.lr:g}, alpha={self.alpha:g}, eps={self.eps:g}"
        if self.momentum:
            text += f", momentum={self.momentum:g}"
        if self.weight_decay:
            text += f", weight_decay={self.weight_decay:g}"
        return text + (", centered=True" if self.centered else "")


def _rmsprop_block(data, g, v, m, b, work, tmp, alpha, one_minus_alpha, eps, momentum,
                   weight_decay, neg_lr):
    """RMSprop's update of one block, in place on ``data`` and the state blocks ``v``, ``m``
    (centred, else None) and ``b`` (momentum, else None)."""
    multiply = np.multiply
    if weight_decay:
        g = np.add(multiply(data, weight_decay, out=work), g, out=work)
    v *= alpha
    v += multiply(multiply(g, g, out=tmp), one_minus_alpha, out=tmp)
    if m is not None:
        m += multiply(np.subtract(g, m, out=tmp), one_minus_alpha, out=tmp)
        denom = np.sqrt(np.subtract(v, multiply(m, m, out=tmp), out=tmp), out=tmp)
    else:
        denom = np.sqrt(v, out=tmp)
    denom += eps
    if b is not None:
        b *= momentum
        b += np.divide(g, denom, out=tmp)
        data += multiply(b, neg_lr, out=tmp)
    else:
        data += multiply(np.divide(g, denom, out=tmp), neg_lr, out=tmp)
