"""Exercise 2: MSE against binary cross-entropy for a true label of 1, values and gradients."""

from __future__ import annotations

import numpy as np

from .. import functional as F
from ..autodiff.tensor import Tensor
from ._common import LabResult, Table, check_sizes, new_figure, save_figure, task

__all__ = ["losses"]

QUESTION = (
    "For a binary classification problem, compare how MSE and binary cross-entropy change "
    "as the prediction varies from 0 to 1 for a true label of 1: plot both losses for "
    "y_hat in [0.01, 0.99], plot their gradients dL/dy_hat, and explain why cross-entropy "
    "is preferred for classification."
)

SHOWN = (0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99)


def _per_point(loss_fn, y_true, y_hat):
    """Per-point losses and d loss_i / d y_hat_i, by autodiff."""
    p = Tensor(y_hat, requires_grad=True)
    values = loss_fn(y_true, p, reduction="none")
    values.sum().backward()
    return values.data, p.grad


def _through_sigmoid(loss_fn, y_true, y_hat):
    """d loss_i / d z_i where y_hat = sigmoid(z): what a logit actually receives."""
    z = Tensor(np.log(y_hat) - np.log1p(-y_hat), requires_grad=True)
    loss_fn(y_true, F.sigmoid(z), reduction="none").sum().backward()
    return z.grad


def losses(n_points: int = 99, low: float = 0.01, high: float = 0.99, out=None,
           progress=False) -> LabResult:
    """Exercise 2: MSE and binary cross-entropy for y = 1 over y_hat in [low, high].

    Values come from ``lw.F.mse_loss`` and ``lw.F.binary_cross_entropy`` with
    ``reduction='none'``; gradients from autodiff: dL/dy_hat (MSE: -2(1 - y_hat), BCE:
    -1/y_hat) and, through a sigmoid output y_hat = sigmoid(z), dL/dz (MSE:
    -2(1 - y_hat) y_hat (1 - y_hat), BCE: y_hat - 1).

    Args:
        n_points: number of predictions, evenly spaced from ``low`` to ``high``.
        low, high: the range, inside (0, 1).
        out: folder for ``losses_values.png`` and ``losses_gradients.png``, or None.
        progress: True, False or None (show when stderr is a terminal).

    Returns:
        ``LabResult`` with data ``y_hat, mse, bce, mse_grad, bce_grad, mse_grad_logit,
        bce_grad_logit`` (lists, one value per prediction) and ``gradient_ratio_at_low``.

    >>> import layerwise as lw
    >>> r = lw.lab.losses(n_points=3)
    >>> [round(g, 2) for g in r['bce_grad']]
    [-100.0, -2.0, -1.01]
    """
    if isinstance(n_points, bool) or not isinstance(n_points, (int, np.integer)) or n_points < 2:
        raise ValueError(f"losses lab: n_points must be an integer >= 2, got {n_points!r}")
    if not 0 < low < high < 1:
        raise ValueError(f"losses lab: need 0 < low < high < 1, got low={low}, high={high}")
    check_sizes("losses", predictions=int(n_points))

    with task(progress, "losses", 3) as step:
        y_hat = np.linspace(low, high, int(n_points))
        y_true = np.ones_like(y_hat)
        mse, mse_grad = _per_point(F.mse_loss, y_true, y_hat)
        bce, bce_grad = _per_point(F.binary_cross_entropy, y_true, y_hat)
        step.advance("values and gradients")
        mse_logit = _through_sigmoid(F.mse_loss, y_true, y_hat)
        bce_logit = _through_sigmoid(F.binary_cross_entropy, y_true, y_hat)
        step.advance("through a sigmoid")

        shown = sorted({int(np.argmin(np.abs(y_hat - v))) for v in SHOWN})
        table = Table(
            "Loss and gradient for a true label of 1 (autodiff)",
            ["y_hat", "MSE", "BCE", "dMSE/dy_hat", "dBCE/dy_hat", "dMSE/dz", "dBCE/dz"],
            [[f"{y_hat[i]:.2f}", f"{mse[i]:.4f}", f"{bce[i]:.4f}", f"{mse_grad[i]:.3f}",
              f"{bce_grad[i]:.3f}", f"{mse_logit[i]:.4f}", f"{bce_logit[i]:.4f}"] for i in shown],
        )
        ratio = float(bce_grad[0] / mse_grad[0])
        mid = int(np.argmin(np.abs(y_hat - 0.5)))
        notes = [
            ("dL/dy_hat is the gradient with respect to the prediction; dL/dz is what the "
             "logit z receives when the prediction comes out of a sigmoid, y_hat = sigmoid(z)."),
            (f"Why cross-entropy wins for classification. With a true label of 1, MSE is "
             f"(1 - y_hat)^2: it never exceeds 1, and its gradient -2(1 - y_hat) is at most 2 "
             f"in size, so a confidently wrong prediction (y_hat = {y_hat[0]:.2f}, gradient "
             f"{mse_grad[0]:.2f}) is pushed only {mse_grad[0] / mse_grad[mid]:.1f} times as hard "
             f"as an unsure one (y_hat = {y_hat[mid]:.2f}, gradient {mse_grad[mid]:.2f}). "
             f"Cross-entropy "
             f"is -log(y_hat): it grows without bound as y_hat -> 0 and its gradient -1/y_hat "
             f"reaches {bce_grad[0]:.1f} at y_hat = {y_hat[0]:.2f}, {ratio:.0f} times MSE's: the "
             f"more wrong the prediction, the stronger the correction. Behind a sigmoid the "
             f"contrast is sharper still: the logit's gradient is y_hat - 1 = {bce_logit[0]:.2f} "
             f"for cross-entropy but -2(1 - y_hat) y_hat (1 - y_hat) = {mse_logit[0]:.4f} for "
             f"MSE, which vanishes as the sigmoid saturates, so MSE learns slowest exactly when "
             f"the model is most wrong. Cross-entropy is also the negative log-likelihood of "
             f"the label under the predicted probabilities, so it pairs naturally with "
             f"sigmoid and softmax outputs and trains faster."),
        ]
        figures = {}
        if out is not None:
            figures.update(_draw(y_hat, mse, bce, mse_grad, bce_grad, mse_logit, bce_logit, out))
        step.advance("figures" if out is not None else "done")

    data = {
        "y_true": 1.0, "y_hat": y_hat, "mse": mse, "bce": bce, "mse_grad": mse_grad,
        "bce_grad": bce_grad, "mse_grad_logit": mse_logit, "bce_grad_logit": bce_logit,
        "gradient_ratio_at_low": ratio,
    }
    headline = (f"at y_hat = {y_hat[0]:.2f}: dBCE/dy_hat = {bce_grad[0]:.1f}, dMSE/dy_hat = "
                f"{mse_grad[0]:.2f} ({ratio:.0f}x stronger for cross-entropy)")
    return LabResult("losses", "Exercise 2 - MSE or cross-entropy for classification?",
                     QUESTION, data, [table], notes, figures, headline=headline)


