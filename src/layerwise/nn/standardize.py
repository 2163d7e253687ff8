"""``Standardize``: the feature scaling a model was trained with, as a layer saved with it."""

from __future__ import annotations

import numpy as np

from ..autodiff.tensor import Tensor
from ..dtypes import resolve_dtype
from ..init import constant
from .module import Module, register

__all__ = ["Standardize"]


@register(_builtin=True)
class Standardize(Module):
    """``(x - mean) / scale`` per feature, with ``mean`` and ``scale`` kept as buffers.

    Put first in a model trained on standardised features, so the saved model takes raw
    features (``layerwise train`` does this). :meth:`from_data` computes the statistics.

    Args:
        num_features: the input size ``n``; mean, scale: ``(n,)`` arrays (default 0 and 1).

    Shape: ``(..., n) -> (..., n)``.

    >>> import numpy as np, layerwise as lw
    >>> layer = lw.nn.Standardize.from_data(np.array([[1.0, 10.0], [3.0, 10.0]]))
    >>> layer(np.array([[2.0, 12.0]]))
    Tensor([[0., 2.]], dtype=float64)
    """

    _buffers = ("mean", "scale")

    def __init__(self, num_features: int, dtype=None):
        dtype = resolve_dtype(dtype)
        self.num_features = int(num_features)
        self.mean = constant((self.num_features,), 0.0, dtype)
        self.scale = constant((self.num_features,), 1.0, dtype)

    @classmethod
    def from_data(cls, X, dtype=None):
        """The layer standardising the columns of ``X`` (a constant column keeps scale 1)."""
        X = np.asarray(X)
        layer = cls(X.shape[1], dtype=dtype or (X.dtype if X.dtype.kind == "f" else None))
        std = X.std(axis=0, dtype=np.float64)
        layer.mean[...] = X.mean(axis=0, dtype=np.float64)
        layer.scale[...] = np.where(std > 0, std, 1.0)
        return layer

    @property
    def input_size(self) -> int:
        return self.num_features

    def forward(self, x):
        if (x.shape[-1] if x.ndim else None) != self.num_features:
            raise ValueError(f"{self!r} expected input (..., {self.num_features}), got "
                             f"{tuple(x.shape)}")
        if not isinstance(x, Tensor):
            x = Tensor(np.asarray(x))
        if x.dtype != self.mean.dtype:
            x = x.astype(self.mean.dtype)
        return (x - self.mean) / self.scale

    def extra_repr(self) -> str:
        return str(self.num_features)

    def to_torch_modules(self, nn) -> list:
        """A ``Linear`` with the diagonal weight 1/scale and bias -mean/scale (the same map)."""
        import torch

        linear = nn.Linear(self.num_features, self.num_features,
                           dtype=getattr(torch, self.mean.dtype.name))
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(np.diag(1 / self.scale)))
            linear.bias.copy_(torch.from_numpy(-self.mean / self.scale))
        return [linear]

    def to_onnx(self, graph, x: str) -> str:
        """``Sub`` the mean, ``Div`` by the scale: the forward's own two operations."""
        centred = graph.node("Sub", [x, graph.parameter("mean", self.mean)])
        return graph.node("Div", [centred, graph.parameter("scale", self.scale)])

    @classmethod
    def onnx_counterparts(cls) -> tuple:
        return ("Sub",) if cls is Standardize else ()

    @classmethod
    def from_onnx(cls, node, reader):
        """``x - mean``, then ``/ scale`` if a ``Div`` by a constant follows (else scale 1)."""
        x = reader.input_of(node)
        if node.input[0] != x:
            raise reader.refuse(node, "only x - constant is a Standardize layer")
        mean = reader.weight(node, 1)
        div = reader.absorb("Div")
        if div is not None and div.input[0] != node.output[0]:
            raise reader.refuse(div, "only (x - mean) / constant is a Standardize layer")
        scale = np.ones_like(mean) if div is None else reader.weight(div, 1)
        shape = reader.shape(x)
        n = shape[-1] if shape and shape[-1] else max(mean.size, scale.size)
        if any(a.size not in (1, n) or a.shape[:-1] not in ((), (1,)) for a in (mean, scale)):
            raise reader.refuse(div or node, f"the mean {mean.shape} and scale {scale.shape} "
                                             f"are not one value per feature (n = {n})")
        layer = cls(n, dtype=np.result_type(mean, scale))
        layer.mean[...] = np.broadcast_to(mean.reshape(-1), (n,))
        layer.scale[...] = np.broadcast_to(scale.reshape(-1), (n,))
        return layer
