"""Small datasets shipped with layerwise, and a loader for your own CSV tables.

This module imports only NumPy and the standard library, so it works on its
own, without the rest of layerwise.

The shipped files live in ``layerwise/datasets/data/`` and are read with
:mod:`importlib.resources`; nothing is ever downloaded. See
``data/README.txt`` for their source and licence.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import gzip
import io
import itertools
import operator
import os
import re
import unicodedata
import warnings
from importlib.resources import files

import numpy as np

from ..dtypes import get_default_dtype
from ..safefile import open_regular

__all__ = ["csv_header", "load_csv", "load_digits", "load_iris"]

_IRIS_FILE = "iris.csv"
_DIGITS_FILE = "digits.csv.gz"


# --------------------------------------------------------------------------- #
# Public loaders
# --------------------------------------------------------------------------- #
def load_iris(dtype=None, return_names=False):
    """Load Fisher's Iris data: 150 flowers, 4 measurements, 3 species.

    Args:
        dtype: floating dtype of ``X``. ``None`` (the default) means
            the library's default dtype (float32 unless ``lw.set_default_dtype`` changed it); pass ``np.float64``
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
    return _parse_table(_resource_text(_IRIS_FILE), "layerwise/datasets/data/" + _IRIS_FILE,
                        target="species", delimiter=",", dtype=dtype, return_names=return_names)


def load_digits(dtype=None, return_names=False):
    """Load the UCI 8x8 optical handwritten digits: 1,797 images of 0-9.

    Each row of ``X`` is one 8x8 image flattened row by row
    (``X[i].reshape(8, 8)`` gives the picture). Pixels keep their raw
    values, integers 0..16 (counts of "on" pixels in 4x4 blocks of the
    original 32x32 bitmaps); most models want them scaled, usually with
    ``X / 16``.

    Args:
        dtype: floating dtype of ``X``. ``None`` (the default) means the library's
            default dtype (float32 unless changed); pass ``np.float64`` for double precision.
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
    out = _parse_table(_resource_text(_DIGITS_FILE), "layerwise/datasets/data/" + _DIGITS_FILE,
                       target="digit", delimiter=",", dtype=dtype, return_names=return_names)
    if return_names:
        X, y, feature_names, _ = out
        return X, y, feature_names, [str(k) for k in range(10)]
    return out


def load_csv(path, target=-1, delimiter=None, dtype=None, return_names=False):
    """Load a numeric table with a header row from a CSV file.

    The first line names the columns. Every cell of every feature column
    must be a finite number written with ASCII digits (``1.5``, ``-2e3``);
    the target column may hold numbers or class names. Blank lines (and
    rows whose cells are all empty) are skipped; a UTF-8 byte-order mark is
    ignored; spaces and tabs around names and values are trimmed (other
    Unicode spaces, such as the no-break space, are not).

    Args:
        path: str or path-like, the CSV file (a regular file: folders,
            devices and FIFOs are refused).
        target: the label column, by header name (str) or by position
            (int, negative counts from the end). The default ``-1`` is the
            last column. ``None`` means the file has no label column:
            every column is a feature and only ``X`` is returned.
        delimiter: the one-character field separator, e.g. ``';'`` or
            ``'\\t'``. ``None`` (the default) reads it from the header line:
            ``','`` if the line has one, else the most frequent of ``';'``,
            tab and ``'|'``.
        dtype: floating dtype of ``X`` (and of ``y`` for non-integer
            numeric targets). ``None`` means the default dtype.
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
        FileNotFoundError / IsADirectoryError: no such file, or a folder.
        ValueError: a device or FIFO; text that is not UTF-8; the file is
            empty, has no data rows or no feature column, a quote that is
            never closed, a field longer than 131,072 characters, a row with
            the wrong number of fields, a missing (empty) cell, a feature cell
            that is not a finite number in ASCII digits (``1_000``, ``١٢``,
            ``１２`` are refused), a number beyond ``dtype``'s range, or
            ``target`` names no column. The message names the file, and the
            line and column at fault.

    Files without quotes, in plain ASCII, are parsed by NumPy's C reader
    (``np.loadtxt``); anything else, and every error, by the careful
    ``csv``-module path that finds the line and column at fault.

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
    f, _ = open_regular(name)
    with f:
        text = _decode(f.read(), name)
    return _parse_table(text, name, target=target, delimiter=delimiter, dtype=dtype,
                        return_names=return_names)


