"""lw.onnx.load: layerwise's own files round trip; files written by torch.onnx.export and
skl2onnx load and agree; anything else is refused by name; bad files give ValueError."""

from __future__ import annotations

import numpy as np
import pytest
from onnx_helpers import (
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

TensorProto, helper, numpy_helper = onnx.TensorProto, onnx.helper, onnx.numpy_helper


# ------------------------------------------------------------------ layerwise's own files
@pytest.mark.parametrize("dtype", (np.float32, np.float64))
@pytest.mark.parametrize("decl", layer_classes(), ids=lambda d: d.name)
def test_round_trip_of_every_layer(decl, dtype, tmp_path):
    lw.set_default_dtype(dtype)
    model = example(decl.obj)
    path = lw.onnx.export(model, tmp_path / "m.onnx")
    loaded = lw.onnx.load(path)
    x = inputs(7, dtype)
    got = layerwise_output(loaded, x)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, layerwise_output(model, x), rtol=TOL[dtype], atol=TOL[dtype])


@pytest.mark.parametrize("dtype", (np.float32, np.float64))
@pytest.mark.parametrize("decl", [d for d in lw.F.ACTIVATIONS.declarations() if d.builtin],
                         ids=lambda d: d.name)
def test_round_trip_of_every_activation_read_from_the_graph(decl, dtype, tmp_path):
    """The graph alone (no stored architecture) gives back each activation, composed ones
    (ONNX local functions) included."""
    from layerwise.onnx.exporter import to_model_proto

    lw.set_default_dtype(dtype)
    net = randomized(lw.nn.Sequential(lw.nn.Dense(WIDTH, 4, activation=decl.name),
                                      lw.nn.Activation(decl.name)))
    proto = to_model_proto(net)
    del proto.metadata_props[:]
    path = save(proto, tmp_path)
    loaded = lw.onnx.load(path)
    assert loaded[0].activation == decl.name
    x = inputs(7, dtype)
    np.testing.assert_allclose(layerwise_output(loaded, x), layerwise_output(net, x),
                               rtol=TOL[dtype], atol=TOL[dtype])


def test_a_composed_activation_whose_body_was_changed_is_refused(tmp_path):
    from layerwise.onnx.exporter import to_model_proto

    lw.set_default_dtype(np.float64)
    proto = to_model_proto(lw.nn.LeakyReLU(0.1))
    (function,) = proto.functions
    assert function.name == "leaky_relu" and function.domain == "layerwise.activations"
    mul = next(n for n in function.node if n.op_type == "Mul")
    mul.op_type = "Add"
    path = save(proto, tmp_path)
    with pytest.raises(ValueError, match=r"\(leaky_relu\): its function is not what layerwise "
                                         r"builds for the activation 'leaky_relu'"):
        lw.onnx.load(path)
    function.doc_string = '{"activation": "nope", "params": {}}'
    path = save(proto, tmp_path)
    with pytest.raises(ValueError, match="names no registered activation"):
        lw.onnx.load(path)


def test_round_trip_keeps_the_architecture_and_metadata(tmp_path):
    net = randomized(lw.MLP([4, 8, 3], hidden_activation="tanh", rng=0))
    path = lw.onnx.export(net, tmp_path / "m.onnx", metadata={"classes": ["a", "b", "c"]})
    loaded, meta = lw.onnx.load(path, return_metadata=True)
    assert type(loaded) is lw.MLP and repr(loaded) == repr(net)
    assert meta == {"classes": ["a", "b", "c"]}
    for name, value in net.state_dict().items():
        np.testing.assert_array_equal(loaded.state_dict()[name], value)


