"""Reverse-mode automatic differentiation: the Tensor, its primitives and gradcheck."""

from . import ops
from .gradcheck import GradcheckError, gradcheck
from .tensor import (
    PRIMITIVES,
    Tensor,
    enable_grad,
    is_grad_enabled,
    no_grad,
    primitive,
    sum_to_shape,
)

__all__ = [
    "PRIMITIVES",
    "GradcheckError",
    "Tensor",
    "enable_grad",
    "gradcheck",
    "is_grad_enabled",
    "no_grad",
    "ops",
    "primitive",
    "sum_to_shape",
]
