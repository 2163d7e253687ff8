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
import math
from collections.abc import Callable, Mapping

import numpy as np

from ..autodiff.ops import register_ufunc
from ..autodiff.tensor import Tensor, primitive
from ..onnx.forms import OnnxOp
from ..registry import Declaration, Registry

__all__ = [
    "ACTIVATIONS",
    "activation",
    "elu",
    "gelu",
    "get_activation",
    "identity",
    "leaky_relu",
    "log_softmax",
    "mish",
    "register_activation",
    "relu",
    "selu",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
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


def _leaky_relu_onnx64(graph, x, negative_slope):
    # ONNX keeps LeakyRelu's alpha as a float32 attribute: x * where(x > 0, 1, slope) keeps
    # the slope in float64, the same product as the NumPy forward
    positive = graph.node("Greater", [x, graph.constant(0)])
    slope = graph.node("Where", [positive, graph.constant(1), graph.constant(negative_slope)])
    return graph.node("Mul", [x, slope])


@activation(module="LeakyReLU", torch="LeakyReLU",
            onnx=OnnxOp("LeakyRelu", {"negative_slope": "alpha"}, float64=_leaky_relu_onnx64))
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


# Below this row max, x - max cannot overflow: it stays under finfo.max + ulp(finfo.max) / 2.
_SPREAD_LIMIT = {t: np.finfo(t).max * np.finfo(t).eps / 8 for t in "efdg"}


def _softmax(x, axis):
    m = _max(x, axis)
    if x.dtype.kind == "f" and np.maximum.reduce(m, axis=None) > _SPREAD_LIMIT[x.dtype.char]:
        # x - m overflows to -inf (whose exp is the right 0) only where a row spans more than
        # finfo.max, so only rows whose max is that large pay for silencing the warning
        with np.errstate(over="ignore", invalid="ignore"):
            e = np.exp(x - m)
    else:
        e = np.exp(x - m)
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
    return shifted - np.log(lse, out=lse) if x.ndim else shifted - np.log(lse)  # 0-d: scalars


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


register_ufunc(np.tanh, tanh)  # np.tanh(t) on a Tensor stays differentiable

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


# ------------------------------------------------------------------ the wave-2 catalogue
# GELU needs erf (not an lw op) and Softplus a stable form with PyTorch's threshold switch, so
# they are primitives; SiLU, ELU, SELU and Mish are composed from lw ops (autodiff gives their
# gradients). None names an ONNX op: ONNX Runtime's CPU provider has no float64 kernel for
# Gelu, Elu, Selu, Softplus or Mish, so lw.onnx composes them.
_ERF = None


def _erf(x: np.ndarray) -> np.ndarray:
    """erf in float64: SciPy's ufunc when installed, else ``math.erf`` element by element."""
    global _ERF  # chosen once, on first use: import layerwise needs NumPy only
    if _ERF is None:
        try:
            from scipy.special import erf
        except ImportError:
            erf = np.frompyfunc(math.erf, 1, 1)
        _ERF = erf
    return np.asarray(_ERF(np.asarray(x, dtype=np.float64)), dtype=np.float64)


_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_GELU_TANH_K = math.sqrt(2.0 / math.pi)


# --------------------------------------------------- ONNX forms of the activations below
# Builders ``fn(graph, x, **params)`` for activations ONNX has no single op for, or whose op
# ONNX Runtime's CPU provider lacks in float64 (Erf, Elu, Selu, Softplus). Module-level and
# deterministic: loading rebuilds them to check a file's function bodies.
def _gelu_onnx(graph, x, approximate="none"):
    if approximate == "tanh":
        cube = graph.node("Mul", [graph.node("Mul", [x, x]), x])
        inner = graph.node("Add", [x, graph.node("Mul", [cube, graph.constant(0.044715)])])
        t = graph.node("Tanh", [graph.node("Mul", [inner,
                                                   graph.constant(math.sqrt(2 / math.pi))])])
    else:  # exact: Erf, or its float64 composition (no float64 Erf in ONNX Runtime)
        t = graph.erf(graph.node("Mul", [x, graph.constant(1 / math.sqrt(2))]))
    return graph.node("Mul", [graph.node("Mul", [x, graph.constant(0.5)]),
                              graph.node("Add", [t, graph.constant(1)])])


def _silu_onnx(graph, x):
    return graph.node("Mul", [x, graph.node("Sigmoid", [x])])


def _elu_onnx64(graph, x, alpha=1.0):
    negative = graph.node("Sub", [graph.node("Exp", [graph.node("Min", [x, graph.constant(0)])]),
                                  graph.constant(1)])
    return graph.node("Where", [graph.node("Greater", [x, graph.constant(0)]), x,
                                graph.node("Mul", [negative, graph.constant(alpha)])])


def _selu_onnx64(graph, x):
    return graph.node("Mul", [_elu_onnx64(graph, x, _SELU_ALPHA), graph.constant(_SELU_SCALE)])


def _softplus_onnx(graph, x, beta=1.0, threshold=20.0):
    bx = graph.node("Mul", [x, graph.constant(beta)])
    soft = graph.node("Div", [graph.node("Log", [graph.node("Add", [graph.node("Exp", [bx]),
                                                                    graph.constant(1)])]),
                              graph.constant(beta)])
    return graph.node("Where", [graph.node("Greater", [bx, graph.constant(threshold)]), x, soft])


def _mish_onnx(graph, x):
    return graph.node("Mul", [x, graph.node("Tanh", [graph.activation("softplus", {}, x)])])


@activation(module="GELU", torch="GELU", onnx=_gelu_onnx)
@primitive("gelu")
def gelu(x, approximate="none"):
    """GELU(x) = x Phi(x), Phi the standard normal CDF (Hendrycks & Gimpel, 2016).

    ``approximate='none'``: Phi(x) = (1 + erf(x / sqrt 2)) / 2, d/dx = Phi(x) + x phi(x).
    ``approximate='tanh'``: Phi(x) ~ (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2.
    Both equal ``torch.nn.GELU(approximate=...)``.

    >>> import layerwise as lw
    >>> lw.F.gelu([-1.0, 0.0, 1.0]).data.round(4)
    array([-0.1587,  0.    ,  0.8413], dtype=float32)
    """
    if approximate == "none":
        cdf = (0.5 * (1.0 + _erf(x * _SQRT_HALF))).astype(x.dtype, copy=False)
        out = x * cdf

        def backward(g, needs):
            pdf = np.exp(-0.5 * x * x) * _INV_SQRT_2PI
            return (g * (cdf + x * pdf),)
    elif approximate == "tanh":
        t = np.tanh(_GELU_TANH_K * (x + 0.044715 * x**3))
        out = 0.5 * x * (1 + t)

        def backward(g, needs):
            inner = _GELU_TANH_K * (1 + 3 * 0.044715 * x * x)
            return (g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * inner),)
    else:
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return out, backward


