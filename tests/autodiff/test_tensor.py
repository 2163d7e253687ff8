"""The Tensor and its graph: accumulation, broadcasting, no_grad, backward's rules, NumPy interop."""

import gc
import weakref

import numpy as np
import pytest
from helpers import torch
from hypothesis import given
from hypothesis.extra import numpy as hnp

import layerwise as lw
from layerwise.autodiff import PRIMITIVES, GradcheckError, primitive, sum_to_shape
from layerwise.autodiff.tensor import Tensor


def leaf(*values, dtype=np.float64):
    return Tensor(np.array(values, dtype=dtype), requires_grad=True)


# ------------------------------------------------------------------------- accumulation
def test_tensor_used_twice_accumulates_both_contributions():
    x = leaf(1.0, -2.0, 3.0)
    y = (x * x + 3 * x).sum()  # x appears three times: d/dx = 2x + 3
    y.backward()
    np.testing.assert_array_equal(x.grad, 2 * x.data + 3)


def test_same_tensor_as_both_operands():
    x = leaf(1.5, -2.0)
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, 2 * x.data)


def test_diamond_graph_accumulates_through_both_paths():
    x = leaf(0.5, 2.0)
    h = x.exp()
    y = (h * 2 + h.log()).sum()  # d/dx = 2 exp(x) + 1
    y.backward()
    np.testing.assert_allclose(x.grad, 2 * np.exp(x.data) + 1, rtol=1e-15)


def test_second_backward_pass_adds_to_grad():
    x = leaf(1.0, 2.0)
    (x * 3).sum().backward()
    (x * 4).sum().backward()
    np.testing.assert_array_equal(x.grad, [7.0, 7.0])
    x.zero_grad()
    assert x.grad is None


def test_grads_of_two_leaves_are_not_aliased():
    # add's backward hands the same array to both operands; the leaves must not share it
    a, b = leaf(1.0, 2.0), leaf(3.0, 4.0)
    (a + b).sum().backward()
    a.grad += 100
    np.testing.assert_array_equal(b.grad, [1.0, 1.0])


@pytest.mark.parametrize("expr", [
    lambda x: x.sum(), lambda x: x.mean(), lambda x: (x + 1.0).sum(),
    lambda x: x.reshape(-1).sum(), lambda x: x.T.sum(), lambda x: (x * 2.0).max(),
], ids=["sum", "mean", "add", "reshape", "T", "max"])
def test_grad_is_a_writable_array_of_its_own(expr):
    # optimisers update .grad in place; a read-only broadcast view there would break them
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    expr(x).backward()
    assert x.grad.flags.writeable
    x.grad += 1.0


# ------------------------------------------------------------------------- broadcasting
def test_broadcast_gradients_are_reduced_to_each_operand_shape():
    a = Tensor(np.ones((3, 1)), requires_grad=True)
    b = Tensor(np.ones(4), requires_grad=True)
    c = Tensor(np.ones((2, 1, 1)), requires_grad=True)
    (a * b + c).sum().backward()
    assert a.grad.shape == (3, 1) and b.grad.shape == (4,) and c.grad.shape == (2, 1, 1)
    np.testing.assert_array_equal(a.grad, np.full((3, 1), 8.0))  # 2 * 4 terms each
    np.testing.assert_array_equal(b.grad, np.full(4, 6.0))
    np.testing.assert_array_equal(c.grad, np.full((2, 1, 1), 12.0))


@given(hnp.mutually_broadcastable_shapes(num_shapes=1, min_dims=0, max_dims=4, max_side=4))
def test_sum_to_shape_equals_torch_sum_to_size(shapes):
    if torch is None:
        pytest.skip("torch not installed")
    (small,), big = shapes.input_shapes, shapes.result_shape
    g = np.random.default_rng(0).standard_normal(big)
    got = sum_to_shape(g, small)
    want = torch.from_numpy(g).sum_to_size(small).numpy() if small else g.sum()
    assert got.shape == small
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------- no_grad
def test_no_grad_builds_no_graph_and_keeps_no_references():
    x = leaf(1.0, 2.0)
    with lw.no_grad():
        h = x * 3
        y = h.exp()
    assert not y.requires_grad and y.op is None and y.parents == ()
    ref = weakref.ref(h)
    del h
    gc.collect()
    assert ref() is None, "the result of an op under no_grad keeps its inputs alive"


