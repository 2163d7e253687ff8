"""Weight initialisation, as in the chapter's table (``lw.init.initialize_weights``).

=================  ==========================================  ==========================
method             distribution                                source
=================  ==========================================  ==========================
``zeros``          W = 0 (never for hidden layers: symmetry)
``random``         N(0, 1) * 0.01
``xavier``         N(0, std = sqrt(2 / (n_in + n_out)))         Glorot & Bengio, 2010
``xavier_uniform`` U(-a, a), a = sqrt(6 / (n_in + n_out))       Glorot & Bengio, 2010
``he``             N(0, std = sqrt(2 / n_in))                   He et al., 2015
``he_uniform``     U(-a, a), a = sqrt(6 / n_in)                 He et al., 2015
``lecun``          N(0, std = sqrt(1 / n_in))                   LeCun et al., 1998
=================  ==========================================  ==========================

Normal draws use ``standard_normal`` in float64 (the legacy global state's ``randn`` when
``rng=None``) and are scaled, then cast: ``np.random.seed(42)`` gives the chapter's numbers.
"""

from __future__ import annotations

import contextlib
import contextvars

import numpy as np

from . import rng as _rng
from .dtypes import resolve_dtype

__all__ = ["METHODS", "allocation_limit", "constant", "initialize_weights"]

# While a model file is being rebuilt: how many more numbers its parameters may claim.
_LIMIT: contextvars.ContextVar = contextvars.ContextVar("layerwise_allocation_limit",
                                                         default=None)


@contextlib.contextmanager
def allocation_limit(n_numbers: int, where: str):
    """Build modules under a budget: parameters draw nothing (zeros) and, together, may hold
    at most ``n_numbers`` numbers; one that would pass it raises ``ValueError`` naming
    ``where`` before anything is allocated. ``lw.load`` builds a file's architecture this way,
    so a small file claiming a huge layer fails at once instead of allocating gigabytes.
    """
    token = _LIMIT.set([int(n_numbers), where])
    try:
        yield
    finally:
        _LIMIT.reset(token)


def _claim(shape) -> bool:
    """Count ``shape`` against the active limit; True when one is active (draw nothing)."""
    limit = _LIMIT.get()
    if limit is None:
        return False
    n = 1
    for d in shape:
        n *= int(d)
    if n > limit[0]:
        raise ValueError(f"{limit[1]}: the architecture needs a parameter of shape "
                         f"{tuple(int(d) for d in shape)}, more numbers than the file holds")
    limit[0] -= n
    return True


def constant(shape, value: float = 0.0, dtype=None) -> np.ndarray:
    """A parameter array filled with ``value`` (biases, normalisation scales and shifts).

    >>> import layerwise as lw
    >>> lw.init.constant((1, 3), 0.0)
    array([[0., 0., 0.]], dtype=float32)
    """
    loading = _claim(shape)
    return np.full(shape, 0.0 if loading else value, dtype=resolve_dtype(dtype))


def _normal(std):
    return lambda n_in, n_out, rng: _rng.standard_normal(rng, (n_in, n_out)) * std(n_in, n_out)


def _uniform(bound):
    def draw(n_in, n_out, rng):
        a = bound(n_in, n_out)
        return _rng.uniform(rng, -a, a, (n_in, n_out))

    return draw


METHODS = {
    "zeros": lambda n_in, n_out, rng: np.zeros((n_in, n_out)),
    "random": _normal(lambda n_in, n_out: 0.01),
    "xavier": _normal(lambda n_in, n_out: np.sqrt(2.0 / (n_in + n_out))),
    "xavier_uniform": _uniform(lambda n_in, n_out: np.sqrt(6.0 / (n_in + n_out))),
    "he": _normal(lambda n_in, n_out: np.sqrt(2.0 / n_in)),
    "he_uniform": _uniform(lambda n_in, n_out: np.sqrt(6.0 / n_in)),
    "lecun": _normal(lambda n_in, n_out: np.sqrt(1.0 / n_in)),
}
"""Initialisation methods by name: ``(n_in, n_out, rng) -> float64 array``."""


def initialize_weights(n_in: int, n_out: int, method: str = "he", rng=None, dtype=None):
    """Draw an ``(n_in, n_out)`` weight matrix with the named method (see the module table).

    Args:
        n_in, n_out: fan-in and fan-out (positive integers).
        method: one of ``METHODS``.
        rng: None (global legacy state), an int seed, a Generator or a RandomState.
        dtype: result dtype (None: the default, float32).

    >>> import numpy as np, layerwise as lw
    >>> np.random.seed(42)
    >>> W = lw.init.initialize_weights(784, 256, 'he')
    >>> W.shape, W.dtype
    ((784, 256), dtype('float32'))
    """
    for name, n in (("n_in", n_in), ("n_out", n_out)):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"initialize_weights: {name} must be a positive integer, got {n!r}")
    key = method.lower() if isinstance(method, str) else method
    if key not in METHODS:
        raise ValueError(
            f"unknown initialisation method {method!r}; known: {', '.join(METHODS)}"
        )
    if _claim((n_in, n_out)):
        return np.zeros((int(n_in), int(n_out)), dtype=resolve_dtype(dtype))
    return METHODS[key](int(n_in), int(n_out), rng).astype(resolve_dtype(dtype), copy=False)
