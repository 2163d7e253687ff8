"""``Dense``: the chapter's fully connected layer, ``A = f(X @ W + b)``."""

from __future__ import annotations

import numpy as np

from .. import functional as F
from ..autodiff import ops
from ..autodiff.tensor import Tensor
from ..dtypes import resolve_dtype
from ..init import constant as init_constant
from ..init import initialize_weights
from ..rng import resolve_rng
from .module import Module, register

__all__ = ["Dense", "Linear"]


@register(_builtin=True)
class Dense(Module):
    """Fully connected layer: ``Z = X @ W + b``, ``A = activation(Z)``.

    Args:
        n_input, n_output: sizes; ``W`` is ``(n_input, n_output)`` and ``b`` is ``(1, n_output)``
            (the chapter's layout; PyTorch's ``Linear.weight`` is the transpose).
        activation: ``'relu' | 'sigmoid' | 'tanh' | 'softmax' | 'log_softmax' | 'leaky_relu' |
            'none'`` or any callable on Tensors.
        init: a method of ``lw.init`` (default He, as the chapter's ``DenseLayer``).
        bias: whether to add ``b`` (initialised to zeros).
        rng, dtype: see ``lw.init.initialize_weights``.

    After each forward pass ``layer.cache`` holds the last ``'X'``, ``'Z'`` and ``'A'`` as
    ndarrays, as in the chapter.

    Shape: ``(..., n_input) -> (..., n_output)``.

    >>> import numpy as np, layerwise as lw
    >>> layer = lw.nn.Dense(4, 8, rng=0)
    >>> layer
    Dense(4 -> 8, activation=relu)
    >>> layer(np.ones((5, 4))).shape
    (5, 8)
    """

    def __init__(self, n_input: int, n_output: int, activation="relu", init: str = "he",
                 bias: bool = True, rng=None, dtype=None):
        dtype = resolve_dtype(dtype)
        self.n_input = int(n_input)
        self.n_output = int(n_output)
        self.activation, self._activation = F.get_activation(activation)
        # decided once, not per call: primitives (and identity) fuse with the linear map
        self._fusable = self._activation is F.identity or hasattr(self._activation, "rule")
        self.W = Tensor(initialize_weights(n_input, n_output, init, rng=resolve_rng(rng),
                                           dtype=dtype), requires_grad=True)
        self.b: Tensor | None
        if bias:
            self.b = Tensor(init_constant((1, self.n_output), 0.0, dtype), requires_grad=True)
        else:
            self.b = None
        self.cache: dict = {}

    def forward(self, X) -> Tensor:
        """``(..., n_input) -> (..., n_output)``; inputs are cast to the layer's dtype."""
        x = X.data if isinstance(X, Tensor) else X
        if type(x) is not np.ndarray:
            X = x = np.asarray(x)
        W, b = self.W, self.b
        if x.ndim == 0 or x.shape[-1] != self.n_input:
            raise ValueError(f"{self!r} expected input (..., {self.n_input}), got {x.shape}")
        if x.ndim == 1 and b is not None:  # one sample: (n_in,) -> (n_out,), as torch.nn.Linear
            b = b.reshape(-1)
        if x.dtype != W.data.dtype:  # a primitive, also for arrays: lw.compile replays it
            X = ops.astype(X, dtype=W.data.dtype)
            x = X.data
        fn = self._activation
        if self._fusable:
            # one graph node per layer (none at all under no_grad): see lw.F.dense
            A, z = F.dense(X, W, b, fn)
            a = A.data
        else:  # a user's callable: the linear node, then whatever the callable records
            Z = F.linear(X, W, b)
            A = fn(Z)
            z = Z.data
            a = A.data if isinstance(A, Tensor) else np.asarray(A)
        cache = self.cache
        cache["X"] = x
        cache["Z"] = z
        cache["A"] = a
        return A

    @property
    def input_size(self) -> int:
        return self.n_input

    def replayable(self) -> bool:
        """A declared activation (a primitive) runs inside the recorded node; a Python one is
        its user's code, run every time."""
        return self._fusable and super().replayable()

    def extra_repr(self) -> str:
        text = f"{self.n_input} -> {self.n_output}, activation={self.activation}"
        return text if self.b is not None else text + ", bias=False"

    # ------------------------------------------------------------------ conversions
    def to_torch_modules(self, nn) -> list:
        """``Linear`` (weight = W.T, same dtype) then the activation's module, if any."""
        import torch

        linear = nn.Linear(self.n_input, self.n_output, bias=self.b is not None,
                           dtype=getattr(torch, self.W.dtype.name))
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(self.W.data.T)))
            if self.b is not None:
                linear.bias.copy_(torch.from_numpy(self.b.data.reshape(-1).copy()))
        if self._activation is F.identity:
            return [linear]
        from .activation import Activation

        return [linear, *Activation(self.activation).to_torch_modules(nn)]

    @classmethod
    def torch_counterparts(cls) -> tuple:
        return ("Linear",) if cls is Dense else ()

    @classmethod
    def from_torch_module(cls, module, activation="none"):
        weight = module.weight.detach().cpu().numpy()
        dense = cls(module.in_features, module.out_features, activation, init="zeros",
                    bias=module.bias is not None, dtype=weight.dtype)
        dense.W.data[...] = weight.T
        if module.bias is not None:
            dense.b.data[...] = module.bias.detach().cpu().numpy().reshape(1, -1)
        return dense

    def to_onnx(self, graph, x: str) -> str:
        """``MatMul`` (W as stored, ``(n_in, n_out)``), ``Add`` (b as ``(n_out,)``), then the
        activation's form: MatMul + Add rather than Gemm, which takes 2-D inputs only."""
        z = graph.node("MatMul", [x, graph.parameter("W", self.W.data)])
        if self.b is not None:
            z = graph.node("Add", [z, graph.parameter("b", self.b.data.reshape(-1))])
        return graph.activation(self._activation, {}, z)

    @classmethod
    def onnx_counterparts(cls) -> tuple:
        return ("MatMul", "Gemm") if cls is Dense else ()

    @classmethod
    def from_onnx(cls, node, reader):
        """``X @ W`` (MatMul, then an ``Add`` of a bias if one follows) or ``Gemm``:
        ``alpha * X @ B' + beta * C`` with B' = B or B.T (``transB``), alpha and beta folded
        into W and b. W must be a constant (an initializer, possibly transposed)."""
        attrs = reader.attributes(node)
        if node.input[0] != reader.input_of(node) or attrs.get("transA", 0):
            raise reader.refuse(node, "only X @ W with the computed value X first (not "
                                      "transposed) is a Dense layer")
        W = reader.weight(node, 1)
        bias = None
        if node.op_type == "Gemm":
            W = W.T if attrs.get("transB", 0) else W
            W = W * np.asarray(attrs.get("alpha", 1.0), W.dtype)
            if len(node.input) > 2 and node.input[2]:
                bias = reader.weight(node, 2) * np.asarray(attrs.get("beta", 1.0), W.dtype)
        else:
            add = reader.absorb("Add")
            if add is not None:
                bias = reader.weight(add, 1 if add.input[0] == node.output[0] else 0)
                node = add
        if W.ndim != 2:
            raise reader.refuse(node, f"the weight has shape {W.shape}, not (n_in, n_out)")
        n_in, n_out = W.shape
        if bias is not None and (bias.size not in (1, n_out) or bias.ndim > 2
                                 or bias.shape[:-1] not in ((), (1,))):
            raise reader.refuse(node, f"the bias of shape {bias.shape} is not one value per "
                                      f"output (n_out = {n_out})")
        dense = cls(n_in, n_out, "none", init="zeros", bias=bias is not None, dtype=W.dtype)
        dense.W.data[...] = W
        if bias is not None:
            dense.b.data[...] = np.broadcast_to(bias.reshape(1, -1), (1, n_out))
        return dense


@register(_builtin=True)
class Linear(Dense):
    """``Dense`` without activation: ``Z = X @ W + b`` (PyTorch's name; W is ``(n_in, n_out)``).

    >>> import layerwise as lw
    >>> lw.nn.Linear(3, 2, rng=0)
    Linear(3 -> 2)
    """

    def __init__(self, n_input: int, n_output: int, init: str = "he", bias: bool = True,
                 rng=None, dtype=None):
        super().__init__(n_input, n_output, "none", init, bias, rng, dtype)

    def extra_repr(self) -> str:
        text = f"{self.n_input} -> {self.n_output}"
        return text if self.b is not None else text + ", bias=False"
