"""``GraphBuilder``: what a module's ``to_onnx(graph, x)`` adds its nodes to.

A module's ONNX form is written beside its forward pass as ``to_onnx(self, graph, x)``: it adds
nodes after the value named ``x`` and returns the name of its output. The builder names nodes
after the module's dotted name (``layers.0/MatMul``) and initializers after its parameters
(``layers.0.W``, as in ``state_dict()``), and keeps every constant in the graph's dtype.

An activation composed of several ops (a builder function, or an ``OnnxOp``'s float64 form) is
written as an ONNX local function of the domain ``layerwise.activations``, one per activation
and parameter values, its parameters in its ``doc_string``: ONNX Runtime inlines it, and
``lw.onnx.load`` reads it back as that activation after checking that its body is exactly what
the declaration builds for those parameters.
"""

from __future__ import annotations

import contextlib
import json
import math

import numpy as np
import onnx
from onnx import helper, numpy_helper

from ..functional.activations import ACTIVATIONS, identity
from .forms import as_op

__all__ = ["FUNCTION_DOMAIN", "GraphBuilder", "composed_function"]

FUNCTION_DOMAIN = "layerwise.activations"  # the local functions of composed activations


class GraphBuilder:
    """Nodes and initializers of one graph being exported, in the model's dtype.

    Attributes:
        dtype: the model's floating dtype (float32 or float64); constants are made in it.
        opset: the default domain's opset version the graph is written for.
    """

    def __init__(self, dtype, opset: int, functions: dict | None = None):
        self.dtype = np.dtype(dtype)
        self.opset = int(opset)
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: dict[str, np.ndarray] = {}
        # (activation, parameters as JSON) -> FunctionProto, shared with nested builders
        self.functions: dict = {} if functions is None else functions
        self._scope: list[str] = []
        self._taken: set[str] = set()

    @property
    def where(self) -> str:
        """The dotted name of the module being exported (``''`` at the top)."""
        return ".".join(self._scope)

    def _unique(self, name: str) -> str:
        candidate, k = name, 1
        while candidate in self._taken:
            candidate, k = f"{name}_{k}", k + 1
        self._taken.add(candidate)
        return candidate

    @contextlib.contextmanager
    def scope(self, name: str):
        """Name the nodes and parameters made inside the block after the sub-module ``name``."""
        self._scope.append(str(name))
        try:
            yield
        finally:
            self._scope.pop()

    def run(self, name: str, module, x: str) -> str:
        """Add the sub-module ``module`` (its attribute name ``name``) after ``x``."""
        with self.scope(name):
            return module.to_onnx(self, x)

    # ------------------------------------------------------------------------- nodes
    def node(self, op_type: str, inputs, n_outputs: int = 1, domain: str = "", **attributes):
        """Add one node (default domain unless given); returns its output name (a tuple if
        several).

        Its name is the module's dotted name and the op (``layers.0/MatMul``); the output
        value is named like the node.
        """
        name = self._unique(f"{self.where}/{op_type}" if self.where else op_type)
        outputs = [name] if n_outputs == 1 else [f"{name}:{i}" for i in range(n_outputs)]
        self.nodes.append(helper.make_node(op_type, list(inputs), outputs, name=name,
                                           domain=domain or None, **attributes))
        return outputs[0] if n_outputs == 1 else tuple(outputs)

    def parameter(self, name: str, value) -> str:
        """An initializer holding a parameter, named ``<module>.<name>`` (the state-dict name)."""
        key = self._unique(f"{self.where}.{name}" if self.where else name)
        self.initializers[key] = np.ascontiguousarray(value, dtype=self.dtype)
        return key

    def constant(self, value, dtype=None) -> str:
        """An initializer holding a constant (a number or an array), in the graph's dtype."""
        key = self._unique(f"{self.where}/const" if self.where else "const")
        self.initializers[key] = np.asarray(value, dtype=dtype or self.dtype)
        return key

    def erf(self, x: str) -> str:
        """erf(x): the ``Erf`` op, or in float64 graphs (where ONNX Runtime's CPU provider has
        no float64 Erf) a composition within 2e-15 of it:

        - |x| <= 1: its Taylor series, x * sum_n (-1)^n (2/sqrt(pi)) x^(2n) / (n! (2n + 1)),
          18 terms (the last below 1e-16);
        - |x| > 1: 1 - exp(-x^2) * h(1/|x|), h(t) = erfc(1/t) exp(1/t^2) as a degree-20
          Chebyshev series on [1/6, 1] (Clenshaw's recurrence), with |x| held at 6 beyond,
          where erfc(6) < 2e-17;

        both with the sign of x.
        """
        if self.dtype.name != "float64":
            return self.node("Erf", [x])
        a = self.node("Abs", [x])
        # |x| <= 1: Horner's rule in u = x^2
        near = self.node("Min", [a, self.constant(1)])
        u = self.node("Mul", [near, near])
        series = self.constant(_ERF_TAYLOR[-1])
        for coefficient in _ERF_TAYLOR[-2::-1]:
            series = self.node("Add", [self.node("Mul", [series, u]), self.constant(coefficient)])
        small = self.node("Mul", [near, series])
        # |x| > 1: Clenshaw's recurrence in y = (2t - (lo + hi)) / (hi - lo), t = 1 / |x|
        far = self.node("Clip", [a, self.constant(1), self.constant(6)])
        lo, hi = _ERF_CHEBYSHEV_DOMAIN
        t = self.node("Reciprocal", [far])
        y2 = self.node("Mul", [self.node("Sub", [t, self.constant((lo + hi) / 2)]),
                               self.constant(4 / (hi - lo))])  # 2y
        b1, b2 = self.constant(0), self.constant(0)
        for coefficient in _ERF_CHEBYSHEV[:0:-1]:
            b1, b2 = self.node("Add", [self.node("Sub", [self.node("Mul", [y2, b1]), b2]),
                                       self.constant(coefficient)]), b1
        y = self.node("Mul", [y2, self.constant(0.5)])
        h = self.node("Add", [self.node("Sub", [self.node("Mul", [y, b1]), b2]),
                              self.constant(_ERF_CHEBYSHEV[0])])
        tail = self.node("Mul", [self.node("Exp", [self.node("Neg", [
            self.node("Mul", [far, far])])]), h])
        large = self.node("Sub", [self.constant(1), tail])
        magnitude = self.node("Where", [self.node("Greater", [a, self.constant(1)]), large,
                                        small])
        return self.node("Mul", [self.node("Sign", [x]), magnitude])

    def activation(self, activation, params, x: str) -> str:
        """Add a declared activation (a name or a registered function) after ``x``.

        Its ONNX form is the ``onnx=`` of its declaration in ``lw.F.ACTIVATIONS``.
        """
        decl = (ACTIVATIONS.declaration_of(activation) if callable(activation)
                else ACTIVATIONS.declaration(activation))
        if decl is None:
            name = getattr(activation, "__name__", repr(activation))
            raise ValueError(f"lw.onnx.export: {self.where or 'the model'} uses the function "
                             f"{name!r}, which is not a registered activation; declare it with "
                             "lw.register_activation(..., onnx=...)")
        if decl.obj is identity:
            return x
        form = decl.onnx
        if form is None:
            raise ValueError(f"lw.onnx.export: {self.where or 'the model'}: the activation "
                             f"{decl.name!r} has no ONNX form (register it with onnx=...: an "
                             "ONNX op name or a function building its nodes)")
        params = {**decl.params, **params}  # written out in full: Softmax's axis explicit
        op = as_op(form)
        build = form if op is None else op.composition(self.dtype)
        if build is None:
            assert op is not None  # build is None only for an OnnxOp without composition
            return self.node(op.op_type, [x], **op.attributes_for(params))
        key = (decl.name, json.dumps(params, sort_keys=True))
        if key not in self.functions:
            name = decl.name if all(f.name != decl.name for f in self.functions.values()) \
                else f"{decl.name}_{len(self.functions)}"
            self.functions[key] = composed_function(name, decl.name, params, build, self.dtype,
                                                    self.opset, self.functions)
        return self.node(self.functions[key].name, [x], domain=FUNCTION_DOMAIN)

    # ------------------------------------------------------------------------ model
    def to_model(self, x_shape, y_shape, output: str, name: str,
                 metadata: dict) -> onnx.ModelProto:
        """The ModelProto reading ``input`` of shape ``x_shape`` and writing ``output`` (its
        value renamed ``"output"``) of shape ``y_shape`` (None: not known)."""
        elem = helper.np_dtype_to_tensor_dtype(self.dtype)
        if output == "input":  # nothing happens to the values: ONNX still needs a node
            output = self.node("Identity", ["input"])
        for node in self.nodes:  # the graph's output is called "output"
            node.output[:] = ["output" if o == output else o for o in node.output]
        graph = helper.make_graph(
            self.nodes, name,
            [helper.make_tensor_value_info("input", elem, list(x_shape))],
            [helper.make_tensor_value_info("output", elem, y_shape)],
            initializer=[numpy_helper.from_array(a, k) for k, a in self.initializers.items()])
        opsets = [helper.make_opsetid("", self.opset)]
        if self.functions:
            opsets.append(helper.make_opsetid(FUNCTION_DOMAIN, 1))
        model = helper.make_model(graph, opset_imports=opsets, producer_name="layerwise",
                                  ir_version=helper.find_min_ir_version_for(opsets, ignore_unknown=True),
                                  functions=list(self.functions.values()))
        helper.set_model_props(model, metadata)
        if y_shape is None:  # ONNX's shape inference tells the output's shape from the input's
            inferred = onnx.shape_inference.infer_shapes(model).graph
            found = [v for v in [*inferred.value_info, *inferred.output] if v.name == "output"
                     and v.type.tensor_type.HasField("shape")]
            model.graph.output[0].CopyFrom(found[0] if found else helper.make_tensor_value_info(
                "output", elem, ["batch", *[f"d{i}" for i in range(1, len(x_shape))]]))
        return model