MSE_STYLE = {"color": "#c0392b", "lw": 2.2}
BCE_STYLE = {"color": "#2166ac", "lw": 2.2}


def _draw(y_hat, mse, bce, mse_grad, bce_grad, mse_logit, bce_logit, out):
    fig, ax = new_figure(size=(7.0, 4.2))
    ax.plot(y_hat, mse, label="MSE  (1 - y_hat)^2", **MSE_STYLE)
    ax.plot(y_hat, bce, label="BCE  -log(y_hat)", **BCE_STYLE)
    ax.set_xlabel("prediction y_hat (true label y = 1)")
    ax.set_ylabel("loss")
    ax.set_title("Loss for a true label of 1")
    ax.set_xlim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend()
    values = save_figure(fig, out, "losses_values.png")

    fig, (left, right) = new_figure(1, 2, size=(10.5, 4.2))
    left.plot(y_hat, mse_grad, label="MSE  -2(1 - y_hat)", **MSE_STYLE)
    left.plot(y_hat, bce_grad, label="BCE  -1 / y_hat", **BCE_STYLE)
    left.set_title("dL/dy_hat: cross-entropy's grows as y_hat -> 0")
    left.annotate(f"{bce_grad[0]:.1f} at y_hat = {y_hat[0]:.2f}", (y_hat[0], bce_grad[0]),
                  textcoords="offset points", xytext=(12, 0), va="center",
                  color=BCE_STYLE["color"])
    left.annotate(f"MSE stays within [-2, 0]: {mse_grad[0]:.2f} at y_hat = {y_hat[0]:.2f}",
                  (y_hat[0], mse_grad[0]), textcoords="offset points", xytext=(70, -28),
                  va="top", color=MSE_STYLE["color"],
                  arrowprops={"arrowstyle": "->", "color": MSE_STYLE["color"]})
    right.plot(y_hat, mse_logit, label="MSE  -2(1 - y_hat) y_hat (1 - y_hat)", **MSE_STYLE)
    right.plot(y_hat, bce_logit, label="BCE  y_hat - 1", **BCE_STYLE)
    right.set_title("dL/dz behind a sigmoid, y_hat = sigmoid(z)")
    for ax in (left, right):
        ax.axhline(0, color="#888888", lw=0.8)
        ax.set_xlabel("prediction y_hat (true label y = 1)")
        ax.set_xlim(0, 1)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right")
    left.set_ylabel("gradient")
    grads = save_figure(fig, out, "losses_gradients.png")
    return {"MSE and cross-entropy for a true label of 1": values,
            "Their gradients: with respect to y_hat, and to the logit behind a sigmoid": grads}
