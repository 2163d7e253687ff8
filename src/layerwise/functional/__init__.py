"""``lw.functional`` (alias ``lw.F``): activations, the affine map and losses.

Every function accepts ndarrays or Tensors and returns a Tensor.
"""

from .activations import (
    ACTIVATIONS,
    elu,
    gelu,
    get_activation,
    identity,
    leaky_relu,
    log_softmax,
    mish,
    relu,
    selu,
    sigmoid,
    silu,
    softmax,
    softplus,
    tanh,
)
from .dropout import dropout
from .linear import dense, forward_layer, linear
from .losses import (
    REDUCTIONS,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    categorical_cross_entropy,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    mae_loss,
    mse_gradient,
    mse_loss,
    nll_loss,
    reduce,
)
from .normalization import batch_norm, layer_norm

__all__ = [
    "ACTIVATIONS",
    "REDUCTIONS",
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "categorical_cross_entropy",
    "cross_entropy",
    "dense",
    "dropout",
    "elu",
    "forward_layer",
    "gelu",
    "get_activation",
    "huber_loss",
    "identity",
    "kl_div",
    "l1_loss",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log_softmax",
    "mae_loss",
    "mish",
    "mse_gradient",
    "mse_loss",
    "nll_loss",
    "reduce",
    "relu",
    "selu",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
    "tanh",
]