def test_a_stored_architecture_that_disagrees_with_the_graph_is_ignored(tmp_path):
    """The graph is what runs: metadata claiming other activations does not win."""
    from layerwise.onnx.exporter import to_model_proto

    net = randomized(lw.MLP([4, 8, 3], rng=0))
    proto = to_model_proto(net)
    for prop in proto.metadata_props:
        if prop.key == "layerwise.architecture":
            prop.value = prop.value.replace('"relu"', '"sigmoid"')
    path = tmp_path / "m.onnx"
    onnx.save(proto, str(path))
    loaded = lw.onnx.load(path)
    assert type(loaded) is lw.nn.Sequential
    assert [m.activation for m in loaded] == ["relu", "softmax"]
    x = inputs(5, np.float32)[:, :4]
    np.testing.assert_allclose(layerwise_output(loaded, x), layerwise_output(net, x), rtol=1e-6)


# --------------------------------------------------------------------- hand-made graphs
def make_model(nodes, initializers, opset=17, dtype=np.float32, outputs=("y",), width=4):
    elem = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", elem, ["n", width])],
        [helper.make_tensor_value_info(o, elem, ["n", None]) for o in outputs],
        initializer=[numpy_helper.from_array(np.asarray(v, dtype), k)
                     for k, v in initializers.items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                             ir_version=8)


def save(proto, tmp_path, name="m.onnx"):
    path = tmp_path / name
    onnx.save(proto, str(path))
    return path


def agree(path, x, tol=1e-6):
    np.testing.assert_allclose(layerwise_output(lw.onnx.load(path), x), run_onnx(path, x),
                               rtol=tol, atol=tol)


RNG = np.random.default_rng(0)
W, B, C = RNG.normal(size=(4, 3)), RNG.normal(size=3), RNG.normal(size=(1, 3))
X = RNG.normal(size=(6, 4)).astype(np.float32)


@pytest.mark.parametrize("attrs, weight", [
    ({}, W), ({"transB": 1}, W.T), ({"alpha": 0.5, "beta": 2.0}, W),
    ({"transB": 1, "alpha": -1.5, "beta": 0.25}, W.T),
])
def test_gemm_with_transposes_and_scales_folded(attrs, weight, tmp_path):
    node = helper.make_node("Gemm", ["x", "W", "C"], ["y"], name="fc", **attrs)
    path = save(make_model([node], {"W": weight, "C": C}), tmp_path)
    agree(path, X)


def test_gemm_without_bias_and_matmul_with_bias_first(tmp_path):
    path = save(make_model([helper.make_node("Gemm", ["x", "W"], ["y"])], {"W": W}), tmp_path)
    assert lw.onnx.load(path)[0].b is None
    agree(path, X)
    nodes = [helper.make_node("MatMul", ["x", "W"], ["z"]),
             helper.make_node("Add", ["B", "z"], ["y"])]
    agree(save(make_model(nodes, {"W": W, "B": B}), tmp_path), X)


def test_transposed_initializer_then_matmul(tmp_path):
    """Newer exporters store PyTorch's (out, in) weight and transpose it in the graph."""
    nodes = [helper.make_node("Transpose", ["Wt"], ["W"], perm=[1, 0]),
             helper.make_node("MatMul", ["x", "W"], ["z"]),
             helper.make_node("Add", ["z", "B"], ["a"]),
             helper.make_node("Relu", ["a"], ["y"])]
    path = save(make_model(nodes, {"Wt": W.T, "B": B}), tmp_path)
    loaded = lw.onnx.load(path)
    assert repr(loaded[0]) == "Dense(4 -> 3, activation=relu)"
    agree(path, X)


def test_constant_nodes_dropout_identity_and_casts_are_read(tmp_path):
    nodes = [helper.make_node("Cast", ["x"], ["c"], to=TensorProto.FLOAT),
             helper.make_node("Constant", [], ["W"], value=numpy_helper.from_array(
                 W.astype(np.float32))),
             helper.make_node("MatMul", ["c", "W"], ["z"]),
             helper.make_node("Dropout", ["z"], ["d"], name="drop"),
             helper.make_node("Identity", ["d"], ["i"]),
             helper.make_node("Tanh", ["i"], ["y"])]
    path = save(make_model(nodes, {}), tmp_path)
    assert len(lw.onnx.load(path)) == 1
    agree(path, X)


