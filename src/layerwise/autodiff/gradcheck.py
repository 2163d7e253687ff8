"""``gradcheck``: autodiff gradients against central finite differences, in float64."""

from __future__ import annotations

import numpy as np

from .tensor import Tensor, no_grad

__all__ = ["GradcheckError", "gradcheck"]


class GradcheckError(AssertionError):
    """Raised when an autodiff gradient disagrees with finite differences."""


def gradcheck(fn, *inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              seed: int = 0) -> bool:
    """Check ``fn``'s gradients with respect to every floating input numerically.

    Each input is copied to a float64 Tensor. A non-scalar output ``y`` is reduced to the
    scalar ``sum(y * r)`` with a fixed random ``r`` (the adjoint test: it checks the whole
    vector-Jacobian product, not just the sum). For each input element ``x_i``,
    ``(f(x + eps e_i) - f(x - eps e_i)) / (2 eps)`` must match the autodiff gradient within
    ``atol + rtol * |numeric|``.

    Returns True, or raises ``GradcheckError`` naming the input and the worst element.

    >>> import numpy as np, layerwise as lw
    >>> lw.gradcheck(lambda x: (x * x).sum(), np.array([1.0, -2.0]))
    True
    """
    tensors: list[Tensor | np.ndarray] = []
    for x in inputs:
        arr = np.asarray(x.data if isinstance(x, Tensor) else x)
        if arr.dtype.kind == "f":
            tensors.append(Tensor(arr.astype(np.float64), requires_grad=True))
        else:
            tensors.append(arr)  # integer labels and the like stay constants

    out = fn(*tensors)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    weights = np.random.default_rng(seed).standard_normal(out.shape)

    def scalar(*args):
        with no_grad():
            y = fn(*args)
        return float(np.sum(np.asarray(y.data, dtype=np.float64) * weights))

    (out * weights).sum().backward()

    for index, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            continue
        analytic = np.zeros_like(t.data) if t.grad is None else t.grad
        numeric = np.zeros_like(t.data)
        base = t.data.copy()
        flat = t.data.reshape(-1)
        for i in range(flat.size):
            flat[i] = base.flat[i] + eps
            plus = scalar(*tensors)
            flat[i] = base.flat[i] - eps
            minus = scalar(*tensors)
            flat[i] = base.flat[i]
            numeric.flat[i] = (plus - minus) / (2 * eps)
        err = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
        if err.size and err.max() > 0:
            worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(err)), err.shape))
            raise GradcheckError(
                f"gradcheck failed for input {index} (shape {t.shape}) at element {worst}: "
                f"autodiff {analytic[worst]:.10g}, finite differences {numeric[worst]:.10g}"
            )
    return True
