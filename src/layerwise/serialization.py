"""``lw.save`` / ``lw.load``: a model as one safetensors file, weights plus architecture.

File layout (the safetensors format: an 8-byte little-endian header length, a JSON header,
then the raw tensor bytes)::

    tensors        one per parameter, named as in ``state_dict()`` (``layers.0.W``, ...),
                   C-contiguous and little-endian
    __metadata__   {"format": "layerwise", "format_version": "1",
                    "architecture": JSON of {"dtype": "float32", "model": <module tree>},
                    "user": JSON of the ``metadata=`` dict, if one was given}

    module tree    {"module": <a registered class name>, "config": <its get_config()>},
                   sub-modules nested the same way, e.g.
                   {"module": "MLP", "config": {"layer_sizes": [4, 8, 3], ...}}

Files of format version 1 (the wave-1 trees ``{"type": "Dense", ...}``) are still read.

Nothing is ever unpickled: the header is JSON, the tensors are raw numbers. Saving writes a
temporary file in the target's folder, flushes and fsyncs it, then renames it over the target
(``os.replace``), so an interrupted save leaves the old file as it was. Loading reads only
regular files, header first, with bounded sizes and JSON nesting (``layerwise.safefile``).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile

import numpy as np

from . import init, nn, safefile

__all__ = ["FORMAT", "FORMAT_VERSION", "dumps", "load", "loads", "save"]

FORMAT = "layerwise"
FORMAT_VERSION = "2"
_READABLE_VERSIONS = ("1", "2")
_DTYPES = ("float16", "float32", "float64")


def _safetensors():
    try:
        import safetensors.numpy
    except ImportError:
        raise ImportError("lw.save and lw.load need safetensors: pip install 'layerwise[io]'"
                          ) from None
    return safetensors


# ------------------------------------------------------------------ module <-> tree
_MAX_DEPTH = 64  # modules nested deeper than this are refused (no recursion blow-ups)


def _describe(model) -> dict:
    """The JSON-able tree of a model: its registered class name and its config, nested."""
    name = nn.MODULES.name_of(type(model))
    if name is None:
        raise ValueError(
            f"lw.save: {type(model).__name__} is neither a built-in module nor registered; "
            "decorate its class with @lw.nn.register (or save model.state_dict() with "
            "safetensors.numpy.save_file)")
    try:
        return {"module": name, "config": model.get_config()}
    except ValueError as err:
        raise ValueError(f"lw.save: {err}") from None
    except RecursionError:
        raise ValueError(f"lw.save: the model is nested deeper than {_MAX_DEPTH} levels; "
                         "such a file could not be loaded") from None


def _build(tree, dtype, budget: int, where: str):
    """The module a tree describes, with zero weights (no random draws). Raises ValueError."""
    _check_depth(tree, where)
    if not isinstance(tree, dict) or set(tree) != {"module", "config"}:
        raise ValueError("the model is not an object with 'module' and 'config'")
    with init.allocation_limit(budget, where), nn.module.building(dtype=dtype):
        return nn.module.from_json(tree, "model")


def _check_depth(tree, where):
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > _MAX_DEPTH:
            raise ValueError(f"the architecture is nested deeper than {_MAX_DEPTH} levels")
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)


def _from_version_1(tree):
    """A format-1 tree (``{"type": "Dense", "n_input": 4, ...}``) in today's form."""
    if not isinstance(tree, dict) or not isinstance(tree.get("type"), str):
        raise ValueError("the model is not an object with a 'type'")  # noqa: TRY004 - bad file
    kind, fields = tree["type"], {k: v for k, v in tree.items() if k != "type"}
    if kind in ("MLP", "Sequential") and isinstance(fields.get("layers"), list):
        layers = [_from_version_1(t) for t in fields["layers"]]
        if kind == "Sequential":
            return {"module": kind, "config": {"modules": layers}}
        configs = [t["config"] for t in layers]
        if not configs or any(t["module"] != "Dense" for t in layers):
            raise ValueError("an MLP is a non-empty list of Dense layers")
        sizes = [configs[0].get("n_input")] + [c.get("n_output") for c in configs]
        hidden = configs[0]["activation"] if len(configs) > 1 else "relu"
        return {"module": "MLP", "config": {"layer_sizes": sizes, "hidden_activation": hidden,
                                            "output_activation": configs[-1]["activation"]}}
    return {"module": kind, "config": fields}


