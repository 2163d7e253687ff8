"""Every fast or fused path gives the values and gradients of the plain path it replaces.

The plain paths are written out here from layerwise's own primitives (log_softmax, multiply,
sum, mean, matmul, add, relu) or in NumPy, and compared with the fused ones: bit for bit
where the arithmetic is the same, to float tolerance where only the order of a sum changes.
No test here measures time.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import layerwise as lw
from layerwise.autodiff import ops
from layerwise.functional import activations as act
from layerwise.functional import losses

RNG = np.random.default_rng(20260601)


def leaf(shape, dtype=np.float64, order="C"):
    data = np.asarray(RNG.standard_normal(shape), dtype=dtype, order=order)
    return lw.Tensor(data, requires_grad=True)


def grads_of(fn, *tensors):
    for t in tensors:
        t.grad = None
    out = fn(*tensors)
    out.backward()
    return out.data, [t.grad for t in tensors]


def one_hot(labels, n_classes, dtype):
    t = np.zeros(labels.shape + (n_classes,), dtype=dtype)
    np.put_along_axis(t, labels[..., None], 1, axis=-1)
    return t


def plain_cross_entropy(y, logits, smoothing, reduction):
    """-sum_c t_c log_softmax(x)_c, composed from primitives, reduced by ``F.reduce``."""
    n_classes = logits.shape[-1]
    t = y if y.dtype.kind == "f" else one_hot(y, n_classes, logits.dtype)
    if smoothing:
        t = t * (1 - smoothing) + smoothing / n_classes
    per_sample = -ops.reduce_sum(lw.F.log_softmax(logits) * t, axis=-1)
    return losses.reduce(per_sample, reduction)


# ------------------------------------------------------------------------ cross-entropy
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("shape", [(7, 4), (3,), (2, 3, 5)])
@pytest.mark.parametrize("labels", [True, False])
def test_fused_cross_entropy_equals_the_composed_one(shape, smoothing, reduction, labels):
    n_classes = shape[-1]
    if labels:
        y = RNG.integers(0, n_classes, shape[:-1])
    else:
        y = RNG.dirichlet(np.ones(n_classes), shape[:-1])
    logits = leaf(shape)

    def fused(x):
        out = lw.F.cross_entropy(y, x, label_smoothing=smoothing, reduction=reduction)
        return out if reduction != "none" else out.sum()

    def plain(x):
        out = plain_cross_entropy(y, x, smoothing, reduction)
        return out if reduction != "none" else out.sum()

    value, (grad,) = grads_of(fused, logits)
    ref_value, (ref_grad,) = grads_of(plain, logits)
    np.testing.assert_allclose(value, ref_value, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-12, atol=1e-14)


def test_fused_cross_entropy_is_bit_identical_in_float32_without_smoothing():
    """Picking the label's log-probability adds no rounding: the one-hot sum's other terms
    are exact zeros, and the gradient softmax - onehot is computed the same way."""
    y = RNG.integers(0, 10, 64)
    logits = leaf((64, 10), np.float32)
    value, (grad,) = grads_of(lambda x: lw.F.cross_entropy(y, x), logits)
    ref_value, (ref_grad,) = grads_of(lambda x: plain_cross_entropy(y, x, 0.0, "mean"), logits)
    np.testing.assert_array_equal(value, ref_value)
    np.testing.assert_array_equal(grad, ref_grad)
    assert value.dtype == grad.dtype == np.float32


def test_fused_cross_entropy_handles_non_contiguous_logits():
    """The label pick writes into a 2-D view; Fortran-ordered and strided logits must too."""
    y = RNG.integers(0, 5, (3, 4))
    base = RNG.standard_normal((5, 4, 3)).T  # (3, 4, 5), Fortran-ordered
    for data in (base, np.ascontiguousarray(base)[:, ::2]):
        labels = y if data.shape[1] == 4 else y[:, ::2]
        logits = lw.Tensor(data, requires_grad=True)
        _, (grad,) = grads_of(lambda x, labels=labels: lw.F.cross_entropy(labels, x), logits)
        ref = lw.Tensor(np.ascontiguousarray(data), requires_grad=True)
        _, (ref_grad,) = grads_of(
            lambda x, labels=labels: plain_cross_entropy(labels, x, 0.0, "mean"), ref)
        np.testing.assert_allclose(grad, ref_grad, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_of_an_empty_batch_has_an_empty_gradient(reduction):
    logits = leaf((0, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the mean of nothing is nan, as torch
        out = lw.F.cross_entropy(np.zeros(0, dtype=int), logits, reduction=reduction)
    with np.errstate(all="raise"):
        out.sum().backward()
    assert logits.grad.shape == (0, 3)


def test_cross_entropy_label_check_catches_both_ends():
    logits = np.zeros((3, 4))
    for bad in (-1, 4, np.iinfo(np.int64).min):
        with pytest.raises(ValueError, match=f"class label {bad} is out of range for 4"):
            lw.F.cross_entropy(np.array([0, bad, 1]), logits)
    for dtype in (np.int8, np.int16, np.int32, np.uint8, np.uint64):
        float(lw.F.cross_entropy(np.array([0, 3, 1], dtype=dtype), logits))


# ---------------------------------------------------------------------------- reductions
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("axis, keepdims", [(None, False), (None, True), (0, False), (1, True),
                                            ((0, 2), False)])
def test_mean_matches_numpy_bit_for_bit(dtype, axis, keepdims):
    x = leaf((5, 3, 4), dtype)
    out = ops.mean(x, axis=axis, keepdims=keepdims)
    np.testing.assert_array_equal(out.data, np.mean(x.data, axis=axis, keepdims=keepdims))
    assert out.dtype == dtype
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, np.full(x.shape, 1 / (x.size // out.size), dtype))


def test_mean_of_integers_float16_and_of_nothing_still_follow_numpy():
    ints = lw.Tensor(np.arange(6).reshape(2, 3))
    np.testing.assert_array_equal(ops.mean(ints, axis=0).data, [1.5, 2.5, 3.5])
    halves = lw.Tensor(np.full(4096, 0.1, dtype=np.float16))
    np.testing.assert_array_equal(ops.mean(halves).data, np.mean(halves.data))
    with pytest.warns(RuntimeWarning):
        assert np.isnan(ops.mean(lw.Tensor(np.zeros(0))).data)


@pytest.mark.parametrize("reduce_op", [ops.reduce_sum, ops.mean])
def test_leaf_grads_from_full_reductions_are_writeable_arrays_of_their_own(reduce_op):
    w = leaf((2, 3))
    reduce_op(w).backward()
    assert w.grad.flags.writeable and w.grad.flags.owndata
    w.grad *= 2  # an optimiser may do this


def test_leaf_grads_never_share_memory():
    """``add`` hands the same upstream array to both operands; each leaf gets its own."""
    a, b = leaf((3,)), leaf((3,))
    (a + b).sum().backward()
    assert not np.shares_memory(a.grad, b.grad)
    a2 = leaf((2, 3))
    ops.mean(a2, axis=0, keepdims=True).sum().backward()  # a read-only broadcast upstream
    assert a2.grad.flags.writeable and not np.shares_memory(a2.grad, a2.data)


# ------------------------------------------------------------------------ activations
@pytest.mark.parametrize("shape", [(6, 5), (64, 10), (40, 40), (300, 3), (3, 4, 5)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_and_log_softmax_equal_the_np_max_np_sum_forms(dtype, shape):
    """Many short rows take the transposed max (_max); the values must not change."""
    x = RNG.standard_normal(shape).astype(dtype) * 30
    shifted = x - np.max(x, axis=-1, keepdims=True)
    e = np.exp(shifted)
    np.testing.assert_array_equal(act._softmax(x, -1), e / np.sum(e, axis=-1, keepdims=True))
    np.testing.assert_array_equal(act._log_softmax(x, -1),
                                  shifted - np.log(np.sum(e, axis=-1, keepdims=True)))


def test_row_max_matches_np_max_on_ties_infinities_and_nan():
    x = RNG.standard_normal((50, 4))
    x[0] = [1.0, 1.0, 0.5, 1.0]
    x[1] = [-np.inf, -np.inf, -np.inf, -np.inf]
    x[2] = [np.inf, 0.0, 1.0, -1.0]
    x[3] = [np.nan, 0.0, 1.0, 2.0]
    x[4] = [0.0, -0.0, -1.0, -2.0]
    for arr in (x, np.asfortranarray(x), x[:, ::-1]):
        np.testing.assert_array_equal(act._max(arr, -1), np.max(arr, axis=-1, keepdims=True))
        np.testing.assert_array_equal(act._max(arr, 1), np.max(arr, axis=1, keepdims=True))


# ---------------------------------------------------------------------------- linear
@pytest.mark.parametrize("b_shape", [(1, 4), (4,), None])
@pytest.mark.parametrize("x_shape", [(5, 3), (2, 5, 3), (3,)])
def test_linear_equals_matmul_plus_add(x_shape, b_shape):
    X, W = leaf(x_shape), leaf((3, 4))
    tensors = (X, W) if b_shape is None else (X, W, leaf(b_shape))

    def fused(X, W, b=None):
        return (lw.F.linear(X, W, b) ** 2).sum()

    def plain(X, W, b=None):
        Z = X @ W if b is None else X @ W + b
        return (Z ** 2).sum()

    value, grads = grads_of(fused, *tensors)
    ref_value, ref_grads = grads_of(plain, *tensors)
    np.testing.assert_allclose(value, ref_value, rtol=1e-13)
    for g, ref in zip(grads, ref_grads):
        assert g.shape == ref.shape
        np.testing.assert_allclose(g, ref, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("n, k, m", [(37, 19, 23), (300, 200, 100)])
@pytest.mark.parametrize("order", ["C", "F"])
def test_linear_products_are_bit_identical_to_matmul(order, n, k, m):
    """linear multiplies small matrices with np.dot (cheaper per call); the product must be
    the very same BLAS result as ``@``, forward and backward, small or large."""
    X, W, b = leaf((n, k), np.float32, order), leaf((k, m), np.float32, order), leaf((1, m))
    b = lw.Tensor(b.data.astype(np.float32), requires_grad=True)
    Z = lw.F.linear(X, W, b)
    np.testing.assert_array_equal(Z.data, X.data @ W.data + b.data)
    g = RNG.standard_normal(Z.shape).astype(np.float32)
    Z.backward(g)
    np.testing.assert_array_equal(X.grad, g @ W.data.T)
    np.testing.assert_array_equal(W.grad, X.data.T @ g)


# -------------------------------------------------------------------- Dense, no graph
ACTIVATIONS = ["relu", "sigmoid", "tanh", "softmax", "log_softmax", "leaky_relu", "none",
               lambda x: np.maximum(0, x)]


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dense_without_a_graph_equals_dense_with_one(activation, dtype):
    layer = lw.nn.Dense(4, 3, activation, rng=0, dtype=dtype)
    layer.b.data[:] = RNG.standard_normal(3)
    X = RNG.standard_normal((6, 4)).astype(dtype)
    A = layer(X)
    assert A.requires_grad
    cache = {k: v.copy() for k, v in layer.cache.items()}
    with lw.no_grad():
        A_fast = layer(X)
    assert not A_fast.requires_grad and A_fast.op is None
    np.testing.assert_array_equal(A_fast.data, A.data)
    for key in "XZA":
        np.testing.assert_array_equal(layer.cache[key], cache[key])
    assert A_fast.dtype == dtype


def test_dense_cache_keeps_z_and_a_apart_without_a_graph():
    layer = lw.nn.Dense(3, 5, rng=0)
    with lw.no_grad():
        layer(RNG.standard_normal((4, 3)))
    Z, A = layer.cache["Z"], layer.cache["A"]
    assert not np.shares_memory(Z, A)
    np.testing.assert_array_equal(A, np.maximum(Z, 0))
    assert (Z < 0).any()


def test_frozen_dense_builds_no_graph_but_a_tracked_input_does():
    layer = lw.nn.Dense(3, 2, rng=0)
    for p in layer.parameters():
        p.requires_grad = False
    X = RNG.standard_normal((4, 3))
    assert layer(X).op is None
    x = lw.Tensor(X, requires_grad=True)
    out = layer(x)
    assert out.op == "linear+relu"  # one fused node per layer (lw.F.dense)
    out.sum().backward()
    mask = layer.cache["Z"] > 0
    np.testing.assert_allclose(x.grad, (mask * 1.0) @ layer.W.data.T, rtol=1e-6)


def test_dense_casts_inputs_to_its_dtype_on_both_paths():
    layer = lw.nn.Dense(3, 2, rng=0)  # float32
    X = RNG.standard_normal((4, 3))  # float64
    with lw.no_grad():
        fast = layer(X)
    assert fast.dtype == np.float32 and layer.cache["X"].dtype == np.float32
    np.testing.assert_array_equal(fast.data, layer(X).data)


# ------------------------------------------------------------------ the whole step
def test_mlp_training_step_matches_torch():
    """Forward, fused cross-entropy, backward and SGD against PyTorch in float64."""
    torch = pytest.importorskip("torch")
    model = lw.nn.MLP([4, 8, 4, 3], output_activation="none", rng=0, dtype=np.float64)
    tmodel = lw.interop.to_torch(model)
    X = RNG.standard_normal((5, 4))
    y = RNG.integers(0, 3, 5)
    opt = lw.optim.SGD(model.parameters(), lr=0.1)
    topt = torch.optim.SGD(tmodel.parameters(), lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        loss = lw.nn.CrossEntropyLoss()(y, model(X))
        loss.backward()
        opt.step()
        topt.zero_grad()
        tloss = torch.nn.functional.cross_entropy(tmodel(torch.from_numpy(X)),
                                                  torch.from_numpy(y))
        tloss.backward()
        topt.step()
        np.testing.assert_allclose(float(loss), tloss.item(), rtol=1e-12)
    for layer, tlin in zip(model.layers, [m for m in tmodel if hasattr(m, "weight")]):
        np.testing.assert_allclose(layer.W.data, tlin.weight.detach().numpy().T, rtol=1e-11)
        np.testing.assert_allclose(layer.b.data[0], tlin.bias.detach().numpy(), rtol=1e-11)


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "sigmoid", "tanh", "softmax",
                                        "log_softmax", "none"])
@pytest.mark.parametrize("bias", [True, False])
def test_fused_dense_node_equals_linear_then_activation(activation, bias):
    """lw.F.dense (one node) gives the values and every gradient of the two separate nodes."""
    _, fn = lw.F.get_activation(activation)
    data = [RNG.standard_normal(s) for s in ((6, 4), (4, 3), (1, 3))]
    weights = RNG.standard_normal((6, 3))
    grads = []
    for fused in (True, False):
        X, W, b = (lw.Tensor(d, requires_grad=True) for d in data)
        b = b if bias else None
        if fused:
            A, Z = lw.F.dense(X, W, b, fn)
        else:
            Zt = lw.F.linear(X, W, b)
            A, Z = fn(Zt), Zt.data
        (A * weights).sum().backward()
        grads.append((A.data, Z, X.grad, W.grad, None if b is None else b.grad))
    for fused_value, plain_value in zip(*grads):
        if plain_value is None:
            assert fused_value is None
        else:
            np.testing.assert_array_equal(fused_value, plain_value)
