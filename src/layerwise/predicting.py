"""Prediction in bounded memory: ``predict_array`` for arrays, ``predict_file`` for files of any
size (``.npy``, CSV, Parquet), in-process or on a Dask cluster.

``predict_file`` reads ``chunk_rows`` rows at a time (a ``.npy`` file is memory-mapped, a CSV
file read line by line, a Parquet file batch by batch), scores them and writes them to the
output before reading more, so its memory is about ``chunk_rows * (n_inputs + n_outputs)``
numbers (8 bytes each in float64) plus the model, whatever the file's size. With ``client=``
the chunks are scored by Dask workers, a few chunks per worker in flight at a time, and written
by the caller as they come back (workers must reach the input file at the same path).
"""

from __future__ import annotations

import itertools
import numbers
import os
import sys
import time

import numpy as np

from .autodiff.tensor import Tensor, no_grad
from .checks import suffix_in
from .nn.module import Module, training_mode

__all__ = ["predict_array", "predict_file"]

FORMATS = (".npy", ".csv", ".parquet")


def predict_array(model, X, batch_size: int | None = None) -> np.ndarray:
    """The model's output on ``X`` as an ndarray, in eval mode without a graph.

    Args:
        model: a ``lw.nn.Module``.
        X: ``(n, n_in)`` ndarray (or memmap, or array-like).
        batch_size: rows per forward pass (bounds the activations' memory); None: all at once.

    Returns:
        ``(n, n_out)`` ndarray, equal to ``model(X)``.

    >>> import numpy as np, layerwise as lw
    >>> from layerwise.predicting import predict_array
    >>> net = lw.MLP([4, 3], rng=0)
    >>> np.allclose(predict_array(net, np.ones((5, 4)), batch_size=2), net(np.ones((5, 4))).data)
    True
    """
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(
            batch_size, numbers.Integral) or batch_size < 1):
        raise ValueError(f"predict: batch_size must be a positive int or None, got {batch_size!r}")
    X = X.data if isinstance(X, Tensor) else X
    X = X if isinstance(X, np.ndarray) else np.asarray(X)
    step = batch_size or max(len(X), 1)
    with training_mode(model, False), no_grad():
        parts = [_output(model(np.asarray(X[i:i + step]))) for i in range(0, len(X), step)]
        return np.concatenate(parts) if len(parts) != 1 else parts[0]


def _output(out):
    return np.asarray(out.data if isinstance(out, Tensor) else out)


# ------------------------------------------------------------------------- readers
def _pyarrow_parquet():
    try:
        import pyarrow.parquet
    except ImportError:
        raise ImportError("reading Parquet needs pyarrow: pip install 'layerwise[parquet]'"
                          ) from None
    return pyarrow.parquet


def _csv_header(path) -> tuple[list | None, int]:
    """The first line's column names if it is a header (not all numbers), and the column count."""
    with open(path, encoding="utf-8") as f:
        first = f.readline().strip()
    cells = [c.strip() for c in first.split(",")]
    try:
        [float(c) for c in cells]
    except ValueError:
        return cells, len(cells)
    return None, len(cells)


def _csv_rows(path) -> int:
    """Data rows of a CSV file, counted in one streaming pass."""
    header, _ = _csv_header(path)
    with open(path, "rb") as f:
        lines = sum(1 for line in f if line.strip())
    return lines - (header is not None)


def _parse_csv(lines, path, first_line, n_columns, dtype):
    try:
        rows = np.loadtxt(lines, delimiter=",", dtype=dtype, ndmin=2)
    except ValueError as err:
        raise ValueError(f"{path}: rows {first_line}-{first_line + len(lines) - 1} are not "
                         f"{n_columns} numbers per row ({err})") from None
    if rows.shape[1] != n_columns:
        raise ValueError(f"{path}: rows from line {first_line} have {rows.shape[1]} columns, "
                         f"the header has {n_columns}")
    return rows


