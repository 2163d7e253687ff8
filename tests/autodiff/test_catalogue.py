"""Every row of the op catalogue (tests/catalogue.py), checked four ways.

1. PyTorch parity in float64: values and every input gradient within 1e-10;
2. ``lw.gradcheck`` (finite differences) on random shapes, broadcasting pairs included;
3. the adjoint test <u, J v> = <J^T u, v> on the same random shapes;
4. float32 in, float32 out: the value, and every gradient, with Python numbers as constants.
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
from hypothesis import given
from hypothesis import strategies as st

from layerwise.autodiff import PRIMITIVES

each_case = pytest.mark.parametrize("case", CATALOGUE, ids=NAMES)
smooth_case = pytest.mark.parametrize("case", [c for c in CATALOGUE if c.smooth],
                                      ids=[c.name for c in CATALOGUE if c.smooth])


@each_case
@given(data=st.data())
def test_matches_torch_float64(case, data):
    pytest.importorskip("torch")
    assert_matches_torch(case.lw, case.torch, *case.draw(data), grads=case.grads)


@smooth_case
@given(data=st.data())
def test_gradcheck(case, data):
    assert_gradcheck(case.lw, *case.draw(data), grads=case.grads)


@smooth_case
@given(data=st.data())
def test_adjoint(case, data):
    assert_adjoint(case.lw, *case.draw(data), grads=case.grads)


@each_case
def test_float32_stays_float32(case):
    tensors = lw_inputs(case.example(np.float32), case.grads)
    out = case.lw(*tensors)
    assert out.dtype == np.float32, f"{case.name}: output is {out.dtype}"
    assert type(out.data) is np.ndarray, f"{case.name}: .data is a {type(out.data).__name__}"
    out.backward(upstream(out.shape))
    for i, (t, need) in enumerate(zip(tensors, case.grads)):
        if need:
            assert t.grad.dtype == np.float32, f"{case.name}: gradient {i} is {t.grad.dtype}"
    # and float32 is float64 rounded, not something else
    out64 = case.lw(*lw_inputs(case.example(np.float64), case.grads))
    np.testing.assert_allclose(out.data, out64.data, rtol=1e-4, atol=1e-5)


def test_every_primitive_has_a_row():
    """A primitive of the core (autodiff ops, functional) that no row exercises fails here:
    add a row to tests/catalogue.py."""
    covered = set()
    for case in CATALOGUE:
        out = case.lw(*lw_inputs(case.example(), case.grads))
        covered |= graph_ops(out)
    core = {name for name, fn in PRIMITIVES.items()
            if fn.__module__.startswith(("layerwise.autodiff", "layerwise.functional"))}
    assert core - covered == set(), f"primitives without a catalogue row: {core - covered}"