def test_a_graph_keeps_its_intermediates_until_backward_frees_them():
    # the control for the test above: outside no_grad the graph does hold the intermediate
    x = leaf(1.0, 2.0)
    h = x * 3
    y = h.exp().sum()
    ref = weakref.ref(h)
    del h
    gc.collect()
    assert ref() is not None
    y.backward()
    gc.collect()
    assert ref() is None, "backward() without retain_graph should free the graph"


def test_no_grad_as_decorator_and_enable_grad_inside():
    x = leaf(1.0)

    @lw.no_grad()
    def f(t):
        with lw.enable_grad():
            inner = t * 2
        return inner, t * 2

    inner, outer = f(x)
    assert inner.requires_grad and not outer.requires_grad
    assert lw.is_grad_enabled()


def test_no_grad_restores_mode_after_an_exception():
    with pytest.raises(ZeroDivisionError), lw.no_grad():
        _ = 1 / 0
    assert lw.is_grad_enabled()


# --------------------------------------------------------------------------- backward
def test_backward_on_non_scalar_needs_grad():
    y = leaf(1.0, 2.0) * 2
    with pytest.raises(RuntimeError, match=r"non-scalar.*\(2,\)"):
        y.backward()


def test_backward_with_explicit_grad_on_non_scalar():
    x = leaf(1.0, 2.0)
    (x * 2).backward(np.array([1.0, 10.0]))
    np.testing.assert_array_equal(x.grad, [2.0, 20.0])


def test_backward_grad_of_wrong_shape():
    y = leaf(1.0, 2.0) * 2
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        y.backward(np.ones(3))


def test_backward_on_a_tensor_without_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        (Tensor([1.0, 2.0]) * 2).sum().backward()


def test_second_backward_through_a_freed_graph_raises():
    x = leaf(1.0, 2.0)
    y = (x.exp() * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = leaf(1.0, 2.0)
    y = (x.exp() * 2).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad, 4 * np.exp(x.data), rtol=1e-15)


def test_deep_graph_needs_no_recursion():
    x = leaf(1.0)
    y = x
    for _ in range(5000):
        y = y * 1.0 + 0.0
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0])


def test_leaf_backward_sets_its_own_grad():
    x = leaf(3.0)
    x.backward()
    np.testing.assert_array_equal(x.grad, [1.0])


def test_constants_get_no_gradient():
    x = leaf(1.0, 2.0)
    c = Tensor([3.0, 4.0], dtype=np.float64)
    (x * c).sum().backward()
    assert c.grad is None
    np.testing.assert_array_equal(x.grad, [3.0, 4.0])


def test_detach_cuts_the_graph():
    x = leaf(1.0, 2.0)
    y = (x * 2).detach()
    assert not y.requires_grad and y.op is None
    np.testing.assert_array_equal(y.data, [2.0, 4.0])


# ------------------------------------------------------------------------ NumPy interop
@pytest.mark.parametrize("expr, op", [
    (lambda m, t: m @ t, "matmul"),
    (lambda m, t: m + t, "add"),
    (lambda m, t: m - t, "subtract"),
    (lambda m, t: m * t, "multiply"),
    (lambda m, t: m / t, "divide"),
    (lambda m, t: m ** t, "power"),
])
def test_ndarray_on_the_left_gives_a_tensor(expr, op):
    m = np.full((2, 2), 2.0)
    t = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    out = expr(m, t)
    assert isinstance(out, Tensor) and out.op == op
    out.sum().backward()
    assert t.grad is not None and t.grad.shape == (2, 2)


def test_np_maximum_with_zero_is_differentiable():
    t = leaf(-1.0, 0.5, 2.0)
    out = np.maximum(0, t)
    assert isinstance(out, Tensor) and out.op == "maximum"
    out.sum().backward()
    np.testing.assert_array_equal(out.data, [0.0, 0.5, 2.0])
    np.testing.assert_array_equal(t.grad, [0.0, 1.0, 1.0])


@pytest.mark.parametrize("ufunc", [np.sin, np.cos, np.log1p])
def test_unsupported_ufunc_on_a_tracked_tensor_names_it(ufunc):
    t = leaf(0.5, 2.0)
    with pytest.raises(TypeError, match=f"np.{ufunc.__name__}"):
        ufunc(t)


