"""Checked argparse types shared by the ``layerwise`` command and ``layerwise lab``.

argparse's ``type=float`` accepts ``nan`` and ``inf`` (an ``--lr nan`` would silently turn every
weight into nan); these refuse non-finite and out-of-range values with a one-line message.
"""

from __future__ import annotations

import argparse
import math

__all__ = [
    "finite_float",
    "fraction",
    "nonnegative_float",
    "nonnegative_int",
    "number",
    "positive_float",
    "positive_int",
    "probability",
]


def number(kind, test, wanted: str):
    """An argparse type: ``kind(text)``, finite, and passing ``test``, else "must be {wanted}"."""
    def convert(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {wanted}, got {text!r}") from None
        if (isinstance(value, float) and not math.isfinite(value)) or not test(value):
            raise argparse.ArgumentTypeError(f"must be {wanted}, got {text!r}")
        return value

    convert.__name__ = wanted  # argparse names the type in some messages
    return convert


positive_int = number(int, lambda v: v >= 1, "a positive integer")
nonnegative_int = number(int, lambda v: v >= 0, "an integer >= 0")
positive_float = number(float, lambda v: v > 0, "a finite number > 0")
nonnegative_float = number(float, lambda v: v >= 0, "a finite number >= 0")
finite_float = number(float, lambda v: True, "a finite number")
probability = number(float, lambda v: 0 < v < 1, "a number strictly between 0 and 1")
fraction = number(float, lambda v: 0 <= v < 1, "a number in [0, 1)")
