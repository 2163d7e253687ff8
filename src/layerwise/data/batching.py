"""Mini-batches: ``batches(X, y)`` yields aligned slices of the rows, shuffled or in order."""

from __future__ import annotations

import numpy as np

from ..autodiff.tensor import Tensor
from ..checks import positive_int
from ..rng import resolve_rng

__all__ = ["as_rows", "batches", "num_batches"]


def num_batches(n: int, batch_size: int, drop_last: bool = False) -> int:
    """How many batches ``batches`` yields for ``n`` rows: ceil(n / b), or floor with drop_last.

    >>> import layerwise as lw
    >>> lw.data.num_batches(10, 4), lw.data.num_batches(10, 4, drop_last=True)
    (3, 2)
    """
    return n // batch_size if drop_last else -(-n // batch_size)


def batches(X, y=None, batch_size: int = 32, shuffle: bool = False, rng=None,
            drop_last: bool = False):
    """Yield mini-batches of the rows of ``X`` (and the same rows of ``y``).

    Batch k holds rows ``order[k b : (k + 1) b]`` with b = ``batch_size`` and ``order`` =
    ``0..n-1``, or a random permutation drawn from ``rng`` when ``shuffle``. Every row appears
    exactly once per pass; the last batch is short unless ``drop_last``.

    Works on memory-mapped arrays (``np.load(path, mmap_mode='r')``) without reading them
    whole: in order, each batch is a slice; shuffled, the batch's row indices are sorted
    before indexing, so each batch is read (and held in memory) on its own, in one forward
    sweep of the file. The rows within a shuffled batch therefore come in file order; which
    rows form each batch is what the permutation decides.

    Args:
        X: ``(n, ...)`` ndarray, memmap, Tensor or array-like.
        y: optional ``(n, ...)`` targets, batched with the same rows.
        batch_size: rows per batch, a positive int.
        shuffle: draw a new order (one ``rng.permutation(n)``) for this pass.
        rng: ``None`` (NumPy's global state), an int seed, a Generator or a RandomState.
        drop_last: skip the final batch if it is shorter than ``batch_size``.

    Yields:
        ``Xb`` if ``y`` is None, else ``(Xb, yb)``: plain ndarrays (in order: views of the
        input, so don't write into them).

    >>> import numpy as np, layerwise as lw
    >>> X, y = np.arange(10).reshape(5, 2), np.arange(5)
    >>> [yb.tolist() for _, yb in lw.data.batches(X, y, batch_size=2)]
    [[0, 1], [2, 3], [4]]
    >>> [len(Xb) for Xb in lw.data.batches(X, batch_size=2, drop_last=True)]
    [2, 2]
    """
    X = as_rows(X, "X")
    n = len(X)
    if y is not None:
        y = as_rows(y, "y")
        if len(y) != n:
            raise ValueError(f"batches: X has {n} rows but y has {len(y)}; they must match")
    batch_size = positive_int(batch_size, "batch_size", "batches")
    return _generate(X, y, n, batch_size, shuffle, rng, drop_last)


def _generate(X, y, n, batch_size, shuffle, rng, drop_last):
    # Split from `batches` so that argument errors are raised at the call, not at first next().
    order = resolve_rng(rng).permutation(n) if shuffle else None
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        if order is None:
            index = slice(start, start + batch_size)
        else:
            index = np.sort(order[start:start + batch_size])
        Xb = np.asarray(X[index])
        yield Xb if y is None else (Xb, np.asarray(y[index]))


def as_rows(a, name: str, where: str = "batches"):
    """``a`` as an array with a row axis; memmaps and ndarrays pass through without a copy,
    Tensors give their data. ``name`` and ``where`` go into the error for a scalar."""
    if isinstance(a, Tensor):
        a = a.data
    if not isinstance(a, np.ndarray):
        a = np.asarray(a)
    if a.ndim == 0:
        raise ValueError(f"{where}: {name} must have a row axis, got a scalar")
    return a
