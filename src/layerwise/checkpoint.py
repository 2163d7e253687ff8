"""``lw.save_checkpoint`` / ``lw.load_checkpoint``: training state in one safetensors file.

A checkpoint holds the model's parameters and buffers, the optimiser's state (its arrays as
tensors, its numbers as JSON), the random generators held by the model's modules (a
``Dropout``'s), and any JSON-able ``extra`` (the epoch, a scheduler's state, the shuffling
generator's state with its 128-bit integers, ...). Arrays anywhere in ``extra`` or the
optimiser's state are stored as tensors and come back as ndarrays, bit for bit.

File layout: tensors ``model.<name>``, ``optimizer.<n>``, ``extra.<n>``, ``rng.<n>``; the
``__metadata__`` holds ``format='layerwise-checkpoint'``, ``format_version`` and the JSON of
``optimizer``, ``extra`` and ``rngs``, where each array is ``{"__array__": tensor name}``.
Nothing is unpickled; the write is atomic, as ``lw.save``'s.
"""

from __future__ import annotations

import json
import os

import numpy as np

from .serialization import _atomic_write, _safetensors

__all__ = ["load_checkpoint", "read_extra", "rng_state", "save_checkpoint", "set_rng_state"]

FORMAT = "layerwise-checkpoint"
FORMAT_VERSION = "1"
_ARRAY = "__array__"


def rng_state(rng) -> dict:
    """The state of a NumPy ``Generator`` or ``RandomState`` as a JSON-able dict (its arrays,
    such as MT19937's key, stay ndarrays; ``save_checkpoint`` stores them as tensors)."""
    if isinstance(rng, np.random.Generator):
        return rng.bit_generator.state  # type: ignore[return-value]  # a dict, typed Mapping
    if isinstance(rng, np.random.RandomState):
        return rng.get_state(legacy=False)
    raise TypeError(f"rng_state: expected a np.random.Generator or RandomState, got "
                    f"{type(rng).__name__}")


def set_rng_state(rng, state: dict) -> None:
    """Put ``rng`` (a ``Generator`` or ``RandomState``) back in a state from :func:`rng_state`."""
    if isinstance(rng, np.random.Generator):
        rng.bit_generator.state = state
    elif isinstance(rng, np.random.RandomState):
        rng.set_state(state)
    else:
        raise TypeError(f"set_rng_state: expected a np.random.Generator or RandomState, got "
                        f"{type(rng).__name__}")


