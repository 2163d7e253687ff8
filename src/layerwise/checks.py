"""Argument checks shared by the library's functions: one rule, one message, each.

>>> from layerwise.checks import positive_int
>>> positive_int(3, "epochs", "fit")
3
>>> positive_int(0, "epochs", "fit")
Traceback (most recent call last):
...
ValueError: fit: epochs must be a positive integer, got 0
"""

from __future__ import annotations

import numbers

__all__ = ["positive_int"]


def positive_int(value, name: str, where: str) -> int:
    """``value`` as an int if it is an integer >= 1 (bools refused); else ``ValueError``
    naming ``where`` and ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{where}: {name} must be a positive integer, got {value!r}")
    return int(value)
