"""Exercise 3: Huber loss against MSE and MAE, as curves and as line fits to data with outliers."""

from __future__ import annotations

import numpy as np

from .. import functional as F
from .. import nn, optim
from ..autodiff.tensor import Tensor
from ..training import fit
from ._common import LabResult, Table, chapter_rng, check_sizes, new_figure, save_figure, task

__all__ = ["LOSSES", "huber", "make_outlier_data"]

QUESTION = (
    "Implement the Huber loss L_delta = 1/2 (y - y_hat)^2 if |y - y_hat| <= delta, else "
    "delta |y - y_hat| - 1/2 delta^2, and compare its behaviour to MSE and MAE for inputs "
    "with outliers."
)

LOSSES = {
    "MSE": lambda y, p, delta, reduction="mean": F.mse_loss(y, p, reduction=reduction),
    "MAE": lambda y, p, delta, reduction="mean": F.mae_loss(y, p, reduction=reduction),
    "Huber": lambda y, p, delta, reduction="mean": F.huber_loss(y, p, delta=delta,
                                                                reduction=reduction),
}
"""The three losses compared, by display name: ``fn(y_true, y_pred, delta, reduction)``."""

COLORS = {"MSE": "#c0392b", "MAE": "#7b3294", "Huber": "#1a9850"}


def make_outlier_data(n_samples=60, n_outliers=6, slope=2.0, intercept=1.0, noise=0.5,
                      outlier_shift=12.0, seed=42):
    """Points near the line ``y = slope x + intercept``, the rightmost few pushed down.

    ``x ~ U(-3, 3)``, ``y = slope x + intercept + noise N(0, 1)``, then the ``n_outliers``
    points with the largest x get ``y -= outlier_shift`` (a sensor reading low at one end).

    Returns:
        ``(x, y, outlier_mask)``, each ``(n_samples,)``.
    """
    rng = chapter_rng(seed)
    x = rng.uniform(-3.0, 3.0, n_samples)
    y = slope * x + intercept + noise * rng.standard_normal(n_samples)
    mask = np.zeros(n_samples, dtype=bool)
    if n_outliers:
        mask[np.argsort(x)[-n_outliers:]] = True
    y[mask] -= outlier_shift
    return x, y, mask


def _fit_line(loss_fn, x, y, epochs, lr):
    """Fit ``lw.nn.Linear(1, 1)`` from zero with ``lw.fit`` and full-batch SGD; returns
    ``(slope, intercept, last epoch's loss)``."""
    model = nn.Linear(1, 1, init="zeros", dtype=np.float64)
    history = fit(model, x[:, None], y[:, None], loss_fn, optim.SGD(model.parameters(), lr=lr),
                  epochs=epochs, batch_size=len(x), shuffle=False, progress=False)
    return float(model.W.data[0, 0]), float(model.b.data[0, 0]), float(history["loss"][-1])


def _line_distance(slope, intercept, true_slope, true_intercept, lo, hi) -> float:
    """Root-mean-square vertical gap between two lines over [lo, hi]."""
    grid = np.linspace(lo, hi, 201)
    return float(np.sqrt(np.mean(((slope - true_slope) * grid + intercept - true_intercept) ** 2)))