def test_unsupported_ufunc_on_untracked_data_just_computes():
    out = np.sin(Tensor([0.5, 2.0], dtype=np.float64))
    np.testing.assert_array_equal(out, np.sin([0.5, 2.0]))
    with lw.no_grad():
        np.testing.assert_array_equal(np.sqrt(leaf(4.0)), [2.0])


def test_scalar_results_convert_with_np_asarray():
    x = leaf(1.0, 2.0, 4.0)
    for y in (x.sum(), x.mean(), x.max(), x[0], x @ x, lw.F.mse_loss(np.zeros(3), x)):
        assert type(y.data) is np.ndarray and y.shape == ()
        assert np.asarray(y).shape == () and np.asarray(y) == y.item()


def chapter_softmax(x):  # the chapter's listing, verbatim
    exp_x = np.exp(x - np.max(x, axis=1, keepdims=True))
    return exp_x / np.sum(exp_x, axis=1, keepdims=True)


def chapter_sigmoid(z):
    return 1 / (1 + np.exp(-z))


@pytest.mark.parametrize("chapter_fn, fn", [
    (chapter_softmax, lw.F.softmax),
    (chapter_sigmoid, lw.F.sigmoid),
    (lambda x: np.maximum(0, x), lw.F.relu),
    (lambda x: np.mean((x - 1.0) ** 2), lambda x: lw.F.mse_loss(np.ones(x.shape), x)),
])
def test_the_chapters_numpy_functions_are_differentiable_on_tensors(chapter_fn, fn):
    x = np.random.default_rng(0).standard_normal((3, 4))
    a, b = Tensor(x, requires_grad=True), Tensor(x, requires_grad=True)
    out_a, out_b = chapter_fn(a), fn(b)
    assert isinstance(out_a, Tensor)
    np.testing.assert_allclose(out_a.data, out_b.data, rtol=1e-12, atol=1e-15)
    g = np.random.default_rng(1).standard_normal(out_b.shape)
    out_a.backward(g)
    out_b.backward(g)
    np.testing.assert_allclose(a.grad, b.grad, rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("numpy_fn, method", [
    (lambda w: np.dot(np.ones((2, 3)), w), lambda w: np.ones((2, 3)) @ w),
    (lambda w: np.dot(w.T, np.arange(3.0)), lambda w: w.T @ np.arange(3.0)),
    (lambda w: np.transpose(w), lambda w: w.T),
    (lambda w: np.reshape(w, -1), lambda w: w.reshape(-1)),
    (lambda w: np.clip(w, 0.4, 1), lambda w: w.clip(0.4, 1)),
    (lambda w: np.sum(w, axis=0, keepdims=True), lambda w: w.sum(axis=0, keepdims=True)),
    (lambda w: np.mean(w, axis=1), lambda w: w.mean(axis=1)),
    (lambda w: np.max(w, axis=1, keepdims=True), lambda w: w.max(axis=1, keepdims=True)),
    (lambda w: np.tanh(w), lambda w: lw.F.tanh(w)),
], ids=["np.dot", "np.dot-vector", "np.transpose", "np.reshape", "np.clip", "np.sum", "np.mean",
        "np.max", "np.tanh"])
def test_numpy_functions_on_a_tracked_tensor_keep_the_graph(numpy_fn, method):
    values = np.array([[0.5, -1.0], [2.0, 0.3], [0.7, 0.9]])
    w1, w2 = Tensor(values, requires_grad=True), Tensor(values, requires_grad=True)
    out1, out2 = numpy_fn(w1), method(w2)
    assert isinstance(out1, Tensor), "the gradient was silently dropped"
    np.testing.assert_array_equal(out1.data, out2.data)
    weights = np.random.default_rng(0).standard_normal(out1.shape)
    (out1 * weights).sum().backward()
    (out2 * weights).sum().backward()
    np.testing.assert_array_equal(w1.grad, w2.grad)


@pytest.mark.parametrize("numpy_fn", [
    lambda w: np.concatenate([w, w]),
    lambda w: np.std(w),
    lambda w: np.einsum("ij->j", w),
], ids=["np.concatenate", "np.std", "np.einsum"])
def test_numpy_functions_without_a_rule_refuse_a_tracked_tensor(numpy_fn):
    w = Tensor(np.full((3, 2), 0.5), requires_grad=True)
    with pytest.raises(TypeError, match=r"np\.\w+ is not differentiable"):
        numpy_fn(w)
    with lw.no_grad():
        assert not isinstance(numpy_fn(w), Tensor)  # no graph wanted: a plain result


def test_index_functions_on_a_tracked_tensor_give_plain_arrays():
    w = Tensor(np.array([[0.1, 0.9], [0.8, 0.2]]), requires_grad=True)
    np.testing.assert_array_equal(np.argmax(w, axis=1), [1, 0])  # the chapter's argmax
    assert np.allclose(w, w.data)


def test_comparisons_give_plain_boolean_arrays():
    t = leaf(1.0, 2.0, 3.0)
    for result in (t > 2, t >= 2, t < 2, t <= 2, t == 2, t != 2):
        assert type(result) is np.ndarray and result.dtype == bool
    np.testing.assert_array_equal(t > 1.5, [False, True, True])


def test_np_asarray_and_numpy_share_the_data():
    t = Tensor(np.arange(3.0))
    assert np.asarray(t) is t.data and t.numpy() is t.data
    assert np.asarray(t, dtype=np.float32).dtype == np.float32


# ------------------------------------------------------------------------ construction
def test_python_floats_take_the_default_dtype():
    assert Tensor([1.0, 2.0]).dtype == np.float32
    assert lw.F.relu([1.0, -2.0]).dtype == np.float32
    lw.set_default_dtype(np.float64)
    assert Tensor([1.0, 2.0]).dtype == np.float64


def test_ndarrays_keep_their_dtype():
    assert Tensor(np.ones(2, dtype=np.float64)).dtype == np.float64
    assert Tensor(np.ones(2, dtype=np.int64)).dtype == np.int64


def test_python_scalars_take_the_tensors_dtype():
    x = Tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    for y in (x + 1, 2.5 * x, x / 3.0, x ** 2, 2.0 ** x, 1 - x):
        assert y.dtype == np.float32


def test_only_floating_tensors_can_require_grad():
    with pytest.raises(TypeError, match="floating"):
        Tensor(np.arange(3), requires_grad=True)


def test_array_like_basics():
    t = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert t.shape == (2, 3) and t.ndim == 2 and t.size == 6 and len(t) == 2
    assert t.T.shape == (3, 2) and t.is_leaf and not (t * 1).is_leaf
    assert Tensor([[2.5]]).item() == 2.5 and float(Tensor(2.5)) == 2.5
    assert f"{Tensor([0.123456]).sum():.3f}" == "0.123"


def test_repr_shows_dtype_op_and_requires_grad():
    assert repr(Tensor([1.0, 2.0])) == "Tensor([1., 2.])"
    assert repr(Tensor(np.array([1.0]), requires_grad=True)) == (
        "Tensor([1.], dtype=float64, requires_grad=True)")
    assert repr(Tensor([1.0], requires_grad=True) * 2) == "Tensor([2.], op=multiply)"


# -------------------------------------------------------------------------- gradcheck
def test_gradcheck_passes_a_correct_function():
    assert lw.gradcheck(lambda a, b: (a * b).exp(), np.array([0.1, 0.2]), np.array([[1.0]]))


@pytest.fixture
def wrong_square():
    """A primitive with a deliberately wrong backward (registered for this test only)."""
    @primitive("test_wrong_square")
    def wrong(x):
        return x * x, lambda g, needs: (g * x,)  # should be 2 x

    yield wrong
    del PRIMITIVES["test_wrong_square"]


def test_gradcheck_names_the_input_and_the_worst_element(wrong_square):
    a = np.array([1.0, 2.0])
    b = np.array([[0.5, -1.0], [3.0, 0.25]])
    with pytest.raises(GradcheckError, match=r"input 1 \(shape \(2, 2\)\) at element \(1, 0\)"):
        lw.gradcheck(lambda a, b: a + wrong_square(b), a, b)


def test_gradcheck_leaves_integer_inputs_constant():
    logits = np.array([[0.5, -1.0, 2.0]])
    assert lw.gradcheck(lambda y, x: lw.F.cross_entropy(y, x), np.array([2]), logits)
