"""Regression tests for the defects of issue 8, one block per defect, PyTorch deciding."""

import re
import warnings

import numpy as np
import pytest
from helpers import assert_matches_torch, torch

import layerwise as lw
from layerwise.autodiff import FUSED, Tensor, fuse, ops, register_ufunc, sum_to_shape

needs_torch = pytest.mark.skipif(torch is None, reason="needs torch")


# --------------------------------------------------------- transpose with negative axes
def test_transpose_with_negative_axes_sends_the_gradient_back_to_the_right_place():
    """The issue's example: the inverse permutation was built from the raw negative axes."""
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    weights = np.array([[1.0, 10], [100, 1e3], [1e4, 1e5]])
    (x.transpose(-1, 0) * weights).sum().backward()
    np.testing.assert_array_equal(x.grad, [[1, 100, 1e4], [10, 1e3, 1e5]])


@needs_torch
@pytest.mark.parametrize("axes", [(-2, -1, 1, 0), (-1, 0, -3, 2), (3, -2, 0, -3)])
def test_np_transpose_with_negative_axes_matches_torch(axes):
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    assert_matches_torch(lambda t: np.transpose(t, axes),
                         lambda t: t.permute(*[a % 4 for a in axes]), x)


# ----------------------------------------------------- sum_to_shape hides no mismatch
@pytest.mark.parametrize("grad_shape, shape", [((3, 2), (2, 3)), ((6,), (2, 3)), ((2, 4), (2, 3)),
                                               ((4, 3), (2, 3))])
def test_sum_to_shape_refuses_a_gradient_that_was_not_broadcast_from_the_shape(grad_shape, shape):
    with pytest.raises(ValueError, match=re.escape(f"does not reduce to an operand of shape "
                                                   f"{shape}")):
        sum_to_shape(np.ones(grad_shape), shape)


def test_a_backward_rule_returning_a_wrong_shape_fails_loudly():
    @lw.autodiff.primitive("test_wrong_shape")
    def wrong(a):
        return a * 1, lambda g, needs: (g.T,)  # transposed: the right size, the wrong shape

    try:
        x = Tensor(np.ones((2, 3)), requires_grad=True)
        with pytest.raises(ValueError, match="does not reduce"):
            wrong(x).sum().backward()
    finally:
        del lw.autodiff.PRIMITIVES["test_wrong_shape"]


# ------------------------------------------------------------ power at 0, bases < 0
@needs_torch
@pytest.mark.parametrize("a, b", [
    ([0.0, 1.5, -2.0], [0.0, 0.0, 0.0]),      # x ** 0.0: gradient 0 at x = 0
    ([0.0], [0.0]),                           # x ** y at (0, 0)
    ([0.0, 0.0], [-1.0, -0.3]),               # 0 ** y for y < 0: -inf in y
    ([0.0, 0.0], [0.5, 2.0]),                 # 0 ** y for y > 0: 0 in y
    ([-2.0, -2.0, -0.5], [2.0, 3.0, -1.0]),   # negative bases: NaN in y
    ([-2.0], [0.5]),                          # a NaN value
], ids=["x**0", "0**0", "0**negative", "0**positive", "negative base", "nan value"])
def test_power_at_zero_and_negative_bases_matches_torch(a, b):
    with np.errstate(all="ignore"):  # NumPy warns about 0 ** -1 and (-2) ** 0.5: its own values
        assert_matches_torch(lambda x, y: x**y, lambda x, y: x**y, np.array(a), np.array(b))


@needs_torch
def test_power_with_a_number_exponent_zero_has_a_zero_gradient_at_zero():
    assert_matches_torch(lambda x: x**0.0, lambda x: x**0.0, np.array([0.0, 2.0]))


# ------------------------------------------------------------------------ 0-d tensors
@needs_torch
@pytest.mark.parametrize("fn, twin", [
    (lambda x: x.sum(0), lambda x: x.sum(0)),
    (lambda x: x.sum(-1, keepdims=True), lambda x: x.sum(-1, keepdim=True)),
    (lambda x: x.sum((0,)), lambda x: x.sum((0,))),
    (lambda x: x.mean(-1), lambda x: x.mean(-1)),
    (lambda x: x.mean(0), lambda x: x.mean(0)),
    (lambda x: x.max(0), lambda x: x.amax(0)),
    (lambda x: x.min(-1), lambda x: x.amin(-1)),
    (lambda x: lw.F.log_softmax(x), lambda x: torch.log_softmax(x, -1)),
    (lambda x: lw.F.log_softmax(x, axis=0), lambda x: torch.log_softmax(x, 0)),
    (lambda x: lw.F.softmax(x), lambda x: torch.softmax(x, -1)),
    (lambda x: lw.F.logsumexp(x), lambda x: torch.logsumexp(x, -1)),
], ids=["sum(0)", "sum(-1, keepdims)", "sum((0,))", "mean(-1)", "mean(0)", "max(0)", "min(-1)",
        "log_softmax", "log_softmax(axis=0)", "softmax", "logsumexp"])