@pytest.mark.parametrize("opset, axis, ok", [
    (11, None, True), (11, 1, True), (11, -1, True), (11, 0, False),
    (13, None, True), (13, 1, True), (13, 0, True),
])
@pytest.mark.parametrize("op", ["Softmax", "LogSoftmax"])
def test_softmax_axis_before_and_after_opset_13(op, opset, axis, ok, tmp_path):
    attrs = {} if axis is None else {"axis": axis}
    nodes = [helper.make_node(op, ["x"], ["y"], name="sm", **attrs)]
    path = save(make_model(nodes, {}, opset=opset), tmp_path)
    if ok:
        agree(path, X)
    else:
        with pytest.raises(ValueError, match=rf"node 'sm' \({op}\): at opset 11 it flattens"):
            lw.onnx.load(path)


@pytest.mark.parametrize("node, why", [
    (helper.make_node("Conv", ["x", "W"], ["y"], name="conv1"), r"node 'conv1' \(Conv\)"),
    (helper.make_node("Loop", ["", "", "x"], ["y"], name="loop", body=helper.make_graph(
        [], "body", [], [])), r"node 'loop' \(Loop\)"),
    (helper.make_node("MatMul", ["W", "x"], ["y"], name="mm"), r"node 'mm' \(MatMul\)"),
    (helper.make_node("Add", ["x", "x"], ["y"], name="twice"), r"node 'twice' \(Add\)"),
])
def test_unsupported_nodes_are_refused_by_name(node, why, tmp_path):
    proto = make_model([node], {"W": W})
    path = tmp_path / "m.onnx"
    path.write_bytes(proto.SerializeToString())  # some are not valid ONNX: no checker here
    with pytest.raises(ValueError, match=why):
        lw.onnx.load(path)


def test_attributes_must_match_the_declared_constants(tmp_path):
    @lw.register_activation("thresholded", onnx=lw.onnx.OnnxOp("ThresholdedRelu",
                                                                constants={"alpha": 1.0}))
    def thresholded(x):
        return x * (np.asarray(x) > 1.0)

    try:
        node = helper.make_node("ThresholdedRelu", ["x"], ["y"], name="th", alpha=1.0)
        path = save(make_model([node], {}), tmp_path)
        assert repr(lw.onnx.load(path)) == "Sequential(\n  (0): Activation('thresholded')\n)"
        node = helper.make_node("ThresholdedRelu", ["x"], ["y"], name="th", alpha=2.0)
        path = save(make_model([node], {}), tmp_path)
        with pytest.raises(ValueError, match=r"'th' \(ThresholdedRelu\): its attribute alpha=2"):
            lw.onnx.load(path)
    finally:
        lw.F.ACTIVATIONS.remove("thresholded")


def test_several_outputs_need_a_choice(tmp_path):
    nodes = [helper.make_node("Relu", ["x"], ["a"]), helper.make_node("Sigmoid", ["x"], ["b"])]
    path = save(make_model(nodes, {}, outputs=("a", "b")), tmp_path)
    with pytest.raises(ValueError, match=r"2 outputs \(a, b\); choose one with output="):
        lw.onnx.load(path)
    assert repr(lw.onnx.load(path, output="b")) == "Sequential(\n  (0): Sigmoid()\n)"


# ------------------------------------------------------------------------- bad files
@pytest.mark.parametrize("seed", range(5))
def test_random_bytes_are_a_value_error_naming_the_file(seed, tmp_path):
    path = tmp_path / "junk.onnx"
    path.write_bytes(np.random.default_rng(seed).bytes(300))
    with pytest.raises(ValueError, match="junk.onnx"):
        lw.onnx.load(path)


