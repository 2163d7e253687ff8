"""Small datasets shipped with layerwise, and a loader for your own CSV tables.

This module imports only NumPy and the standard library, so it works on its
own, without the rest of layerwise.

The shipped files live in ``layerwise/datasets/data/`` and are read with
:mod:`importlib.resources`; nothing is ever downloaded. See
``data/README.txt`` for their source and licence.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
from collections.abc import Iterable
from importlib.resources import files
from operator import itemgetter

import numpy as np

__all__ = ["load_csv", "load_digits", "load_iris"]

_IRIS_FILE = "iris.csv"
_DIGITS_FILE = "digits.csv.gz"


# --------------------------------------------------------------------------- #
# Public loaders
# --------------------------------------------------------------------------- #
def load_iris(dtype=None, return_names=False):
    """Load Fisher's Iris data: 150 flowers, 4 measurements, 3 species.

    Args:
        dtype: floating dtype of ``X``. ``None`` (the default) means
            ``float32``, the library's default dtype; pass ``np.float64``
            for double precision.
        return_names: if True, also return the feature and class names.

    Returns:
        ``(X, y)``, or ``(X, y, feature_names, target_names)`` when
        ``return_names`` is True, where

        - ``X``: array of shape ``(150, 4)``, sepal length, sepal width,
          petal length and petal width in cm;
        - ``y``: int64 array of shape ``(150,)``, class labels 0, 1, 2
          (50 of each), rows sorted by class;
        - ``feature_names``: list of 4 str;
        - ``target_names``: ``['setosa', 'versicolor', 'virginica']``,
          ``target_names[k]`` names label ``k``.

    The values are identical to ``sklearn.datasets.load_iris()``.

    Example:
        >>> import layerwise as lw
        >>> X, y = lw.datasets.load_iris()
        >>> X.shape, X.dtype, y.shape, y.dtype
        ((150, 4), dtype('float32'), (150,), dtype('int64'))
        >>> X, y, features, classes = lw.datasets.load_iris(return_names=True)
        >>> classes
        ['setosa', 'versicolor', 'virginica']
    """
    with _open_resource(_IRIS_FILE) as f:
        return _parse_table(f, "layerwise/datasets/data/" + _IRIS_FILE, target="species",
                            delimiter=",", dtype=dtype, return_names=return_names)


def load_digits(dtype=None, return_names=False):
    """Load the UCI 8x8 optical handwritten digits: 1,797 images of 0-9.

    Each row of ``X`` is one 8x8 image flattened row by row
    (``X[i].reshape(8, 8)`` gives the picture). Pixels keep their raw
    values, integers 0..16 (counts of "on" pixels in 4x4 blocks of the
    original 32x32 bitmaps); most models want them scaled, usually with
    ``X / 16``.

    Args:
        dtype: floating dtype of ``X``. ``None`` (the default) means
            ``float32``; pass ``np.float64`` for double precision.
        return_names: if True, also return the feature and class names.

    Returns:
        ``(X, y)``, or ``(X, y, feature_names, target_names)`` when
        ``return_names`` is True, where

        - ``X``: array of shape ``(1797, 64)``, values 0..16;
        - ``y``: int64 array of shape ``(1797,)``, the digit 0..9;
        - ``feature_names``: ``['pixel_0_0', ..., 'pixel_7_7']``
          (``pixel_<row>_<column>``);
        - ``target_names``: ``['0', '1', ..., '9']``.

    The values are identical to ``sklearn.datasets.load_digits()``.

    Example:
        >>> import layerwise as lw
        >>> X, y = lw.datasets.load_digits()
        >>> X.shape, X.dtype, int(X.max()), y[:5].tolist()
        ((1797, 64), dtype('float32'), 16, [0, 1, 2, 3, 4])
        >>> X = X / 16  # scale pixels to [0, 1]
    """
    with _open_resource(_DIGITS_FILE) as f:
        out = _parse_table(f, "layerwise/datasets/data/" + _DIGITS_FILE, target="digit",
                           delimiter=",", dtype=dtype, return_names=return_names)
    if return_names:
        X, y, feature_names, _ = out
        return X, y, feature_names, [str(k) for k in range(10)]
    return out


def load_csv(path, target=-1, delimiter=",", dtype=None, return_names=False):
    """Load a numeric table with a header row from a CSV file.

    The first line names the columns. Every cell of every feature column
    must be a finite number; the target column may hold numbers or class
    names. Blank lines (and rows whose cells are all empty) are
    skipped; a UTF-8 byte-order mark is ignored;
    spaces around names and values are trimmed.

    Args:
        path: str or path-like, the CSV file.
        target: the label column, by header name (str) or by position
            (int, negative counts from the end). The default ``-1`` is the
            last column. ``None`` means the file has no label column:
            every column is a feature and only ``X`` is returned.
        delimiter: the one-character field separator, e.g. ``';'`` or
            ``'\\t'``.
        dtype: floating dtype of ``X`` (and of ``y`` for non-integer
            numeric targets). ``None`` means ``float32``.
        return_names: if True, also return the names (see Returns).

    Returns:
        - ``X``: array of shape ``(n_rows, n_columns - 1)`` (all columns
          but the target, in file order), or ``(n_rows, n_columns)`` when
          ``target`` is None.
        - ``y``: array of shape ``(n_rows,)``:

          * int64 if every target cell is an integer-valued number
            (``3`` or ``3.0``);
          * ``dtype`` (float) if the cells are numbers, not all integers;
          * int64 labels ``0..K-1`` if any cell is not a number: the
            distinct strings are sorted and label ``k`` stands for the
            ``k``-th of them.

        With ``target`` given: ``(X, y)``, or with ``return_names``
        ``(X, y, feature_names, class_names)``, where ``class_names`` is the
        sorted list of class strings, or ``None`` for a numeric target.
        With ``target=None``: ``X``, or with ``return_names``
        ``(X, feature_names)``.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the file is empty, has no data rows, has a row with the
            wrong number of fields, a missing (empty) cell, a feature cell
            that is not a finite number, or ``target`` names no column.
            The message names the file, and the line and column at fault.

    Example:
        >>> import layerwise as lw
        >>> # flowers.csv:
        >>> #   length,width,kind
        >>> #   1.4,0.2,rose
        >>> #   4.7,1.4,tulip
        >>> X, y, features, classes = lw.datasets.load_csv(   # doctest: +SKIP
        ...     "flowers.csv", target="kind", return_names=True)
        >>> X.shape, y.tolist(), features, classes            # doctest: +SKIP
        ((2, 2), [0, 1], ['length', 'width'], ['rose', 'tulip'])
    """
    name = os.fspath(path)
    with open(name, newline="", encoding="utf-8-sig") as f:
        try:
            return _parse_table(f, name, target=target, delimiter=delimiter,
                                dtype=dtype, return_names=return_names)
        except UnicodeDecodeError as err:
            raise ValueError(f"{name}: cannot be read as UTF-8 text ({err})") from None


# --------------------------------------------------------------------------- #
# Internals
# --------------------------------------------------------------------------- #
def _open_resource(filename):
    """Open a shipped data file as text (gunzipping ``.gz`` files)."""
    # Read whole (the files are small): a GzipFile over an open file never closes that file,
    # which left a ResourceWarning behind every load_digits().
    data = files(__package__).joinpath("data").joinpath(filename).read_bytes()
    if filename.endswith(".gz"):
        data = gzip.decompress(data)
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline="")


def _float_dtype(dtype):
    """Resolve the ``dtype`` argument: None -> float32; must be a float type."""
    dt = np.dtype(np.float32 if dtype is None else dtype)
    if dt.kind != "f":
        raise ValueError(f"dtype must be a floating-point type such as np.float32 "
                         f"or np.float64, got {dt}")
    return dt


def _is_missing(cell):
    return cell.strip() == ""


def _parse_table(lines: Iterable[str], name, target, delimiter, dtype, return_names):
    """Parse CSV text with a header into arrays; ``name`` is used in messages."""
    out_dtype = _float_dtype(dtype)
    reader = csv.reader(lines, delimiter=delimiter)

    # Header: the first non-blank row.
    header = None
    for row in reader:
        if any(cell.strip() for cell in row):
            header = [cell.strip() for cell in row]
            break
    if header is None:
        raise ValueError(f"{name}: the file is empty (expected a header row naming "
                         f"the columns, then data rows)")
    n_cols = len(header)

    # Data rows, with their line numbers for error messages.
    rows, line_nos = [], []
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue  # blank line, or a row of empty cells such as ",,,"
        if len(row) != n_cols:
            raise ValueError(f"{name}: line {reader.line_num} has {len(row)} fields but "
                             f"the header has {n_cols} ({_fmt_list(header)})")
        rows.append(row)
        line_nos.append(reader.line_num)
    if not rows:
        raise ValueError(f"{name}: the file has a header row but no data rows")

    # Which column is the target.
    if target is None:
        t = None
    elif isinstance(target, str):
        matches = [i for i, h in enumerate(header) if h == target.strip()]
        if not matches:
            raise ValueError(f"{name}: no column named {target!r}; the columns are "
                             f"{_fmt_list(header)}")
        if len(matches) > 1:
            raise ValueError(f"{name}: {len(matches)} columns are named {target!r} "
                             f"(positions {matches}); pass target as an int position")
        t = matches[0]
    elif isinstance(target, (int, np.integer)) and not isinstance(target, bool):
        if not -n_cols <= target < n_cols:
            raise ValueError(f"{name}: target={target} is out of range for {n_cols} "
                             f"columns; the columns are {_fmt_list(header)}")
        t = int(target) % n_cols
    else:
        raise TypeError(f"target must be a column name (str), a column position "
                        f"(int) or None, got {type(target).__name__}")

    feature_idx = [i for i in range(n_cols) if i != t]
    feature_names = [header[i] for i in feature_idx]
    X = _parse_features(rows, line_nos, feature_idx, header, name).astype(out_dtype)

    if t is None:
        return (X, feature_names) if return_names else X
    y, class_names = _parse_target([row[t] for row in rows], line_nos, header[t], name,
                                   out_dtype)
    if return_names:
        return X, y, feature_names, class_names
    return X, y


def _parse_features(rows, line_nos, idx, header, name):
    """Feature columns as a float64 array; precise error on the first bad cell."""
    if not idx:
        return np.empty((len(rows), 0), dtype=np.float64)
    if idx == list(range(len(header))):
        cells = rows
    elif len(idx) == 1:
        cells = [(row[idx[0]],) for row in rows]
    else:
        pick = itemgetter(*idx)
        cells = [pick(row) for row in rows]
    try:
        X = np.array(cells, dtype=np.float64)  # fast path
    except ValueError:
        X = None
    if X is not None and np.isfinite(X).all():
        return X
    # Slow path: find the first offending cell, in file order.
    for r, row in enumerate(cells):
        for j, cell in enumerate(row):
            where = f"line {line_nos[r]}, column {header[idx[j]]!r}"
            if _is_missing(cell):
                raise ValueError(f"{name}: missing value at {where} (feature cells "
                                 f"must all be numbers; fill or drop incomplete rows)")
            try:
                v = float(cell)
            except ValueError:
                raise ValueError(f"{name}: non-numeric value {cell!r} at {where} "
                                 f"(feature columns must hold numbers)") from None
            if not np.isfinite(v):
                raise ValueError(f"{name}: non-finite value {cell!r} at {where} "
                                 f"(feature cells must be finite numbers; NaN usually "
                                 f"marks a missing value)")
    raise AssertionError("unreachable")  # pragma: no cover


def _parse_target(cells, line_nos, col, name, float_dtype):
    """Target column -> (y, class_names); class_names is None if numeric."""
    for r, cell in enumerate(cells):
        if _is_missing(cell):
            raise ValueError(f"{name}: missing value at line {line_nos[r]}, target "
                             f"column {col!r}")
    cells = [cell.strip() for cell in cells]
    try:
        return np.array(cells, dtype=np.int64), None  # exact for plain integers
    except (ValueError, OverflowError):
        pass
    try:
        y = np.array(cells, dtype=np.float64)
    except ValueError:
        y = None
    if y is not None:
        bad = np.flatnonzero(~np.isfinite(y))
        if bad.size:
            r = bad[0]
            raise ValueError(f"{name}: non-finite value {cells[r]!r} at line "
                             f"{line_nos[r]}, target column {col!r}")
        if (y == np.round(y)).all() and (np.abs(y) < 2.0**63).all():
            return y.astype(np.int64), None
        return y.astype(float_dtype), None
    # Class names: sorted distinct strings -> 0..K-1.
    class_names, y = np.unique(np.array(cells, dtype=object).astype(str),
                               return_inverse=True)
    return y.astype(np.int64).reshape(-1), [str(c) for c in class_names]


def _fmt_list(names, limit=20):
    shown = ", ".join(repr(n) for n in names[:limit])
    if len(names) > limit:
        shown += f", ... ({len(names)} in all)"
    return "[" + shown + "]"