@activation(module="SiLU", torch="SiLU", onnx=_silu_onnx)
def silu(x):
    """SiLU(x) = x sigmoid(x) (also called swish), as ``torch.nn.SiLU``.

    >>> import layerwise as lw
    >>> lw.F.silu([0.0, 1.0]).data.round(4)
    array([0.    , 0.7311], dtype=float32)
    """
    x = x if isinstance(x, Tensor) else Tensor(x)
    return x * sigmoid(x)


@activation(module="ELU", torch="ELU", onnx=OnnxOp("Elu", float64=_elu_onnx64))
@primitive("elu")
def elu(x, alpha=1.0):
    """ELU(x) = x if x > 0 else alpha (exp(x) - 1) (Clevert et al., 2015), as ``torch.nn.ELU``.

    exp only ever sees min(x, 0), so nothing overflows. A primitive rather than a composition
    so that the gradient at exactly 0 is PyTorch's (the negative branch's, alpha), not the
    average of the two branches that max/min would give.

    >>> import layerwise as lw
    >>> lw.F.elu([-1.0, 2.0]).data.round(4)
    array([-0.6321,  2.    ], dtype=float32)
    """
    negative = (np.exp(np.minimum(x, 0)) - 1) * x.dtype.type(alpha)
    positive = x > 0
    out = np.where(positive, x, negative)

    def backward(g, needs):
        return (g * np.where(positive, 1, negative + x.dtype.type(alpha)),)

    return out, backward


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


@activation(module="SELU", torch="SELU", onnx=OnnxOp(
    "Selu", constants={"alpha": _SELU_ALPHA, "gamma": _SELU_SCALE}, float64=_selu_onnx64))
def selu(x):
    """SELU(x) = scale ELU(x, alpha), alpha = 1.6733, scale = 1.0507 (Klambauer et al., 2017),
    as ``torch.nn.SELU``.

    >>> import layerwise as lw
    >>> lw.F.selu([-1.0, 1.0]).data.round(4)
    array([-1.1113,  1.0507], dtype=float32)
    """
    return _SELU_SCALE * elu(x, _SELU_ALPHA)


@activation(module="Softplus", torch="Softplus", onnx=_softplus_onnx)
@primitive("softplus")
def softplus(x, beta=1.0, threshold=20.0):
    """Softplus(x) = log(1 + exp(beta x)) / beta, and x where beta x > threshold (PyTorch's
    switch to the linear function), as ``torch.nn.Softplus``. d/dx = sigmoid(beta x) (1 on the
    linear part).

    Computed as (max(bx, 0) + log(1 + exp(-|bx|))) / beta, which never overflows.

    >>> import layerwise as lw
    >>> lw.F.softplus([0.0, 1000.0]).data.tolist()
    [0.6931471824645996, 1000.0]
    """
    bx = x * beta
    linear = bx > threshold
    smooth = (np.maximum(bx, 0) + np.log1p(np.exp(-np.abs(bx)))) / beta
    out = np.where(linear, x, smooth.astype(x.dtype, copy=False))
    return out, lambda g, needs: (np.where(linear, g, g * _sigmoid(bx)),)


@activation(module="Mish", torch="Mish", onnx=_mish_onnx)
def mish(x):
    """Mish(x) = x tanh(softplus(x)) (Misra, 2019), as ``torch.nn.Mish``.

    >>> import layerwise as lw
    >>> lw.F.mish([0.0, 1.0]).data.round(4)
    array([0.    , 0.8651], dtype=float32)
    """
    x = x if isinstance(x, Tensor) else Tensor(x)
    return x * tanh(softplus(x))

