"""``lw.nn``: modules — layers, containers, activations and losses."""

from .activation import Identity, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .container import MLP, Sequential
from .dense import Dense, Linear
from .loss import (
    BCELoss, BCEWithLogitsLoss, CategoricalCrossEntropyLoss, CrossEntropyLoss, HuberLoss, L1Loss,
    MAELoss, MSELoss,
)
from .module import Module

__all__ = [
    "Module", "Dense", "Linear", "Sequential", "MLP",
    "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "Identity",
    "MSELoss", "L1Loss", "MAELoss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss",
    "CategoricalCrossEntropyLoss", "CrossEntropyLoss",
]