@pytest.mark.parametrize("keep", [0, 1, 10, 0.5, 0.9, -1])
def test_truncated_files_are_a_value_error_naming_the_file(keep, tmp_path):
    from layerwise.onnx.exporter import to_model_proto

    data = to_model_proto(lw.MLP([4, 8, 3], rng=0)).SerializeToString()
    cut = keep if isinstance(keep, int) and keep >= 0 else (
        len(data) - 1 if keep == -1 else int(len(data) * keep))
    path = tmp_path / "cut.onnx"
    path.write_bytes(data[:cut])
    with pytest.raises(ValueError, match="cut.onnx"):
        lw.onnx.load(path)


def test_a_safetensors_model_is_not_an_onnx_model(tmp_path):
    path = lw.save(lw.MLP([2, 2], rng=0), tmp_path / "m.onnx")
    with pytest.raises(ValueError, match=r"m.onnx: not"):
        lw.onnx.load(path)


# ----------------------------------------------------------------------- external data
def test_external_data_is_read_from_the_models_folder_only(tmp_path):
    net = randomized(lw.MLP([WIDTH, 6, 3], rng=0))
    from layerwise.onnx.exporter import to_model_proto

    proto = to_model_proto(net)
    onnx.save(proto, str(tmp_path / "m.onnx"), save_as_external_data=True,
              all_tensors_to_one_file=True, location="m.onnx.data", size_threshold=0)
    assert (tmp_path / "m.onnx.data").exists()
    x = inputs(7, np.float32)
    np.testing.assert_allclose(layerwise_output(lw.onnx.load(tmp_path / "m.onnx"), x),
                               layerwise_output(net, x), rtol=1e-6)

    for location in ("../m.onnx.data", "/etc/passwd", "sub/m.onnx.data"):
        bad = onnx.load(str(tmp_path / "m.onnx"), load_external_data=False)
        for tensor in bad.graph.initializer:
            for entry in tensor.external_data:
                if entry.key == "location":
                    entry.value = location
        (tmp_path / "bad.onnx").write_bytes(bad.SerializeToString())
        with pytest.raises(ValueError, match="only a file in the model's own folder"):
            lw.onnx.load(tmp_path / "bad.onnx")

    (tmp_path / "m.onnx.data").write_bytes((tmp_path / "m.onnx.data").read_bytes()[:20])
    with pytest.raises(ValueError, match="m.onnx"):
        lw.onnx.load(tmp_path / "m.onnx")
    (tmp_path / "m.onnx.data").unlink()
    with pytest.raises(ValueError, match="external data file 'm.onnx.data'.* is missing"):
        lw.onnx.load(tmp_path / "m.onnx")


