"""``lw.optim``: optimisers with PyTorch's update rules, in order of increasing complexity.

- :class:`SGD`: plain, momentum, Nesterov, dampening, weight decay.
- :class:`Adam`, :class:`AdamW`: adaptive moments, with L2 or decoupled weight decay.

Every optimiser takes ``params`` (``model.parameters()``), updates ``p.data`` in place in
``step()`` and sets gradients to None in ``zero_grad()``:

>>> import numpy as np, layerwise as lw
>>> net = lw.MLP([4, 8, 3], output_activation='none', rng=0)
>>> opt = lw.optim.Adam(net.parameters(), lr=1e-2)
>>> loss = lw.nn.CrossEntropyLoss()(np.array([0, 2]), net(np.ones((2, 4))))
>>> opt.zero_grad(); loss.backward(); opt.step()
"""

from .adam import Adam, AdamW
from .optimizer import OPTIMIZERS, Optimizer, hyperparameter
from .sgd import SGD

__all__ = ["OPTIMIZERS", "SGD", "Adam", "AdamW", "Optimizer", "hyperparameter"]
