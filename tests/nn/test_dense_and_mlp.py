"""Dense and MLP against the chapter's DenseLayer and MultiLayerNetwork, with the same seed."""

import chapter_listings as chapter
import numpy as np
import pytest

import layerwise as lw
from layerwise import nn
from layerwise.autodiff.tensor import Tensor

X5 = chapter.IRIS_5


# ------------------------------------------------------------------------------ MLP
@pytest.mark.parametrize("sizes", [[4, 8, 4, 3], [2, 3, 2], [10, 5, 5, 5, 1], [4, 3]])
@pytest.mark.parametrize("seed", [42, 0])
def test_mlp_equals_the_chapters_multilayer_network(sizes, seed):
    np.random.seed(seed)
    theirs = chapter.MultiLayerNetwork(sizes)
    np.random.seed(seed)
    ours = lw.MLP(sizes, dtype=np.float64)
    for layer, W, b in zip(ours.layers, theirs.weights, theirs.biases):
        np.testing.assert_array_equal(layer.W.data, W)
        np.testing.assert_array_equal(layer.b.data, b)
    X = np.random.default_rng(seed).uniform(0, 7, (6, sizes[0]))
    want, want_cache = theirs.forward(X)
    got, got_cache = ours.forward_with_cache(X)
    np.testing.assert_array_equal(got.data, want)
    assert len(got_cache) == len(want_cache)
    assert got_cache[0].keys() == {"A"}
    np.testing.assert_array_equal(got_cache[0]["A"], X)
    for g, w in zip(got_cache[1:], want_cache[1:]):
        assert g.keys() == {"Z", "A"}
        np.testing.assert_array_equal(g["Z"], w["Z"])
        np.testing.assert_array_equal(g["A"], w["A"])


def test_mlp_in_float32_has_the_chapters_weights_rounded():
    np.random.seed(42)
    theirs = chapter.MultiLayerNetwork([4, 8, 4, 3])
    np.random.seed(42)
    ours = lw.MLP([4, 8, 4, 3])
    for layer, W in zip(ours.layers, theirs.weights):
        assert layer.W.dtype == np.float32
        np.testing.assert_array_equal(layer.W.data, W.astype(np.float32))
    out = ours(X5)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, theirs.forward(X5)[0], rtol=1e-5, atol=1e-6)


def test_mlp_with_an_rng_draws_each_layer_in_order_from_it():
    net = lw.MLP([3, 5, 2], rng=8, dtype=np.float64)
    twin = np.random.default_rng(8)
    np.testing.assert_array_equal(net.layers[0].W.data,
                                  twin.standard_normal((3, 5)) * np.sqrt(2 / 3))
    np.testing.assert_array_equal(net.layers[1].W.data,
                                  twin.standard_normal((5, 2)) * np.sqrt(2 / 5))


def test_mlp_activations_and_init():
    net = lw.MLP([3, 4, 4, 2], hidden_activation="tanh", output_activation="none",
                 init="xavier", rng=0)
    assert [layer.activation for layer in net.layers] == ["tanh", "tanh", "none"]
    assert net.layer_sizes == [3, 4, 4, 2]
    expected = lw.init.initialize_weights(3, 4, "xavier", rng=0)
    np.testing.assert_array_equal(net.layers[0].W.data, expected)


@pytest.mark.parametrize("sizes", [[4], [], [4, 0, 3], [4, -2]])
def test_mlp_rejects_bad_layer_sizes(sizes):
    with pytest.raises(ValueError, match="layer_sizes"):
        lw.MLP(sizes)


# ---------------------------------------------------------------------------- Dense
def test_dense_layers_equal_the_chapters_dense_layers():
    np.random.seed(42)
    theirs = [chapter.DenseLayer(4, 8, "relu"), chapter.DenseLayer(8, 4, "relu"),
              chapter.DenseLayer(4, 3, "softmax")]
    np.random.seed(42)
    ours = [nn.Dense(4, 8, "relu", dtype=np.float64), nn.Dense(8, 4, "relu", dtype=np.float64),
            nn.Dense(4, 3, "softmax", dtype=np.float64)]
    a_theirs, a_ours = X5, X5
    for mine, chap in zip(ours, theirs):
        np.testing.assert_array_equal(mine.W.data, chap.W)
        np.testing.assert_array_equal(mine.b.data, chap.b)
        assert (mine.n_input, mine.n_output, mine.activation) == (
            chap.n_input, chap.n_output, chap.activation)
        a_theirs, a_ours = chap.forward(a_theirs), mine(a_ours)
        np.testing.assert_array_equal(a_ours.data, a_theirs)
        for key in ("X", "Z", "A"):
            assert type(mine.cache[key]) is np.ndarray
            np.testing.assert_array_equal(mine.cache[key], chap.cache[key])


@pytest.mark.parametrize("activation", ["sigmoid", "none", "relu", "softmax"])
def test_each_of_the_chapters_activations(activation):
    np.random.seed(1)
    chap = chapter.DenseLayer(4, 3, activation)
    np.random.seed(1)
    mine = nn.Dense(4, 3, activation, dtype=np.float64)
    # the stable sigmoid differs from 1 / (1 + exp(-z)) in the last bits only
    np.testing.assert_allclose(mine(X5).data, chap.forward(X5), rtol=1e-15, atol=1e-16)


