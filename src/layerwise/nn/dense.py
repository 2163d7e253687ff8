"""``Dense``: the chapter's fully connected layer, ``A = f(X @ W + b)``."""

from __future__ import annotations

import numpy as np

from .. import functional as F
from ..autodiff.tensor import Tensor
from ..dtypes import resolve_dtype
from ..init import initialize_weights
from ..rng import resolve_rng
from .module import Module

__all__ = ["Dense", "Linear"]

# The built-in activations, which lw.F.dense fuses with the layer's linear map.
_FUSABLE = frozenset(F.ACTIVATIONS.values())


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
        self.W = Tensor(initialize_weights(n_input, n_output, init, rng=resolve_rng(rng),
                                           dtype=dtype), requires_grad=True)
        if bias:
            self.b = Tensor(np.zeros((1, self.n_output), dtype=dtype), requires_grad=True)
        else:
            self.b = None
        self.cache = {}

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
        if x.dtype != W.data.dtype:
            X = X.astype(W.data.dtype)
            x = X.data if isinstance(X, Tensor) else X
        fn = self._activation
        if fn in _FUSABLE:
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

    def extra_repr(self) -> str:
        text = f"{self.n_input} -> {self.n_output}, activation={self.activation}"
        return text if self.b is not None else text + ", bias=False"


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
