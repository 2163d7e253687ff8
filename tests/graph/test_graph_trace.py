"""lw.graph.trace: the graph is read off the autodiff graph, with names, shapes and counts."""

import itertools

import numpy as np
import pytest

import layerwise as lw
from layerwise.autodiff.tensor import PRIMITIVES


def mlp_232(**kwargs):
    return lw.MLP([2, 3, 2], rng=0, **kwargs)


def x12():
    return np.array([[1.0, 2.0]], dtype=np.float32)


def in_shapes(g, node):
    return [tuple(e.shape) for e in g.in_edges(node.id)]


def test_2_3_2_network_lists_its_operations_with_shapes():
    g = lw.graph.trace(mlp_232(), x12())
    ops = [n for n in g.nodes if n.kind == "op"]
    assert [n.op for n in ops] == ["matmul", "add", "relu", "matmul", "add", "softmax"]
    assert [n.shape for n in ops] == [(1, 3), (1, 3), (1, 3), (1, 2), (1, 2), (1, 2)]
    mm1, add1, relu, mm2, add2, softmax = ops
    assert in_shapes(g, mm1) == [(1, 2), (2, 3)]
    assert in_shapes(g, add1) == [(1, 3), (1, 3)]  # X @ W, then + b
    assert in_shapes(g, relu) == [(1, 3)]
    assert in_shapes(g, mm2) == [(1, 3), (3, 2)]
    assert in_shapes(g, add2) == [(1, 2), (1, 2)]
    assert in_shapes(g, softmax) == [(1, 2)]
    # wiring: each op consumes the previous one
    for a, b in itertools.pairwise(ops):
        assert a.id in [e.source for e in g.in_edges(b.id)]


def test_2_3_2_network_has_17_parameters_named_by_their_dotted_paths():
    net = mlp_232()
    g = lw.graph.trace(net, x12())
    assert g.num_parameters == 17 == net.num_parameters() == (2 * 3 + 3) + (3 * 2 + 2)
    assert g.parameter_breakdown() == [
        {"name": "layers.0.W", "shape": [2, 3], "size": 6},
        {"name": "layers.0.b", "shape": [1, 3], "size": 3},
        {"name": "layers.1.W", "shape": [3, 2], "size": 6},
        {"name": "layers.1.b", "shape": [1, 2], "size": 2},
    ]
    labels = {n.label for n in g.nodes}
    assert {"layers.0.W (2, 3)", "layers.1.b (1, 2)", "X (1, 2)", "output (1, 2)"} <= labels


@pytest.mark.parametrize("sizes", [[4, 8, 4, 3], [10, 1], [3, 5, 5, 5, 2]])
def test_parameter_count_matches_the_model(sizes):
    net = lw.MLP(sizes, rng=1)
    g = lw.graph.trace(net, np.zeros((5, sizes[0]), dtype=np.float32))
    assert g.num_parameters == net.num_parameters()
    assert g.ops.count("matmul") == len(sizes) - 1


def test_batch_dimension_flows_through_every_edge():
    g = lw.graph.trace(mlp_232(), np.zeros((7, 2), dtype=np.float32))
    data_edges = [e for e in g.edges if g.node(e.source).kind in ("input", "op")]
    assert all(e.shape[0] == 7 for e in data_edges)


def test_linear_without_bias_is_a_single_matmul_and_absent_is_skipped():
    layer = lw.nn.Linear(3, 2, bias=False, rng=0)
    g = lw.graph.trace(layer, np.ones((4, 3), dtype=np.float32))
    assert g.ops == ["matmul"]
    assert [n.kind for n in g.nodes] == ["input", "parameter", "op", "output"]
    assert g.num_parameters == 6


def test_constants_operators_and_a_tensor_used_twice():
    w = lw.Tensor(np.array([2.0, 3.0]), requires_grad=True, name="w")

    def f(x):
        y = x * w + 1.5
        return (y * y).sum()

    g = lw.graph.trace(f, np.array([1.0, 1.0]))
    assert g.ops == ["multiply", "add", "multiply", "sum"]
    kinds = {n.label: n.kind for n in g.nodes}
    assert kinds["1.5"] == "constant" and kinds["w (2,)"] == "parameter"
    assert kinds["X (2,)"] == "input"
    square = [n for n in g.nodes if n.kind == "op"][2]
    assert len(g.in_edges(square.id)) == 2  # y used twice: two edges
    assert g.nodes[-1].shape == ()
    assert g.num_parameters == 2


