"""``lw.onnx.load``: an ONNX file's chain of layers as a layerwise model.

The graph is read as data (never run): the nodes from the input to the chosen output must form
a chain, each taking one computed value (the others constants: initializers, ``Constant``
nodes, or a ``Transpose`` of one). Each node is matched, by op type, to the registered module
class declaring it in ``onnx_counterparts()``; that class's ``from_onnx(node, reader)`` builds
the module, absorbing the nodes that belong to it (a ``MatMul``'s bias ``Add``). Any other
node is refused with its name and op type.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

from ..autodiff.tensor import no_grad
from ..functional.activations import ACTIVATIONS
from ..nn import MODULES, Sequential
from ..nn.container import append_folded
from ..nn.module import training_mode
from .exporter import ARCHITECTURE_KEY, METADATA_KEY
from .forms import OnnxOp, as_op
from .graph import FUNCTION_DOMAIN, composed_function

__all__ = ["OnnxReader", "load"]

_DEFAULT_DOMAINS = ("", "ai.onnx")
# ops whose axis meant "flatten to 2-D from here" before opset 13 (one axis since then)
_FLATTENING_BEFORE_13 = ("Softmax", "LogSoftmax", "Hardmax")
# ops that change nothing at inference, read as nothing when no module class declares them
# (a Cast to the model's dtype too: layerwise layers cast their inputs to their own dtype)
# (and a Reshape of (batch, n) rows to (-1, n): skl2onnx's regressors end with one)
_NO_OPS = ("Identity", "Dropout", "Cast", "Reshape")
# constants computed from constants (PyTorch's newer exporter writes Transpose(W) -> MatMul)
_FOLDABLE = ("Identity", "Transpose", "Cast")


def load(path, return_metadata: bool = False, output: str | None = None):
    """Read an ONNX model file as a layerwise model (a ``Sequential``, or the model that
    ``lw.onnx.export`` wrote when its stored architecture matches the graph).

    Reads graphs of ``MatMul``/``Gemm``/``Add`` (Dense layers), the registered activations'
    ops, ``Dropout`` and ``Identity`` (nothing at inference) and any op a registered module
    class declares (``onnx_counterparts``), such as the files ``torch.onnx.export`` and
    skl2onnx write for MLPs. Weights stored as external data (the side ``.onnx.data`` file)
    are read from the model's own folder only.

    Args:
        path: the ``.onnx`` file.
        return_metadata: also return the metadata dict stored by ``lw.onnx.export`` (``{}``
            if none).
        output: which graph output to read, for graphs with several (skl2onnx writes
            ``label`` and ``probabilities``); default: the only one.

    Raises:
        ValueError: the file is not a readable ONNX model (the message names the file), or a
            node has no layerwise counterpart (the message names the node and its op type).

    >>> import layerwise as lw, numpy as np, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "net.onnx")
    >>> net = lw.MLP([4, 8, 3], rng=0)
    >>> _ = lw.onnx.export(net, path)
    >>> x = np.ones((2, 4), np.float32)
    >>> np.array_equal(lw.onnx.load(path)(x).data, net(x).data)
    True
    """
    name = os.fspath(path)
    proto = _read(name)
    reader = OnnxReader(proto, name, output)
    model = reader.convert()
    props = {p.key: p.value for p in proto.metadata_props}
    model = _stored_architecture(props, reader, model) or model
    if not return_metadata:
        return model
    try:
        user = json.loads(props[METADATA_KEY]) if METADATA_KEY in props else {}
    except ValueError as err:
        raise ValueError(f"{name}: the metadata {METADATA_KEY} is not JSON ({err})") from None
    return model, user if isinstance(user, dict) else {}


# ------------------------------------------------------------------------ the file
def _read(name: str) -> onnx.ModelProto:
    """Parse the file; the external data it names is read from its own folder only."""
    with open(name, "rb") as f:
        data = f.read()
    try:
        proto = onnx.load_model_from_string(data)
    except Exception as err:  # noqa: BLE001 - protobuf's errors differ between versions
        raise ValueError(f"{name}: not an ONNX model (it cannot be parsed: "
                         f"{type(err).__name__}: {err})") from None
    if proto.ir_version < 1 or not proto.graph.output or not proto.opset_import:
        raise ValueError(f"{name}: not an ONNX model (no graph, outputs or opset; truncated, "
                         "or another kind of file)")
    folder = os.path.dirname(os.path.abspath(name))
    external = [t for t in _all_tensors(proto) if t.data_location == onnx.TensorProto.EXTERNAL]
    for tensor in external:
        info = {e.key: e.value for e in tensor.external_data}
        location = info.get("location", "")
        target = os.path.realpath(os.path.join(folder, location))
        if (not location or os.path.isabs(location) or os.path.dirname(location)
                or os.path.dirname(target) != os.path.realpath(folder)):
            raise ValueError(f"{name}: the tensor {tensor.name!r} names external data "
                             f"{location!r}; only a file in the model's own folder is read")
        if not os.path.isfile(target):
            raise ValueError(f"{name}: the external data file {location!r} of the tensor "
                             f"{tensor.name!r} is missing")
    if external:
        try:
            onnx.external_data_helper.load_external_data_for_model(proto, folder)
        except Exception as err:  # noqa: BLE001
            raise ValueError(f"{name}: its external data cannot be read ({err})") from None
    try:
        onnx.checker.check_model(proto)
    except onnx.checker.ValidationError as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else "invalid"
        raise ValueError(f"{name}: not a valid ONNX model ({first})") from None
    return proto


def _all_tensors(proto):
    yield from proto.graph.initializer
    for node in proto.graph.node:
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.TENSOR:
                yield attr.t


# ------------------------------------------------------------------------- the graph
class OnnxReader:
    """One ONNX graph being read: its constants, the chain of nodes to convert, and the
    helpers a module class's ``from_onnx(node, reader)`` uses.

    Attributes:
        name: the file (for messages). opset: the default domain's opset version.
    """

    def __init__(self, proto: onnx.ModelProto, name: str, output: str | None = None):
        self.name = name
        graph = proto.graph
        self.opset = next((o.version for o in proto.opset_import if o.domain in
                           _DEFAULT_DOMAINS), 1)
        self._constants = {t.name: self._array(t, t.name) for t in graph.initializer}
        self._shapes = _shapes(proto)
        self._functions = {f.name: f for f in proto.functions if f.domain == FUNCTION_DOMAIN}
        producers: dict[str, Any] = {}  # output name -> the onnx NodeProto making it
        for node in graph.node:
            if node.op_type == "Constant" and node.domain in _DEFAULT_DOMAINS:
                self._constants[node.output[0]] = self._constant_node(node)
            elif node.op_type in _FOLDABLE and node.input and all(
                    i in self._constants for i in node.input if i):
                self._constants[node.output[0]] = self._fold(node)
            else:
                producers.update((o, node) for o in node.output if o)
        inputs = [i.name for i in graph.input if i.name not in self._constants]
        if len(inputs) != 1:
            raise ValueError(f"{name}: the graph takes {len(inputs)} inputs ({', '.join(inputs)});"
                             " layerwise reads graphs of one input")
        self.input = inputs[0]
        tensor = next(i for i in graph.input if i.name == self.input).type.tensor_type
        self.input_shape = [d.dim_value if d.HasField("dim_value") else None
                            for d in tensor.shape.dim]
        # the model's dtype: its weights' (one float type), else its input's
        floats = {a.dtype for a in self._constants.values() if a.dtype.kind == "f"}
        given = helper.tensor_dtype_to_np_dtype(tensor.elem_type) if tensor.elem_type else None
        self.dtype = (floats.pop() if len(floats) == 1 else
                      given if given is not None and given.kind == "f" else np.dtype("float32"))
        outputs = [o.name for o in graph.output]
        if output is None:
            if len(outputs) != 1:
                raise ValueError(f"{name}: the graph has {len(outputs)} outputs "
                                 f"({', '.join(outputs)}); choose one with output=")
            output = outputs[0]
        elif output not in outputs:
            raise ValueError(f"{name}: no output {output!r}; the outputs are "
                             f"{', '.join(outputs)}")
        self.output = output
        self._chain = self._walk(producers)
        self._position = 0

    # ------------------------------------------------------------- for from_onnx
    def input_of(self, node) -> str:
        """The computed (non-constant) input of ``node``."""
        return next(i for i in node.input if i and i not in self._constants)

    def constant(self, name: str):
        """The ndarray of a constant value, or None for a computed one."""
        return self._constants.get(name)

    def weight(self, node, index: int) -> np.ndarray:
        """The constant ``node.input[index]`` as a float32/float64 array (refused otherwise)."""
        value = self._constants.get(node.input[index]) if index < len(node.input) else None
        if value is None:
            raise self.refuse(node, f"its input {index} is computed, not a constant weight")
        if value.dtype.name not in ("float32", "float64"):
            raise self.refuse(node, f"its weight has dtype {value.dtype}; layerwise reads "
                                    "float32 and float64")
        return value

    def attributes(self, node) -> dict:
        """The node's attributes as Python values (tensors as ndarrays). For softmax-like ops,
        ``axis`` counts from the end when it is the last axis, and opsets before 13 (where the
        input was flattened to 2-D from ``axis`` on) are read only where that is the last."""
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        attrs = {k: self._array(v, k) if isinstance(v, onnx.TensorProto) else v
                 for k, v in attrs.items()}
        if node.op_type in _FLATTENING_BEFORE_13:
            rank = self.rank(self.input_of(node))
            axis = attrs.get("axis", 1 if self.opset < 13 else -1)
            last = axis == -1 or (rank is not None and axis == rank - 1)
            if self.opset < 13 and not last:
                raise self.refuse(node, f"at opset {self.opset} it flattens its input from axis "
                                        f"{axis} on, which layerwise reads only where that is "
                                        "the last axis")
            attrs["axis"] = -1 if last else axis
        return attrs

    def activation(self, node):
        """``(declaration, params)`` of the activation a node computes: a declared op with its
        attributes, or one of layerwise's local functions whose body is exactly what the
        declaration builds for the parameters it records."""
        if node.domain == FUNCTION_DOMAIN:
            return self._function_activation(node)
        decl = next(d for d in ACTIVATIONS.declarations()
                    if (op := as_op(d.onnx)) and op.op_type == node.op_type)
        return decl, self.params(node, as_op(decl.onnx), decl.params)

    def _function_activation(self, node):
        function = self._functions.get(node.op_type)
        if function is None:
            raise self.refuse(node, f"the file defines no function {node.op_type!r}")
        try:
            recorded = json.loads(function.doc_string)
            decl = ACTIVATIONS.declaration(recorded["activation"])
            params = dict(recorded["params"])
        except KeyError as err:
            raise self.refuse(node, f"its function names no registered activation ({err}); "
                                    "register it with lw.register_activation") from None
        except (TypeError, ValueError, AttributeError):
            raise self.refuse(node, "its function does not record an activation") from None
        op = as_op(decl.onnx)
        build = decl.onnx if op is None else op.composition(self.dtype)
        opset = next((o.version for o in function.opset_import if o.domain in _DEFAULT_DOMAINS),
                     self.opset)
        try:
            expected = None if build is None else composed_function(
                function.name, decl.name, params, build, self.dtype, opset)
        except (TypeError, ValueError, KeyError):  # parameters the builder does not take
            expected = None
        if expected is None or expected.SerializeToString() != function.SerializeToString():
            raise self.refuse(node, f"its function is not what layerwise builds for the "
                                    f"activation {decl.name!r} with {params}")
        return decl, params

    def params(self, node, op: OnnxOp, defaults: dict) -> dict:
        """An activation's parameters from the node's attributes (``op`` maps their names);
        attributes with no parameter must hold ``op.constants``' values."""
        attrs = self.attributes(node)
        names = {op.attributes.get(k, k): k for k in defaults}
        params = {}
        for key, value in attrs.items():
            if key in names:
                if isinstance(value, float):  # a float32 attribute: its shortest decimal
                    value = float(str(np.float32(value)))
                params[names[key]] = value
            elif key not in op.constants or not np.isclose(value, op.constants[key],
                                                           rtol=1e-6, atol=0):
                raise self.refuse(node, f"its attribute {key}={value!r} has no layerwise "
                                        "counterpart")
        return params

    def absorb(self, *op_types):
        """The next node of the chain, taken into the current module, if it is one of
        ``op_types`` (default domain); otherwise None."""
        if self._position < len(self._chain):
            node = self._chain[self._position]
            if node.op_type in op_types and node.domain in _DEFAULT_DOMAINS:
                self._position += 1
                return node
        return None

    def rank(self, name: str):
        """The rank of a value, where shape inference knows it (else None)."""
        shape = self._shapes.get(name)
        return None if shape is None else len(shape)

    def shape(self, name: str):
        """The shape of a value (None for unknown sizes), where shape inference knows it."""
        return self._shapes.get(name)

    def refuse(self, node, why: str) -> ValueError:
        """The error for a node layerwise cannot read (``raise reader.refuse(node, why)``)."""
        return ValueError(f"{self.name}: node {node.name or '(unnamed)'!r} ({node.op_type}): "
                          f"{why}")

    # --------------------------------------------------------------------- reading
    def convert(self) -> Sequential:
        """The chain as a ``Sequential`` (an activation with its default settings right after
        an activation-less Dense becomes that Dense's activation, as in ``from_torch``)."""
        converters = {op: cls for cls in MODULES.values() for op in cls.onnx_counterparts()}
        out: list = []
        while self._position < len(self._chain):
            node = self._chain[self._position]
            self._position += 1
            cls = converters.get(node.op_type if node.domain in _DEFAULT_DOMAINS else node.domain)
            if cls is None:
                if node.op_type in _NO_OPS and node.domain in _DEFAULT_DOMAINS:
                    self._check_inference(node)
                    continue
                known = ", ".join(sorted({*converters, *_NO_OPS}))
                domain = f" of the domain {node.domain!r}" if node.domain not in \
                    _DEFAULT_DOMAINS else ""
                raise self.refuse(node, f"the op{domain} has no layerwise counterpart "
                                        f"(layerwise reads: {known})")
            append_folded(out, cls.from_onnx(node, self))
        return Sequential(*out)

    def _walk(self, producers) -> list:
        """The nodes from the input to the output, each with one computed input."""
        chain, value, seen = [], self.output, set()
        while value != self.input:
            node = producers.get(value)
            if node is None:
                what = "a constant" if value in self._constants else "not computed by any node"
                raise ValueError(f"{self.name}: the value {value!r} is {what}; layerwise reads "
                                 f"graphs computing {self.output!r} from {self.input!r}")
            if id(node) in seen:
                raise ValueError(f"{self.name}: the graph has a cycle at node {node.name!r}")
            seen.add(id(node))
            if node.output[0] != value:
                raise self.refuse(node, f"its output {value!r} is not its first (the value "
                                        "layerwise would compute)")
            computed = [i for i in node.input if i and i not in self._constants]
            if len(computed) != 1:
                raise self.refuse(node, f"it takes {len(computed)} computed inputs "
                                        f"({', '.join(computed) or 'none'}); layerwise reads "
                                        "chains of layers, one input each")
            chain.append(node)
            value = computed[0]
        return chain[::-1]

    def _check_inference(self, node):
        if node.op_type == "Reshape":
            self._check_rows_kept(node)
        if node.op_type == "Cast":
            to = {a.name: a.i for a in node.attribute}.get("to")
            if to != helper.np_dtype_to_tensor_dtype(self.dtype):
                raise self.refuse(node, f"a Cast to {onnx.TensorProto.DataType.Name(to or 0)} "
                                        f"in a model whose weights are {self.dtype}")
        if node.op_type == "Dropout" and len(node.input) > 2 and node.input[2]:
            training = self._constants.get(node.input[2])
            if training is None or bool(training):
                raise self.refuse(node, "a Dropout in training mode is not a fixed function")

    def _check_rows_kept(self, node) -> None:
        """A Reshape is read as nothing only where it keeps ``(batch, n)`` rows as they are."""
        target = self._constants.get(node.input[1]) if len(node.input) > 1 else None
        shape = self.shape(self.input_of(node))
        if (target is None or shape is None or len(shape) != 2 or shape[1] is None
                or [int(t) for t in np.ravel(target)] not in ([-1, shape[1]], [0, shape[1]])):
            raise self.refuse(node, f"a Reshape of {shape} to {target}: layerwise reads "
                                    "only reshapes that keep (batch, n) rows as they are")

    def _array(self, tensor, what) -> np.ndarray:
        try:
            return numpy_helper.to_array(tensor)
        except Exception as err:  # noqa: BLE001 - truncated or inconsistent tensor data
            raise ValueError(f"{self.name}: the tensor {what!r} cannot be read ({err})") from None

    def _constant_node(self, node) -> np.ndarray:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if "value" in attrs:
            return self._array(attrs["value"], node.output[0])
        for key, dtype in (("value_float", np.float32), ("value_floats", np.float32),
                           ("value_int", np.int64), ("value_ints", np.int64)):
            if key in attrs:
                return np.asarray(attrs[key], dtype)
        raise self.refuse(node, "a Constant of a kind layerwise does not read")

    def _fold(self, node) -> np.ndarray:
        value = self._constants[node.input[0]]
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type == "Transpose":
            return np.transpose(value, attrs.get("perm") or None)
        if node.op_type == "Reshape":
            self._check_rows_kept(node)
        if node.op_type == "Cast":
            try:
                return value.astype(helper.tensor_dtype_to_np_dtype(attrs["to"]))
            except (KeyError, TypeError, ValueError):
                raise self.refuse(node, "a Cast to a type layerwise does not read") from None
        return value