# ------------------------------------------------------------------------------ save
def save(model, path, metadata: dict | None = None):
    """Write ``model`` (architecture and weights) to a safetensors file at ``path``, atomically.

    Args:
        model: an ``MLP``, a ``Sequential`` of ``Dense``/``Linear``/activation modules, or one
            such layer, with named activations and one floating dtype for all parameters.
        path: the file to write (str or path-like); its folder must exist. An existing file is
            replaced only once the new one is completely written.
        metadata: optional JSON-serialisable dict stored with the model (e.g. class names);
            read it back with ``lw.load(path, return_metadata=True)``.

    Returns:
        ``path``.

    Every array is written C-contiguous and little-endian (safetensors 0.8 stores wrong
    numbers for transposed or negative-stride arrays, safetensors#825).

    >>> import numpy as np, layerwise as lw, tempfile, os
    >>> net = lw.MLP([4, 8, 3], rng=0)
    >>> path = os.path.join(tempfile.mkdtemp(), "net.safetensors")
    >>> _ = lw.save(net, path)
    >>> x = np.ones((2, 4), dtype=np.float32)
    >>> np.array_equal(lw.load(path)(x).data, net(x).data)
    True
    """
    _atomic_write(path, dumps(model, metadata))
    return path


def dumps(model, metadata: dict | None = None) -> bytes:
    """The bytes ``lw.save`` would write for ``model``: a whole model file, in memory.

    >>> import layerwise as lw
    >>> data = lw.serialization.dumps(lw.MLP([2, 3], rng=0))
    >>> lw.serialization.loads(data)
    MLP(2 -> 3
      (layers): Sequential(
        (0): Dense(2 -> 3, activation=softmax)
      )
    )
    """
    st = _safetensors()
    if not isinstance(model, nn.Module):
        raise TypeError(f"lw.save: model must be a lw.nn.Module, got {type(model).__name__}")
    tree = _describe(model)
    try:
        _check_depth(tree, "lw.save")
    except ValueError as err:
        raise ValueError(f"lw.save: {err}; such a file could not be loaded") from None
    params = list(model._state_arrays().items())
    dtypes = sorted({p.dtype.name for _, p in params})
    if len(dtypes) > 1:
        raise ValueError(f"lw.save: the parameters mix dtypes {dtypes}; convert them to one")
    dtype = dtypes[0] if dtypes else "float32"
    if dtype not in _DTYPES:
        raise ValueError(f"lw.save: parameters of dtype {dtype} cannot be saved ({_DTYPES})")
    header = {"format": FORMAT, "format_version": FORMAT_VERSION,
              "architecture": json.dumps({"dtype": dtype, "model": tree})}
    if metadata is not None:
        if not isinstance(metadata, dict):
            raise TypeError(f"lw.save: metadata must be a dict, got {type(metadata).__name__}")
        try:
            header["user"] = json.dumps(metadata, allow_nan=False)
        except (TypeError, ValueError) as err:
            raise ValueError(f"lw.save: metadata must be JSON-serialisable: {err}") from None
    # (reshape: ascontiguousarray makes 0-d buffers such as num_batches_tracked 1-d)
    tensors = {name: np.ascontiguousarray(p).reshape(p.shape).astype(p.dtype.newbyteorder("<"))
               for name, p in params}
    return st.numpy.save(tensors, metadata=header)


