"""Reverse-mode automatic differentiation: the Tensor, its primitives and gradcheck."""

# tensor first: it builds the Tensor class from the primitives of ops.py, which it imports
# once primitive() is defined
from .tensor import (  # isort: skip
    FUSED,
    PRIMITIVES,
    Tensor,
    enable_grad,
    fuse,
    is_grad_enabled,
    no_grad,
    primitive,
    sum_to_shape,
)
from . import ops  # isort: skip
from .gradcheck import GradcheckError, gradcheck
from .ops import register_ufunc

__all__ = [
    "FUSED",
    "PRIMITIVES",
    "GradcheckError",
    "Tensor",
    "enable_grad",
    "fuse",
    "gradcheck",
    "is_grad_enabled",
    "no_grad",
    "ops",
    "primitive",
    "register_ufunc",
    "sum_to_shape",
]