def csv_header(path, delimiter=None) -> list:
    """The column names of a CSV file, read as :func:`load_csv` reads them.

    The same checks as ``load_csv`` (a regular file, UTF-8, the delimiter read from the
    header line when None, closed quotes); raises ``ValueError`` naming the file for an
    empty one.

    >>> import layerwise as lw, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "t.csv")
    >>> _ = open(path, "w").write("a;b;label\\n1;2;x\\n")
    >>> lw.datasets.loaders.csv_header(path)
    ['a', 'b', 'label']
    """
    name = os.fspath(path)
    f, _ = open_regular(name)
    with f:
        text = _decode(f.read(), name)
    for _, _, row in _records(text, name, _delimiter(delimiter, text)):
        if not _is_blank(row):
            return [cell.strip(_TRIM) for cell in row]
    raise ValueError(f"{name}: the file is empty (expected a header row naming the columns)")


# --------------------------------------------------------------------------- #
# Internals
# --------------------------------------------------------------------------- #
_TRIM = " \t"  # trimmed around names and values; Unicode spaces such as NBSP are not
_DELIMITERS = (",", ";", "\t", "|")  # what delimiter=None recognises, in order of preference
_NUMBER = (r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity|nan)")
_IS_NUMBER = re.compile(_NUMBER, re.ASCII | re.IGNORECASE)
# The characters of _NUMBER (and of the spaces around it): a column of cells made of these
# alone is converted whole by NumPy, which then accepts exactly what _NUMBER accepts (its
# float() would also take "1_000", non-ASCII digits and Unicode spaces: they are not here).
_NUMBER_CHARS = b"0123456789+-.eEiInNfFtTyYaA \t"
_INTEGER_CHARS = b"0123456789+-"
_CHUNK = 4096  # rows converted at a time by the csv-module paths, to bound their memory
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
_FAST_BYTES = bytes([9, 10, 13, *range(32, 127)])  # printable ASCII, tab and line ends


class _NeedsLineNumbers(Exception):
    """The fast path met a cell to complain about; the careful path finds its line."""


def _resource_text(filename) -> str:
    """A shipped data file as text (gunzipping ``.gz`` files)."""
    data = files(__package__).joinpath("data").joinpath(filename).read_bytes()
    if filename.endswith(".gz"):
        data = gzip.decompress(data)
    return data.decode("utf-8")