# ------------------------------------------------------------------------ other tools
@pytest.mark.parametrize("dynamo", [False, True], ids=["torchscript", "dynamo"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_files_written_by_torch_onnx_export(dynamo, dtype, tmp_path):
    torch = pytest.importorskip("torch")
    if dynamo:
        pytest.importorskip("onnxscript")
    torch.manual_seed(0)
    dt = getattr(torch, dtype)
    net = torch.nn.Sequential(
        torch.nn.Linear(WIDTH, 8), torch.nn.ReLU(), torch.nn.Linear(8, 6), torch.nn.Tanh(),
        torch.nn.Dropout(0.3), torch.nn.Linear(6, 6, bias=False), torch.nn.LeakyReLU(0.2),
        torch.nn.Linear(6, 4), torch.nn.Sigmoid(), torch.nn.Linear(4, 3),
        torch.nn.LogSoftmax(dim=1)).to(dt).eval()
    x = torch.randn(7, WIDTH, dtype=dt)
    path = tmp_path / "t.onnx"
    if dynamo:
        torch.onnx.export(net, (x,), str(path), dynamo=True, external_data=True,
                          dynamic_shapes=({0: torch.export.Dim("batch")},))
        assert (tmp_path / "t.onnx.data").exists()  # the weights beside the model
    else:
        torch.onnx.export(net, (x,), str(path), dynamo=False, input_names=["x"],
                          output_names=["y"], dynamic_axes={"x": {0: "batch"}})
    model = lw.onnx.load(path)
    assert [type(m).__name__ for m in model] == ["Dense", "Dense", "Dense", "LeakyReLU",
                                                 "Dense", "Dense"]
    for batch in (1, 7, 256):
        xb = torch.randn(batch, WIDTH, dtype=dt)
        want = net(xb).detach().numpy()
        got = layerwise_output(model, xb.numpy())
        tol = TOL[np.dtype(dtype).type]
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
def test_files_written_by_skl2onnx(activation, tmp_path):
    pytest.importorskip("sklearn")
    skl2onnx = pytest.importorskip("skl2onnx")
    from sklearn.neural_network import MLPClassifier

    X, y = lw.datasets.load_iris()
    clf = MLPClassifier((8, 5), activation=activation, max_iter=50, random_state=0)
    with pytest.warns(Warning):  # not converged in 50 iterations: fine here
        clf.fit(X, y)
    proto = skl2onnx.to_onnx(clf, X[:1].astype(np.float32), options={"zipmap": False})
    path = save(proto, tmp_path)
    model = lw.onnx.load(path, output="probabilities")
    np.testing.assert_allclose(layerwise_output(model, X), clf.predict_proba(X), atol=1e-5)
    np.testing.assert_allclose(layerwise_output(model, X),
                               run_onnx(path, X.astype(np.float32), "probabilities"), atol=1e-6)
    with pytest.raises(ValueError, match=r"2 outputs \(label, probabilities\)"):
        lw.onnx.load(path)
    # the label is post-processing (ArgMax, then a lookup in ai.onnx.ml): refused by name
    with pytest.raises(ValueError, match=r"node 'ArgMax' \(ArgMax\)"):
        lw.onnx.load(path, output="label")


def test_skl2onnx_regressor_and_binary_classifier(tmp_path):
    """A regressor ends with a Reshape to (-1, 1), read as nothing; a binary classifier's
    probabilities are Concat(1 - p, p), refused by name."""
    pytest.importorskip("sklearn")
    skl2onnx = pytest.importorskip("skl2onnx")
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    X, y = lw.datasets.load_iris()
    X = X.astype(np.float64)
    reg = MLPRegressor(hidden_layer_sizes=(6,), max_iter=30, random_state=0)
    with pytest.warns(Warning):
        reg.fit(X, y.astype(np.float64))
    path = save(skl2onnx.to_onnx(reg, X[:1]), tmp_path, "reg.onnx")
    model = lw.onnx.load(path)
    np.testing.assert_allclose(layerwise_output(model, X)[:, 0], reg.predict(X), rtol=1e-12,
                               atol=1e-12)
    clf = MLPClassifier((5,), max_iter=30, random_state=0)
    with pytest.warns(Warning):
        clf.fit(X, y == 0)
    proto = skl2onnx.to_onnx(clf, X[:1].astype(np.float32), options={"zipmap": False})
    path = save(proto, tmp_path, "binary.onnx")
    with pytest.raises(ValueError, match=r"\(Concat\): it takes 2 computed inputs"):
        lw.onnx.load(path, output="probabilities")


def test_an_imported_model_is_drawn_and_summarised_like_any_other(tmp_path):
    from layerwise.onnx.exporter import to_model_proto

    proto = to_model_proto(lw.MLP([4, 8, 3], rng=0))
    del proto.metadata_props[:]  # read from the graph alone
    model = lw.onnx.load(save(proto, tmp_path))
    graph = lw.graph.trace(model, np.ones((2, 4), np.float32))
    assert graph.num_parameters == 67 and "matmul" in graph.to_dot()
    assert "Total params: 67" in str(lw.summary(model, (None, 4)))
