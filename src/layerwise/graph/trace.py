"""``trace``: the graph of a forward pass, read off the autodiff graph that backward walks.

Running a function or model under grad mode leaves each result Tensor holding its op name
(``t.op``) and operands (``t._parents``). ``trace`` walks those links back from the outputs
and turns every Tensor into a node: operations (``matmul``, ``add``, ``relu`` ...) and leaves
(inputs, parameters named by their dotted paths, constants). Edges carry the shapes of the
tensors that flow along them. There is no second tracer: what is drawn is what backward sees.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import replay
from ..autodiff.tensor import ABSENT, FUSED, Tensor, enable_grad

__all__ = ["KINDS", "Edge", "Graph", "Node", "trace"]

KINDS = ("input", "parameter", "constant", "op", "output")
"""Node kinds: leaves (input, parameter, constant), operations, and the traced outputs."""


def shape_text(shape: tuple) -> str:
    """``(1, 3)`` as drawn on edges; a scalar is ``()``."""
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


@dataclass(frozen=True)
class Node:
    """One node of a traced graph.

    Attributes:
        id: unique DOT identifier (``"n0"``, ``"n1"``, ... in topological order).
        kind: one of ``KINDS``.
        label: the text drawn, e.g. ``"matmul"`` or ``"layers.0.W (2, 3)"``.
        shape: shape of the tensor this node produces.
        op: the primitive's name for ``kind == "op"``, else None.
        name: the dotted parameter name or the input's name, else None.
    """

    id: str
    kind: str
    label: str
    shape: tuple
    op: str | None = None
    name: str | None = None

    @property
    def size(self) -> int:
        """Number of scalars in the node's tensor."""
        return int(np.prod(self.shape, dtype=np.int64))


@dataclass(frozen=True)
class Edge:
    """A tensor flowing from ``source`` to ``target`` (node ids), with its ``shape``."""

    source: str
    target: str
    shape: tuple

    @property
    def label(self) -> str:
        return shape_text(self.shape)