def composed_function(name: str, activation: str, params: dict, build, dtype, opset: int,
                      functions: dict | None = None) -> onnx.FunctionProto:
    """The local function ``name`` computing ``build(graph, x, **params)``: input ``x``, output
    ``y``, constants as ``Constant`` nodes, ``{"activation", "params"}`` as its doc string.

    The same arguments always give the same function, byte for byte: ``lw.onnx.load`` rebuilds
    it to check a file's function before reading it as the activation.
    """
    sub = GraphBuilder(dtype, opset, functions)
    y = build(sub, "x", **params)
    if y == "x":
        y = sub.node("Identity", ["x"])
    constants = [helper.make_node("Constant", [], [k], name=k,
                                  value=numpy_helper.from_array(np.asarray(a), k))
                 for k, a in sub.initializers.items()]
    for node in sub.nodes:
        node.output[:] = ["y" if o == y else o for o in node.output]
    opsets = [helper.make_opsetid("", opset)]
    if any(n.domain == FUNCTION_DOMAIN for n in sub.nodes):
        opsets.append(helper.make_opsetid(FUNCTION_DOMAIN, 1))
    return helper.make_function(
        FUNCTION_DOMAIN, name, ["x"], ["y"], constants + sub.nodes, opsets,
        doc_string=json.dumps({"activation": activation, "params": params}, sort_keys=True))


