"""``Flatten``: axes ``start_dim..end_dim`` merged into one, as ``torch.nn.Flatten``."""

from __future__ import annotations

from ..autodiff import ops
from ..autodiff.tensor import Tensor
from .module import Module, register

__all__ = ["Flatten"]


@register(_builtin=True)
class Flatten(Module):
    """Merge the axes ``start_dim`` to ``end_dim`` (inclusive) into one; by default every axis
    after the batch axis: ``(N, 2, 3) -> (N, 6)``.

    >>> import numpy as np, layerwise as lw
    >>> lw.nn.Flatten()(np.zeros((5, 2, 3))).shape
    (5, 6)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        self.start_dim, self.end_dim = int(start_dim), int(end_dim)

    def forward(self, x):
        x = x if isinstance(x, Tensor) else Tensor(x)
        shape = x.shape
        start, end = self.start_dim % max(len(shape), 1), self.end_dim % max(len(shape), 1)
        if not shape or start > end:
            raise ValueError(f"{self!r} cannot flatten an input of shape {shape}")
        return ops.reshape(x, shape=(*shape[:start], -1, *shape[end + 1:]))

    def extra_repr(self) -> str:
        return "" if (self.start_dim, self.end_dim) == (1, -1) else \
            f"start_dim={self.start_dim}, end_dim={self.end_dim}"

    # ------------------------------------------------------------------ conversions
    def to_torch_modules(self, nn) -> list:
        return [nn.Flatten(self.start_dim, self.end_dim)]

    def to_onnx(self, graph, x):
        if (self.start_dim, self.end_dim) != (1, -1):
            raise ValueError(f"lw.onnx.export: {self!r} has no ONNX form (ONNX's Flatten keeps "
                             "the first axis and flattens all the others)")
        return graph.node("Flatten", [x], axis=1)

    @classmethod
    def onnx_counterparts(cls):
        return ("Flatten",)

    @classmethod
    def from_onnx(cls, node, reader):
        if reader.attributes(node).get("axis", 1) != 1:
            raise reader.refuse(node, "Flatten keeps the first axis only (axis=1)")
        return cls()

    @classmethod
    def torch_counterparts(cls) -> tuple:
        return ("Flatten",)

    @classmethod
    def from_torch_module(cls, module):
        return cls(module.start_dim, module.end_dim)
