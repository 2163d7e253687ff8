"""Exercise 1: the 2 -> 2 -> 2 forward pass by hand, beside what layerwise computes."""

from __future__ import annotations

import math

import numpy as np

from .. import nn
from ._common import LabResult, Table, new_figure, save_figure, task

__all__ = ["forward"]

QUESTION = (
    "Given a network with 2 inputs, 2 hidden neurons (ReLU) and 2 outputs (softmax), "
    "x = [1, 2], W1 = [[0.1, 0.2], [0.3, 0.4]], b1 = [0.1, 0.1], W2 = [[0.5, 0.6], "
    "[0.7, 0.8]], b2 = [0.2, 0.2]: calculate the output by hand, then verify with code."
)


def _vector(value, what: str, size: int | None = None) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 2 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim != 1 or (size is not None and arr.size != size):
        want = f"({size},)" if size is not None else "a vector"
        raise ValueError(f"forward lab: {what} must be {want}, got shape {np.shape(value)}")
    return arr


def _matrix(value, what: str, rows: int) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] != rows:
        raise ValueError(
            f"forward lab: {what} must have shape ({rows}, n), got {np.shape(value)}"
        )
    return arr


def _num(v: float) -> str:
    """A number as written in a formula; negatives in parentheses (``2*(-0.5)``)."""
    return f"({v:.6g})" if v < 0 else f"{v:.6g}"


def _value(v: float) -> str:
    """A table cell: ten decimals, or scientific notation once that would run long."""
    return f"{v:.10f}" if abs(v) < 1e6 else f"{v:.10e}"


def forward(x=(1.0, 2.0), W1=((0.1, 0.2), (0.3, 0.4)), b1=(0.1, 0.1),
            W2=((0.5, 0.6), (0.7, 0.8)), b2=(0.2, 0.2), out=None, progress=False) -> LabResult:
    """Exercise 1: the forward pass of a small ReLU/softmax network, by hand and by layerwise.

    Each value is written out as its hand formula (``z1_1 = 1*0.1 + 2*0.3 + 0.1``),
    evaluated in plain Python floats, and checked against the cache of a float64
    ``lw.nn.Sequential(Dense(relu), Dense(softmax))`` carrying the same weights.

    Args:
        x: ``(n_in,)`` input. W1: ``(n_in, n_hidden)``; b1: ``(n_hidden,)``.
        W2: ``(n_hidden, n_out)``; b2: ``(n_out,)``. Defaults: the chapter's exercise.
        out: folder for the figure (``forward_network.png``), or None for numbers only.
        progress: True, False or None (show when stderr is a terminal).

    Returns:
        ``LabResult`` with data ``Z1, A1, Z2, output`` (layerwise), ``hand`` (the same by
        hand), ``max_abs_difference``, ``matches`` and ``predicted_class``.

    >>> import layerwise as lw
    >>> r = lw.lab.forward()
    >>> [round(p, 4) for p in r['output']], r['matches']
    ([0.4526, 0.5474], True)
    """
    x = _vector(x, "x")
    W1 = _matrix(W1, "W1", x.size)
    b1 = _vector(b1, "b1", W1.shape[1])
    W2 = _matrix(W2, "W2", W1.shape[1])
    b2 = _vector(b2, "b2", W2.shape[1])

    for what, value in (("x", x), ("W1", W1), ("b1", b1), ("W2", W2), ("b2", b2)):
        if not np.isfinite(value).all():
            raise ValueError(f"forward lab: {what} must be finite, got {value.tolist()}")
    with task(progress, "forward", 3) as step:
        net = nn.Sequential(nn.Dense(W1.shape[0], W1.shape[1], "relu", dtype=np.float64),
                            nn.Dense(W2.shape[0], W2.shape[1], "softmax", dtype=np.float64))
        net.load_state_dict({"0.W": W1, "0.b": b1[None], "1.W": W2, "1.b": b2[None]})
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is refused just below
            output = net(x[None]).data[0]
        lib = {"Z1": net[0].cache["Z"][0], "A1": net[0].cache["A"][0],
               "Z2": net[1].cache["Z"][0], "output": output}
        for what in ("Z1", "Z2"):
            if not np.isfinite(lib[what]).all():
                raise ValueError(
                    f"forward lab: {what} = {lib[what].tolist()} overflows float64; choose "
                    "inputs and weights whose products stay below about 1e308")
        step.advance("layerwise forward pass")

        rows: list[tuple] = []
        hand: dict[str, list[float]] = {"Z1": [], "A1": [], "Z2": [], "output": []}

        def affine(inputs, W, b, layer):
            for j in range(W.shape[1]):
                terms = [f"{_num(a)}*{_num(W[i, j])}" for i, a in enumerate(inputs)]
                value = math.fsum([a * W[i, j] for i, a in enumerate(inputs)] + [b[j]])
                hand[f"Z{layer}"].append(value)
                rows.append((f"z{layer}_{j + 1}", " + ".join(terms + [_num(b[j])]), value,
                             lib[f"Z{layer}"][j]))

        affine(list(x), W1, b1, 1)
        for j, z in enumerate(hand["Z1"]):
            hand["A1"].append(max(0.0, z))
            rows.append((f"a1_{j + 1}", f"max(0, {z:.6g})", hand["A1"][-1], lib["A1"][j]))
        affine(hand["A1"], W2, b2, 2)
        z2 = hand["Z2"]
        denominator = " + ".join(f"e^{_num(z)}" for z in z2)
        top = max(z2)  # e^(z - max) / sum e^(z - max): the same ratio, and e^z cannot overflow
        total = math.fsum(math.exp(z - top) for z in z2)
        for j, z in enumerate(z2):
            hand["output"].append(math.exp(z - top) / total)
            rows.append((f"y_{j + 1}", f"e^{_num(z)} / ({denominator})", hand["output"][-1],
                         lib["output"][j]))
        step.advance("hand formulas")

        diffs = [abs(h - v) for _, _, h, v in rows]
        max_diff = max(diffs)
        matches = bool(max_diff <= 1e-12)
        table = Table(
            "Each value by hand and from layerwise (float64)",
            ["value", "hand formula", "by hand", "layerwise", "match"],
            [(name, formula, _value(h), _value(v), "yes" if abs(h - v) <= 1e-12 else "NO")
             for name, formula, h, v in rows],
        )
        predicted = int(np.argmax(output))
        notes = [
            (f"Output probabilities: [{', '.join(f'{p:.4f}' for p in output)}] "
             f"(they sum to {output.sum():.6f}); predicted class {predicted + 1} of "
             f"{output.size}."),
            f"Largest difference between hand and layerwise: {max_diff:.2e} -> "
            + ("every value checks out." if matches else "MISMATCH, see the table."),
        ]
        figures = {}
        if out is not None:
            figures["The network with every weight, bias and value"] = _draw(
                x, W1, b1, W2, b2, lib, out)
        step.advance("figure" if out is not None else "done")

    data = {
        "x": x, "W1": W1, "b1": b1, "W2": W2, "b2": b2,
        **{k: np.asarray(v) for k, v in lib.items()},
        "hand": hand, "max_abs_difference": max_diff, "matches": matches,
        "predicted_class": predicted,
    }
    headline = (f"output [{', '.join(f'{p:.4f}' for p in output)}]; hand and layerwise agree "
                f"to {max_diff:.1e}" + ("" if matches else " -- MISMATCH"))
    return LabResult("forward", "Exercise 1 - A forward pass by hand", QUESTION, data,
                     [table], notes, figures, headline=headline)


