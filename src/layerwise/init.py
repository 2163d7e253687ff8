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

import numpy as np

from . import rng as _rng
from .dtypes import resolve_dtype

__all__ = ["METHODS", "initialize_weights"]


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
    return METHODS[key](int(n_in), int(n_out), rng).astype(resolve_dtype(dtype), copy=False)
