"""One row per registered module class: how to make an example of it and the input it takes.

The contract test (``test_registries.py``) runs every row through saving and loading, configs,
PyTorch conversion, the summary, the graph and the repr. A module class registered in
``lw.nn.MODULES`` without a row here fails ``test_every_module_class_has_a_row``. Activation and
loss modules are made from their declarations and need no row: the contract test derives them.
"""

from __future__ import annotations

import layerwise as lw

# class name -> (factory taking dtype, input shape)
MODULES = {
    "Dense": (lambda dtype: lw.nn.Dense(4, 3, "tanh", rng=0, dtype=dtype), (5, 4)),
    "Linear": (lambda dtype: lw.nn.Linear(4, 3, rng=0, dtype=dtype), (5, 4)),
    "Sequential": (lambda dtype: lw.nn.Sequential(lw.nn.Linear(4, 6, rng=0, dtype=dtype),
                                                  lw.nn.ReLU(),
                                                  lw.nn.Dense(6, 3, rng=1, dtype=dtype)),
                   (5, 4)),
    "MLP": (lambda dtype: lw.MLP([4, 8, 3], rng=0, dtype=dtype), (5, 4)),
    "Standardize": (lambda dtype: lw.nn.Standardize(4, dtype=dtype), (5, 4)),
    "Activation": (lambda dtype: lw.nn.Activation("leaky_relu", negative_slope=0.2), (5, 4)),
}
