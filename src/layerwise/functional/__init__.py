"""``lw.functional`` (alias ``lw.F``): activations, the affine map, normalisation, dropout and
losses.

Every function accepts ndarrays or Tensors and returns a Tensor. Each declared activation and
loss function is exported here under its own name by its declaration alone (see
``ACTIVATIONS`` and ``LOSSES``): declaring one is enough.
"""

from typing import TYPE_CHECKING

from .activations import ACTIVATIONS, activation, get_activation, register_activation
from .dropout import dropout
from .linear import dense, forward_layer, linear
from .losses import LOSSES, REDUCTIONS, check_options, l1_loss, loss, mse_gradient, reduce
from .normalization import batch_norm, layer_norm
from .reductions import logsumexp

_DECLARED = {d.obj.__name__: d.obj for registry in (ACTIVATIONS, LOSSES)
             for d in registry.declarations() if d.builtin}
globals().update(_DECLARED)

__all__ = [  # noqa: PLE0604 - the declared functions are added from the registries
    "ACTIVATIONS", "LOSSES", "REDUCTIONS", "activation", "batch_norm", "check_options", "dense",
    "dropout", "forward_layer", "get_activation", "l1_loss", "layer_norm", "linear", "logsumexp", "loss",
    "mse_gradient", "reduce", "register_activation", *sorted(_DECLARED),
]

if TYPE_CHECKING:  # the declared functions are added above at run time; tell type checkers
    from collections.abc import Callable
    from typing import Any

    def __getattr__(name: str) -> Callable[..., Any]: ...
