"""The fuzzers of fuzz_targets.py, each in a child process under a memory limit
(``resource.setrlimit(RLIMIT_AS)``): a file that makes layerwise allocate gigabytes fails with
MemoryError there, which is not an allowed exception, instead of swapping the machine.
HYPOTHESIS_PROFILE=dev runs ten times the examples."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import layerwise as lw

resource = pytest.importorskip("resource")  # POSIX only

HERE = Path(__file__).resolve().parent
SRC = str(Path(lw.__file__).resolve().parents[1])
MEMORY_LIMIT = 768 * 2**20  # address space: Python, NumPy and safetensors need ~150 MiB
EXAMPLES = 200 * (10 if os.environ.get("HYPOTHESIS_PROFILE") == "dev" else 1)


def _limit_memory():
    try:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    except (ValueError, OSError):  # macOS does not enforce RLIMIT_AS: fuzz without it
        pass


def fuzz(target: str, examples: int = EXAMPLES):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([SRC, str(HERE)]),
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, str(HERE / "fuzz_targets.py"), target, str(examples)],
                          preexec_fn=_limit_memory, env=env, capture_output=True, text=True,
                          timeout=600, check=False)
    assert done.returncode == 0, f"{target} found a failure:\n{done.stderr[-6000:]}"


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS is enforced on Linux")
def test_the_memory_limit_catches_an_over_allocation():
    """The harness itself: a 3 GiB allocation in the child is a MemoryError, so it fails."""
    code = "import numpy as np; np.ones(400_000_000)"
    done = subprocess.run([sys.executable, "-c", code], preexec_fn=_limit_memory,
                          capture_output=True, text=True, check=False, timeout=120,
                          env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    assert done.returncode != 0 and "MemoryError" in done.stderr


def test_load_survives_mutated_files():
    fuzz("load_mutated")


def test_load_survives_generated_files():
    fuzz("load_generated")


def test_load_refuses_absurd_architecture_claims_without_allocating():
    fuzz("load_absurd", examples=30)


def test_load_csv_survives_odd_files():
    fuzz("csv_fuzz")


def test_lab_arguments_give_one_line_and_a_promised_exit_status():
    fuzz("lab_fuzz", examples=EXAMPLES // 2)
