"""Reverse-mode automatic differentiation: the Tensor, its primitives and gradcheck."""

from . import ops
from .gradcheck import GradcheckError, gradcheck
from .tensor import PRIMITIVES, Tensor, enable_grad, is_grad_enabled, no_grad, primitive, sum_to_shape

__all__ = [
    "Tensor", "no_grad", "enable_grad", "is_grad_enabled", "primitive", "sum_to_shape",
    "gradcheck", "GradcheckError", "ops", "PRIMITIVES",
]