def _split(value, prefix: str, arrays: dict):
    """``value`` with every ndarray replaced by ``{"__array__": name}`` (stored in ``arrays``)."""
    if isinstance(value, np.ndarray):
        name = f"{prefix}.{len(arrays)}"
        arrays[name] = value
        return {_ARRAY: name}
    if isinstance(value, dict):
        return {k: _split(v, prefix, arrays) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_split(v, prefix, arrays) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _join(value, tensors: dict, where: str):
    """Undo :func:`_split`."""
    if isinstance(value, dict):
        if set(value) == {_ARRAY}:
            try:
                return tensors[value[_ARRAY]]
            except (KeyError, TypeError):
                raise ValueError(f"{where}: the tensor {value[_ARRAY]!r} is missing") from None
        return {k: _join(v, tensors, where) for k, v in value.items()}
    if isinstance(value, list):
        return [_join(v, tensors, where) for v in value]
    return value


def _module_rngs(model) -> dict:
    """``{module name: generator}`` for the modules drawing from their own generator (a
    Dropout's); NumPy's global state is not the model's and is left out."""
    return {name: m.rng for name, m in model.named_modules()
            if isinstance(getattr(m, "rng", None), (np.random.Generator, np.random.RandomState))
            and m.rng is not np.random.mtrand._rand}


def save_checkpoint(path, model, optimizer, **extra):
    """Write ``model``, ``optimizer`` and ``extra`` to one safetensors file, atomically.

    Args:
        path: the file (its folder must exist); an existing one is replaced only once the new
            one is completely written.
        model: a ``lw.nn.Module`` (parameters and buffers are stored, not the architecture:
            load into a model built the same way).
        optimizer: its ``state_dict()`` is stored (None: none).
        **extra: JSON-able values (dicts, lists, str, numbers of any size, bools, None) and
            ndarrays, returned as they were by :func:`load_checkpoint`.

    Returns:
        ``path``.

    >>> import numpy as np, layerwise as lw, os, tempfile
    >>> net = lw.MLP([2, 3], rng=0)
    >>> opt = lw.optim.Adam(net.parameters())
    >>> rng = np.random.default_rng(7)
    >>> path = os.path.join(tempfile.mkdtemp(), "run.ckpt")
    >>> _ = lw.save_checkpoint(path, net, opt, epoch=3, rng=rng.bit_generator.state)
    >>> extra = lw.load_checkpoint(path, net, opt)
    >>> extra["epoch"], extra["rng"] == rng.bit_generator.state
    (3, True)
    """
    st = _safetensors()
    arrays = {f"model.{name}": a for name, a in model._state_arrays().items()}
    try:
        header = {
            "format": FORMAT, "format_version": FORMAT_VERSION,
            "optimizer": json.dumps(None if optimizer is None else
                                    _split(optimizer.state_dict(), "optimizer", arrays)),
            "rngs": json.dumps({name: _split(rng_state(rng), f"rng.{name}", arrays)
                                for name, rng in _module_rngs(model).items()}),
            "extra": json.dumps(_split(extra, "extra", arrays)),
        }
    except (TypeError, ValueError) as err:
        raise ValueError(f"save_checkpoint: extra must be JSON-serialisable (or ndarrays): "
                         f"{err}") from None
    tensors = {name: np.ascontiguousarray(a).reshape(np.shape(a)).astype(
        a.dtype.newbyteorder("<")) for name, a in arrays.items()}
    _atomic_write(path, st.numpy.save(tensors, metadata=header))
    return path


def load_checkpoint(path, model, optimizer):
    """Load a checkpoint written by :func:`save_checkpoint` into ``model`` and ``optimizer``
    (built as when it was saved) and return the ``extra`` dict given to it.

    Restores the parameters, buffers, the optimiser's state (its ``lr`` included) and the
    generators of the model's modules. Names, shapes and kinds are checked before anything
    changes in each of them; a file that is not a checkpoint raises ``ValueError``.
    """
    name, meta, tensors = _read(path)
    state = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
    try:
        model.load_state_dict(state)
    except ValueError as err:
        raise ValueError(f"{name}: the model does not match the checkpoint: {err}") from None
    opt_state = _join(json.loads(meta["optimizer"]), tensors, name)
    if optimizer is not None and opt_state is not None:
        optimizer.load_state_dict(opt_state)
    rngs = _module_rngs(model)
    for module, saved in _join(json.loads(meta["rngs"]), tensors, name).items():
        if module in rngs:
            set_rng_state(rngs[module], saved)
    return _join(json.loads(meta["extra"]), tensors, name)


def read_extra(path) -> dict:
    """The ``extra`` dict of a checkpoint, without loading anything into a model (to look at
    what a checkpoint holds, e.g. the options of the run that wrote it)."""
    name, meta, tensors = _read(path)
    return _join(json.loads(meta["extra"]), tensors, name)


def _read(path):
    """``(name, metadata, tensors)`` of a checkpoint file; ValueError if it is not one."""
    st = _safetensors()
    name = os.fspath(path)
    with open(name, "rb") as f:
        data = f.read()
    try:
        size = int.from_bytes(data[:8], "little")
        meta = json.loads(data[8:8 + size]).get("__metadata__") or {}
    except (ValueError, AttributeError):
        meta = {}
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{name}: not a layerwise checkpoint (save one with "
                         "lw.save_checkpoint; model files load with lw.load)")
    if meta.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{name}: checkpoint format version {meta.get('format_version')!r}; "
                         f"this layerwise reads version {FORMAT_VERSION}")
    try:
        tensors = st.numpy.load(data)
    except st.SafetensorError as err:
        raise ValueError(f"{name}: corrupt tensor data ({err})") from None
    return name, meta, tensors
