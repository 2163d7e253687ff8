"""``lw.functional`` (alias ``lw.F``): activations, the affine map and losses.

Every function accepts ndarrays or Tensors and returns a Tensor.
"""

from .activations import (
    ACTIVATIONS, get_activation, identity, leaky_relu, log_softmax, relu, sigmoid, softmax, tanh,
)
from .linear import forward_layer, linear
from .losses import (
    REDUCTIONS, binary_cross_entropy, binary_cross_entropy_with_logits, categorical_cross_entropy,
    cross_entropy, huber_loss, l1_loss, mae_loss, mse_gradient, mse_loss, reduce,
)

__all__ = [
    "relu", "leaky_relu", "sigmoid", "tanh", "softmax", "log_softmax", "identity",
    "get_activation", "ACTIVATIONS", "linear", "forward_layer",
    "mse_loss", "mae_loss", "l1_loss", "huber_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "categorical_cross_entropy", "cross_entropy",
    "mse_gradient", "reduce", "REDUCTIONS",
]