def _atomic_write(path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, fsync it, and rename it over
    ``path``; on any failure (including KeyboardInterrupt) remove the temporary file.

    A symbolic link is followed: its target is replaced and the link kept. Temporary files
    are named ``.NAME.PID-XXXXXXXX.tmp`` (PID: the writing process); stale ones of earlier
    saves to the same path that were killed before they could clean up are removed first
    (see :func:`layerwise.safefile.remove_stale_temp_files`). An error names ``path``, never
    the hidden temporary file.
    """
    name = os.fspath(path)
    path = os.path.realpath(name)  # through a symlink: replace its target, keep the link
    folder = os.path.dirname(path)
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"lw.save: the folder {folder} does not exist")
    if os.path.isdir(path):
        raise IsADirectoryError(f"lw.save: {name} is a folder; give a file name")
    safefile.remove_stale_temp_files(path)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=safefile.temp_prefix(path), suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _file_mode(path))
        os.replace(tmp, path)
    except BaseException as err:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        if isinstance(err, OSError) and err.errno is not None:
            # the same OSError subclass (PermissionError, ...), naming the target
            raise OSError(err.errno, f"lw.save: cannot write {name}: {err.strerror}") from err
        raise
    try:  # make the rename itself durable; not every system can fsync a folder
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def _file_mode(path) -> int:
    """Keep an existing file's permissions; a new file gets 0o666 less the umask (as open())."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


# ------------------------------------------------------------------------------ load
def load(path, return_metadata: bool = False):
    """Read a model written by :func:`save`: rebuild the architecture, then fill in the weights.

    Args:
        path: the file (str or path-like).
        return_metadata: also return the ``metadata`` dict given to ``save`` (``{}`` if none).

    Returns:
        The model (in the dtype it was saved in), or ``(model, metadata)``.

    Raises:
        FileNotFoundError / OSError: the file cannot be read, or is a folder.
        ValueError: the file is not a layerwise model: a device or FIFO, too short or
            truncated, random bytes, a pickle or other format, a safetensors file without
            layerwise metadata, JSON nested too deeply, user metadata that is not an object,
            an architecture that does not match the tensors, or a weight that is NaN or
            infinite. The message names the file.

    Nothing in the file is ever executed: the header is parsed as JSON and the tensors are read
    as raw numbers. Only regular files are read, header first (its size capped, its tensor
    offsets checked against the file's size), then the tensor data; see
    :mod:`layerwise.safefile`.
    """
    name = os.fspath(path)
    return loads(safefile.read_model_file(name), return_metadata, name=name)


def loads(data: bytes, return_metadata: bool = False, name: str = "<bytes>"):
    """Read a model from the bytes of a model file (what :func:`dumps` returns); see :func:`load`.

    ``name`` is how error messages refer to the data (``load`` passes the file's path).
    """
    st = _safetensors()
    data = bytes(data)

    def bad(what):
        return ValueError(f"{name}: {what}")

    header, _ = safefile.safetensors_header(data, len(data), name)
    meta = header.get("__metadata__") or {}
    if meta.get("format") != FORMAT:
        names = [k for k in header if k != "__metadata__"]
        raise bad(
            "a safetensors file, but not a layerwise model (its metadata has no "
            f"format='layerwise'); it holds the tensors {names[:8]}{' ...' if len(names) > 8 else ''}"
            "; read them with safetensors.numpy.load_file"
        )
    version = meta.get("format_version")
    if version not in _READABLE_VERSIONS:
        raise bad(f"layerwise format version {version!r}; this layerwise reads versions "
                  f"{', '.join(_READABLE_VERSIONS)}")
    try:
        architecture = safefile.parse_json(meta["architecture"])
        dtype = architecture["dtype"]
        tree = architecture["model"]
    except (KeyError, TypeError, ValueError) as err:
        raise bad(f"the metadata has no readable architecture ({type(err).__name__}: {err})"
                  ) from None
    user = _user_metadata(meta, bad)
    if dtype not in _DTYPES:
        raise bad(f"the architecture's dtype {dtype!r} is not one of {_DTYPES}")
    # the file's own tensors (their sizes checked against the file's length) bound how many
    # numbers the architecture may claim, before anything is allocated (with a little slack,
    # so that a small mismatch is reported precisely by the tensor check below)
    budget = 65536 + sum(int(np.prod(v["shape"], dtype=object)) for k, v in header.items()
                         if k != "__metadata__")
    try:
        if version == "1":
            _check_depth(tree, name)
            tree = _from_version_1(tree)
        model = _build(tree, np.dtype(dtype), budget, name)
    except (ValueError, TypeError, KeyError) as err:
        raise bad(f"the architecture in the metadata is invalid: {err}") from None
    try:
        tensors = st.numpy.load(data)
    except st.SafetensorError as err:
        raise bad(f"corrupt tensor data ({err})") from None
    except KeyError as err:  # a safetensors dtype NumPy has no type for, e.g. BF16
        raise bad(f"a tensor has the dtype {err}, which layerwise cannot read") from None
    _check_tensors(model, tensors, dtype, bad)
    _check_finite(tensors, bad)
    model.load_state_dict(tensors)
    return (model, user) if return_metadata else model


def _user_metadata(meta, bad) -> dict:
    """The ``metadata=`` dict given to ``save`` (``{}`` if none); anything else is refused."""
    if "user" not in meta:
        return {}
    try:
        user = safefile.parse_json(meta["user"])
    except ValueError as err:
        raise bad(f"the user metadata is not JSON ({err})") from None
    if not isinstance(user, dict):
        raise bad(f"the user metadata must be a JSON object, got {type(user).__name__} "
                  f"{meta['user'][:40]}")
    return user


def _check_finite(tensors, bad):
    """A NaN or infinite weight makes every output NaN: refuse it, naming the tensor."""
    for key, t in tensors.items():
        if t.dtype.kind == "f" and not np.isfinite(t).all():
            where = np.argwhere(~np.isfinite(t))
            raise bad(f"the tensor {key} holds {len(where)} non-finite value(s) (NaN or "
                      f"infinity), the first at index {tuple(int(i) for i in where[0])}: "
                      f"{t[tuple(where[0])]}; a model with such weights outputs NaN")


def _check_tensors(model, tensors, dtype, bad):
    """Names, shapes and dtypes of the tensors must be those the architecture needs."""
    params = model._state_arrays()
    problems = [f"missing {n}" for n in params if n not in tensors]
    problems += [f"unexpected {n}" for n in tensors if n not in params]
    for n, p in params.items():
        if n in tensors:
            t = tensors[n]
            if t.shape != p.shape:
                problems.append(f"{n} has shape {t.shape}, the architecture needs {p.shape}")
            elif t.dtype != np.dtype(dtype):
                problems.append(f"{n} has dtype {t.dtype}, the architecture says {dtype}")
    if problems:
        raise bad("the tensors do not match the architecture in the metadata: "
                  + "; ".join(problems))