def test_every_op_is_a_registered_primitive():
    def f(x):
        return lw.F.mse_loss(np.ones((2, 3)), lw.F.sigmoid(x.exp() - x.log().abs()) / 2)

    g = lw.graph.trace(f, np.full((2, 3), 0.5))
    assert g.ops and set(g.ops) <= set(PRIMITIVES)


def test_functions_name_their_parameters_with_params():
    W = lw.Tensor(np.ones((2, 2)), requires_grad=True)
    g = lw.graph.trace(lambda x: x @ W, np.ones((1, 2)), params={"weight": W}, names=["inp"])
    assert [n.label for n in g.nodes if n.kind != "op"] == ["inp (1, 2)", "weight (2, 2)",
                                                            "output (1, 2)"]
    unnamed = lw.graph.trace(lambda x: x @ W, np.ones((1, 2)))
    assert "param0 (2, 2)" in [n.label for n in unnamed.nodes]


def test_several_inputs_and_outputs():
    g = lw.graph.trace(lambda a, b: (a + b, a * b), np.ones(3), np.ones(3))
    assert [n.label for n in g.nodes if n.kind == "input"] == ["X0 (3,)", "X1 (3,)"]
    assert [n.name for n in g.nodes if n.kind == "output"] == ["output0", "output1"]


def test_inputs_are_left_untouched_and_tracing_works_under_no_grad():
    x = lw.Tensor(np.ones((1, 2), dtype=np.float32))
    with lw.no_grad():
        g = lw.graph.trace(mlp_232(), x)
        assert not lw.is_grad_enabled()  # restored after tracing
    assert g.ops[-1] == "softmax"
    assert not x.requires_grad and x.grad is None


def test_a_float64_input_to_a_float32_model_shows_the_cast():
    g = lw.graph.trace(mlp_232(), np.array([[1.0, 2.0]]))
    assert g.ops[0] == "astype"


def test_bad_calls_say_what_is_wrong():
    with pytest.raises(TypeError, match="not a Tensor"):
        lw.graph.trace(lambda x: 3.0, np.ones(2))
    with pytest.raises(ValueError, match="2 inputs but 1 names"):
        lw.graph.trace(lambda a, b: a + b, np.ones(2), np.ones(2), names=["a"])
    with pytest.raises(TypeError, match="model or a function"):
        lw.graph.trace(42, np.ones(2))


def test_text_forms():
    g = lw.graph.trace(mlp_232(), x12())
    text = str(g)
    assert "17 parameters" in text and "matmul(X: (1, 2), layers.0.W: (2, 3)) -> (1, 3)" in text
    assert repr(g) == "Graph('MLP', nodes=12, edges=11, num_parameters=17)"
    d = g.to_dict()
    assert d["num_parameters"] == 17 and len(d["nodes"]) == 12 and len(d["edges"]) == 11


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "log_softmax"])
def test_a_fused_layer_is_drawn_as_its_declared_parts(activation):
    """A Dense layer is one autodiff node (lw.autodiff.fuse(linear, activation)); the graph
    draws the parts the fused op declares, not a parse of its name."""
    layer = lw.nn.Dense(2, 3, activation=activation, rng=0)
    out = layer(lw.Tensor(x12(), requires_grad=True))
    fused = lw.autodiff.FUSED[out.op]
    assert [p.op_name for p in fused.parts] == ["linear", activation]
    g = lw.graph.trace(layer, x12())
    assert g.ops == ["matmul", "add", activation]
    assert in_shapes(g, next(n for n in g.nodes if n.op == activation)) == [(1, 3)]


def test_a_users_fused_op_is_drawn_as_its_parts():
    op = lw.autodiff.fuse(lw.F.linear, lw.F.tanh, lw.F.relu)
    W = lw.Tensor(np.ones((2, 4)), requires_grad=True)
    g = lw.graph.trace(lambda x: op(x, W), x12(), params={"W": W})
    assert g.ops == ["matmul", "tanh", "relu"]  # no bias: no add
    assert set(g.ops) <= set(PRIMITIVES)
