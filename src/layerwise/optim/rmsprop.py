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

    def step(self) -> None:
        """Update every parameter that has a gradient, in place."""
        lr, alpha, eps = self.lr, self.alpha, self.eps
        momentum, weight_decay = self.momentum, self.weight_decay
        for i, p in enumerate(self.params):
            g = p.grad
            if g is None:
                continue
            data = p.data
            self.steps[i] += 1
            if weight_decay:
                g = g + weight_decay * data
            v = self.square_avg[i]
            if v is None:
                v = self.square_avg[i] = np.zeros_like(data)
            v *= alpha
            v += (1 - alpha) * (g * g)
            if self.centered:
                m = self.grad_avg[i]
                if m is None:
                    m = self.grad_avg[i] = np.zeros_like(data)
                m += (1 - alpha) * (g - m)
                denom = np.sqrt(v - m * m)
            else:
                denom = np.sqrt(v)
            denom += eps
            if momentum:
                b = self.momentum_buffer[i]
                if b is None:
                    b = self.momentum_buffer[i] = np.zeros_like(data)
                b *= momentum
                b += g / denom
                data -= lr * b
            else:
                data -= lr * (g / denom)

    def extra_repr(self) -> str:
        text = f"lr={self.lr:g}, alpha={self.alpha:g}, eps={self.eps:g}"
        if self.momentum:
            text += f", momentum={self.momentum:g}"
        if self.weight_decay:
            text += f", weight_decay={self.weight_decay:g}"
        return text + (", centered=True" if self.centered else "")