def test_reductions_of_a_0d_tensor_match_torch(fn, twin):
    assert_matches_torch(fn, twin, np.array(3.0))


def test_a_0d_tensor_refuses_other_axes():
    with pytest.raises(np.exceptions.AxisError):
        Tensor(np.array(3.0)).sum(1)


# ------------------------------------------------------------------ Dense on 1-D input
@pytest.mark.parametrize("layer", [lw.nn.Linear(3, 5, rng=0, dtype=np.float64),
                                   lw.nn.Dense(3, 5, activation="softmax", rng=0,
                                               dtype=np.float64)],
                         ids=["Linear", "Dense(softmax)"])
def test_dense_maps_one_sample_to_one_output_row(layer):
    x = np.array([0.5, -1.0, 2.0])
    out = layer(x)
    assert out.shape == (5,)
    np.testing.assert_array_equal(out.data, layer(x[None])[0].data)
    assert layer.cache["A"].shape == layer.cache["Z"].shape == (1, 5)  # the last call: a batch


@needs_torch
def test_linear_on_one_sample_has_torchs_gradients():
    layer = lw.nn.Linear(3, 5, rng=0, dtype=np.float64)
    tlayer = torch.nn.Linear(3, 5, dtype=torch.float64)
    with torch.no_grad():
        tlayer.weight.copy_(torch.from_numpy(layer.W.data.T))
        tlayer.bias.copy_(torch.from_numpy(layer.b.data[0]))
    x = np.array([0.5, -1.0, 2.0])
    out = layer(x)
    tout = tlayer(torch.from_numpy(x))
    assert tuple(tout.shape) == out.shape == (5,)
    g = np.arange(5.0)
    out.backward(g)
    tout.backward(torch.from_numpy(g))
    np.testing.assert_allclose(layer.W.grad, tlayer.weight.grad.numpy().T, rtol=1e-12)
    np.testing.assert_allclose(layer.b.grad[0], tlayer.bias.grad.numpy(), rtol=1e-12)


# -------------------------------------------------- integers and bools become floating
@pytest.mark.parametrize("make", [
    lambda: lw.Tensor(1) + 0.5,
    lambda: lw.Tensor(2).exp(),
    lambda: lw.Tensor([1, 2]) / 2,
    lambda: lw.Tensor([1, 2]) + lw.Tensor([3, 4]),
    lambda: lw.Tensor([True, False]) * 2,
    lambda: np.array([1, 2]) @ lw.Tensor([3, 4]),
    lambda: lw.Tensor([1, 4]).sqrt(),
    lambda: lw.Tensor([[1, 2]]).mean(axis=0),
    lambda: lw.F.relu(np.array([-1, 2])),
    lambda: lw.F.sigmoid(np.array([True, False])),
    lambda: lw.F.softmax(np.array([[1, 2]])),
    lambda: lw.F.logsumexp(np.array([1, 2])),
    lambda: lw.F.linear(np.array([[1, 2]]), np.ones((2, 3), dtype=np.int32)),
    lambda: lw.F.dense(np.array([[1, 2]]), np.ones((2, 3), dtype=np.int32), None, lw.F.tanh)[0],
    lambda: lw.F.mse_loss(np.array([1, 2]), np.array([2, 2])),
    lambda: lw.F.cross_entropy(np.array([0, 1]), np.array([[1, 2], [3, 1]])),
], ids=["int + 0.5", "exp(int)", "int / 2", "int + int", "bool * 2", "ndarray @ int",
        "sqrt(int)", "mean(int)", "relu", "sigmoid(bool)", "softmax", "logsumexp", "linear",
        "dense", "mse_loss", "cross_entropy(int logits)"])
@pytest.mark.parametrize("default", [np.float32, np.float64])
def test_integer_and_bool_inputs_compute_in_the_default_float_dtype(make, default):
    previous = lw.get_default_dtype()
    lw.set_default_dtype(default)
    try:
        assert make().dtype == default
    finally:
        lw.set_default_dtype(previous)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_floating_inputs_keep_their_dtype_next_to_integers(dtype):
    x = lw.Tensor(np.array([1.0, 2.0], dtype=dtype), requires_grad=True)
    for out in (x + np.array([1, 2]), x * lw.Tensor([3, 4]), x**2, 2 ** x, x / 3,
                lw.F.mse_loss(np.array([1, 2]), x)):
        assert out.dtype == dtype
    out.backward()
    assert x.grad.dtype == dtype


