"""``lw.functional`` (alias ``lw.F``): activations, the affine map and losses.

Every function accepts ndarrays or Tensors and returns a Tensor.
"""

from .activations import (
    ACTIVATIONS,
    get_activation,
    identity,
    leaky_relu,
    log_softmax,
    relu,
    sigmoid,
    softmax,
    tanh,
)
from .linear import dense, forward_layer, linear
from .losses import (
    REDUCTIONS,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    categorical_cross_entropy,
    cross_entropy,
    huber_loss,
    l1_loss,
    mae_loss,
    mse_gradient,
    mse_loss,
    reduce,
)
from .reductions import logsumexp

__all__ = [
    "ACTIVATIONS",
    "REDUCTIONS",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "categorical_cross_entropy",
    "cross_entropy",
    "dense",
    "forward_layer",
    "get_activation",
    "huber_loss",
    "identity",
    "l1_loss",
    "leaky_relu",
    "linear",
    "log_softmax",
    "logsumexp",
    "mae_loss",
    "mse_gradient",
    "mse_loss",
    "reduce",
    "relu",
    "sigmoid",
    "softmax",
    "tanh",
]