def _shapes(proto) -> dict:
    """``{value name: shape}`` where ONNX shape inference knows it (None: unknown sizes)."""
    try:
        inferred = onnx.shape_inference.infer_shapes(proto)
    except Exception:  # noqa: BLE001 - shapes are only needed for axes and reshapes
        inferred = proto
    graph = inferred.graph
    shapes = {}
    for info in [*graph.input, *graph.value_info, *graph.output]:
        tensor = info.type.tensor_type
        if tensor.HasField("shape"):
            shapes[info.name] = tuple(d.dim_value if d.HasField("dim_value") else None
                                      for d in tensor.shape.dim)
    return shapes


# --------------------------------------------------------- layerwise's own files
def _stored_architecture(props, reader: OnnxReader, converted):
    """The model ``lw.onnx.export`` described in the metadata, with the graph's weights, when
    it computes what the graph computes (checked on a probe); otherwise None."""
    from ..serialization import _build

    try:
        architecture = json.loads(props[ARCHITECTURE_KEY])
        dtype = np.dtype(architecture["dtype"])
        budget = sum(a.size for a in reader._constants.values())
        model = _build(architecture["model"], dtype, budget, reader.name)
        state = {}
        for key, array in model._state_arrays().items():
            value = reader.constant(key)
            if value is None or value.size != array.size:
                return None
            state[key] = value.reshape(array.shape)
        model.load_state_dict(state)
        dims = reader.input_shape[1:]
        if not dims or None in dims:
            return None
        probe = np.random.default_rng(0).standard_normal(
            (3, *dims)).astype(dtype)  # type: ignore[arg-type]  # no None dims: checked above
        with no_grad(), training_mode(model, False), training_mode(converted, False):
            same = np.allclose(np.asarray(model(probe)), np.asarray(converted(probe)),
                               rtol=1e-5, atol=1e-6)
    except Exception:  # noqa: BLE001 - an architecture that cannot be rebuilt is ignored:
        return None  # the graph, already read, is what the file means
    return model if same else None

