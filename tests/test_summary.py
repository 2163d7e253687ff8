"""lw.summary: the layers a forward pass runs, their output shapes and parameter counts."""

import importlib

import numpy as np
import pytest

import layerwise as lw
from layerwise.summary import Summary, SummaryRow

summary_module = importlib.import_module("layerwise.summary")  # lw.summary is the function


def test_mlp_rows_and_totals():
    net = lw.MLP([4, 8, 5, 3], rng=0)
    s = lw.summary(net, (None, 4))
    assert isinstance(s, Summary)
    assert s.rows == [
        SummaryRow("layers.0", "Dense", (None, 8), 40, 40),
        SummaryRow("layers.1", "Dense", (None, 5), 45, 45),
        SummaryRow("layers.2", "Dense", (None, 3), 18, 18),
    ]
    assert s.total_params == s.trainable_params == net.num_parameters() == 103
    assert s.non_trainable_params == 0 and s.param_bytes == 103 * 4
    assert s.input_shape == (None, 4)


def test_counts_match_pytorch_and_shapes_match_the_layers():
    torch = pytest.importorskip("torch")
    net = lw.nn.Sequential(lw.nn.Dense(6, 16, "tanh", rng=0), lw.nn.LeakyReLU(),
                           lw.nn.Linear(16, 7, bias=False, rng=1), lw.nn.Softmax())
    s = lw.summary(net, (None, 6))
    tnet = lw.interop.to_torch(net)
    assert s.total_params == sum(p.numel() for p in tnet.parameters())
    x = np.zeros((3, 6), np.float32)
    for row, layer in zip(s.rows, net, strict=True):
        x = layer(x).data
        assert row.output_shape == (None, *x.shape[1:])
        assert row.params == layer.num_parameters()
    with torch.no_grad():
        assert tuple(tnet(torch.zeros(3, 6)).shape[1:]) == s.rows[-1].output_shape[1:]


def test_table_text():
    net = lw.nn.Sequential(lw.nn.Dense(784, 256, "tanh", rng=0, dtype=np.float64),
                           lw.nn.Linear(256, 10, rng=0, dtype=np.float64), lw.nn.Softmax())
    net[1].W.requires_grad = False
    text = str(lw.summary(net, (32, 784)))
    assert text == repr(lw.summary(net, (32, 784)))
    lines = text.splitlines()
    assert lines[:2] == ["Model: Sequential", "Input shape: (32, 784)"]
    assert lines[3].split() == ["Layer", "(type)", "Output", "Shape", "Param", "#", "Trainable"]
    assert lines[5].split() == ["0", "(Dense)", "(32,", "256)", "200,960", "yes"]
    assert lines[6].split() == ["1", "(Linear)", "(32,", "10)", "2,570", "partial"]
    assert lines[7].split() == ["2", "(Softmax)", "(32,", "10)", "0", "--"]
    assert lines[9:13] == ["Total params: 203,530", "Trainable params: 200,970",
                           "Non-trainable params: 2,560", "Params size: 1.55 MB"]
    assert set(lines[2]) == {"-"} and set(lines[4]) == {"="} and len(lines) == 14


@pytest.mark.parametrize("n, text", [(100, "100 B"), (2048, "2.00 KB"), (3 * 2**20, "3.00 MB")])
def test_sizes(n, text):
    assert summary_module._size(n) == text


@pytest.mark.parametrize("input_shape, shown", [
    (4, (None, 4)), ((4,), (None, 4)), ([None, 4], (None, 4)), ((-1, 4), (None, 4)),
    ((7, 4), (7, 4)), (np.array([3, 4]), (3, 4)),
])
def test_input_shape_forms(input_shape, shown):
    s = lw.summary(lw.MLP([4, 2], rng=0), input_shape)
    assert s.input_shape == shown and s.rows[0].output_shape == (shown[0], 2)


@pytest.mark.parametrize("input_shape, error, message", [
    ((0, 4), ValueError, "input_shape must be (batch, n_1, ...)"), ((None, -4), ValueError, ""),
    ((None,), ValueError, ""), ((), ValueError, ""), ((None, True), ValueError, ""),
    ((None, 2.5), ValueError, ""), ("x", ValueError, ""), (None, TypeError, "(None, 4)"),
    ((None, 5), ValueError, ("summary: input_shape (None, 5) does not fit the model: layer 0 of "
                            "Sequential: Dense(4 -> 2")),
])
def test_bad_input_shapes(input_shape, error, message):
    net = lw.MLP([4, 2], rng=0)
    with pytest.raises(error) as err:
        lw.summary(net, input_shape)
    assert message in str(err.value)
    assert "forward" not in vars(net.layers[0])  # unwrapped even after a failure
    np.testing.assert_array_equal(net(np.ones((1, 4))).shape, (1, 2))


def test_custom_modules_shared_layers_and_own_parameters():
    class Residual(lw.nn.Module):
        def __init__(self):
            self.inner = lw.nn.Dense(3, 3, rng=0)
            self.scale = lw.Tensor(np.ones((1, 3)), requires_grad=True)

        def forward(self, x):
            return self.inner(self.inner(x)) * self.scale + x

    model = Residual().eval()
    s = lw.summary(model, (None, 3))
    assert [(r.name, r.type, r.params) for r in s.rows] == [
        ("inner", "Dense", 12), ("inner", "Dense", 12), ("", "Residual", 3)]
    assert s.total_params == 15  # a layer called twice is counted once
    assert model.training is False and not vars(model.inner).get("forward")
    assert model.scale.grad is None and model.inner.W.grad is None


def test_leaves_mode_and_graph_alone():
    net = lw.MLP([4, 3], rng=0)
    lw.summary(net, 4)
    assert net.training is True and net.layers[0].W.grad is None
    assert "forward" not in vars(net.layers[0])


def test_rejects_non_modules():
    with pytest.raises(TypeError, match="model must be a lw.nn.Module"):
        lw.summary(lambda x: x, (None, 2))


def test_docstring_examples():
    import doctest
    assert doctest.testmod(summary_module).failed == 0