def _draw(x, W1, b1, W2, b2, lib, out):
    """Neurons as circles holding their values; edges labelled with their weights."""
    from matplotlib.patches import Circle

    fig, ax = new_figure(size=(8.6, 4.8))
    columns = [x.size, W1.shape[1], W2.shape[1]]
    xs = [0.0, 4.0, 8.0]

    pos = [[(cx, ((n - 1) / 2 - i) * 2.2) for i in range(n)] for cx, n in zip(xs, columns)]
    radius = 0.78
    for layer, W in ((0, W1), (1, W2)):
        for i, (x0, y0) in enumerate(pos[layer]):
            for j, (x1, y1) in enumerate(pos[layer + 1]):
                ax.plot([x0 + radius, x1 - radius], [y0, y1], color="#8a8a8a", lw=1.2, zorder=1)
                t = 0.3 if i == j else 0.22
                lx, ly = x0 + radius + t * (x1 - x0 - 2 * radius), y0 + t * (y1 - y0)
                ax.text(lx, ly + 0.18, f"w={W[i, j]:g}", ha="center", va="bottom", fontsize=8.5,
                        color="#444444",
                        bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.6})
    texts = [
        [f"x{i + 1}\n{v:g}" for i, v in enumerate(x)],
        [f"z={z:.4g}\na={a:.4g}" for z, a in zip(lib["Z1"], lib["A1"])],
        [f"z={z:.4g}\np={p:.4f}" for z, p in zip(lib["Z2"], lib["output"])],
    ]
    colors = ["#d9f0d3", "#dbe9f6", "#ece3f7"]
    for layer, (points, labels) in enumerate(zip(pos, texts)):
        for k, ((cx, cy), label) in enumerate(zip(points, labels)):
            ax.add_patch(Circle((cx, cy), radius, facecolor=colors[layer], edgecolor="#333333",
                                lw=1.2, zorder=2))
            ax.text(cx, cy, label, ha="center", va="center", fontsize=9.5, zorder=3)
            if layer > 0:
                b = (b1, b2)[layer - 1][k]
                ax.text(cx, cy - radius - 0.12, f"b={b:g}", ha="center", va="top", fontsize=8.5,
                        color="#444444")
    for cx, title in zip(xs, ["input", "hidden (ReLU)", "output (softmax)"]):
        ax.text(cx, max(p[1] for col in pos for p in col) + radius + 0.45, title, ha="center",
                fontsize=10.5, weight="bold")
    ax.set_xlim(-1.2, 9.2)
    ax.set_aspect("equal")
    ax.set_axis_off()
    return save_figure(fig, out, "forward_network.png")
