"""``Dropout``: inverted dropout while training, the identity in evaluation."""

from __future__ import annotations

from .. import functional as F
from ..functional.dropout import check_probability
from ..rng import resolve_rng
from .module import Module, register

__all__ = ["Dropout"]


@register(_builtin=True)
class Dropout(Module):
    """Zero each input element with probability ``p`` while training, scaling the rest by
    1 / (1 - p) (``lw.F.dropout``); the identity in evaluation mode, as ``torch.nn.Dropout``.

    Args:
        p: the drop probability in [0, 1].
        rng: where the masks are drawn from (None: NumPy's global state; an int seed: a
            Generator of its own, so two runs with the same seed drop the same elements).

    >>> import numpy as np, layerwise as lw
    >>> drop = lw.nn.Dropout(0.5, rng=0)
    >>> drop(np.ones(4)).data
    array([2., 0., 0., 0.])
    >>> drop.eval()(np.ones(4)).data
    array([1., 1., 1., 1.])
    """

    def __init__(self, p: float = 0.5, rng=None):
        self.p = check_probability(p, "Dropout")
        self.rng = resolve_rng(rng)

    def forward(self, x):
        return F.dropout(x, self.p, self.training, self.rng)

    def extra_repr(self) -> str:
        return f"p={self.p:g}"

    # ------------------------------------------------------------------ conversions
    def to_torch_modules(self, nn) -> list:
        return [nn.Dropout(self.p)]

    def to_onnx(self, graph, x):
        return x  # lw.onnx.export writes the inference graph: dropout is the identity

    @classmethod
    def torch_counterparts(cls) -> tuple:
        return ("Dropout",)

    @classmethod
    def from_torch_module(cls, module):
        return cls(module.p)
