"""Conversion to and from PyTorch (torch is imported only when these are called)."""

from .torch import from_torch, to_torch

__all__ = ["from_torch", "to_torch"]