def _decode(data: bytes, name) -> str:
    """UTF-8 text without a byte-order mark; an error names the line and byte."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        column = err.start - data.rfind(b"\n", 0, err.start)
        raise ValueError(f"{name}: line {line}, byte {column}: cannot be read as UTF-8 text "
                         f"({err.reason}: {data[err.start:err.end]!r}); save the file as "
                         "UTF-8") from None
    return text.removeprefix("\ufeff")


def _float_dtype(dtype):
    """Resolve the ``dtype`` argument: None -> the default dtype (``lw.set_default_dtype``,
    float32 unless changed); must be a float type."""
    dt = np.dtype(get_default_dtype() if dtype is None else dtype)
    if dt.kind != "f":
        raise ValueError(f"dtype must be a floating-point type such as np.float32 "
                         f"or np.float64, got {dt}")
    return dt


def _is_blank(row) -> bool:
    return not "".join(row).strip(_TRIM)


def _lines(text, chunk=1 << 20):
    """The lines of ``text`` with their ends, as a file opened with ``newline=''`` gives
    them, read through StringIO a megabyte at a time (StringIO holds 4 bytes a character)."""
    def pieces():
        start = 0
        while start < len(text):
            end = text.find("\n", start + chunk)
            end = len(text) if end < 0 else end + 1
            yield io.StringIO(text[start:end], newline="")
            start = end

    return itertools.chain.from_iterable(pieces())


def _delimiter(delimiter, text) -> str:
    """The field separator: checked if given, else read from the first non-blank line."""
    if delimiter is not None:
        if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in "\"\r\n":
            raise ValueError(f"delimiter must be one character other than a quote or a line "
                             f"end, got {delimiter!r}")
        return delimiter
    for match in _LINE.finditer(text):
        line = match.group()
        if line.strip(_TRIM + "\r\n"):
            counts = {d: line.count(d) for d in _DELIMITERS}
            return max(_DELIMITERS, key=counts.__getitem__) if max(counts.values()) else ","
    return ","


def _records(text, name, delimiter):
    """``(first line, last line, fields)`` of each CSV record, with clear errors."""
    reader = csv.reader(_lines(text), delimiter=delimiter, strict=True)
    end = 0
    try:
        for row in reader:
            yield end + 1, reader.line_num, row
            end = reader.line_num
    except csv.Error as err:
        start = end + 1
        limit = csv.field_size_limit()
        if "field larger than field limit" in str(err):
            raise ValueError(f"{name}: line {start}: a field is longer than {limit:,} "
                             "characters (is a quote not closed?)") from None
        if "unexpected end of data" in str(err):
            raise ValueError(f"{name}: line {start}: a quoted field is never closed (an "
                             "unterminated '\"' swallows the rest of the file)") from None
        raise ValueError(f"{name}: line {reader.line_num}: not valid CSV ({err})") from None


def _parse_table(text: str, name, target, delimiter, dtype, return_names):
    """Parse CSV text with a header into arrays; ``name`` is used in messages."""
    out_dtype = _float_dtype(dtype)
    explicit = delimiter is not None
    delimiter = _delimiter(delimiter, text)
    records = _records(text, name, delimiter)

    # Header: the first non-blank row.
    header, header_end = None, 0
    for _, end, row in records:
        if not _is_blank(row):
            header, header_end = [cell.strip(_TRIM) for cell in row], end
            break
    if header is None:
        raise ValueError(f"{name}: the file is empty (expected a header row naming "
                         f"the columns, then data rows)")
    n_cols = len(header)
    others = [d for d in _DELIMITERS if d != delimiter and d in header[0]]
    if n_cols == 1 and explicit and others:
        raise ValueError(f"{name}: split at {delimiter!r}, the header is one column, "
                         f"{header[0]!r}; the file looks {others[0]!r}-delimited: pass "
                         f"delimiter={others[0]!r}")
    t = _target_column(target, header, name)
    if t is not None and n_cols == 1:
        raise ValueError(f"{name}: the only column, {header[0]!r}, is the target, which leaves "
                         "no feature columns (pass target=None to read it as a feature)")
    feature_idx = [i for i in range(n_cols) if i != t]
    feature_names = [header[i] for i in feature_idx]

    try:
        columns = _fast_columns(text, header_end, delimiter, n_cols, t, out_dtype)
        if columns is None:
            columns = _quick_columns(text, header_end, delimiter, n_cols, feature_idx, t,
                                     out_dtype)
        X, target_cells = columns
        if not len(X):
            raise ValueError(f"{name}: the file has a header row but no data rows")
        y, class_names = (None, None) if t is None else _parse_target(
            target_cells, None, header[t], name, out_dtype)
    except _NeedsLineNumbers:  # something to refuse: the careful path names its line
        X, target_cells, lines = _careful_columns(records, header, feature_idx, t, name,
                                                  out_dtype)
        if not lines:
            raise ValueError(f"{name}: the file has a header row but no data rows") from None
        y, class_names = (None, None) if t is None else _parse_target(
            target_cells, lines, header[t], name, out_dtype)
    X = X.astype(out_dtype, copy=False)

    if t is None:
        return (X, feature_names) if return_names else X
    if return_names:
        return X, y, feature_names, class_names
    return X, y


def _target_column(target, header, name):
    """The target's column index (None for no target), from a name or a position."""
    n_cols = len(header)
    if target is None:
        return None
    if isinstance(target, str):
        matches = [i for i, h in enumerate(header) if h == target.strip(_TRIM)]
        if not matches:
            raise ValueError(f"{name}: no column named {target!r}; the columns are "
                             f"{_fmt_list(header)}")
        if len(matches) > 1:
            raise ValueError(f"{name}: {len(matches)} columns are named {target!r} "
                             f"(positions {matches}); pass target as an int position")
        return matches[0]
    if isinstance(target, (int, np.integer)) and not isinstance(target, bool):
        if not -n_cols <= target < n_cols:
            raise ValueError(f"{name}: target={target} is out of range for {n_cols} "
                             f"columns; the columns are {_fmt_list(header)}")
        return int(target) % n_cols
    raise TypeError(f"target must be a column name (str), a column position "
                    f"(int) or None, got {type(target).__name__}")