class Graph:
    """A traced computation: ``nodes`` in topological order and shape-labelled ``edges``.

    Build one with ``lw.graph.trace``. ``to_dot()`` gives Graphviz text; ``render(path)``
    draws it as SVG or PNG with layerwise's own layered layout (no Graphviz needed).
    """

    def __init__(self, nodes, edges, name: str = "graph"):
        self.nodes = tuple(nodes)
        self.edges = tuple(edges)
        self.name = name
        self._by_id = {n.id: n for n in self.nodes}

    def node(self, node_id: str) -> Node:
        """The node with this id."""
        return self._by_id[node_id]

    def in_edges(self, node_id: str) -> list:
        """Edges into ``node_id``, in operand order."""
        return [e for e in self.edges if e.target == node_id]

    @property
    def ops(self) -> list:
        """Operation names in the order they ran (the fused ``linear`` as matmul, add)."""
        return [n.op for n in self.nodes if n.kind == "op"]

    @property
    def parameters(self) -> list:
        """Parameter nodes, in the order the forward pass first used them."""
        return [n for n in self.nodes if n.kind == "parameter"]

    @property
    def num_parameters(self) -> int:
        """Total number of scalars in the parameters the computation used."""
        return sum(n.size for n in self.parameters)

    def parameter_breakdown(self) -> list:
        """``[{'name', 'shape', 'size'}, ...]``, one entry per parameter (JSON-ready)."""
        return [{"name": n.name, "shape": list(n.shape), "size": n.size} for n in self.parameters]

    def to_dict(self) -> dict:
        """Nodes, edges and the parameter count as plain JSON-ready data."""
        return {
            "name": self.name,
            "nodes": [{"id": n.id, "kind": n.kind, "label": n.label, "shape": list(n.shape),
                       "op": n.op, "name": n.name} for n in self.nodes],
            "edges": [{"source": e.source, "target": e.target, "shape": list(e.shape)}
                      for e in self.edges],
            "num_parameters": self.num_parameters,
        }

    def to_dot(self) -> str:
        """Graphviz DOT text: quoted ids and labels, edges labelled with shapes."""
        from .render import STYLES

        def q(text) -> str:
            return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'

        lines = [
            f"digraph {q(self.name)} {{",
            "  rankdir=TB;",
            '  node [fontname="monospace", fontsize=11, style="filled"];',
            '  edge [fontname="monospace", fontsize=9, color="#555555"];',
        ]
        for n in self.nodes:
            style = STYLES[n.kind]
            lines.append(
                f"  {q(n.id)} [label={q(n.label)}, shape={style['dot_shape']}, "
                f"fillcolor={q(style['fill'])}, color={q(style['stroke'])}];"
            )
        for e in self.edges:
            lines.append(f"  {q(e.source)} -> {q(e.target)} [label={q(e.label)}];")
        lines.append("}")
        return "\n".join(lines) + "\n"

    def to_svg(self) -> str:
        """The graph drawn as SVG text by layerwise's own layered layout."""
        from .render import to_svg

        return to_svg(self)

    def render(self, path, engine: str = "builtin", dpi: int = 150) -> Path:
        """Write the drawing to ``path``: ``.svg`` or ``.png`` (or ``.dot`` for the DOT text).

        Args:
            path: output file; its suffix picks the format.
            engine: ``"builtin"`` (default; pure Python, PNG through matplotlib) or ``"dot"``
                (Graphviz's ``dot`` program, which must be on PATH).
            dpi: PNG resolution; the image is ``layout size * dpi / 96`` pixels.

        Returns:
            The path written.
        """
        from .render import render

        return render(self, path, engine=engine, dpi=dpi)

    def _repr_svg_(self) -> str:  # drawn inline by Jupyter
        return self.to_svg()

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        """Jupyter's view: the repr as text and the drawing as SVG."""
        from ..display import svg_mimebundle

        return svg_mimebundle(repr(self), self.to_svg(), include, exclude)

    def __str__(self) -> str:
        lines = [f"Graph {self.name!r}: {len(self.ops)} ops, {self.num_parameters} parameters"]

        def ref(node):
            return node.id if node.kind == "op" else (node.name or node.label)

        for n in self.nodes:
            if n.kind in ("op", "output"):
                args = ", ".join(f"{ref(self.node(e.source))}: {e.label}"
                                 for e in self.in_edges(n.id))
                head = f"{n.id} = {n.op}" if n.kind == "op" else n.name
                lines.append(f"  {head}({args}) -> {shape_text(n.shape)}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"Graph({self.name!r}, nodes={len(self.nodes)}, edges={len(self.edges)}, "
                f"num_parameters={self.num_parameters})")


def _as_leaf(x, name: str) -> Tensor:
    """A fresh leaf sharing the input's data, requiring grad when it is floating."""
    data = x.data if isinstance(x, Tensor) else x
    leaf = Tensor(data)
    leaf.requires_grad = leaf.data.dtype.kind == "f"
    leaf.name = getattr(x, "name", None) or name
    return leaf


def _walk(outputs) -> list:
    """Every Tensor reachable from ``outputs`` through ``_parents``, parents first."""
    order, seen = [], set()
    for root in outputs:
        if id(root) in seen:
            continue
        seen.add(id(root))
        stack = [(root, iter(root._parents))]
        while stack:
            node, parents = stack[-1]
            for p in parents:
                if p is not ABSENT and id(p) not in seen:
                    seen.add(id(p))
                    stack.append((p, iter(p._parents)))
                    break
            else:
                stack.pop()
                order.append(node)
    return order


def _parameter_names(fn_or_model, params) -> dict:
    """``{id(tensor): dotted name}`` from a Module, a bound method of one, or a mapping."""
    from ..nn.module import Module

    source = params if params is not None else fn_or_model
    if not isinstance(source, (Module, dict)):
        source = getattr(fn_or_model, "__self__", None)
    if isinstance(source, Module):
        return {id(p): name for name, p in source.named_parameters()}
    if isinstance(source, dict):
        return {id(p): name for name, p in source.items()}
    return {}


def _constant_label(t: Tensor) -> str:
    if t.data.size == 1:
        return f"{t.data.item():g}"
    return f"const {shape_text(t.shape)}"


def trace(fn_or_model, *inputs, names=None, params=None, name: str | None = None) -> Graph:
    """Run ``fn_or_model(*inputs)`` and return the graph of the operations it ran.

    Nodes are operations (``matmul``, ``add``, ``relu``, ``softmax``, ...; the fused
    ``linear`` primitive is drawn as ``matmul`` then ``add``) and leaves: inputs (``X``),
    parameters labelled with their dotted names (``layers.0.W (2, 3)``) and constants. Each
    edge carries the shape of the tensor it passes. The graph is read from the autodiff
    graph the call builds, so it shows exactly what backward would differentiate.

    Args:
        fn_or_model: a ``lw.nn.Module`` or any callable on Tensors returning a Tensor (or a
            tuple/list of Tensors).
        *inputs: array-likes or Tensors; each becomes a fresh leaf (sharing its data) that
            requires grad when floating, so the graph is recorded even for plain arrays.
        names: names for the inputs (default ``X`` for one input, ``X0, X1, ...`` for more;
            a Tensor input keeps its ``.name`` if it has one).
        params: a Module or ``{name: Tensor}`` naming the parameters of a plain function
            (a Module, or a bound method of one, names its own).
        name: the graph's name (default: the model's class or the function's name).

    Returns:
        A ``Graph``.

    >>> import numpy as np, layerwise as lw
    >>> net = lw.MLP([2, 3, 2], rng=0)
    >>> g = lw.graph.trace(net, np.ones((1, 2), dtype=np.float32))
    >>> g.ops
    ['matmul', 'add', 'relu', 'matmul', 'add', 'softmax']
    >>> g.num_parameters
    17
    """
    if not callable(fn_or_model):
        raise TypeError(f"trace: expected a model or a function, got {type(fn_or_model).__name__}")
    if names is None:
        names = ["X"] if len(inputs) == 1 else [f"X{i}" for i in range(len(inputs))]
    names = list(names)
    if len(names) != len(inputs):
        raise ValueError(f"trace: {len(inputs)} inputs but {len(names)} names ({names})")
    leaves = [_as_leaf(x, n) for x, n in zip(inputs, names)]
    with enable_grad(), replay.suspended():  # the real graph, never a replayed node
        result = fn_or_model(*leaves)
    outputs = list(result) if isinstance(result, (tuple, list)) else [result]
    for i, out in enumerate(outputs):
        if not isinstance(out, Tensor):
            raise TypeError(
                f"trace: output {i} of {_callable_name(fn_or_model)} is a "
                f"{type(out).__name__}, not a Tensor; return Tensors (use layerwise ops) so "
                "the operations are recorded"
            )

    param_names = _parameter_names(fn_or_model, params)
    input_ids = {id(t) for t in leaves}
    drawing = _Drawing(input_ids, param_names)
    for t in _walk(outputs):
        drawing.draw(t)
    for i, out in enumerate(outputs):
        label = "output" if len(outputs) == 1 else f"output{i}"
        out_id = drawing.add_node("output", f"{label} {shape_text(out.shape)}", out.shape,
                                  node_name=label)
        drawing.edges.append(Edge(drawing.value_of[id(out)], out_id, out.shape))
    return Graph(drawing.nodes, drawing.edges, name=name or _callable_name(fn_or_model))


class _Drawing:
    """The nodes and edges of a traced graph, drawn tensor by tensor in dependency order."""

    def __init__(self, input_ids, param_names) -> None:
        self.input_ids, self.param_names = input_ids, param_names
        self.nodes: list = []
        self.edges: list = []
        self.value_of: dict = {}  # id(tensor) -> id of the node producing it
        self.unnamed = 0

    def add_node(self, kind, label, shape, op=None, node_name=None) -> str:
        node_id = f"n{len(self.nodes)}"
        self.nodes.append(Node(node_id, kind, label, tuple(shape), op, node_name))
        return node_id

    def draw(self, t) -> None:
        """A leaf (input, parameter, constant) or an op node, fused ops as their parts."""
        if t.op is None:
            node_id = self._leaf(t)
        else:
            fused = FUSED.get(t.op)
            first, rest = (fused.parts[0].op_name, fused.parts[1:]) if fused else (t.op, ())
            # the first part takes the operands; later parts (activations) keep the shape
            node_id = self._op(first, t._parents, t.shape)
            for part in rest:
                prev_id, node_id = node_id, self.add_node("op", part.op_name, t.shape,
                                                          op=part.op_name)
                self.edges.append(Edge(prev_id, node_id, t.shape))
        self.value_of[id(t)] = node_id

    def _leaf(self, t) -> str:
        if id(t) in self.input_ids:
            return self.add_node("input", f"{t.name} {shape_text(t.shape)}", t.shape,
                                 node_name=t.name)
        if id(t) in self.param_names or t.requires_grad:
            pname = self.param_names.get(id(t)) or t.name
            if pname is None:
                pname, self.unnamed = f"param{self.unnamed}", self.unnamed + 1
            return self.add_node("parameter", f"{pname} {shape_text(t.shape)}", t.shape,
                                 node_name=pname)
        return self.add_node("constant", _constant_label(t), t.shape)

    def _op(self, op, parents, shape) -> str:
        """One primitive's node(s), with edges from its operands; returns the last node."""
        parents = [p for p in parents if p is not ABSENT]
        if op != "linear":
            node_id = self.add_node("op", op, shape, op=op)
            for p in parents:
                self.edges.append(Edge(self.value_of[id(p)], node_id, p.shape))
            return node_id
        # the fused affine map is drawn as what it computes: matmul, then add for a bias
        X, W, *bias = parents
        mm_shape = X.shape[:-1] + W.shape[1:]
        node_id = self.add_node("op", "matmul", mm_shape, op="matmul")
        for p in (X, W):
            self.edges.append(Edge(self.value_of[id(p)], node_id, p.shape))
        for b in bias:
            mm_id, node_id = node_id, self.add_node("op", "add", shape, op="add")
            self.edges.append(Edge(mm_id, node_id, mm_shape))
            self.edges.append(Edge(self.value_of[id(b)], node_id, b.shape))
        return node_id


def _callable_name(fn) -> str:
    from ..nn.module import Module

    if isinstance(fn, Module):
        return type(fn).__name__
    return getattr(fn, "__name__", type(fn).__name__)
