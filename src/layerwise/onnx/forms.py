"""How an activation declares its ONNX form (read by ``lw.onnx.export`` and ``lw.onnx.load``).

An activation's ``onnx=`` declaration is one of:

- an ONNX op name (``"Relu"``): one node, the activation's parameters as the op's attributes
  of the same names (``Softmax``'s ``axis``);
- an :class:`OnnxOp`: one node with renamed or fixed attributes, and optionally a composition
  used in float64 graphs, where ONNX Runtime's CPU provider has no float64 kernel or keeps a
  constant as a float32 attribute;
- a function ``build(graph, x, **params) -> output name`` composing other ops (export only).

This module imports nothing beyond the standard library, so declarations can name it freely.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

__all__ = ["OnnxOp", "as_op"]


@dataclass(frozen=True)
class OnnxOp:
    """One ONNX op standing for an activation.

    Args:
        op_type: the ONNX op (default domain), e.g. ``"LeakyRelu"``.
        attributes: the activation's parameter name -> the op's attribute name, where they
            differ (``{"negative_slope": "alpha"}``); the others keep their names.
        constants: attributes with fixed values (``Selu``'s ``alpha`` and ``gamma``): written
            on export, and on import a node must carry these values (to float32 precision).
        float64: ``build(graph, x, **params) -> output name`` used instead of the op in float64
            graphs.

    >>> OnnxOp("LeakyRelu", {"negative_slope": "alpha"}).attributes_for({"negative_slope": 0.2})
    {'alpha': 0.2}
    """

    op_type: str
    attributes: Mapping[str, str] = field(default_factory=dict)
    constants: Mapping[str, float] = field(default_factory=dict)
    float64: Callable | None = None

    def attributes_for(self, params: Mapping) -> dict:
        """The node's attributes for the activation's ``params``."""
        return {**self.constants, **{self.attributes.get(k, k): v for k, v in params.items()}}

    def composition(self, dtype) -> Callable | None:
        """The builder used instead of the op in graphs of ``dtype`` (None: the op itself)."""
        return self.float64 if dtype.name == "float64" else None


def as_op(form) -> OnnxOp | None:
    """The :class:`OnnxOp` of a declaration's ``onnx=`` field (None for builder functions)."""
    if isinstance(form, str):
        return OnnxOp(form)
    return form if isinstance(form, OnnxOp) else None
