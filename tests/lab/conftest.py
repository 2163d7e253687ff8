"""One small lab report, built once and shared by the report, figure and browser tests."""

import pytest

import layerwise as lw

FAST = {
    "losses": {"n_points": 25},
    "huber": {"epochs": 300},
    "batching": {"n_samples": 64, "batch_sizes": (1, 8, 64), "repeats": 3},
    "init": {"n_samples": 200},
}
"""Small sizes for tests; the defaults (the chapter's) are for people."""


@pytest.fixture(scope="session")
def lab_report(tmp_path_factory):
    return lw.lab.all(tmp_path_factory.mktemp("lab") / "report", options=FAST, progress=False)
