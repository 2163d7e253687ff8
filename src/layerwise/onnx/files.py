"""Model files by suffix: ``.onnx`` (``lw.onnx``) or ``.safetensors`` (``lw.save`` / ``lw.load``).

Used by ``layerwise convert`` and wherever the command line opens a model file.
"""

from __future__ import annotations

import os

from ..checks import suffix_in

__all__ = ["convert", "load_any", "save_any"]

SUFFIXES = (".onnx", ".safetensors")


def load_any(path):
    """``(model, metadata)`` from a ``.onnx`` or ``.safetensors`` model file, by suffix
    (``.safetensors`` is also assumed for any other suffix, as ``lw.load`` reads it)."""
    if os.fspath(path).lower().endswith(".onnx"):
        from . import load

        return load(path, return_metadata=True)
    from ..serialization import load

    return load(path, return_metadata=True)


def save_any(model, path, metadata: dict | None = None):
    """Write ``model`` (and ``metadata``) as ``.onnx`` or ``.safetensors``, by suffix."""
    if suffix_in(path, SUFFIXES, "output", "save_any") == ".onnx":
        from . import export

        return export(model, path, metadata=metadata)
    from ..serialization import save

    return save(model, path, metadata=metadata)


def convert(source, target):
    """Convert a model file to the other format (by suffixes); the metadata it records
    (class and feature names, ...) goes along. Returns the model.

    >>> import layerwise as lw, tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> _ = lw.save(lw.MLP([4, 3], rng=0), os.path.join(folder, "a.safetensors"),
    ...             metadata={"classes": ["x", "y", "z"]})
    >>> _ = lw.onnx.convert(os.path.join(folder, "a.safetensors"), os.path.join(folder, "a.onnx"))
    >>> lw.onnx.load_any(os.path.join(folder, "a.onnx"))[1]
    {'classes': ['x', 'y', 'z']}
    """
    suffix_in(source, SUFFIXES, "input", "convert")
    suffix_in(target, SUFFIXES, "output", "convert")
    model, metadata = load_any(source)
    save_any(model, target, metadata or None)
    return model
