"""Properties of the activations and losses, as identities ``lhs(x) == rhs(x)`` on hypothesis
arrays (wide ranges, zeros, subnormals: whatever hypothesis finds).

Where an identity needs labels or binary targets, they are derived from ``x`` itself
(``argmin`` along the class axis: the least likely class, the hard case).
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from layerwise import functional as F
from layerwise.autodiff.tensor import Tensor


def labels(x):
    return np.argmin(np.asarray(x), axis=-1)


def onehot(x):
    return np.eye(x.shape[-1])[labels(x)]


def binary(x):
    return (np.asarray(x) < 0.25).astype(np.float64)


def grad_of(fn):
    """x -> d sum(fn(x)) / dx, as an ndarray."""
    def g(x):
        t = Tensor(x, requires_grad=True)
        fn(t).sum().backward()
        return t.grad
    return g


def _np_softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@dataclass(frozen=True)
class Identity:
    name: str
    lhs: Callable
    rhs: Callable
    bound: float = 1e3  # |x| <= bound
    classes: bool = False  # x has a class axis of at least 2
    atol: float = 1e-12
    rtol: float = 1e-12


IDENTITIES = [
    Identity("softmax rows sum to 1", lambda x: F.softmax(x).sum(axis=-1),
             lambda x: np.ones(x.shape[:-1]), classes=True),
    Identity("softmax is in [0, 1]", lambda x: F.softmax(x).clip(0, 1), F.softmax,
             classes=True, atol=0, rtol=0),
    Identity("softmax(x + c) = softmax(x)", lambda x: F.softmax(x + x[..., :1]), F.softmax,
             classes=True),
    Identity("exp(log_softmax) rows sum to 1", lambda x: F.log_softmax(x).exp().sum(axis=-1),
             lambda x: np.ones(x.shape[:-1]), classes=True),
    Identity("log_softmax = log(softmax)", F.log_softmax, lambda x: F.softmax(x).log(),
             bound=30, classes=True),
    Identity("sigmoid(-x) = 1 - sigmoid(x)", lambda x: F.sigmoid(-x),
             lambda x: 1 - F.sigmoid(x), atol=1e-15),
    Identity("sigmoid is in [0, 1]", lambda x: F.sigmoid(x).clip(0, 1), F.sigmoid,
             atol=0, rtol=0),
    Identity("tanh(x) = 2 sigmoid(2x) - 1", F.tanh, lambda x: 2 * F.sigmoid(2 * x) - 1,
             bound=20, atol=1e-14),
    Identity("relu(x) - relu(-x) = x", lambda x: F.relu(x) - F.relu(-x), lambda x: x),
    Identity("leaky_relu(x, s) = relu(x) - s relu(-x)",
             lambda x: F.leaky_relu(x, negative_slope=0.3),
             lambda x: F.relu(x) - 0.3 * F.relu(-x)),
    Identity("bce_with_logits(y, x) = bce(y, sigmoid(x))",
             lambda x: F.binary_cross_entropy_with_logits(binary(x), x, reduction="none"),
             lambda x: F.binary_cross_entropy(binary(x), F.sigmoid(x), reduction="none"),
             bound=15, atol=1e-10, rtol=1e-8),
    Identity("cross_entropy(labels, x) = categorical_cross_entropy(onehot, softmax(x))",
             lambda x: F.cross_entropy(labels(x), x, reduction="none"),
             lambda x: F.categorical_cross_entropy(onehot(x), F.softmax(x), reduction="none"),
             bound=10, classes=True, atol=1e-10, rtol=1e-10),
    Identity("cross_entropy(one-hot probabilities) = cross_entropy(labels)",
             lambda x: F.cross_entropy(onehot(x), x, reduction="none"),
             lambda x: F.cross_entropy(labels(x), x, reduction="none"), classes=True),
    Identity("label smoothing s: (1 - s) CE + s mean_c(-log_softmax)",
             lambda x: F.cross_entropy(labels(x), x, label_smoothing=0.3, reduction="none"),
             lambda x: 0.7 * F.cross_entropy(labels(x), x, reduction="none")
             - 0.3 * F.log_softmax(x).mean(axis=-1), classes=True, atol=1e-10),
    Identity("d/dx cross_entropy(sum) = softmax(x) - onehot",
             grad_of(lambda x: F.cross_entropy(labels(x.data), x, reduction="sum")),
             lambda x: _np_softmax(x) - onehot(x), classes=True),
    Identity("d/dx sum(softmax(x)) = 0", grad_of(F.softmax), np.zeros_like, classes=True),
    Identity("huber = 0.5 mse within delta",
             lambda x: F.huber_loss(np.zeros(x.shape), x, delta=1.0, reduction="none"),
             lambda x: 0.5 * F.mse_loss(np.zeros(x.shape), x, reduction="none"), bound=1),
    Identity("huber = delta (|d| - delta / 2) beyond delta",
             lambda x: F.huber_loss(np.zeros(x.shape), x + np.copysign(2.0, x), delta=2.0,
                                    reduction="none"),
             lambda x: 2.0 * (np.abs(x) + 2 - 1.0), bound=50, atol=1e-10),
    Identity("mae = mean |d|", lambda x: F.mae_loss(np.zeros(x.shape), x),
             lambda x: np.mean(np.abs(x))),
    Identity("mse_gradient = autodiff gradient of mse_loss (1-D)",
             lambda x: F.mse_gradient(np.ones(x.size), x.reshape(-1)),
             lambda x: grad_of(lambda t: F.mse_loss(np.ones(x.size), t))(x.reshape(-1)),
             atol=1e-12),
]


def arrays(identity: Identity):
    shapes = hnp.array_shapes(min_dims=1, max_dims=3, max_side=5)
    if identity.classes:
        shapes = shapes.filter(lambda s: s[-1] >= 2)
    elements = st.floats(-identity.bound, identity.bound, allow_nan=False)
    return hnp.arrays(np.float64, shapes, elements=elements)


@pytest.mark.parametrize("identity", IDENTITIES, ids=[i.name for i in IDENTITIES])
@given(data=st.data())
def test_identity(identity, data):
    x = data.draw(arrays(identity), label="x")
    lhs = np.asarray(identity.lhs(x), dtype=np.float64)
    rhs = np.asarray(identity.rhs(x), dtype=np.float64)
    np.testing.assert_allclose(lhs, rhs, rtol=identity.rtol, atol=identity.atol)
