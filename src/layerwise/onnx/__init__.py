"""``lw.onnx``: layerwise models to and from ONNX files (extra ``onnx``).

- :func:`export` writes a model for ONNX Runtime and other ONNX tools; each module declares
  its ONNX form beside its forward (``Module.to_onnx``), each activation in its declaration
  (``onnx=``: an op name, an :class:`OnnxOp` or a function building nodes).
- :func:`load` reads a chain of layers (``MatMul``/``Gemm``/``Add``, activations, ...) back
  as a layerwise model, including the MLP files ``torch.onnx.export`` and skl2onnx write; each
  module class declares the ops it is read from (``onnx_counterparts`` / ``from_onnx``).
- :func:`load_any` and :func:`convert` pick the format by the file's suffix.

Nothing in a file is ever executed: the graph is read as data and each node is matched to a
registered module class or refused by name.
"""

from __future__ import annotations

import importlib

from .forms import OnnxOp

__all__ = ["GraphBuilder", "OnnxOp", "convert", "export", "load", "load_any", "save_any"]

# exporter / importer, not export / load: a submodule would shadow the function of its name
_LAZY = {"export": "exporter", "load": "importer", "load_any": "files", "save_any": "files",
         "convert": "files", "GraphBuilder": "graph"}


def _require_onnx():
    try:
        import onnx  # noqa: F401
    except ImportError:
        raise ImportError("lw.onnx needs onnx: pip install 'layerwise[onnx]'") from None


def __getattr__(name):
    # the onnx package is imported on first use, so declarations can name OnnxOp freely
    if name in _LAZY:
        if _LAZY[name] != "files":
            _require_onnx()
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'layerwise.onnx' has no attribute {name!r}")
