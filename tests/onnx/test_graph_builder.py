"""GraphBuilder's compositions, checked in ONNX Runtime against the standard library."""

from __future__ import annotations

import math

import numpy as np
import pytest
from onnx_helpers import onnx, session

from layerwise.onnx.graph import GraphBuilder


@pytest.mark.parametrize("dtype, tol", [(np.float64, 2e-15), (np.float32, 2e-7)])
def test_erf_in_both_dtypes(dtype, tol, tmp_path):
    """float64 has no Erf kernel in ONNX Runtime: the composition stays within 2e-15."""
    graph = GraphBuilder(dtype, 17)
    model = graph.to_model(["batch", 1], ["batch", 1], graph.erf("input"), "erf", {})
    onnx.checker.check_model(model, full_check=True)
    assert ("Erf" in [n.op_type for n in model.graph.node]) == (dtype is np.float32)
    path = tmp_path / "erf.onnx"
    path.write_bytes(model.SerializeToString())
    x = np.concatenate([np.linspace(-7, 7, 20001), [0.0, 1.0, -1.0, 1 - 1e-12, 1 + 1e-12, 6.0,
                                                    1e-30, -50.0, 1e30, -1e30]])
    x = x.astype(dtype)[:, None]
    got = session(path).run(None, {"input": x})[0]
    want = np.vectorize(math.erf)(x.astype(np.float64))
    assert got.dtype == dtype
    np.testing.assert_allclose(got, want, rtol=0, atol=tol)
