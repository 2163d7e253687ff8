"""The wave-2 losses and options beyond the catalogue's parity rows: PyTorch's edge cases
(every label ignored), option checks, and training with them through ``fit``."""

import numpy as np
import pytest

import layerwise as lw
from layerwise import functional as F
from layerwise import nn


def test_every_label_ignored_gives_nan_and_zero_gradients_as_torch(torch64):
    x = lw.Tensor(np.ones((3, 4)), requires_grad=True)
    y = np.full(3, -100)
    for fn in (F.cross_entropy, lambda y, x: F.nll_loss(y, x)):
        x.grad = None
        out = fn(y, x)
        assert np.isnan(float(out))
        out.backward()
        np.testing.assert_array_equal(x.grad, 0)
    want = torch64.nn.CrossEntropyLoss()(torch64.ones(3, 4), torch64.tensor(y))
    assert torch64.isnan(want)


@pytest.mark.parametrize(("options", "message"), [
    ({"weight": [1.0, -1.0, 1.0]}, "weight must be None or a vector of finite numbers >= 0"),
    ({"weight": [[1.0]]}, "weight must be None or a vector"),
    ({"weight": "heavy"}, "weight must be None or numbers"),
    ({"ignore_index": 1.5}, "ignore_index must be an integer"),
    ({"reduction": "batch"}, "known: mean, sum, none, batchmean"),
])
def test_cross_entropy_options_are_checked_in_function_and_module(options, message):
    with pytest.raises(ValueError, match=message):
        F.cross_entropy(np.array([0, 1]), np.zeros((2, 3)), **options)
    with pytest.raises(ValueError, match=message):
        nn.CrossEntropyLoss(**options)


def test_other_new_options_are_checked():
    with pytest.raises(ValueError, match="log_target must be True or False"):
        nn.KLDivLoss(log_target="yes")
    with pytest.raises(ValueError, match="pos_weight must be None or a vector"):
        F.binary_cross_entropy_with_logits(np.ones(2), np.zeros(2), pos_weight=[np.nan])
    with pytest.raises(ValueError, match=r"label 5 is out of range .* or ignore_index=-100"):
        F.nll_loss(np.array([0, 5]), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="labels of shape"):
        F.nll_loss(np.array([0, 1, 2]), np.zeros((2, 3)))


def test_loss_modules_with_weights_save_their_options():
    loss = nn.CrossEntropyLoss(weight=np.array([1.0, 2.0]), ignore_index=3)
    assert repr(loss) == "CrossEntropyLoss(weight=array([1., 2.]), ignore_index=3)"
    again = nn.CrossEntropyLoss.from_config(loss.get_config())
    x, y = np.random.default_rng(0).standard_normal((4, 2)), np.array([0, 1, 3, 1])
    assert float(again(y, x)) == float(loss(y, x))
    assert repr(nn.KLDivLoss()) == "KLDivLoss()" and nn.KLDivLoss().reduction == "batchmean"


def test_fit_with_ignored_labels_and_nll_loss():
    X, y = lw.datasets.load_iris()
    y = y.copy()
    y[::5] = -100  # unlabelled rows: no loss, no accuracy
    net = lw.MLP([4, 16, 3], output_activation="none", rng=0)
    history = lw.fit(net, X, y, nn.CrossEntropyLoss(), lw.optim.Adam(net.parameters(), 0.05),
                     epochs=30, rng=0, progress=False)
    assert history["accuracy"][-1] > 0.9
    logsoft = lw.MLP([4, 16, 3], output_activation="log_softmax", rng=0)
    history = lw.fit(logsoft, X, y, nn.NLLLoss(), lw.optim.Adam(logsoft.parameters(), 0.05),
                     epochs=30, rng=0, progress=False)
    assert history["accuracy"][-1] > 0.9


def test_kl_div_trains_towards_a_distribution():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 3))
    target = np.exp(X) / np.exp(X).sum(axis=1, keepdims=True)
    net = lw.MLP([3, 3], output_activation="log_softmax", rng=0, dtype=np.float64)
    history = lw.fit(net, X, target, nn.KLDivLoss(), lw.optim.Adam(net.parameters(), 0.05),
                     epochs=40, rng=0, progress=False)
    assert history["loss"][-1] < 0.1 * history["loss"][0]
