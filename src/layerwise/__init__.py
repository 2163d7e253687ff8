"""layerwise: a NumPy neural-network library you can run, see and trust.

>>> import numpy as np, layerwise as lw
>>> net = lw.MLP([4, 8, 4, 3], rng=0)
>>> net(np.ones((2, 4))).shape
(2, 3)
"""

from . import callbacks, functional, init, nn
from .autodiff import GradcheckError, Tensor, enable_grad, gradcheck, is_grad_enabled, no_grad
from .checkpoint import load_checkpoint, save_checkpoint
from .dtypes import get_default_dtype, set_default_dtype
from .functional.activations import register_activation
from .nn import MLP
from .replay import compile
from .serialization import load, save
from .summary import summary
from .training import History, fit

F = functional

__version__ = "0.1.0"

__all__ = [
    "MLP",
    "F",
    "GradcheckError",
    "History",
    "Tensor",
    "callbacks",
    "compile",
    "datasets",
    "enable_grad",
    "fit",
    "functional",
    "get_default_dtype",
    "gradcheck",
    "init",
    "interop",
    "is_grad_enabled",
    "load",
    "load_checkpoint",
    "nn",
    "no_grad",
    "register_activation",
    "save",
    "save_checkpoint",
    "set_default_dtype",
    "summary",
]


def __getattr__(name):
    # Optional parts load on first use, so `import layerwise` needs only NumPy.
    import importlib

    if name in {"interop", "datasets", "optim", "data", "graph", "lab", "tasks", "onnx"}:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'layerwise' has no attribute {name!r}")
