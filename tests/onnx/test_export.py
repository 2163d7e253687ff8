"""lw.onnx.export: every registered layer and activation, checked by onnx.checker and against
ONNX Runtime (1e-5 float32, 1e-12 float64) at batch sizes 1, 7 and 256. The lists come from the
registries, so a new layer or activation is covered here without new test code."""

from __future__ import annotations

import os

import numpy as np
import pytest
from onnx_helpers import (
    BATCHES,
    TOL,
    WIDTH,
    example,
    inputs,
    layer_classes,
    layerwise_output,
    onnx,
    randomized,
    run_onnx,
)

import layerwise as lw

DTYPES = (np.float32, np.float64)


def check_against_runtime(model, path, dtype):
    """Export, check the file in full, and compare ONNX Runtime's outputs with layerwise's."""
    lw.onnx.export(model, path)
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    assert proto.opset_import[0].version == 17
    dim = proto.graph.input[0].type.tensor_type.shape.dim[0]
    assert dim.dim_param == "batch" and not dim.HasField("dim_value")
    elem = onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    assert proto.graph.input[0].type.tensor_type.elem_type == elem
    assert proto.graph.output[0].type.tensor_type.elem_type == elem
    for batch in BATCHES:
        x = inputs(batch, dtype)
        got = run_onnx(path, x)
        want = layerwise_output(model, x)
        assert got.dtype == want.dtype == dtype
        np.testing.assert_allclose(got, want, rtol=TOL[dtype], atol=TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("decl", layer_classes(), ids=lambda d: d.name)
def test_every_layer_matches_onnx_runtime(decl, dtype, tmp_path):
    lw.set_default_dtype(dtype)
    check_against_runtime(example(decl.obj), tmp_path / "m.onnx", dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("decl", [d for d in lw.F.ACTIVATIONS.declarations() if d.builtin],
                         ids=lambda d: d.name)
def test_every_activation_matches_onnx_runtime(decl, dtype, tmp_path):
    """As a module of its own, and as a Dense layer's activation (one file each)."""
    lw.set_default_dtype(dtype)
    check_against_runtime(lw.nn.Activation(decl.name), tmp_path / "a.onnx", dtype)
    dense = randomized(lw.nn.Dense(WIDTH, 4, activation=decl.name))
    check_against_runtime(dense, tmp_path / "d.onnx", dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("module", [
    lambda: lw.nn.Softmax(axis=0), lambda: lw.nn.LogSoftmax(axis=0),
    lambda: lw.nn.LeakyReLU(0.2), lambda: lw.nn.Linear(WIDTH, 3, bias=False),
], ids=["softmax(axis=0)", "log_softmax(axis=0)", "leaky_relu(0.2)", "linear(bias=False)"])
def test_settings_other_than_the_defaults(module, dtype, tmp_path):
    lw.set_default_dtype(dtype)
    check_against_runtime(randomized(module()), tmp_path / "m.onnx", dtype)


def test_graph_names_nodes_after_modules_and_softmax_axis_is_explicit(tmp_path):
    path = lw.onnx.export(lw.MLP([4, 8, 3], rng=0), tmp_path / "m.onnx")
    graph = onnx.load(str(path)).graph
    assert [n.name for n in graph.node] == [
        "layers.0/MatMul", "layers.0/Add", "layers.0/Relu",
        "layers.1/MatMul", "layers.1/Add", "layers.1/Softmax"]
    assert [n.op_type for n in graph.node if n.op_type == "Gemm"] == []
    assert sorted(t.name for t in graph.initializer) == [
        "layers.0.W", "layers.0.b", "layers.1.W", "layers.1.b"]
    softmax = graph.node[-1]
    assert [(a.name, a.i) for a in softmax.attribute] == [("axis", -1)]


def test_float64_leaky_relu_keeps_its_slope_in_float64(tmp_path):
    """ONNX's LeakyRelu keeps alpha as a float32 attribute: float64 graphs compose it."""
    lw.set_default_dtype(np.float64)
    path = lw.onnx.export(lw.nn.LeakyReLU(0.1), tmp_path / "m.onnx")
    assert "LeakyRelu" not in [n.op_type for n in onnx.load(str(path)).graph.node]
    x = np.array([[-1e6, -3.0, 0.0, 2.0]])
    np.testing.assert_array_equal(run_onnx(path, x), lw.F.leaky_relu(x, 0.1).data)


def test_a_module_without_onnx_form_is_named_and_nothing_is_written(tmp_path):
    @lw.nn.register
    class Doubler(lw.nn.Module):
        def forward(self, x):
            return x * 2.0

    try:
        path = tmp_path / "m.onnx"
        path.write_bytes(b"old model")
        net = lw.nn.Sequential(lw.nn.Dense(3, 2, rng=0), Doubler())
        with pytest.raises(ValueError, match=r"^lw.onnx.export: 1 \(Doubler\) has no ONNX form"):
            lw.onnx.export(net, path)
        assert path.read_bytes() == b"old model"
        assert os.listdir(tmp_path) == ["m.onnx"]  # no temporary file left behind
    finally:
        lw.nn.MODULES.remove("Doubler")


def test_an_activation_without_onnx_form_is_named(tmp_path):
    @lw.register_activation("cube")
    def cube(x):
        return x * x * x

    try:
        with pytest.raises(ValueError, match="'cube' has no ONNX form"):
            lw.onnx.export(lw.nn.Dense(3, 2, activation="cube", rng=0), tmp_path / "m.onnx")
        with pytest.raises(ValueError, match="not a registered activation"):
            lw.onnx.export(lw.nn.Dense(3, 2, activation=lambda z: z, rng=0), tmp_path / "m.onnx")
        assert not (tmp_path / "m.onnx").exists()
    finally:
        lw.F.ACTIVATIONS.remove("cube")


@pytest.mark.parametrize("onnx_form", [
    "Abs",
    lambda graph, x: graph.node("Max", [x, graph.node("Neg", [x])]),
], ids=["op name", "builder"])
def test_a_registered_activation_exports_with_its_declared_form(onnx_form, tmp_path):
    @lw.register_activation("absolute", onnx=onnx_form)
    def absolute(x):
        return abs(x)

    try:
        for dtype in DTYPES:
            lw.set_default_dtype(dtype)
            net = randomized(lw.nn.Dense(WIDTH, 3, activation="absolute"))
            check_against_runtime(net, tmp_path / "m.onnx", dtype)
    finally:
        lw.F.ACTIVATIONS.remove("absolute")


def test_metadata_and_architecture_are_stored(tmp_path):
    meta = {"classes": ["a", "b", "c"], "features": ["x1", "x2", "x3", "x4"]}
    path = lw.onnx.export(lw.MLP([4, 3], rng=0), tmp_path / "m.onnx", metadata=meta)
    props = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert '"module": "MLP"' in props["layerwise.architecture"]
    assert lw.onnx.load(path, return_metadata=True)[1] == meta


@pytest.mark.parametrize("bad, error", [
    ({"opset": 12}, ValueError), ({"opset": 99}, ValueError), ({"opset": "17"}, ValueError),
    ({"metadata": {"x": float("nan")}}, ValueError), ({"metadata": [1]}, TypeError),
])
def test_bad_arguments(bad, error, tmp_path):
    with pytest.raises(error):
        lw.onnx.export(lw.MLP([2, 2], rng=0), tmp_path / "m.onnx", **bad)
    assert not (tmp_path / "m.onnx").exists()


def test_input_shape_and_models_without_dense(tmp_path):
    path = lw.onnx.export(lw.nn.Softmax(), tmp_path / "m.onnx", input_shape=(None, 3, 4))
    x = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    np.testing.assert_allclose(run_onnx(path, x), lw.F.softmax(x).data, rtol=1e-6)
    path = lw.onnx.export(lw.nn.Sequential(), tmp_path / "e.onnx")
    np.testing.assert_array_equal(run_onnx(path, x[0]), x[0])


def test_without_the_onnx_package_one_line_names_the_extra(monkeypatch, tmp_path):
    import sys

    monkeypatch.setitem(sys.modules, "onnx", None)  # as if it were not installed
    with pytest.raises(ImportError, match=r"^lw.onnx needs onnx: pip install 'layerwise\[onnx\]'"):
        lw.onnx.export(lw.MLP([2, 2], rng=0), tmp_path / "m.onnx")
    with pytest.raises(ImportError, match="layerwise\\[onnx\\]"):
        lw.onnx.load(tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()