def read_chunks(path, chunk_rows: int, dtype=np.float64, columns=None):
    """Yield the rows of a ``.npy``, CSV or Parquet file, ``chunk_rows`` at a time, as 2-D
    ndarrays of ``dtype`` (``columns``: indices of the columns to keep, default all)."""
    fmt = suffix_in(path, FORMATS, "input", "predict_file")
    if fmt == ".npy":
        data = np.load(path, mmap_mode="r", allow_pickle=False)
        if data.ndim != 2:
            raise ValueError(f"{path}: expected a 2-D array (rows, features), got shape "
                             f"{data.shape}")
        for start in range(0, len(data), chunk_rows):
            block = np.asarray(data[start:start + chunk_rows], dtype=dtype)
            yield block if columns is None else block[:, columns]
    elif fmt == ".csv":
        header, n_columns = _csv_header(path)
        with open(path, encoding="utf-8") as f:
            line = 1
            if header is not None:
                f.readline()
                line = 2
            lines = (text for text in f if text.strip())
            while chunk := list(itertools.islice(lines, chunk_rows)):
                block = _parse_csv(chunk, path, line, n_columns, dtype)
                line += len(chunk)
                yield block if columns is None else block[:, columns]
    else:
        parquet = _pyarrow_parquet().ParquetFile(path)
        names = parquet.schema_arrow.names
        keep = names if columns is None else [names[i] for i in columns]
        for batch in parquet.iter_batches(batch_size=chunk_rows, columns=keep):
            yield np.column_stack([batch.column(i).to_numpy(zero_copy_only=False)
                                   for i in range(batch.num_columns)]).astype(dtype, copy=False)


def count_rows(path) -> int:
    """The number of data rows of a ``.npy``, CSV or Parquet file (without reading it whole)."""
    fmt = suffix_in(path, FORMATS, "input", "predict_file")
    if fmt == ".npy":
        return len(np.load(path, mmap_mode="r", allow_pickle=False))
    if fmt == ".csv":
        return _csv_rows(path)
    return _pyarrow_parquet().ParquetFile(path).metadata.num_rows


# ------------------------------------------------------------------------- writers
class _NpyWriter:
    """Rows written in order into a ``.npy`` file whose shape is known up front."""

    def __init__(self, path, n_rows, n_columns, dtype):
        self.array = np.lib.format.open_memmap(path, mode="w+", dtype=dtype,
                                               shape=(n_rows, n_columns))
        self.at = 0

    def write(self, block):
        self.array[self.at:self.at + len(block)] = block
        self.at += len(block)

    def close(self):
        self.array.flush()
        del self.array


class _CsvWriter:
    def __init__(self, path, n_columns):
        self.file = open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed by close()
        names = ["prediction"] if n_columns == 1 else [f"prediction_{j}" for j in
                                                        range(n_columns)]
        self.file.write(",".join(names) + "\n")

    def write(self, block):
        np.savetxt(self.file, block, delimiter=",", fmt="%.17g")

    def close(self):
        self.file.close()


# ------------------------------------------------------------------------ predict_file
def predict_file(model, path, out, chunk_rows: int = 65536, batch_size: int | None = None,
                 progress: bool = True, client=None, columns=None, transform=None):
    """Score the rows of a ``.npy``, CSV or Parquet file of any size into ``out``, chunk by
    chunk, with memory bounded by ``chunk_rows``.

    Args:
        model: a ``lw.nn.Module``, or the path of a model file (``lw.save``).
        path: the input: ``.npy`` (a 2-D array, memory-mapped), ``.csv`` (numbers, an optional
            header line) or ``.parquet`` (numeric columns; needs pyarrow).
        out: the output, ``.npy`` (an ``(n, n_out)`` array) or ``.csv`` (a header line, then
            one row of ``n_out`` numbers per input row); written as chunks are scored.
        chunk_rows: rows read, scored and written at a time (the memory bound).
        batch_size: rows per forward pass within a chunk (None: the whole chunk).
        progress: report rows done, rows per second and time left on stderr.
        client: a ``distributed.Client`` (or ``'local'`` to start a ``LocalCluster`` for the
            call): score the chunks on its workers, which must see ``path`` at the same path.
        columns: indices of the input columns the model takes (default: all).
        transform: a function applied to each chunk's output ndarray before it is written
            (e.g. softmax of logits).

    Returns:
        The number of rows written.

    >>> import numpy as np, layerwise as lw, tempfile, os
    >>> from layerwise.predicting import predict_file
    >>> folder = tempfile.mkdtemp()
    >>> np.save(os.path.join(folder, "X.npy"), np.ones((10, 4)))
    >>> net = lw.MLP([4, 3], rng=0, dtype=np.float64)
    >>> predict_file(net, os.path.join(folder, "X.npy"), os.path.join(folder, "p.npy"),
    ...              chunk_rows=3, progress=False)
    10
    >>> np.load(os.path.join(folder, "p.npy")).shape
    (10, 3)
    """
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, numbers.Integral) \
            or chunk_rows < 1:
        raise ValueError(f"predict_file: chunk_rows must be a positive int, got {chunk_rows!r}")
    if not isinstance(model, Module):
        from .serialization import load

        model = load(model)
    out_format = suffix_in(out, FORMATS, "output", "predict_file")
    if out_format == ".parquet":
        raise ValueError("predict_file: write predictions to a .npy or .csv file")
    dtype = _model_dtype(model)
    n_rows = count_rows(path)
    n_out = predict_array(model, np.zeros((1, _n_inputs(model, columns, path)), dtype)).shape[1]
    if transform is not None:
        n_out = np.asarray(transform(np.zeros((1, n_out), dtype))).shape[1]
    writer = (_NpyWriter(out, n_rows, n_out, dtype) if out_format == ".npy"
              else _CsvWriter(out, n_out))
    meter = _Progress(n_rows) if progress else None
    try:
        if client is None:
            blocks = (predict_array(model, chunk, batch_size)
                      for chunk in read_chunks(path, chunk_rows, dtype, columns))
        else:
            from .dask import _stream_file

            blocks = _stream_file(model, path, chunk_rows, batch_size, dtype, columns, client)
        written = 0
        for block in blocks:
            block = block if transform is None else np.asarray(transform(block))
            writer.write(block)
            written += len(block)
            if meter:
                meter.update(written)
    finally:
        writer.close()
        if meter:
            meter.close()
    return written


