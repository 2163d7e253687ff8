"""Every row of the op catalogue (tests/catalogue.py), checked five ways, all drawn by hypothesis.

1. PyTorch parity in float64: values and every input gradient within 1e-10, back-propagated
   from a random upstream gradient, on shapes and parameters drawn per row, with edge values
   (0, +-1, large, tiny) mixed into half the draws;
2. ``lw.gradcheck`` (finite differences) on the same kind of draws, away from kinks;
3. the adjoint test <u, J v> = <J^T u, v>, one scalar comparison per whole Jacobian;
4. float32 in, float32 out: the value and every gradient, Python numbers as constants;
5. integer and bool inputs compute in the default float dtype (ops that only move data keep
   the dtype), with the values of the same numbers in float64.
"""

import numpy as np
import pytest
from catalogue import CATALOGUE, NAMES
from helpers import (
    assert_adjoint,
    assert_gradcheck,
    assert_matches_torch,
    graph_ops,
    lw_inputs,
    upstream,
)
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import layerwise as lw
from layerwise.autodiff import PRIMITIVES, Tensor

# 5 checks x ~130 rows: a share of the profile's examples each keeps the suite quick on two
# cores; HYPOTHESIS_PROFILE=dev searches ten times as many
FEW = settings(max_examples=max(4, settings.default.max_examples // 4))
SOME = settings(max_examples=max(8, settings.default.max_examples // 2))


def cases(keep=lambda case: True):
    chosen = [c for c in CATALOGUE if keep(c)]
    return pytest.mark.parametrize("case", chosen, ids=[c.name for c in chosen])


@cases()
@SOME
@given(data=st.data())
def test_matches_torch_float64(case, data):
    pytest.importorskip("torch")
    edges = data.draw(st.booleans(), label="edge values")
    inputs, kwargs = case.draw(data, edges=edges)
    seed = data.draw(st.integers(0, 2**16), label="upstream gradient seed")
    lw_fn, torch_fn = case.bind(kwargs)
    with np.errstate(all="ignore"):  # inf and NaN at edge values: NumPy warns, torch does not
        assert_matches_torch(lw_fn, torch_fn, *inputs, grads=case.grads, seed=seed)


@cases(lambda c: c.smooth)
@FEW
@given(data=st.data())
def test_gradcheck(case, data):
    inputs, kwargs = case.draw(data)
    assert_gradcheck(case.bind(kwargs)[0], *inputs, grads=case.grads)


@cases(lambda c: c.smooth)
@FEW
@given(data=st.data())
def test_adjoint(case, data):
    inputs, kwargs = case.draw(data)
    seed = data.draw(st.integers(0, 2**16), label="directions seed")
    assert_adjoint(case.bind(kwargs)[0], *inputs, grads=case.grads, seed=seed)


def _as_float64(inputs):
    return [x.astype(np.float64) if x.dtype.kind == "f" else x for x in inputs]


def _close(out, ref, rtol):
    """float32 against float64: relative, with an absolute floor scaled to the output."""
    scale = 1 + (float(np.nanmax(np.abs(ref[np.isfinite(ref)]))) if np.isfinite(ref).any() else 0)
    np.testing.assert_allclose(out, ref, rtol=rtol, atol=rtol * scale)


@cases()
@FEW
@given(data=st.data())
def test_float32_stays_float32(case, data):
    inputs, kwargs = case.draw(data, dtype=np.float32)
    lw_fn = case.bind(kwargs)[0]
    tensors = lw_inputs(inputs, case.grads)
    out = lw_fn(*tensors)
    assert out.dtype == np.float32, f"{case.name}: output is {out.dtype}"
    assert type(out.data) is np.ndarray, f"{case.name}: .data is a {type(out.data).__name__}"
    out.backward(upstream(out.shape))
    for i, (t, need) in enumerate(zip(tensors, case.grads)):
        if need:
            assert t.grad.dtype == np.float32, f"{case.name}: gradient {i} is {t.grad.dtype}"
    # and float32 is float64 rounded, not something else
    out64 = lw_fn(*lw_inputs(_as_float64(inputs), case.grads))
    _close(out.data, out64.data, 1e-4)


@cases(lambda c: c.takes_integers)
@FEW
@given(data=st.data())
def test_integer_and_bool_inputs(case, data):
    inputs, kwargs = case.draw_integers(data)
    assume(inputs is not None)
    lw_fn = case.bind(kwargs)[0]

    def call(values):
        return lw_fn(*[Tensor(x) if g else x for x, g in zip(values, case.grads)])

    with np.errstate(all="ignore"):
        out = call(inputs)
        ref = call([x.astype(np.float64) if g else x for x, g in zip(inputs, case.grads)])
    if case.integers == "keep":  # data only moved: the dtype stays
        assert out.dtype == np.result_type(*[x for x, g in zip(inputs, case.grads) if g])
        np.testing.assert_array_equal(out.data, ref.data)
    else:
        assert out.dtype == lw.get_default_dtype(), f"{case.name}: output is {out.dtype}"
        _close(out.data, ref.data, 1e-5)


def test_every_primitive_has_a_row():
    """A primitive of the core (autodiff ops, functional) that no row exercises fails here:
    add a row to tests/catalogue.py."""
    covered = set()
    for case in CATALOGUE:
        out = case.lw(*lw_inputs(case.example(), case.grads), **case.example_params)
        covered |= graph_ops(out)
    core = {name for name, fn in PRIMITIVES.items()
            if fn.__module__.startswith(("layerwise.autodiff", "layerwise.functional"))}
    assert core - covered == set(), f"primitives without a catalogue row: {core - covered}"


def test_every_row_name_is_unique():
    assert len(set(NAMES)) == len(NAMES)