def _fast_columns(text, header_end, delimiter, n_cols, t, out_dtype):
    """``(X in out_dtype, target cells)`` by ``np.loadtxt``, or None where it does not apply.

    Only for unquoted printable ASCII with ``\\n`` or ``\\r\\n`` line ends and no line over
    the field limit, and only when every feature cell is a finite number in ``out_dtype``'s
    range: what this path accepts, the careful path accepts with the same numbers (a
    property test checks it); anything else goes the careful way, which names the line.
    """
    if delimiter not in _DELIMITERS or '"' in text or not text.isascii():
        return None
    raw = text.encode("ascii")
    if raw.translate(None, _FAST_BYTES) or raw.count(b"\r") != raw.count(b"\r\n"):
        return None
    newlines = np.flatnonzero(np.frombuffer(raw, dtype=np.uint8) == 10)
    line_ends = np.append(newlines, len(raw))
    line_starts = np.concatenate([[0], newlines + 1])
    if (line_ends - line_starts).max() > csv.field_size_limit():
        return None
    body = io.BytesIO(raw)  # shares raw's buffer: no copy
    body.seek(int(line_starts[header_end]) if header_end < len(line_starts) else len(raw))
    fields = [(f"c{i}", object if i == t else np.float64) for i in range(n_cols)]
    try:
        with warnings.catch_warnings():  # "input contained no data" for a header-only file
            warnings.simplefilter("ignore")
            table = np.loadtxt(io.TextIOWrapper(body, encoding="ascii"), dtype=fields,
                               delimiter=delimiter, comments=None, quotechar=None, ndmin=1)
    except (ValueError, TypeError, OverflowError):
        return None
    X = np.empty((len(table), n_cols - (t is not None)), dtype=out_dtype)
    for j, i in enumerate(i for i in range(n_cols) if i != t):
        column = table[f"c{i}"]
        if not np.isfinite(column).all() or np.abs(column).max(initial=0) > np.finfo(out_dtype).max:
            return None
        X[:, j] = column  # in range: the cast to out_dtype cannot overflow
    return X, (None if t is None else table[f"c{t}"].tolist())


def _cell_problem(cell, limit, dtype, where):
    """What is wrong with a feature cell, or None if it is a finite number within ``limit``."""
    value = cell.strip(_TRIM)
    if value == "":
        return (f"missing value at {where()} (feature cells must all be numbers; fill or drop "
                "incomplete rows)")
    if not _IS_NUMBER.fullmatch(value):
        odd = next((c for c in value if not c.isascii() or c == "_" or not c.isprintable()),
                   None)
        why = "feature columns must hold numbers such as 1.5 or -2e3"
        if odd == "_":
            why += "; digit separators such as _ are not accepted"
        elif odd is not None:
            why += (f"; it holds the character U+{ord(odd):04X} "
                    f"({unicodedata.name(odd, 'unnamed')}): only ASCII digits and spaces count")
        return f"non-numeric value {cell!r} at {where()} ({why})"
    number = float(value)
    if not np.isfinite(number):
        return (f"non-finite value {cell!r} at {where()} (feature cells must be finite "
                "numbers; NaN usually marks a missing value)")
    if abs(number) > limit:
        return (f"value {cell!r} at {where()} is beyond the range of {dtype} (largest "
                f"{limit:.4g}); pass dtype=np.float64")
    return None


