"""Loss modules with PyTorch's names, called ``loss_fn(y_true, y_pred)`` as the chapter."""

from __future__ import annotations

from .. import functional as F
from .module import Module

__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "CategoricalCrossEntropyLoss",
    "CrossEntropyLoss",
    "HuberLoss",
    "L1Loss",
    "MAELoss",
    "MSELoss",
]


class _Loss(Module):
    """A loss module: holds the reduction (and options) and calls ``lw.functional``."""

    def __init__(self, reduction: str = "mean"):
        if reduction not in F.REDUCTIONS:
            raise ValueError(
                f"unknown reduction {reduction!r}; known: {', '.join(F.REDUCTIONS)}"
            )
        self.reduction = reduction

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}" if self.reduction != "mean" else ""


class MSELoss(_Loss):
    """``lw.F.mse_loss``: (y - y^)^2, reduced."""

    def forward(self, y_true, y_pred):
        return F.mse_loss(y_true, y_pred, reduction=self.reduction)


class L1Loss(_Loss):
    """``lw.F.mae_loss``: |y - y^|, reduced."""

    def forward(self, y_true, y_pred):
        return F.mae_loss(y_true, y_pred, reduction=self.reduction)


MAELoss = L1Loss


class HuberLoss(_Loss):
    """``lw.F.huber_loss``: quadratic within ``delta``, linear beyond."""

    def __init__(self, delta: float = 1.0, reduction: str = "mean"):
        super().__init__(reduction)
        if not delta > 0:
            raise ValueError(f"HuberLoss: delta must be > 0, got {delta}")
        self.delta = delta

    def forward(self, y_true, y_pred):
        return F.huber_loss(y_true, y_pred, delta=self.delta, reduction=self.reduction)

    def extra_repr(self) -> str:
        return ", ".join(filter(None, [f"delta={self.delta}", super().extra_repr()]))


class BCELoss(_Loss):
    """``lw.F.binary_cross_entropy`` on probabilities."""

    def __init__(self, epsilon: float = 1e-15, reduction: str = "mean"):
        super().__init__(reduction)
        self.epsilon = epsilon

    def forward(self, y_true, y_pred):
        return F.binary_cross_entropy(y_true, y_pred, self.epsilon, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """``lw.F.binary_cross_entropy_with_logits``: sigmoid and BCE in one stable step."""

    def forward(self, y_true, logits):
        return F.binary_cross_entropy_with_logits(y_true, logits, reduction=self.reduction)


class CategoricalCrossEntropyLoss(_Loss):
    """``lw.F.categorical_cross_entropy``: one-hot targets, probabilities (softmax outputs)."""

    def __init__(self, epsilon: float = 1e-15, reduction: str = "mean"):
        super().__init__(reduction)
        self.epsilon = epsilon

    def forward(self, y_true, y_pred):
        return F.categorical_cross_entropy(y_true, y_pred, self.epsilon,
                                           reduction=self.reduction)


class CrossEntropyLoss(_Loss):
    """``lw.F.cross_entropy``: integer labels (or class probabilities) and logits."""

    def __init__(self, label_smoothing: float = 0.0, reduction: str = "mean"):
        super().__init__(reduction)
        self.label_smoothing = label_smoothing

    def forward(self, y_true, logits):
        return F.cross_entropy(y_true, logits, self.label_smoothing, reduction=self.reduction)

    def extra_repr(self) -> str:
        extra = [f"label_smoothing={self.label_smoothing}" if self.label_smoothing else "",
                 super().extra_repr()]
        return ", ".join(filter(None, extra))
