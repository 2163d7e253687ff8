"""Dask: prediction over chunked arrays and data frames, and synchronous data-parallel training.

Models travel to workers as the bytes of their model file (``lw.serialization.dumps``:
weights plus architecture JSON) and are rebuilt there with ``lw.serialization.loads``; no
module object is ever pickled, and workers need layerwise installed (the same version).

* ``predict(model, X)``: lazily, over a ``dask.array`` (chunked by rows) or a dask DataFrame.
* ``fit(model, X, y, loss, optimizer, epochs, batch_size, client)``: every global batch of
  ``batch_size`` rows (in order, as ``lw.fit(..., shuffle=False)``) is split into one piece
  per worker; each worker holds its pieces of every batch (scattered once, pinned to it) and
  computes the gradient of its piece; the caller averages the gradients weighted by rows and
  steps the optimiser. The weights go out to every worker before each step, under a fresh
  key (re-scattering under a reused key would leave workers with stale weights).

Scripts that start a ``LocalCluster`` need ``if __name__ == "__main__":`` around the code that
starts it (its worker processes import the script). ``np.memmap`` arrays are pickled by value:
``predict_file`` has workers open a ``.npy`` file themselves instead.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import threading
import uuid
from collections import deque

import numpy as np

try:
    import dask
    import dask.array as da
except ImportError:
    raise ImportError("layerwise.dask needs dask: pip install 'layerwise[dask]'") from None

from . import nn
from .checks import positive_int
from .data.batching import as_rows
from .nn.module import training_mode
from .predicting import _model_dtype, predict_array, read_chunks
from .serialization import dumps, loads
from .training import History

__all__ = ["fit", "predict"]

# --------------------------------------------------------------- models on workers
_MODELS: dict = {}  # (sha256 of a model file, thread) -> the model rebuilt from it


def _model_from(data: bytes):
    """The model a model file's bytes describe, rebuilt once per worker thread (a thread of
    its own: predicting switches the model to eval mode and back)."""
    key = (hashlib.sha256(data).hexdigest(), threading.get_ident())
    model = _MODELS.get(key)
    if model is None:
        if len(_MODELS) >= 16:
            _MODELS.clear()
        model = _MODELS[key] = loads(data)
    return model


def _packed(model):
    """The model as one graph value: its file's bytes, wrapped so that each worker fetches it
    once rather than once per task."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"layerwise.dask: model must be a lw.nn.Module, got "
                        f"{type(model).__name__}")
    data = dumps(model)
    return dask.delayed(data, pure=True, name=f"layerwise-model-{hashlib.sha256(data).hexdigest()}")


# ---------------------------------------------------------------------------- predict
def _predict_block(block, data, batch_size):
    return predict_array(_model_from(data), block, batch_size)


def _predict_frame(frame, data, batch_size, columns):
    import pandas as pd

    out = predict_array(_model_from(data), frame.to_numpy(), batch_size)
    return pd.DataFrame(out, index=frame.index, columns=columns)


def predict(model, X, batch_size: int | None = None):
    """The model's predictions over ``X``, lazily: as ``model.predict`` chunk by chunk.

    Args:
        model: a ``lw.nn.Module`` that ``lw.save`` can write.
        X: a 2-D ``dask.array`` ``(n, n_in)`` chunked by rows (column chunks are merged), or a
            dask DataFrame of ``n_in`` numeric columns.
        batch_size: rows per forward pass within a chunk (None: the whole chunk).

    Returns:
        A ``dask.array`` ``(n, n_out)`` in the model's dtype, with ``X``'s row chunks; or, for a
        DataFrame, a dask DataFrame with ``X``'s index and the columns ``prediction_0``, ...
        (``prediction`` if there is one output). Nothing is computed until you ask.

    >>> import numpy as np, dask.array as da, layerwise as lw
    >>> import layerwise.dask
    >>> net = lw.MLP([4, 3], rng=0)
    >>> X = da.ones((10, 4), chunks=(3, 4))
    >>> lazy = layerwise.dask.predict(net, X)
    >>> lazy.chunks
    ((3, 3, 3, 1), (3,))
    >>> np.allclose(lazy.compute(scheduler='sync'), net(np.ones((10, 4))).data)
    True
    """
    packed = _packed(model)
    if hasattr(X, "map_partitions"):  # a dask DataFrame
        n_in = len(X.columns)
    elif isinstance(X, da.Array):
        if X.ndim != 2:
            raise ValueError(f"layerwise.dask.predict: X must be 2-D (rows, features), got "
                             f"shape {X.shape}")
        n_in = X.shape[1]
    else:
        raise TypeError(f"layerwise.dask.predict: X must be a dask.array or a dask DataFrame, "
                        f"got {type(X).__name__} (use model.predict for in-memory arrays)")
    dtype = _model_dtype(model)
    n_out = predict_array(model, np.zeros((1, n_in), dtype), batch_size).shape[1]  # checks
    if isinstance(X, da.Array):
        if X.numblocks[1] > 1:
            X = X.rechunk({1: -1})
        return da.map_blocks(_predict_block, X, packed, batch_size, dtype=dtype,
                             chunks=(X.chunks[0], (n_out,)),
                             meta=np.empty((0, n_out), dtype), name="layerwise-predict")
    import pandas as pd

    columns = ["prediction"] if n_out == 1 else [f"prediction_{j}" for j in range(n_out)]
    meta = pd.DataFrame({c: np.empty(0, dtype) for c in columns})
    return X.map_partitions(_predict_frame, packed, batch_size, columns, meta=meta)


