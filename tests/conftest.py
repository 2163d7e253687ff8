"""Shared test set-up: a hypothesis profile, and every global that a test may change restored.

The suite runs with ``pytest -n 2``, so no test may rely on another's side effects: the default
dtype, NumPy's global random state, torch's default dtype and the grad mode are put back after
each test. ``HYPOTHESIS_PROFILE=dev`` runs many more examples than the default ``ci`` profile.
"""

import os
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import layerwise as lw
from layerwise.autodiff import tensor as _tensor

settings.register_profile(
    "ci", max_examples=25, deadline=None, derandomize=True,  # the same examples every run
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.differing_executors],
)
settings.register_profile(
    "dev", max_examples=300, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.differing_executors],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _restore_globals():
    dtype = lw.get_default_dtype()
    state = np.random.get_state()
    grad_mode = _tensor._GradMode.enabled
    torch = sys.modules.get("torch")
    torch_dtype = torch.get_default_dtype() if torch else None
    yield
    lw.set_default_dtype(dtype)
    np.random.set_state(state)
    _tensor._GradMode.enabled = grad_mode
    torch = sys.modules.get("torch")  # may have been imported by the test
    if torch:
        torch.set_default_dtype(torch_dtype or torch.float32)


@pytest.fixture
def torch64():
    """PyTorch with float64 as its default dtype (restored afterwards by ``_restore_globals``)."""
    torch = pytest.importorskip("torch")
    torch.set_default_dtype(torch.float64)
    return torch


@pytest.fixture
def float64_default():
    """layerwise's default dtype set to float64 for one test."""
    lw.set_default_dtype(np.float64)