def huber(n_samples: int = 60, n_outliers: int = 6, outlier_shift: float = 12.0,
          delta: float = 1.0, slope: float = 2.0, intercept: float = 1.0, noise: float = 0.5,
          epochs: int = 500, lr: float = 0.05, seed: int = 42, out=None,
          progress=False) -> LabResult:
    """Exercise 3: MSE, MAE and Huber as functions of the error, and a line fitted with each.

    The curves are ``lw.F.mse_loss``, ``mae_loss`` and ``huber_loss(delta)`` with
    ``reduction='none'`` over errors in [-4, 4], with their derivatives from autodiff. The
    fits train ``lw.nn.Linear(1, 1)`` from zero with ``lw.fit`` and ``lw.optim.SGD`` (full
    batch, no shuffling) on
    ``make_outlier_data(...)``; each fit is scored by its RMS vertical distance to the true
    line over the data's x range.

    Args:
        n_samples, n_outliers, outlier_shift, slope, intercept, noise: the data (see
            ``make_outlier_data``).
        delta: Huber's threshold between the quadratic and the linear part.
        epochs, lr: gradient-descent steps and learning rate.
        seed: data seed (``np.random.RandomState(seed)``).
        out: folder for ``huber_losses.png`` and ``huber_fit.png``, or None.
        progress: True, False or None (show when stderr is a terminal).

    Returns:
        ``LabResult`` with data ``fits`` (``{loss: {slope, intercept, final_loss,
        distance_to_true_line}}``), ``true_line``, ``x``, ``y``, ``outliers`` and ``curves``.

    >>> import layerwise as lw
    >>> r = lw.lab.huber(epochs=200)
    >>> d = {k: v['distance_to_true_line'] for k, v in r['fits'].items()}
    >>> d['Huber'] < d['MSE'] and d['MAE'] < d['MSE']
    True
    """
    if not 0 <= n_outliers < n_samples or n_samples < 2:
        raise ValueError(
            f"huber lab: need n_samples >= 2 and 0 <= n_outliers < n_samples, got "
            f"n_samples={n_samples}, n_outliers={n_outliers}"
        )
    if not delta > 0:
        raise ValueError(f"huber lab: delta must be > 0, got {delta}")
    check_sizes("huber", data=n_samples)

    with task(progress, "huber", len(LOSSES) + 2) as step:
        errors = np.linspace(-4.0, 4.0, 161)
        curves: dict[str, np.ndarray | None] = {"error": errors}
        for name, fn in LOSSES.items():
            e = Tensor(errors, requires_grad=True)
            values = fn(np.zeros_like(errors), e, delta, reduction="none")
            values.sum().backward()
            curves[name] = values.data
            curves[f"{name}_grad"] = e.grad
        step.advance("loss curves")

        x, y, mask = make_outlier_data(n_samples, n_outliers, slope, intercept, noise,
                                       outlier_shift, seed)
        fits = {}
        for name, fn in LOSSES.items():
            a, b, final = _fit_line(lambda yt, yp, fn=fn: fn(yt, yp, delta), x, y, epochs, lr)
            fits[name] = {
                "slope": a, "intercept": b, "final_loss": final,
                "distance_to_true_line": _line_distance(a, b, slope, intercept, x.min(), x.max()),
            }
            step.advance(f"{name} fit")

        table = Table(
            f"Lines fitted to {n_samples} points ({n_outliers} outliers shifted by "
            f"-{outlier_shift:g}); true line y = {slope:g} x + {intercept:g}",
            ["loss", "slope", "intercept", "slope error", "intercept error",
             "RMS distance to true line"],
            [[name, f"{f['slope']:.3f}", f"{f['intercept']:.3f}", f"{f['slope'] - slope:+.3f}",
              f"{f['intercept'] - intercept:+.3f}", f"{f['distance_to_true_line']:.3f}"]
             for name, f in fits.items()],
        )
        dist = {name: f["distance_to_true_line"] for name, f in fits.items()}
        notes = [
            (f"MSE squares every error: an outlier {outlier_shift:g} off costs "
             f"~{outlier_shift ** 2 / max(noise, 1e-12) ** 2:.0f} times an ordinary point "
             f"(noise {noise:g}), so the fit bends towards the outliers and lands "
             f"{dist['MSE']:.2f} from the true line. MAE gives every point the "
             f"same pull, whatever its error ({dist['MAE']:.2f} away); Huber is quadratic "
             f"for errors below delta = {delta:g} (smooth, like MSE, near the fit) and linear "
             f"beyond (robust, like MAE): {dist['Huber']:.2f} away. Its gradient is the error "
             f"clipped to [-delta, delta], so no single point can pull harder than delta."),
        ]
        figures = {}
        if out is not None:
            figures.update(_draw(curves, delta, x, y, mask, fits, slope, intercept, out))
        step.advance("figures" if out is not None else "done")

    data = {
        "true_line": {"slope": slope, "intercept": intercept}, "delta": delta,
        "fits": fits, "x": x, "y": y, "outliers": mask, "epochs": epochs, "lr": lr,
        "curves": curves,
    }
    headline = "distance of each fit from the true line: " + ", ".join(
        f"{name} {d:.2f}" for name, d in dist.items())
    return LabResult("huber", "Exercise 3 - Huber loss against outliers", QUESTION, data,
                     [table], notes, figures, headline=headline)


def _draw(curves, delta, x, y, mask, fits, slope, intercept, out):
    fig, (left, right) = new_figure(1, 2, size=(10.5, 4.0))
    e = curves["error"]
    labels = {"MSE": "MSE  e^2", "MAE": "MAE  |e|", "Huber": f"Huber  delta = {delta:g}"}
    for name in LOSSES:
        left.plot(e, curves[name], color=COLORS[name], lw=2.2, label=labels[name])
        right.plot(e, curves[f"{name}_grad"], color=COLORS[name], lw=2.2, label=labels[name])
    left.set_ylim(-0.2, 8)
    left.set_title("Loss as a function of the error e = y_hat - y")
    right.set_title("Its derivative: Huber's is the error clipped to [-delta, delta]")
    for ax in (left, right):
        ax.axvspan(-delta, delta, color="#1a9850", alpha=0.08, lw=0)
        ax.set_xlabel("error e")
        ax.grid(alpha=0.3)
        ax.legend()
    losses_path = save_figure(fig, out, "huber_losses.png")

    fig, ax = new_figure(size=(7.5, 5.0))
    ax.scatter(x[~mask], y[~mask], s=22, color="#555555", label="data", zorder=3)
    ax.scatter(x[mask], y[mask], s=60, marker="x", color="#d6604d", linewidths=2,
               label="outliers", zorder=3)
    grid = np.linspace(x.min(), x.max(), 2)
    ax.plot(grid, slope * grid + intercept, color="black", ls="--", lw=1.8,
            label=f"true line  y = {slope:g} x + {intercept:g}")
    for name, f in fits.items():
        ax.plot(grid, f["slope"] * grid + f["intercept"], color=COLORS[name], lw=2.2,
                label=f"{name} fit  y = {f['slope']:.2f} x {'-' if f['intercept'] < 0 else '+'} "
                      f"{abs(f['intercept']):.2f}")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title("Lines fitted with each loss (layerwise Linear(1, 1), lw.fit, SGD)")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=9)
    fit_path = save_figure(fig, out, "huber_fit.png")
    return {"MSE, MAE and Huber as functions of the error, and their derivatives": losses_path,
            "A line fitted with each loss to data with outliers": fit_path}
