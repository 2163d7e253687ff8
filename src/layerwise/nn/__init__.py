"""``lw.nn``: modules — layers, containers, activations and losses."""

from .activation import Identity, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .container import MLP, Sequential
from .dense import Dense, Linear
from .loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CategoricalCrossEntropyLoss,
    CrossEntropyLoss,
    HuberLoss,
    L1Loss,
    MAELoss,
    MSELoss,
)
from .module import Module, training_mode

__all__ = [
    "MLP",
    "BCELoss",
    "BCEWithLogitsLoss",
    "CategoricalCrossEntropyLoss",
    "CrossEntropyLoss",
    "Dense",
    "HuberLoss",
    "Identity",
    "L1Loss",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "MAELoss",
    "MSELoss",
    "Module",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "training_mode",
]
