"""Activation functions, each declared once in ``ACTIVATIONS`` with its counterparts.

Sigmoid, softmax and log-softmax are primitives rather than compositions of exp/log on
purpose: the composed forms overflow for large |x| (exp(1000) = inf), the stable forms do
not, and their backward rules reuse the forward's output.

Each function is declared with :func:`activation`: its name (what ``Dense(activation=...)``,
model files and ``--activation`` use), the ``lw.nn`` module class made for it, its PyTorch and
ONNX counterparts and its keyword parameters (read from the signature). Users declare their
own with :func:`register_activation`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping

import numpy as np

from ..autodiff.ops import _UFUNCS
from ..autodiff.tensor import Tensor, primitive
from ..registry import Declaration, Registry

__all__ = [
    "ACTIVATIONS",
    "activation",
    "get_activation",
    "identity",
    "leaky_relu",
    "log_softmax",
    "register_activation",
    "relu",
    "sigmoid",
    "softmax",
    "tanh",
]

ACTIVATIONS: Registry = Registry("activation")
"""Every activation by name (built-in and registered): a read-only mapping name -> function.
``ACTIVATIONS.declaration(name)`` holds its module class name, PyTorch and ONNX counterparts
and parameters."""


def _params(fn) -> dict:
    """The keyword parameters of an activation ``fn(x, **params)`` with their defaults."""
    items = list(inspect.signature(fn).parameters.values())[1:]
    missing = [p.name for p in items if p.default is inspect.Parameter.empty
               and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if missing:
        raise ValueError(f"activation {fn.__name__}: every parameter after x needs a default "
                         f"(got {', '.join(missing)})")
    return {p.name: p.default for p in items if p.default is not inspect.Parameter.empty}


def activation(name: str | None = None, *, module: str | None = None, torch=None,
               torch_args: Mapping[str, str] | None = None, onnx=None, aliases=(),
               builtin: bool = True) -> Callable:
    """Declare an activation function ``fn(x, **params)`` (a decorator).

    Args:
        name: the name used everywhere (default: the function's name).
        module: the ``lw.nn`` class made for it (default: none beyond ``lw.nn.Activation``).
        torch: the ``torch.nn`` class name (or a callable ``params -> torch module``).
        torch_args: our parameter name -> PyTorch's, where they differ (``axis`` -> ``dim``).
        onnx: the ONNX op name, or a function building its nodes (see ``lw.onnx``).
        aliases: other accepted names.
    """

    def declare(fn):
        ACTIVATIONS.add(name or fn.__name__, fn, aliases=aliases, builtin=builtin,
                        module=module, torch=torch, torch_args=dict(torch_args or {}),
                        onnx=onnx, params=_params(fn))
        return fn

    return declare


def register_activation(name: str, torch=None, onnx=None) -> Callable:
    """Declare a user's own activation, a function of lw ops (autodiff differentiates it).

    Afterwards ``Dense(..., activation=name)`` and ``lw.nn.Activation(name)`` work, models
    using it save and load by name, and ``to_torch`` converts it when ``torch=`` names a
    ``torch.nn`` module class (or a callable returning a torch module). Re-registering a taken
    name raises ``ValueError``.

    >>> import layerwise as lw
    >>> @lw.register_activation("square_plus", torch=None)
    ... def square_plus(x):
    ...     return (x + (x * x + 4.0) ** 0.5) * 0.5
    >>> lw.nn.Dense(2, 3, activation="square_plus", rng=0)
    Dense(2 -> 3, activation=square_plus)
    >>> lw.F.ACTIVATIONS.remove("square_plus")
    """
    return activation(name, torch=torch, onnx=onnx, builtin=False)


@activation(module="ReLU", torch="ReLU", onnx="Relu")
@primitive("relu")
def relu(x):
    """ReLU(x) = max(0, x);  d/dx = 1 if x > 0 else 0.

    >>> import layerwise as lw
    >>> lw.F.relu([-1.0, 2.0])
    Tensor([0., 2.])
    """
    # a float mask multiplied in place: NumPy's float * bool multiply casts through a slow loop
    def backward(g, needs):
        mask = (x > 0).astype(g.dtype)
        mask *= g
        return (mask,)

    return np.maximum(x, 0), backward


@activation(module="LeakyReLU", torch="LeakyReLU", onnx="LeakyRelu")
@primitive("leaky_relu")
def leaky_relu(x, negative_slope=0.01):
    """LeakyReLU(x) = x if x > 0 else negative_slope * x.

    >>> import layerwise as lw
    >>> lw.F.leaky_relu([-1.0, 2.0], negative_slope=0.1)
    Tensor([-0.1,  2. ])
    """
    slope = np.where(x > 0, 1, negative_slope).astype(x.dtype)
    return x * slope, lambda g, needs: (g * slope,)


def _sigmoid(x):
    # exp(-|x|) never overflows; both branches below are exact rearrangements of 1/(1+e^-x).
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


@activation(module="Sigmoid", torch="Sigmoid", onnx="Sigmoid")
@primitive("sigmoid")
def sigmoid(x):
    """sigma(x) = 1 / (1 + exp(-x)), stable for any finite x;  d/dx = sigma(x)(1 - sigma(x)).

    >>> import layerwise as lw
    >>> lw.F.sigmoid([-1000.0, 0.0, 1000.0])
    Tensor([0. , 0.5, 1. ])
    """
    out = _sigmoid(x)
    return out, lambda g, needs: (g * out * (1 - out),)


@activation(module="Tanh", torch="Tanh", onnx="Tanh")
@primitive("tanh")
def tanh(x):
    """tanh(x);  d/dx = 1 - tanh(x)^2.

    >>> import layerwise as lw
    >>> lw.F.tanh([0.0])
    Tensor([0.])
    """
    out = np.tanh(x)
    return out, lambda g, needs: (g * (1 - out * out),)


# The reductions below call the ufuncs' own ``reduce`` (what np.max / np.sum run) directly:
# on small batches NumPy's Python-level wrappers cost more than the arithmetic.
def _max(x, axis):
    """``np.max(x, axis, keepdims=True)``, the same values (a maximum is exact).

    NumPy reduces a short last axis row by row, about 70 ns a row: 36 us for 512 rows of 10
    logits. For many short rows, reducing a transposed copy over its first axis takes whole
    rows per step and is several times faster, copy included.
    """
    if x.ndim == 2 and axis in (-1, 1) and x.shape[0] >= max(32, x.shape[1]):
        return np.maximum.reduce(x.T.copy(), axis=0)[:, None]
    return np.maximum.reduce(x, axis=axis, keepdims=True)


def _softmax(x, axis):
    e = np.exp(x - _max(x, axis))
    e /= np.add.reduce(e, axis=axis, keepdims=True)
    return e


@activation(module="Softmax", torch="Softmax", torch_args={"axis": "dim"}, onnx="Softmax")
@primitive("softmax")
def softmax(x, axis=-1):
    """softmax(x)_i = exp(x_i - max x) / sum_j exp(x_j - max x) along ``axis``.

    Backward: s * (g - sum(g * s)).

    >>> import layerwise as lw
    >>> lw.F.softmax([[1000.0, 0.0]])
    Tensor([[1., 0.]])
    """
    out = _softmax(x, axis)

    def backward(g, needs):
        return (out * (g - np.sum(g * out, axis=axis, keepdims=True)),)

    return out, backward


def _log_softmax(x, axis):
    shifted = x - _max(x, axis)
    lse = np.add.reduce(np.exp(shifted), axis=axis, keepdims=True)
    return shifted - np.log(lse, out=lse)


@activation(module="LogSoftmax", torch="LogSoftmax", torch_args={"axis": "dim"},
            onnx="LogSoftmax")
@primitive("log_softmax")
def log_softmax(x, axis=-1):
    """log_softmax(x)_i = x_i - logsumexp(x), computed with the max subtracted first.

    Backward: g - softmax(x) * sum(g).

    >>> import layerwise as lw
    >>> lw.F.log_softmax([[0.0, 0.0]])
    Tensor([[-0.6931472, -0.6931472]])
    """
    out = _log_softmax(x, axis)

    def backward(g, needs):
        return (g - np.exp(out) * np.sum(g, axis=axis, keepdims=True),)

    return out, backward


@activation("none", module="Identity", torch="Identity", onnx="Identity",
            aliases=("identity", "linear"))
def identity(x):
    """identity(x) = x (no graph node: nothing happens to the values or the gradient).

    >>> import layerwise as lw
    >>> lw.F.identity([1.0])
    Tensor([1.])
    """
    return x if isinstance(x, Tensor) else Tensor(x)


_UFUNCS[np.tanh] = tanh  # np.tanh(t) on a Tensor stays differentiable

def get_activation(activation) -> tuple[str, Callable]:
    """Return ``(name, fn)`` for an activation name, ``None`` (identity) or a callable.

    A registered function keeps its registered name; any other callable is named after itself.
    """
    if activation is None:
        return "none", identity
    if callable(activation):
        found = ACTIVATIONS.declaration_of(activation)
        if found is not None:
            return found.name, activation
        return getattr(activation, "__name__", type(activation).__name__), activation
    key = activation.lower() if isinstance(activation, str) else activation
    if key in ACTIVATIONS:
        decl: Declaration = ACTIVATIONS.declaration(key)
        return decl.name, decl.obj
    raise ValueError(
        f"unknown activation {activation!r}; known: {', '.join(ACTIVATIONS)} "
        "(or pass any callable, or declare one with lw.register_activation)"
    )
