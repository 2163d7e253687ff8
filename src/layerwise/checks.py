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
import os

__all__ = ["positive_int", "suffix_in"]


def positive_int(value, name: str, where: str) -> int:
    """``value`` as an int if it is an integer >= 1 (bools refused); else ``ValueError``
    naming ``where`` and ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{where}: {name} must be a positive integer, got {value!r}")
    return int(value)


def suffix_in(path, suffixes: tuple, what: str, where: str) -> str:
    """The lower-case suffix of ``path`` if it is one of ``suffixes`` (the file formats a
    function reads or writes); else ``ValueError`` naming ``where``, ``what`` and the path.

    >>> suffix_in("model.ONNX", (".onnx", ".safetensors"), "output", "convert")
    '.onnx'
    """
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix not in suffixes:
        raise ValueError(f"{where}: cannot tell the format of the {what} from its suffix "
                         f"{suffix or '(none)'!r}: {os.fspath(path)!r} must be a "
                         f"{', '.join(suffixes)} file")
    return suffix
