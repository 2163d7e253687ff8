"""``lw.onnx.export``: a layerwise model as an ONNX file, built from the modules' own forms."""

from __future__ import annotations

import json

import numpy as np
import onnx

from .. import __version__
from ..autodiff.tensor import no_grad
from ..nn.module import Module, training_mode
from ..serialization import _atomic_write, _describe
from .graph import GraphBuilder

__all__ = ["ARCHITECTURE_KEY", "METADATA_KEY", "export", "to_model_proto"]

ARCHITECTURE_KEY = "layerwise.architecture"  # metadata_props: the model's config tree (JSON)
METADATA_KEY = "layerwise.metadata"  # metadata_props: the user's metadata dict (JSON)
MIN_OPSET = 13  # Softmax and LogSoftmax take one axis from opset 13 on (before: flattening)


def export(model: Module, path, opset: int = 17, metadata: dict | None = None,
           input_shape=None):
    """Write ``model`` as an ONNX file that ONNX Runtime (or any ONNX tool) can run.

    The graph reads ``input`` of shape ``(batch, n_input)`` (a symbolic batch size) and
    writes ``output``, in the model's dtype (float32 or float64). Each module contributes its
    own ONNX form (``Module.to_onnx``): a ``Dense`` layer is ``MatMul`` then ``Add`` then its
    activation, an activation the ONNX form its declaration names. Nodes are named after the
    modules' dotted names (``layers.0/MatMul``), initializers after the parameters
    (``layers.0.W``). The file is written atomically, as ``lw.save`` does.

    Args:
        model: a layerwise module (evaluation mode is used: dropout is the identity).
        path: the ``.onnx`` file to write.
        opset: the ONNX opset of the default domain (13 or newer; default 17).
        metadata: a JSON-serialisable dict stored with the model (class and feature names),
            read back by ``lw.onnx.load(path, return_metadata=True)``.
        input_shape: the input's shape, ``None`` for the batch dimension (default: ``(None,
            model.input_size)``, a symbolic feature size where the model takes any).

    Returns:
        ``path``.

    Raises:
        ValueError: a module or activation has no ONNX form (the message names it), the
            parameters mix dtypes, or the opset is out of range; nothing is written then.

    >>> import layerwise as lw, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "net.onnx")
    >>> lw.onnx.export(lw.MLP([4, 8, 3], rng=0), path) == path
    True
    """
    data = to_model_proto(model, opset, metadata, input_shape).SerializeToString()
    _atomic_write(path, data)
    return path


def to_model_proto(model: Module, opset: int = 17, metadata: dict | None = None,
                   input_shape=None) -> onnx.ModelProto:
    """The ``onnx.ModelProto`` :func:`export` writes (checked with ``onnx.checker``)."""
    if not isinstance(model, Module):
        raise TypeError(f"lw.onnx.export: expected a lw.nn.Module, got {type(model).__name__}")
    newest = onnx.defs.onnx_opset_version()
    if isinstance(opset, bool) or not isinstance(opset, int) or not MIN_OPSET <= opset <= newest:
        raise ValueError(f"lw.onnx.export: opset must be an integer from {MIN_OPSET} to "
                         f"{newest}, got {opset!r}")
    dtype = _dtype_of(model)
    x_shape = _input_shape(model, input_shape)
    graph = GraphBuilder(dtype, opset)
    output = model.to_onnx(graph, "input")
    props = {"layerwise.dtype": dtype.name}
    try:  # modules that are not registered still export; only their config is not stored
        props[ARCHITECTURE_KEY] = json.dumps({"dtype": dtype.name, "model": _describe(model)})
    except ValueError:
        pass
    if metadata is not None:
        if not isinstance(metadata, dict):
            raise TypeError(f"lw.onnx.export: metadata must be a dict, got "
                            f"{type(metadata).__name__}")
        try:
            props[METADATA_KEY] = json.dumps(metadata, allow_nan=False)
        except (TypeError, ValueError) as err:
            raise ValueError(f"lw.onnx.export: metadata must be JSON-serialisable: {err}"
                             ) from None
    proto = graph.to_model(["batch" if d is None else d for d in x_shape],
                           _output_shape(model, x_shape, dtype), output,
                           type(model).__name__, props)
    proto.producer_version = __version__
    try:
        onnx.checker.check_model(proto, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as err:
        raise ValueError(f"lw.onnx.export: the graph built for {type(model).__name__} is not "
                         f"valid ONNX: {err}") from None
    return proto


def _dtype_of(model) -> np.dtype:
    from ..dtypes import get_default_dtype

    dtypes = sorted({a.dtype.name for a in model._state_arrays().values()})
    if len(dtypes) > 1:
        raise ValueError(f"lw.onnx.export: the parameters mix dtypes {dtypes}; convert them to "
                         "one")
    dtype = np.dtype(dtypes[0] if dtypes else get_default_dtype())
    if dtype.name not in ("float32", "float64"):
        raise ValueError(f"lw.onnx.export: parameters of dtype {dtype} cannot be exported "
                         "(float32 or float64)")
    return dtype


def _input_shape(model, input_shape) -> list:
    if input_shape is not None:
        shape = list(input_shape)
        if not shape or any(d is not None and (not isinstance(d, (int, np.integer)) or d < 1)
                            for d in shape):
            raise ValueError(f"lw.onnx.export: input_shape must be sizes (None for the batch), "
                             f"got {input_shape!r}")
        return [None if d is None else int(d) for d in shape]
    size = model.input_size
    return [None, "features" if size is None else size]


def _output_shape(model, x_shape, dtype):
    """The output's shape (symbolic batch), from a forward pass on a probe of two rows."""
    if any(isinstance(d, str) for d in x_shape):
        return None
    probe = np.zeros([2 if d is None else d for d in x_shape], dtype)
    try:
        with no_grad(), training_mode(model, False):
            out = np.asarray(model(probe))
    except Exception:  # noqa: BLE001 - the shape is a courtesy; the graph itself is checked
        return None
    shape = list(out.shape)
    return ["batch" if i == 0 and x_shape[0] is None else d for i, d in enumerate(shape)]
