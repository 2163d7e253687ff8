"""``lw.nn``: modules — layers, containers, activations and losses.

Every class here is registered in ``MODULES`` (so models made of them save, load and convert);
the activation and loss classes are made from their declarations in ``lw.functional``.
"""

from . import activation as _activation
from . import loss as _loss
from .activation import Activation
from .container import MLP, Sequential
from .dense import Dense, Linear
from .loss import Loss
from .module import MODULES, Module, register, training_mode
from .standardize import Standardize

globals().update({name: getattr(_activation, name) for name in _activation.__all__})
globals().update({name: getattr(_loss, name) for name in _loss.__all__})

__all__ = [  # noqa: PLE0604 - the activation and loss classes are made from declarations
    "MLP", "MODULES", "Activation", "Dense", "Linear", "Loss", "Module", "Sequential",
    "Standardize", "register", "training_mode", *_activation.__all__[1:], *_loss.__all__[1:],
]