def test_integer_operands_that_are_only_moved_keep_their_dtype():
    labels = lw.Tensor(np.arange(6).reshape(2, 3))
    assert labels.reshape(-1).dtype == labels.T.dtype == labels[0].dtype == np.int64
    # class labels stay integers inside cross_entropy
    logits = lw.Tensor(np.zeros((2, 3)), requires_grad=True)
    np.testing.assert_allclose(float(lw.F.cross_entropy(lw.Tensor([0, 2]), logits)), np.log(3))


# ------------------------------------------- NumPy functions on lists of tracked tensors
@pytest.mark.parametrize("numpy_fn, name", [
    (lambda x: np.mean([x, x + 2]), "mean"),
    (lambda x: np.sum([x, x]), "sum"),
    (lambda x: np.max([x, x * 2], axis=0), "max"),
    (lambda x: np.array([x, x]), None),
], ids=["np.mean", "np.sum", "np.max", "np.array"])
def test_numpy_functions_on_lists_of_tracked_tensors_refuse_by_name(numpy_fn, name):
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    if name is None:  # np.array([x, x]) from user code: an explicit conversion, as np.asarray
        assert isinstance(numpy_fn(x), np.ndarray)
        return
    with pytest.raises(TypeError, match=rf"np\.{name} on Tensors that require gradients"):
        numpy_fn(x)
    with lw.no_grad():
        assert not isinstance(numpy_fn(x), Tensor)


def test_np_min_on_a_tracked_tensor_is_differentiable():
    x = Tensor(np.array([[3.0, 1.0], [1.0, 2.0]]), requires_grad=True)
    out = np.min(x, axis=1)
    assert isinstance(out, Tensor) and out.op == "min"
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 1], [1, 0]])
    assert np.amin(Tensor(np.array([2.0, 1.0]), requires_grad=True)).item() == 1.0


def test_explicit_conversions_of_tracked_tensors_still_work():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    assert np.asarray(x) is x.data
    np.testing.assert_array_equal(x, [1.0, 2.0])
    np.testing.assert_allclose(x, [1.0, 2.0])


# ----------------------------------------------------------- in-place writes vs backward
def test_backward_after_an_in_place_edit_of_a_saved_input_names_the_tensor():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True, name="x")
    y = (x * x).sum()
    x.data += 1
    with pytest.raises(RuntimeError, match=r"tensor 'x' of shape \(2,\).*input 0 of op "
                                           r"'multiply'.*modified in place"):
        y.backward()


def test_backward_after_an_in_place_edit_of_a_saved_output_raises():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = x.exp()  # exp's backward uses its own output
    h.data *= 0
    with pytest.raises(RuntimeError, match="the output of op 'exp', was modified in place"):
        h.backward(np.ones(2))
    h2 = x.exp()
    y = (h2 * 2).sum()  # a later node saved it too, and says so first
    h2.data *= 0
    with pytest.raises(RuntimeError, match="input 0 of op 'multiply', was modified in place"):
        y.backward()


def test_in_place_edits_before_the_forward_pass_or_after_backward_are_fine():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    x.data += 1  # before the graph exists
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [4.0, 6.0])
    x.data -= 0.5  # after backward: the graph is gone
    x.grad = None
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 5.0])


def test_replacing_data_keeps_the_saved_values():
    """``t.data = new`` leaves the old array, which the graph saved, as it was."""
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = (x * x).sum()
    x.data = np.array([10.0, 20.0])
    y.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])


@pytest.mark.parametrize("optimizer", [lambda p: lw.optim.SGD(p, lr=0.1, momentum=0.9),
                                       lambda p: lw.optim.Adam(p, lr=0.1)],
                         ids=["SGD", "Adam"])
def test_optimiser_updates_between_steps_do_not_trip_the_version_check(optimizer):
    model = lw.nn.MLP([3, 4, 2], rng=0, dtype=np.float64)
    opt = optimizer(model.parameters())
    X, y = np.ones((5, 3)), np.array([0, 1, 0, 1, 1])
    for _ in range(3):
        opt.zero_grad()
        lw.F.cross_entropy(y, model(X)).backward()
        opt.step()
        for p in model.parameters():
            p.data *= 1.0  # a user's own in-place update after the step, written back


def test_retained_graph_sees_a_later_edit():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    x.data += 1
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()


# -------------------------------------------------------------- softmax at finfo.max
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("fn", [lw.F.softmax, lambda x: lw.Tensor(x).softmax()],
                         ids=["F.softmax", "Tensor.softmax"])
