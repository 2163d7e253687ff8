"""`import layerwise` needs NumPy alone; the scikit-learn and Dask parts name their extra."""

import subprocess
import sys

BLOCKED = ["sklearn", "scipy", "dask", "distributed", "pandas", "pyarrow", "torch",
           "matplotlib", "safetensors", "rich", "joblib"]

SCRIPT = f"""
import sys
for name in {BLOCKED!r}:
    sys.modules[name] = None  # any import of it now raises ImportError
import numpy as np
import layerwise as lw
import layerwise.predicting
net = lw.MLP([3, 4, 2], rng=0)
assert layerwise.predicting.predict_array(net, np.ones((5, 3))).shape == (5, 2)
for module, extra in [("layerwise.sklearn", "sklearn"), ("layerwise.dask", "dask")]:
    try:
        __import__(module)
    except ImportError as err:
        assert f"pip install 'layerwise[{{extra}}]'" in str(err), err
    else:
        raise AssertionError(module + " imported without its extra")
loaded = sorted(m.split(".")[0] for m in sys.modules if sys.modules[m] is not None)
assert not set(loaded) & set({BLOCKED!r}), loaded
print("ok")
"""


def test_layerwise_imports_with_numpy_alone():
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