def test_dense_input_gradient_and_parameter_gradients():
    layer = nn.Dense(3, 2, "sigmoid", rng=0, dtype=np.float64)
    X = Tensor(np.random.default_rng(0).standard_normal((4, 3)), requires_grad=True)
    out = layer(X)
    out.sum().backward()
    s = out.data
    dZ = s * (1 - s)
    np.testing.assert_allclose(X.grad, dZ @ layer.W.data.T, rtol=1e-13)
    np.testing.assert_allclose(layer.W.grad, X.data.T @ dZ, rtol=1e-13)
    np.testing.assert_allclose(layer.b.grad, dZ.sum(axis=0, keepdims=True), rtol=1e-13)


def test_dense_on_a_batch_of_sequences():
    layer = nn.Dense(4, 6, rng=0, dtype=np.float64)
    X = np.random.default_rng(2).standard_normal((2, 5, 4))
    out = layer(X)
    assert out.shape == (2, 5, 6)
    np.testing.assert_allclose(out.data, np.maximum(X @ layer.W.data + layer.b.data, 0))


def test_dense_without_bias():
    layer = nn.Dense(3, 2, "none", bias=False, rng=0, dtype=np.float64)
    assert layer.b is None and layer.num_parameters() == 6
    assert [name for name, _ in layer.named_parameters()] == ["W"]
    X = np.ones((2, 3))
    np.testing.assert_array_equal(layer(X).data, X @ layer.W.data)


def test_dense_with_the_chapters_lambda_is_differentiable():
    layer = nn.Dense(3, 2, activation=lambda z: np.maximum(0, z), rng=0, dtype=np.float64)
    reference = nn.Dense(3, 2, activation="relu", rng=0, dtype=np.float64)
    X = np.random.default_rng(3).standard_normal((5, 3))
    layer(X).sum().backward()
    reference(X).sum().backward()
    np.testing.assert_array_equal(layer.W.grad, reference.W.grad)
    assert layer.activation == "<lambda>"


@pytest.mark.parametrize("init", ["he", "xavier", "lecun", "he_uniform"])
def test_dense_init_and_rng_are_those_of_initialize_weights(init):
    layer = nn.Dense(5, 3, init=init, rng=4)
    np.testing.assert_array_equal(layer.W.data,
                                  lw.init.initialize_weights(5, 3, init, rng=4))
    np.testing.assert_array_equal(layer.b.data, np.zeros((1, 3)))
    assert layer.b.dtype == np.float32 and layer.W.requires_grad and layer.b.requires_grad


def test_linear_is_dense_without_activation():
    layer = nn.Linear(3, 2, rng=0)
    assert isinstance(layer, nn.Dense) and layer.activation == "none"
    X = np.ones((1, 3), dtype=np.float32)
    np.testing.assert_array_equal(layer(X).data, X @ layer.W.data + layer.b.data)


# ------------------------------------------------------------------------ bad input
def test_shape_mismatch_names_the_layer_and_both_shapes():
    with pytest.raises(ValueError) as info:
        nn.Dense(4, 8, rng=0)(np.ones((5, 3)))
    assert str(info.value) == "Dense(4 -> 8, activation=relu) expected input (..., 4), got (5, 3)"


def test_shape_mismatch_inside_a_sequential_names_the_position():
    net = nn.Sequential(nn.Dense(4, 8, rng=0), nn.Dense(5, 3, "softmax", rng=0))
    with pytest.raises(ValueError) as info:
        net(np.ones((2, 4)))
    message = str(info.value)
    assert message.startswith("layer 1 of Sequential: Dense(5 -> 3, activation=softmax)")
    assert "(..., 5)" in message and "(2, 8)" in message


def test_shape_mismatch_in_an_mlp():
    with pytest.raises(ValueError, match=r"layer 0 .*Dense\(4 -> 8.*\(\.\.\., 4\).*\(3, 5\)"):
        lw.MLP([4, 8, 3], rng=0)(np.ones((3, 5)))


def test_scalar_input_is_rejected():
    with pytest.raises(ValueError, match=r"expected input \(\.\.\., 2\), got \(\)"):
        nn.Dense(2, 2, rng=0)(np.float64(1.0))


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh", "softmax", "log_softmax",
                                        "leaky_relu", "none", lambda z: np.maximum(0, z)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dense_under_no_grad_computes_the_same(activation, dtype):
    layer = nn.Dense(4, 3, activation, rng=0, dtype=dtype)
    X = np.random.default_rng(1).standard_normal((5, 4))
    with_graph = layer(X)
    cache = dict(layer.cache)
    with lw.no_grad():
        without = layer(X)
    assert not without.requires_grad and without.dtype == dtype
    np.testing.assert_array_equal(without.data, with_graph.data)
    for key in ("X", "Z", "A"):
        np.testing.assert_array_equal(layer.cache[key], cache[key])