def _model_dtype(model):
    dtypes = {p.data.dtype for p in model.parameters()}
    return dtypes.pop() if len(dtypes) == 1 else np.dtype(np.float64)


def _n_inputs(model, columns, path):
    size = model.input_size  # declared by the layers
    if size is None and columns is not None:
        size = len(columns)
    if size is None:
        raise ValueError(f"predict_file: cannot tell how many inputs the model takes ({path})")
    return size


class _Progress:
    """One line on stderr, rewritten at most every 0.5 s: rows done, rate, time left.

    The rate counts from the first chunk written: starting a cluster or opening the file is
    not scoring."""

    def __init__(self, total):
        self.total, self.done, self.shown = total, 0, 0.0
        self.started = self.first = None

    def update(self, done, final=False):
        now = time.perf_counter()
        if self.started is None:
            self.started, self.first = now, done
        self.done = done
        if not final and now - self.shown < 0.5:
            return
        self.shown = now
        rate = (done - self.first) / (now - self.started) if now > self.started else 0.0
        speed = f"{rate:,.0f} rows/s, {(self.total - done) / rate:.0f} s left" if rate else "..."
        sys.stderr.write(f"\rpredict: {done:,}/{self.total:,} rows ({speed})   ")
        sys.stderr.flush()

    def close(self):
        self.update(self.done, final=True)
        sys.stderr.write("\n")


# ------------------------------------------------------------------------ command line
def predict_command(model_path, data, out, dask=None, chunk_rows: int = 65536,
                    progress: bool = True) -> int:
    """``layerwise predict MODEL --data BIG --out OUT [--dask ADDRESS|local]``.

    Streams ``data`` through the model file's model into ``out`` (see :func:`predict_file`).
    When the file's metadata names the feature columns and ``data`` names its columns (a CSV
    header, Parquet's schema), those columns are picked by name. Models trained by ``layerwise
    train`` output logits: class probabilities are written for them (as the loss the file
    names declares: softmax, or ``1 - p, p`` for a binary one); regression outputs as they are.

    Returns:
        The number of rows written. Raises ValueError / OSError / ImportError with one line.
    """
    from .onnx.files import load_any

    model, meta = load_any(model_path)
    columns = _feature_columns(data, meta)
    n_outputs = predict_array(model, np.zeros((1, _n_inputs(model, columns, data)),
                                              _model_dtype(model))).shape[1]
    return predict_file(model, data, out, chunk_rows, progress=progress, client=dask,
                        columns=columns, transform=_probabilities(meta, n_outputs))


def _feature_columns(path, meta):
    features = meta.get("features")
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if not features or suffix == ".npy":
        return None
    if suffix == ".csv":
        names = _csv_header(path)[0]
    else:
        names = _pyarrow_parquet().ParquetFile(path).schema_arrow.names
    if names is None or names == features:
        return None
    missing = [f for f in features if f not in names]
    if missing:
        raise ValueError(f"{path}: the model needs the columns {features[:8]}; missing "
                         f"{missing[:5]}")
    return [names.index(f) for f in features]


def _probabilities(meta, n_outputs):
    """Class probabilities from the outputs, by the declaration of the loss the model file
    names; a file naming none is taken as a classifier of logits when it has several outputs
    (as ``layerwise predict`` does for a CSV). None for regression."""
    from . import tasks

    decl = tasks.loss_of_model_file(meta, n_outputs)
    if decl is None or decl.targets == "values":
        return None
    return lambda out: tasks.probabilities(decl, out)