@contextlib.contextmanager
def _gc_paused():
    """The csv module makes millions of small lists, none of which can form a cycle; CPython's
    cycle collector would scan them again and again (half the parse time), so it waits."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _quick_columns(text, header_end, delimiter, n_cols, feature_idx, t, out_dtype):
    """``(X as float64, target cells)`` by the csv module, whole columns converted at once,
    for files the fast path does not take (quotes, non-ASCII text); raises
    ``_NeedsLineNumbers`` at anything the careful path must name."""
    lines = _lines(text)
    for _ in itertools.islice(lines, header_end):
        pass  # the header's lines, as csv.reader counted them
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    limit = np.finfo(out_dtype).max
    strip = operator.methodcaller("strip", _TRIM)
    blocks, target_cells = [], []
    try:
        with _gc_paused():
            while chunk := list(itertools.islice(reader, _CHUNK)):
                rows = list(itertools.compress(chunk, map(strip, map("".join, chunk))))
                if set(map(len, rows)) - {n_cols}:
                    raise _NeedsLineNumbers
                cells = list(itertools.chain.from_iterable(rows))  # row by row; column i is
                block = np.empty((len(rows), len(feature_idx)), dtype=np.float64)  # cells[i::n]
                for j, i in enumerate(feature_idx):
                    if not _all_made_of(cells[i::n_cols], _NUMBER_CHARS):
                        raise _NeedsLineNumbers
                    block[:, j] = np.array(cells[i::n_cols], dtype=np.float64)
                if not np.isfinite(block).all() or np.abs(block).max(initial=0) > limit:
                    raise _NeedsLineNumbers
                blocks.append(block)
                if t is not None:
                    target_cells += cells[t::n_cols]
    except (csv.Error, ValueError):
        raise _NeedsLineNumbers from None
    if not blocks:
        return np.empty((0, len(feature_idx))), target_cells
    return np.concatenate(blocks), target_cells


def _careful_columns(records, header, feature_idx, t, name, out_dtype):
    """``(X as float64, target cells, line of each row)`` from the remaining CSV records,
    converted a chunk of rows at a time (the rows' strings are the memory here)."""
    n_cols = len(header)
    blocks, target_cells, lines, rows = [], [], [], []
    for start, _, row in records:
        if _is_blank(row):
            continue  # blank line, or a row of empty cells such as ",,,"
        if len(row) != n_cols:
            raise ValueError(f"{name}: line {start} has {len(row)} fields but "
                             f"the header has {n_cols} ({_fmt_list(header)})")
        rows.append(row)
        lines.append(start)
        if t is not None:
            target_cells.append(row[t])
        if len(rows) == _CHUNK:
            blocks.append(_parse_features(rows, lines[-len(rows):], feature_idx, header, name,
                                          out_dtype))
            rows = []
    blocks.append(_parse_features(rows, lines[len(lines) - len(rows):], feature_idx, header,
                                  name, out_dtype))
    return np.concatenate(blocks), target_cells, lines


def _all_made_of(cells, chars: bytes) -> bool:
    """Whether every cell is ASCII made of ``chars`` only, with no line break in any."""
    joined = "\n".join(cells)
    return (joined.isascii() and joined.count("\n") == len(cells) - 1
            and not joined.encode("ascii").translate(None, chars + b"\n"))


def _parse_features(rows, lines, idx, header, name, out_dtype):
    """Feature columns as a float64 array; a precise error on the first bad cell."""
    if not rows:
        return np.empty((0, len(idx)), dtype=np.float64)
    cells = [row[i] for row in rows for i in idx]
    limit = float(np.finfo(out_dtype).max)
    if _all_made_of(cells, _NUMBER_CHARS):
        try:
            X = np.array(cells, dtype=np.float64).reshape(len(rows), len(idx))
        except ValueError:  # "1e", "..": the loop below names it
            X = None
        if X is not None and np.isfinite(X).all() and np.abs(X).max(initial=0) <= limit:
            return X
    for k, cell in enumerate(cells):  # find the first offending cell, in file order
        r, j = divmod(k, len(idx))
        problem = _cell_problem(cell, limit, out_dtype,
                                lambda r=r, j=j: f"line {lines[r]}, column {header[idx[j]]!r}")
        if problem is not None:
            raise ValueError(f"{name}: {problem}")
    raise AssertionError("unreachable")  # pragma: no cover


def _parse_target(cells, lines, col, name, float_dtype):
    """Target column -> (y, class_names); class_names is None if numeric.

    ``lines`` gives each cell's line for error messages; None (the fast path) raises
    ``_NeedsLineNumbers`` instead of an error.
    """
    def fail(r, before, after=""):
        if lines is None:
            raise _NeedsLineNumbers
        raise ValueError(f"{name}: {before}line {lines[r]}, target column {col!r}{after}")

    cells = list(map(operator.methodcaller("strip", _TRIM), cells))
    if "" in cells:
        fail(cells.index(""), "missing value at ")
    y = None
    if _all_made_of(cells, _INTEGER_CHARS):
        try:
            return np.array(cells, dtype=np.int64), None  # exact for plain integers
        except (ValueError, OverflowError):
            pass
    if _all_made_of(cells, _NUMBER_CHARS):
        try:
            y = np.array(cells, dtype=np.float64)
        except ValueError:  # "e", "-", "nat": words, so class names
            pass
    if y is not None:
        bad = np.flatnonzero(~np.isfinite(y))
        if bad.size:
            fail(bad[0], f"non-finite value {cells[bad[0]]!r} at ")
        if (y == np.round(y)).all() and (np.abs(y) < 2.0**63).all():
            return y.astype(np.int64), None
        limit = np.finfo(float_dtype).max
        big = np.flatnonzero(np.abs(y) > limit)
        if big.size:
            fail(big[0], f"value {cells[big[0]]!r} at ", f" is beyond the range of "
                         f"{float_dtype} (largest {limit:.4g}); pass dtype=np.float64")
        return y.astype(float_dtype), None
    # Class names: sorted distinct strings -> 0..K-1.
    class_names = sorted(set(cells))
    label = {c: k for k, c in enumerate(class_names)}
    return np.fromiter(map(label.__getitem__, cells), np.int64, len(cells)), class_names


def _fmt_list(names, limit=20):
    shown = ", ".join(repr(n) for n in names[:limit])
    if len(names) > limit:
        shown += f", ... ({len(names)} in all)"
    return "[" + shown + "]"