# ------------------------------------------------------------------------ predict_file
def _read_npy_rows(path, start, stop, dtype, columns):
    rows = np.asarray(np.load(path, mmap_mode="r", allow_pickle=False)[start:stop], dtype=dtype)
    return rows if columns is None else rows[:, columns]


def _score(data, batch_size, rows=None, read=None):
    return predict_array(_model_from(data), rows if read is None else _read_npy_rows(*read),
                         batch_size)


def _stream_file(model, path, chunk_rows, batch_size, dtype, columns, client):
    """Yield ``predict_file``'s output blocks in order, scored on Dask workers: a ``.npy`` file
    is read by the workers (each opens it memory-mapped), other formats are read here and
    their chunks sent; a few chunks per worker are in flight at a time (bounded memory)."""
    client, owned = _connect(client)
    try:
        [data] = client.scatter([dumps(model)], broadcast=True, hash=False)
        if str(path).lower().endswith(".npy"):
            n = len(np.load(path, mmap_mode="r", allow_pickle=False))
            jobs = ({"read": (str(path), i, min(i + chunk_rows, n), dtype, columns)}
                    for i in range(0, n, chunk_rows))
        else:
            jobs = ({"rows": chunk} for chunk in read_chunks(path, chunk_rows, dtype, columns))
        window = 2 * max(len(client.scheduler_info()["workers"]), 1)
        pending = deque()
        for job in itertools.chain(jobs, [None]):
            if job is not None:
                pending.append(client.submit(_score, data, batch_size, pure=False, **job))
            while pending and (job is None or len(pending) >= window):
                yield pending.popleft().result()
    finally:
        if owned:
            cluster = client.cluster
            client.close()
            cluster.close()


def _connect(client):
    """A ``(Client, owned)`` pair from a Client, a scheduler address or ``'local'``."""
    from distributed import Client, LocalCluster

    if isinstance(client, Client):
        return client, False
    if client == "local":
        cluster = LocalCluster(processes=True, threads_per_worker=1, dashboard_address=":0")
        return Client(cluster), True
    if isinstance(client, str):
        return Client(client), True
    raise TypeError(f"expected a distributed.Client, a scheduler address or 'local', got "
                    f"{type(client).__name__}")


# -------------------------------------------------------------------------------- fit
class _Share:
    """One worker's rows: its piece of every global batch, one after another
    (``bounds[k]:bounds[k + 1]`` is batch k's), the model file and the loss.

    It lives in the worker's memory for the whole run; the model rebuilt from the file is
    kept on it (``_model``), so the worker rebuilds it once, not once per step.
    """

    def __init__(self, X, y, bounds, data, loss):
        self.X, self.y, self.bounds, self.data, self.loss = X, y, bounds, data, loss
        self._model = None

    def gradient(self, weights, k):
        """``({name: gradient}, rows, loss)`` of the mean loss over this share of batch k."""
        lo, hi = self.bounds[k], self.bounds[k + 1]
        if hi == lo:
            return {}, 0, 0.0
        if self._model is None:
            self._model = loads(self.data)
            self.loss = _rebuilt_loss(self.loss)
        model = self._model
        model.load_state_dict(weights)
        model.zero_grad()
        with training_mode(model, True):
            value = self.loss(self.y[lo:hi], model(self.X[lo:hi]))
        value.backward()
        grads = {name: p.grad for name, p in model.named_parameters() if p.grad is not None}
        return grads, hi - lo, float(value.data)


def _share_gradient(share, weights, k):
    return share.gradient(weights, k)


def _portable_loss(loss):
    """A loss as it travels: a loss module as its registered name and config (no module object
    is pickled; the worker builds it with ``from_config``), any other callable as itself."""
    if isinstance(loss, nn.Module):
        name = nn.MODULES.name_of(type(loss)) if type(loss) in nn.MODULES.values() else None
        if name is None or loss.parameters():
            raise ValueError(f"layerwise.dask.fit: the loss {type(loss).__name__} is not a "
                             "registered loss module without parameters (lw.nn.register); "
                             "pass one of lw.nn's or a plain function loss(y_true, y_pred)")
        return ("module", name, loss.get_config())
    if not callable(loss):
        raise TypeError(f"layerwise.dask.fit: loss must be callable, got {type(loss).__name__}")
    return loss


