"""``lw.data``: mini-batches over arrays in memory or memory-mapped from disk, and splits.

>>> import numpy as np, layerwise as lw
>>> for Xb, yb in lw.data.batches(np.zeros((5, 3)), np.arange(5), batch_size=4):
...     print(Xb.shape, yb.shape)
(4, 3) (4,)
(1, 3) (1,)
"""

from .batching import batches, num_batches
from .split import train_test_split

__all__ = ["batches", "num_batches", "train_test_split"]
