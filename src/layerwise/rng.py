"""One meaning for every ``rng=`` argument in layerwise.

``rng`` may be
- ``None``: NumPy's global legacy state, so ``np.random.seed(42)`` reproduces the chapter;
- an ``int``: a fresh ``np.random.default_rng(seed)``;
- a ``np.random.Generator`` or a ``np.random.RandomState``: used as is.

Draws are made in float64 and cast afterwards, so a seed gives the same numbers in any dtype.
"""

import numbers

import numpy as np


def resolve_rng(rng=None):
    """Return the object to draw from: ``np.random`` (legacy module), a Generator or a RandomState."""
    if rng is None:
        return np.random.mtrand._rand
    if isinstance(rng, (np.random.Generator, np.random.RandomState)):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(
        "rng must be None, an int seed, a np.random.Generator or a np.random.RandomState; "
        f"got {type(rng).__name__}"
    )


def standard_normal(rng, shape):
    """Draw N(0, 1) in float64 (legacy state: the same numbers as ``np.random.randn(*shape)``)."""
    return resolve_rng(rng).standard_normal(shape)


def uniform(rng, low, high, shape):
    """Draw U(low, high) in float64."""
    return resolve_rng(rng).uniform(low, high, shape)


def permutation(rng, n):
    """A random permutation of ``range(n)``."""
    return resolve_rng(rng).permutation(n)
