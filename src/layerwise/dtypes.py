"""The default floating dtype (float32 unless changed), as in PyTorch.

>>> import numpy as np, layerwise as lw
>>> lw.get_default_dtype()
dtype('float32')
"""

import numpy as np

_default = np.dtype(np.float32)


def get_default_dtype() -> np.dtype:
    """Return the floating dtype used when ``dtype=None``."""
    return _default


def set_default_dtype(dtype) -> None:
    """Set the floating dtype used when ``dtype=None`` (float16, float32 or float64)."""
    global _default
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"default dtype must be a floating dtype, got {dtype}")
    _default = dtype


def resolve_dtype(dtype=None) -> np.dtype:
    """``None`` -> the default dtype; anything else -> ``np.dtype(dtype)`` (floating only)."""
    if dtype is None:
        return _default
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"dtype must be a floating dtype (float32 or float64), got {dtype}")
    return dtype
