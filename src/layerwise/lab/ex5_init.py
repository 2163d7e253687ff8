"""Exercise 5: activation statistics of a deep network under each weight initialisation."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import nn
from ..autodiff.tensor import no_grad
from ..init import METHODS
from ._common import (
    LabResult,
    Table,
    chapter_rng,
    check_sizes,
    network_counts,
    new_figure,
    save_figure,
    task,
)

__all__ = ["init"]

QUESTION = (
    "Create a 5-layer network (100 -> 100 -> 100 -> 100 -> 10), initialise it with zeros, "
    "small random values, Xavier and He, pass random input through it, record the mean and "
    "std of the activations at each layer, and plot their histograms."
)

ACTIVATIONS = ("relu", "tanh", "sigmoid", "leaky_relu")


def init(layer_sizes=(100, 100, 100, 100, 10), methods=("zeros", "random", "xavier", "he"),
         activation: str = "relu", n_samples: int = 1000, bins: int = 60, seed: int = 42,
         out=None, progress=False) -> LabResult:
    """Exercise 5: per-layer activation mean and std under each initialisation method.

    For each method, ``np.random.RandomState(seed)`` draws the input ``X ~ N(0, 1)`` of
    shape ``(n_samples, layer_sizes[0])`` and then each layer's ``W`` in order (``b = 0``),
    exactly as the chapter's ``initialize_weights`` does after ``np.random.seed(seed)``;
    ``lw.MLP(layer_sizes, hidden_activation=activation, output_activation='none',
    init=method)`` in float64 runs the forward pass. The output layer is left linear so its
    spread is comparable with the hidden layers'.

    Args:
        layer_sizes: ``[n_input, hidden..., n_output]``.
        methods: names from ``lw.init.METHODS``.
        activation: hidden activation: ReLU (default; He is derived for it) or tanh
            (Xavier's case), sigmoid, leaky_relu.
        n_samples: rows of random input. bins: histogram bins.
        seed: the seed (``np.random.RandomState(seed)``, as ``np.random.seed``).
        out: folder for ``init_histograms.png`` (and ``init_std.png``), or None.
        progress: True, False or None (show when stderr is a terminal).

    Returns:
        ``LabResult`` with data ``stats[method]``: one ``{layer, n_out, activation, mean,
        std, zero_fraction}`` per layer, and ``input_std``.

    >>> import layerwise as lw
    >>> r = lw.lab.init(n_samples=200)
    >>> [round(s['std'], 2) for s in r['stats']['zeros']]
    [0.0, 0.0, 0.0, 0.0]
    """
    sizes = [int(n) for n in layer_sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"init lab: layer_sizes needs >= 2 positive sizes, got {layer_sizes}")
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise ValueError(f"init lab: unknown methods {unknown}; known: {', '.join(METHODS)}")
    if activation not in ACTIVATIONS:
        raise ValueError(
            f"init lab: activation must be one of {', '.join(ACTIVATIONS)}, got {activation!r}"
        )
    check_sizes("init", **network_counts(sizes, n_samples))

    stats: dict[str, list[dict[str, Any]]] = {}
    activations = {}
    with task(progress, "init", len(methods) + int(out is not None)) as step:
        for method in methods:
            rng = chapter_rng(seed)
            X = rng.standard_normal((n_samples, sizes[0]))
            net = nn.MLP(sizes, hidden_activation=activation, output_activation="none",
                         init=method, rng=rng, dtype=np.float64)
            with no_grad():
                _, cache = net.forward_with_cache(X)
            activations[method] = [c["A"] for c in cache[1:]]
            stats[method] = [
                {"layer": i, "n_out": int(A.shape[1]),
                 "activation": activation if i < len(sizes) - 1 else "none",
                 "mean": float(A.mean()), "std": float(A.std()),
                 "zero_fraction": float(np.mean(A == 0))}
                for i, A in enumerate(activations[method], start=1)
            ]
            step.advance(method)

        rows = []
        for method in methods:
            for s in stats[method]:
                rows.append([method, f"{s['layer']} ({s['activation']}, {s['n_out']})",
                             f"{s['mean']:.3e}", f"{s['std']:.3e}", f"{100 * s['zero_fraction']:.1f}%"])
        table = Table(
            f"Activations of {' -> '.join(map(str, sizes))} ({activation} hidden, linear "
            f"output) for {n_samples} random inputs (input std {X.std():.3f})",
            ["init", "layer", "mean", "std", "exactly 0"], rows,
        )
        notes = [_verdict(m, stats[m]) for m in methods]
        figures = {}
        if out is not None:
            figures["Histograms of each layer's activations under each initialisation"] = (
                _draw(activations, stats, methods, activation, bins, out))
            figures["Activation std layer by layer (log scale)"] = _draw_std(stats, methods,
                                                                           activation, out)
            step.advance("figures")

    data = {"layer_sizes": sizes, "activation": activation, "n_samples": n_samples,
            "seed": seed, "input_std": float(X.std()), "stats": stats}
    last = max(len(sizes) - 2, 1)  # the deepest hidden layer
    headline = f"activation std at layer {last} ({activation}): " + ", ".join(
        f"{m} {stats[m][last - 1]['std']:.2g}" for m in methods)
    return LabResult("init", "Exercise 5 - Weight initialisation and activation statistics",
                     QUESTION, data, [table], notes, figures, headline=headline)


def _verdict(method: str, layers: list) -> str:
    """One sentence per method, read off its numbers."""
    first, last_hidden = layers[0]["std"], layers[-2]["std"] if len(layers) > 1 else 0.0
    stds = ", ".join(f"{s['std']:.2g}" for s in layers)
    if first == 0 and last_hidden == 0:
        return (f"{method}: every activation is exactly 0 (std {stds}): all neurons of a layer "
                f"compute the same thing and receive the same gradient, so they never "
                f"become different (the symmetry problem).")
    ratio = last_hidden / first if first else float("inf")
    per_layer = ratio ** (1 / max(len(layers) - 2, 1))
    if per_layer < 0.5:
        trend = "the signal collapses towards 0, it vanishes"
    elif per_layer < 0.9:
        trend = "the spread shrinks layer after layer"
    elif per_layer <= 1.1:
        trend = "the spread is kept from layer to layer"
    else:
        trend = "the spread grows layer after layer"
    return f"{method}: std by layer {stds}; {trend} (x{per_layer:.2f} per hidden layer)."


COLORS = {"zeros": "#7f7f7f", "random": "#d6604d", "xavier": "#4393c3", "he": "#1a9850"}


def _draw(activations, stats, methods, activation, bins, out):
    n_layers = len(next(iter(activations.values())))
    fig, axes = new_figure(len(methods), n_layers, size=(2.6 * n_layers + 0.6,
                                                         1.9 * len(methods) + 0.8),
                           squeeze=False)
    for col in range(n_layers):
        values = np.concatenate([activations[m][col].ravel() for m in methods])
        lo, hi = np.percentile(values, [0.2, 99.8])  # the last 0.2% of the tails is not drawn
        if hi - lo < 1e-12:
            lo, hi = lo - 1, hi + 1
        lo, hi = lo - 0.03 * (hi - lo), hi + 0.03 * (hi - lo)  # keep a spike at 0 in view
        edges = np.linspace(lo, hi, bins + 1)
        for row, method in enumerate(methods):
            ax = axes[row, col]
            A = activations[method][col].ravel()
            s = stats[method][col]
            shown = A[A != 0] if activation == "relu" and col < n_layers - 1 else A
            if shown.size and np.ptp(shown) > 0:
                ax.hist(shown, bins=edges, color=COLORS.get(method, "#555555"))
            else:  # a single value: draw it as a bar, not an empty panel
                ax.axvline(shown[0] if shown.size else 0.0, lw=4,
                           color=COLORS.get(method, "#555555"))
            ax.set_xlim(lo, hi)
            ax.set_yticks([])
            text = f"std {s['std']:.2g}"
            if s["zero_fraction"] > 0:
                text += f"\n{100 * s['zero_fraction']:.0f}% exactly 0"
            ax.text(0.97, 0.93, text, transform=ax.transAxes, ha="right", va="top", fontsize=8,
                    bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1})
            if row == 0:
                kind = activation if col < n_layers - 1 else "linear output"
                ax.set_title(f"layer {col + 1} ({kind})", fontsize=10)
            if col == 0:
                ax.set_ylabel(method, fontsize=11, weight="bold")
            ax.tick_params(labelsize=8)
    note = " (ReLU zeros left out of the bars)" if activation == "relu" else ""
    fig.suptitle(f"Activations under each initialisation, same input, same x range per "
                 f"layer{note}", fontsize=11)
    return save_figure(fig, out, "init_histograms.png")


def _draw_std(stats, methods, activation, out):
    fig, ax = new_figure(size=(6.5, 4.0))
    for method in methods:
        layers = [s["layer"] for s in stats[method]]
        stds = np.array([s["std"] for s in stats[method]])
        label = (method if stds.all() else
                 f"{method} (std 0 {'at every layer' if not stds.any() else 'at some layers'}: "
                 f"off a log scale)")
        shown = stds > 0
        ax.plot(np.array(layers)[shown], stds[shown], "o-", color=COLORS.get(method, "#555555"),
                lw=2, label=label)
    ax.set_yscale("log")
    ax.set_xticks(layers)
    ax.set_xlabel("layer")
    ax.set_ylabel("activation std (log scale)")
    ax.set_title(f"Spread of the activations layer by layer ({activation} hidden layers)")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    return save_figure(fig, out, "init_std.png")
