"""``train_test_split``: hold out a random share of the rows (as scikit-learn's)."""

from __future__ import annotations

import math
import numbers

import numpy as np

from ..rng import resolve_rng
from .batching import as_rows

__all__ = ["train_test_split"]


def train_test_split(X, y=None, test_size: float = 0.25, shuffle: bool = True, rng=None):
    """Split rows into a training part and a held-out part, keeping ``X`` and ``y`` aligned.

    The held-out part has ``ceil(test_size * n)`` rows when ``test_size`` is a fraction in
    (0, 1), or exactly ``test_size`` rows when it is an int. With ``shuffle``, rows are taken
    in the order of one ``rng.permutation(n)``; without, the last rows are held out.

    Args:
        X: ``(n, ...)`` array-like; y: optional ``(n, ...)`` targets.
        test_size: a fraction in (0, 1) or a row count in [1, n - 1].
        shuffle: permute the rows before splitting.
        rng: ``None`` (NumPy's global state), an int seed, a Generator or a RandomState.

    Returns:
        ``(X_train, X_test)``, or ``(X_train, X_test, y_train, y_test)`` with ``y``
        (scikit-learn's order). Shuffled parts are copies; unshuffled parts are views.

    >>> import numpy as np, layerwise as lw
    >>> X_train, X_test, y_train, y_test = lw.data.train_test_split(
    ...     np.zeros((10, 2)), np.arange(10), test_size=0.3, rng=0)
    >>> X_train.shape, X_test.shape, sorted(np.r_[y_train, y_test]) == list(range(10))
    ((7, 2), (3, 2), True)
    """
    X = as_rows(X, "X", "train_test_split")
    n = len(X)
    if y is not None:
        y = as_rows(y, "y", "train_test_split")
        if len(y) != n:
            raise ValueError(f"train_test_split: X has {n} rows but y has {len(y)}")
    if isinstance(test_size, bool) or not isinstance(test_size, numbers.Real):
        raise TypeError(f"train_test_split: test_size must be a number, got {test_size!r}")
    if isinstance(test_size, numbers.Integral):
        n_test = int(test_size)
    elif 0 < test_size < 1:
        n_test = math.ceil(test_size * n)
    else:
        raise ValueError(f"train_test_split: test_size must be a fraction in (0, 1) or a row "
                         f"count, got {test_size!r}")
    if not 1 <= n_test <= n - 1:
        raise ValueError(f"train_test_split: test_size={test_size!r} leaves {n_test} of {n} "
                         "rows for testing; both parts need at least one row")
    if shuffle:
        order = resolve_rng(rng).permutation(n)
        train, test = order[n_test:], order[:n_test]
    else:
        train, test = slice(0, n - n_test), slice(n - n_test, n)
    parts = [X[train], X[test]]
    if y is not None:
        parts += [y[train], y[test]]
    return tuple(np.asarray(p) for p in parts)
