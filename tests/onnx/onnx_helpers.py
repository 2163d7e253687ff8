"""Shared by the ONNX tests: example modules read from the registries, and ONNX Runtime runs."""

from __future__ import annotations

import numpy as np
import pytest

import layerwise as lw

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

WIDTH = 5  # the input width of every example
BATCHES = (1, 7, 256)
TOL = {np.float32: 1e-5, np.float64: 1e-12}

# Modules whose constructor needs more than sizes; every other registered class is built with
# its required arguments set to WIDTH (Dense(5, 5), LayerNorm(5), BatchNorm1d(5), Dropout())
EXAMPLES = {
    "MLP": lambda: lw.MLP([WIDTH, 6, 3], rng=0),
    "Sequential": lambda: lw.nn.Sequential(lw.nn.Dense(WIDTH, 4, "tanh", rng=0),
                                           lw.nn.Linear(4, 3, rng=1), lw.nn.LogSoftmax()),
}


def layer_classes() -> list:
    """Every registered module class that is a layer (losses and the generic ``Activation``,
    whose activations are covered one by one, left out)."""
    return [d for d in lw.nn.MODULES.declarations()
            if d.builtin and not issubclass(d.obj, lw.nn.Loss) and d.obj is not lw.nn.Activation]


def example(cls):
    """An instance of a registered layer class, with random parameters and buffers."""
    if cls.__name__ in EXAMPLES:
        module = EXAMPLES[cls.__name__]()
    else:
        import inspect

        params = list(inspect.signature(cls.__init__).parameters.values())[1:]
        required = [p for p in params if p.default is inspect.Parameter.empty
                    and p.kind is p.POSITIONAL_OR_KEYWORD]
        try:
            module = cls(*[WIDTH] * len(required))
        except Exception as err:  # noqa: BLE001
            pytest.fail(f"{cls.__name__}({', '.join(p.name for p in required)}) cannot be built "
                        f"from sizes ({err}); add a row to EXAMPLES in {__file__}")
    return randomized(module)


def randomized(module, seed=0):
    """``module`` with random parameters (normal) and buffers (in [0.5, 1.5]: variances stay
    positive), so that no part of the ONNX form is checked on zeros or ones alone."""
    rng = np.random.default_rng(seed)
    for _, p in module.named_parameters():
        p.data[...] = rng.normal(0, 0.7, p.shape)
    for _, b in module.named_buffers():
        b[...] = rng.uniform(0.5, 1.5, b.shape)
    return module


def session(path):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # the suite runs on two workers on two cores
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def run_onnx(path, x, output=None):
    sess = session(path)
    return sess.run(None if output is None else [output], {sess.get_inputs()[0].name: x})[0]


def layerwise_output(model, x):
    with lw.no_grad(), lw.nn.training_mode(model, False):
        return np.asarray(model(x))


def inputs(batch, dtype, seed=1):
    return (np.random.default_rng(seed).standard_normal((batch, WIDTH)) * 3).astype(dtype)