# erf(x) / x = sum_n (-1)^n (2/sqrt(pi)) u^n / (n! (2n + 1)), u = x^2 (exact to rounding)
_ERF_TAYLOR = tuple((-1) ** n * 2 / math.sqrt(math.pi) / (math.factorial(n) * (2 * n + 1))
                    for n in range(18))
# h(t) = erfc(1/t) exp(1/t^2) on [1/6, 1] as a Chebyshev series (numpy.polynomial.chebyshev
# .Chebyshev.interpolate(h, 20, domain=[1/6, 1]), erfc from math.erfc): 1 - exp(-x^2) h(1/x)
# is within 1e-15 of erf(x) for x in [1, 6]. Written out so every platform builds the same graph.
_ERF_CHEBYSHEV_DOMAIN = (1 / 6, 1.0)
_ERF_CHEBYSHEV = (
    0.27477468589795284, 0.166993291193104, -0.014778434908201299, 0.00046076600437349976,
    0.0001765796783540385, -5.026984064252449e-05, 7.427013355464796e-06,
    -3.5188112198096414e-07, -1.7150112892918994e-07, 6.706623050353192e-08,
    -1.4316589358117597e-08, 1.7595567540032591e-09, 7.452114779619806e-11,
    -1.154378721623241e-10, 3.8873447176337966e-11, -8.504904338902521e-12,
    1.1272057813198047e-12, 4.321765932112344e-14, -8.434997628293045e-14,
    3.1850770464468154e-14, -8.46433399978316e-15)
