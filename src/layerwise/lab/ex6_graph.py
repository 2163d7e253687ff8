"""Exercise 6: the computational graph of a 2 -> 3 -> 2 network, drawn, with its parameters."""

from __future__ import annotations

from typing import Any

from .. import graph as lw_graph
from .. import nn
from ..graph.trace import shape_text
from ._common import LabResult, Table, chapter_rng, check_sizes, network_counts, task

__all__ = ["graph"]

QUESTION = (
    "Draw the computational graph of a 2-layer network (2 inputs -> 3 hidden (ReLU) -> "
    "2 outputs (softmax)) and trace a forward pass through it: every operation (multiply, "
    "add, activation) as a node, edges labelled with tensor shapes; calculate the total "
    "number of parameters."
)


def graph(layer_sizes=(2, 3, 2), batch_size: int = 1, hidden_activation: str = "relu",
          output_activation: str = "softmax", seed: int = 42, out=None,
          progress=False) -> LabResult:
    """Exercise 6: trace an MLP's forward pass into its graph, draw it, count its parameters.

    The graph comes from ``lw.graph.trace`` (read off the autodiff graph of one real forward
    pass); each layer shows as ``matmul`` then ``add`` then its activation. The parameter
    count is broken down per layer, checked against ``n_in * n_out + n_out`` and against
    ``model.num_parameters()``.

    Args:
        layer_sizes: ``[n_input, hidden..., n_output]`` (default the chapter's 2 -> 3 -> 2).
        batch_size: rows of the traced input (shapes on the edges start with it).
        hidden_activation, output_activation: as ``lw.MLP``.
        seed: seed for the weights and the input (``np.random.RandomState(seed)``).
        out: folder for ``graph.svg``, ``graph.png`` and ``graph.dot``, or None.
        progress: True, False or None (show when stderr is a terminal).

    Returns:
        ``LabResult`` with data ``ops``, ``steps`` (each op with its input and output
        shapes), ``parameters`` (per tensor), ``per_layer``, ``num_parameters``,
        ``formula_total`` and ``graph`` (nodes and edges).

    >>> import layerwise as lw
    >>> r = lw.lab.graph()
    >>> r['ops'], r['num_parameters']
    (['matmul', 'add', 'relu', 'matmul', 'add', 'softmax'], 17)
    """
    if isinstance(batch_size, bool) or int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f"graph lab: batch_size must be a positive integer, got {batch_size!r}")
    check_sizes("graph", **network_counts([int(n) for n in layer_sizes], int(batch_size)))
    with task(progress, "graph", 2 + int(out is not None)) as step:
        rng = chapter_rng(seed)
        model = nn.MLP(layer_sizes, hidden_activation, output_activation, rng=rng)
        X = rng.standard_normal((int(batch_size), model.layer_sizes[0]))
        X = X.astype(model.layers[0].W.dtype)  # the model's dtype: no astype node in the graph
        g = lw_graph.trace(model, X)
        step.advance("traced")

        steps: list[dict[str, Any]] = []
        step_of: dict[str, int] = {}
        for node in (n for n in g.nodes if n.kind == "op"):
            step_of[node.id] = len(steps) + 1
            inputs = []
            for e in g.in_edges(node.id):
                source = g.node(e.source)
                name = f"step {step_of[source.id]}" if source.kind == "op" else source.name
                inputs.append((name or source.label, list(e.shape)))
            steps.append({"id": node.id, "op": node.op, "inputs": inputs,
                          "output": list(node.shape)})
        trace_table = Table(
            "The forward pass, operation by operation (from the autodiff graph)",
            ["step", "operation", "inputs", "output"],
            [[str(i), s["op"], ", ".join(f"{name} {shape_text(tuple(shape))}"
                                         for name, shape in s["inputs"]),
              shape_text(tuple(s["output"]))] for i, s in enumerate(steps, start=1)],
        )

        per_layer = []
        rows = []
        for i, layer in enumerate(model.layers):
            prefix = f"layers.{i}."
            tensors = [p for p in g.parameter_breakdown() if p["name"].startswith(prefix)]
            counted = sum(p["size"] for p in tensors)
            formula = layer.n_input * layer.n_output + layer.n_output
            per_layer.append({"layer": i + 1, "n_in": layer.n_input, "n_out": layer.n_output,
                              "count": counted, "formula": formula, "tensors": tensors})
            for p in tensors:
                kind = "weights" if p["name"].endswith(".W") else "biases"
                rows.append([f"{i + 1} ({layer.n_input} -> {layer.n_output})", p["name"],
                             shape_text(tuple(p["shape"])), kind, str(p["size"])])
            rows.append(["", "", "", (f"layer {i + 1}: {layer.n_input}*{layer.n_output} + "
                         f"{layer.n_output} ="), str(formula)])
        formula_total = sum(layer["formula"] for layer in per_layer)
        rows.append(["total", "", "", " + ".join(str(layer["formula"]) for layer in per_layer)
                     + " =", str(g.num_parameters)])
        param_table = Table("Parameters, per layer", ["layer", "tensor", "shape", "part", "count"],
                            rows)
        consistent = g.num_parameters == formula_total == model.num_parameters()
        notes = [
            (f"{len(g.ops)} operations: each layer is matmul (X @ W), add (+ b, broadcast over "
             f"the batch) and its activation; the graph is read from the autodiff graph of a "
             f"real forward pass, so it is exactly what backward differentiates."),
            f"Total parameters: {g.num_parameters} (graph) = {formula_total} (sum of n_in*n_out"
            f" + n_out) = {model.num_parameters()} (model.num_parameters()): "
            + ("consistent." if consistent else "INCONSISTENT."),
        ]
        step.advance("parameters counted")

        figures, files = {}, {}
        if out is not None:
            figures["The computational graph (SVG)"] = g.render(f"{out}/graph.svg")
            files["The computational graph (PNG)"] = g.render(f"{out}/graph.png")
            files["Graphviz DOT source of the graph"] = g.render(f"{out}/graph.dot")
            step.advance("drawn")

    data = {
        "layer_sizes": model.layer_sizes, "batch_size": int(batch_size), "ops": g.ops,
        "steps": steps, "parameters": g.parameter_breakdown(), "per_layer": per_layer,
        "num_parameters": g.num_parameters, "formula_total": formula_total,
        "consistent": consistent, "graph": g.to_dict(),
    }
    headline = (f"{' -> '.join(map(str, model.layer_sizes))}: {len(g.ops)} operations "
                f"({', '.join(g.ops)}), {g.num_parameters} parameters")
    return LabResult("graph", "Exercise 6 - The computational graph", QUESTION, data,
                     [trace_table, param_table], notes, figures, files, headline=headline)