def test_softmax_of_the_largest_finite_values_gives_no_warning(fn, dtype):
    big = np.finfo(dtype).max
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = fn(np.array([[big, -big], [-big, big], [big, big]], dtype=dtype))
    np.testing.assert_array_equal(out.data, [[1, 0], [0, 1], [0.5, 0.5]])
    assert out.dtype == dtype


# ---------------------------------------------------------------- summary is a string
def test_summary_is_a_string_with_its_figures(tmp_path):
    s = lw.summary(lw.MLP([4, 8, 3], rng=0), (None, 4))
    assert isinstance(s, str) and "Total params: 67" in s
    assert re.search(r"layers\.1 \(Dense\)\s+\(None, 3\)\s+27", s)
    assert s.total_params == 67 and s.rows[1].params == 27 and s.trainable_params == 67
    path = tmp_path / "summary.txt"
    path.write_text(s)
    assert path.read_text() == str(s) == s
    assert repr(s) == str(s)


# ------------------------------------------------------------ fused ops are declared
def test_a_fused_op_is_declared_once_with_its_parts():
    op = fuse(lw.F.linear, lw.F.relu)
    assert op is fuse(lw.F.linear, lw.F.relu) and FUSED["linear+relu"] is op
    assert op.parts == (lw.F.linear, lw.F.relu) and op.op_name == "linear+relu"
    with pytest.raises(ValueError, match="at least two"):
        fuse(lw.F.relu)


def test_a_users_fused_chain_computes_its_parts_and_graph_draws_them():
    op = fuse(ops.exp, lw.F.tanh, lw.F.sigmoid)
    x = np.array([[0.3, -1.2], [2.0, 0.1]])
    a, b = Tensor(x, requires_grad=True), Tensor(x, requires_grad=True)
    steps = []
    out = op(a, intermediates=steps)
    ref = lw.F.sigmoid(lw.F.tanh(b.exp()))
    np.testing.assert_array_equal(out.data, ref.data)
    np.testing.assert_array_equal(steps[0], np.exp(x))
    np.testing.assert_array_equal(steps[1], np.tanh(np.exp(x)))
    g = np.random.default_rng(0).standard_normal(x.shape)
    out.backward(g)
    ref.backward(g)
    np.testing.assert_array_equal(a.grad, b.grad)
    assert lw.graph.trace(op, x).ops == ["exp", "tanh", "sigmoid"]


# ------------------------------------------------------------------ NumPy's ufuncs
def test_register_ufunc_routes_a_ufunc_to_a_primitive():
    x = Tensor(np.array([0.5, 2.0]), requires_grad=True)
    assert np.tanh(x).op == "tanh"  # registered by lw.functional
    with pytest.raises(TypeError, match="expected a NumPy ufunc"):
        register_ufunc(np.sum, ops.reduce_sum)
    with pytest.raises(TypeError, match="is not a primitive"):
        register_ufunc(np.sin, np.sin)


def test_the_renamed_ops_keep_their_graph_names_and_old_spellings():
    x = Tensor(np.array([-1.0, 2.0]), requires_grad=True)
    assert ops.reduce_sum(x).op == "sum" and ops.reduce_max(x).op == "max"
    assert ops.absolute(x).op == "abs" and ops.reduce_min(x).op == "min"
    with pytest.warns(DeprecationWarning, match="ops.reduce_sum"):
        assert ops.sum is ops.reduce_sum
    with pytest.warns(DeprecationWarning, match="ops.absolute"):
        assert ops.abs is ops.absolute


@pytest.mark.parametrize("op", [lambda x: x, lambda x: x * 2, lambda x: lw.F.relu(x) + x])
def test_backward_with_a_gradient_neither_copies_it_needlessly_nor_changes_it(op):
    x = lw.Tensor(np.array([[-1.0, 2.0]]), requires_grad=True)
    upstream = np.array([[3.0, 4.0]])
    op(x).backward(upstream)
    np.testing.assert_array_equal(upstream, [[3.0, 4.0]])
    assert x.grad is not upstream and not np.shares_memory(x.grad, upstream)
    x.grad += 1  # the leaf owns a writable gradient


def test_the_seed_gradient_is_never_a_leafs_grad():
    for x in (lw.Tensor(2.0, requires_grad=True), lw.Tensor([2.0], requires_grad=True)):
        (x + 1).sum().backward() if x.ndim else (x + 1).backward()
        x.grad += 1  # writable and its own
        y = lw.Tensor(np.ones_like(x.data), requires_grad=True)
        (y + 1).sum().backward()
        np.testing.assert_array_equal(y.grad, np.ones_like(x.data))