def _rebuilt_loss(loss):
    if isinstance(loss, tuple) and loss[:1] == ("module",):
        return nn.MODULES[loss[1]].from_config(loss[2])
    return loss


def fit(model, X, y, loss, optimizer, epochs: int, batch_size: int = 32, client=None,
        progress: bool = False) -> History:
    """Train ``model`` data-parallel on a Dask cluster; the same steps as ``lw.fit(...,
    shuffle=False)``.

    Per global batch B (rows ``k b .. k b + b - 1``), split into one piece B_w per worker::

        g = sum_w |B_w| / |B| * grad(loss(y[B_w], model(X[B_w])))  ==  grad(loss(y[B], model(X[B])))

    for a loss that is a mean over rows (every layerwise loss with ``reduction='mean'``); then
    ``optimizer.step()`` here, on ``model``'s own parameters. The equality holds for models
    whose training forward pass is deterministic: Dropout draws on each worker, and BatchNorm
    normalises each piece by its own statistics and keeps its running averages on the worker
    (the model here gets the parameter updates only).

    Args:
        model: a ``lw.nn.Module`` that ``lw.save`` can write (it is trained in place).
        X, y: ``(n, ...)`` in-memory arrays (ndarray or memmap); each worker receives its rows
            once, at the start.
        loss: a registered loss module (sent as its name and config) or a function
            ``loss(y_true, y_pred)`` that workers can import.
        optimizer: e.g. ``lw.optim.Adam(model.parameters())``.
        epochs, batch_size: positive ints.
        client: a ``distributed.Client``; None: the current default client.
        progress: print one line per epoch (its mean loss) on stderr.

    Returns:
        ``History`` with ``'loss'``, the mean training loss of each epoch.

    Raises:
        ValueError: no client, bad arguments, X and y of different lengths, or a model or loss
            that cannot travel.
    """
    where = "layerwise.dask.fit"
    if not isinstance(model, nn.Module):
        raise TypeError(f"{where}: model must be a lw.nn.Module, got {type(model).__name__}")
    X, y = as_rows(X, "X", where), as_rows(y, "y", where)
    if len(X) != len(y):
        raise ValueError(f"{where}: X has {len(X)} rows but y has {len(y)}; they must match")
    epochs = positive_int(epochs, "epochs", where)
    batch_size = positive_int(batch_size, "batch_size", where)
    client = _default_client(client, where)
    workers = sorted(client.scheduler_info()["workers"])
    n, data, portable = len(X), dumps(model), _portable_loss(loss)
    n_batches = math.ceil(n / batch_size)

    # Worker w holds piece w of every batch: each step then uses every worker.
    pieces = [np.array_split(np.arange(k * batch_size, min((k + 1) * batch_size, n)),
                             len(workers)) for k in range(n_batches)]
    shares = []
    for w, address in enumerate(workers):
        rows = np.concatenate([p[w] for p in pieces])
        bounds = np.concatenate([[0], np.cumsum([len(p[w]) for p in pieces])])
        share = _Share(np.ascontiguousarray(X[rows]), np.ascontiguousarray(y[rows]), bounds,
                       data, portable)
        [future] = client.scatter([share], workers=[address], hash=False)
        shares.append((address, future))

    params = dict(model.named_parameters())
    history = History()
    for epoch in range(epochs):
        total = 0.0
        for k in range(n_batches):
            [weights] = client.scatter([model.state_dict()], broadcast=True, hash=False)
            futures = [client.submit(_share_gradient, share, weights, k, workers=[address],
                                     allow_other_workers=False, pure=False,
                                     key=f"layerwise-gradient-{uuid.uuid4().hex}")
                       for address, share in shares]
            results = client.gather(futures)
            rows = sum(r for _, r, _ in results)
            optimizer.zero_grad()
            for name, p in params.items():
                parts = [g[name] * r for g, r, _ in results if name in g]
                if parts:
                    p.grad = sum(parts[1:], parts[0]) / rows
            optimizer.step()
            total += sum(value * r for _, r, value in results)
        history._record(epoch, {"loss": total / n})
        if progress:
            import sys

            print(f"epoch {epoch + 1}/{epochs}: loss {total / n:.4f}", file=sys.stderr)
    return history


def _default_client(client, where):
    from distributed import Client, get_client

    if client is None:
        try:
            return get_client()
        except ValueError:
            raise ValueError(f"{where} needs a distributed Client: pass client=Client(...) or "
                             "create one first (Client(LocalCluster()))") from None
    if not isinstance(client, Client):
        raise TypeError(f"{where}: client must be a distributed.Client, got "
                        f"{type(client).__name__}")
    return client
