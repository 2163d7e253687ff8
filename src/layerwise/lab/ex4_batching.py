"""Exercise 4: how long a forward pass over the whole data set takes, batch size by batch size."""

from __future__ import annotations

import time
from contextlib import nullcontext

import numpy as np

from .. import data, nn
from ..autodiff.tensor import no_grad
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

__all__ = ["batching"]

QUESTION = (
    "Create a data set of 1000 samples with 10 features, iterate over it in mini-batches of "
    "configurable size, measure the time to process all samples with batch sizes 1, 32, 128 "
    "and 1000, and plot the relationship between batch size and processing time."
)


def _positive_ints(values, what):
    values = [int(v) for v in values]
    if not values or min(values) < 1:
        raise ValueError(f"batching lab: {what} must be positive integers, got {values}")
    return values


def _one_pass(net, X, batch_size):
    return [net(Xb) for Xb in data.batches(X, batch_size=batch_size)]


def _blas_threads(threads):
    """A context pinning BLAS to ``threads`` threads, and how it reads in the summary."""
    if threads is None:
        return nullcontext(), "the BLAS default"
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return nullcontext(), "the BLAS default (install threadpoolctl to pin them)"
    return threadpool_limits(limits=int(threads)), str(threads)


def batching(n_samples: int = 1000, n_features: int = 10, hidden=(64, 64), n_outputs: int = 3,
             batch_sizes=(1, 8, 32, 128, 1000), repeats: int = 7, threads: int | None = 1,
             seed: int = 42, out=None, progress=False) -> LabResult:
    """Exercise 4: time a forward pass over ``n_samples`` rows at each batch size.

    The network is ``lw.MLP([n_features, *hidden, n_outputs])`` (ReLU, softmax, float32),
    run under ``lw.no_grad()`` over ``lw.data.batches(X, batch_size)``. Each batch size is
    run once to warm up, then timed ``repeats`` times with ``time.perf_counter``; the
    median and the interquartile range (25th to 75th percentile) are reported. The
    batched outputs are also checked against one full-batch pass.

    Args:
        n_samples, n_features: the data, ``X ~ N(0, 1)`` of shape ``(n_samples, n_features)``.
        hidden: hidden layer sizes. n_outputs: output size.
        batch_sizes: the batch sizes to time.
        repeats: timed passes per batch size (>= 1; the spread needs >= 3).
        threads: BLAS threads while timing (default 1: steady timings even on a busy
            machine; None: the library's default). Needs ``threadpoolctl``.
        seed: seed for the data and the weights (``np.random.RandomState(seed)``).
        out: folder for ``batching_times.png``, or None.
        progress: True, False or None (show when stderr is a terminal).

    Returns:
        ``LabResult`` with data ``batch_sizes``, ``median_s``, ``q25_s``, ``q75_s``,
        ``times_s`` (every timing), ``per_sample_us``, ``speedup`` (against the first
        batch size) and ``max_abs_difference`` (batched against full-batch outputs).

    >>> import layerwise as lw
    >>> r = lw.lab.batching(n_samples=64, batch_sizes=(1, 64), repeats=2)
    >>> r['max_abs_difference'] < 1e-6, len(r['median_s'])
    (True, 2)
    """
    batch_sizes = _positive_ints(batch_sizes, "batch_sizes")
    hidden = _positive_ints(hidden, "hidden") if len(hidden) else []
    for name, v in (("n_samples", n_samples), ("n_features", n_features),
                    ("n_outputs", n_outputs), ("repeats", repeats), ("threads", threads or 1)):
        _positive_ints([v], name)
    sizes = [n_features, *hidden, n_outputs]
    check_sizes("batching", **network_counts(sizes, n_samples))

    rng = chapter_rng(seed)
    X = rng.standard_normal((n_samples, n_features)).astype(np.float32)
    net = nn.MLP([n_features, *hidden, n_outputs], rng=rng, dtype=np.float32)

    medians, q25s, q75s, all_times, max_diff = [], [], [], [], 0.0
    pinned, threads_text = _blas_threads(threads)
    with task(progress, "batching", len(batch_sizes) + int(out is not None)) as step, \
            no_grad(), pinned:
        full = net(X).data
        for bs in batch_sizes:
            outputs = _one_pass(net, X, bs)  # warm-up, and the correctness check
            max_diff = max(max_diff, float(np.max(np.abs(
                np.concatenate([o.data for o in outputs]) - full))))
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                _one_pass(net, X, bs)
                times.append(time.perf_counter() - start)
            q25, median, q75 = np.percentile(times, [25, 50, 75])
            medians.append(float(median))
            q25s.append(float(q25))
            q75s.append(float(q75))
            all_times.append(times)
            step.advance(f"batch size {bs}: {median * 1e3:.2f} ms")

        per_sample = [m / n_samples * 1e6 for m in medians]
        speedup = [medians[0] / m for m in medians]
        n_batches = [data.num_batches(n_samples, bs) for bs in batch_sizes]
        table = Table(
            f"Forward pass over {n_samples} x {n_features} through "
            f"{' -> '.join(map(str, net.layer_sizes))} (median of {repeats}, IQR = 25th-75th "
            f"percentile, BLAS threads: {threads_text})",
            ["batch size", "batches", "median ms", "IQR ms", "us / sample", "samples / s",
             f"speed-up vs {batch_sizes[0]}"],
            [[str(bs), str(nb), f"{m * 1e3:.3f}", f"{lo * 1e3:.3f}-{hi * 1e3:.3f}", f"{ps:.2f}",
              f"{n_samples / m:,.0f}", f"{s:.1f}x"]
             for bs, nb, m, lo, hi, ps, s in zip(batch_sizes, n_batches, medians, q25s, q75s,
                                                 per_sample, speedup)],
        )
        best = int(np.argmax(speedup))
        notes = [
            (f"Batched outputs equal the full-batch pass (largest difference {max_diff:.1e}). "
             f"Batch size {batch_sizes[best]} processes the data {speedup[best]:.0f}x faster "
             f"than batch size {batch_sizes[0]}: each call pays a fixed cost (Python, "
             f"dispatch, allocation) that a larger batch shares among more rows, and one "
             f"large matrix product lets BLAS use the cache and vector units well. Timings "
             f"vary from machine to machine and run to run; the spread is shown."),
        ]
        figures = {}
        if out is not None:
            figures["Time to process every sample against batch size (log-log)"] = _draw(
                batch_sizes, medians, q25s, q75s, speedup, n_samples, out)
            step.advance("figure")

    result_data = {
        "n_samples": n_samples, "n_features": n_features, "layer_sizes": net.layer_sizes,
        "repeats": repeats, "blas_threads": threads_text, "batch_sizes": batch_sizes, "median_s": medians, "q25_s": q25s,
        "q75_s": q75s, "times_s": all_times, "per_sample_us": per_sample, "speedup": speedup,
        "max_abs_difference": max_diff,
    }
    headline = (f"batch size {batch_sizes[best]}: {medians[best] * 1e3:.2f} ms for all "
                f"{n_samples} samples, {speedup[best]:.0f}x faster than batch size "
                f"{batch_sizes[0]} ({medians[0] * 1e3:.2f} ms)")
    return LabResult("batching", "Exercise 4 - Batch size and processing time", QUESTION,
                     result_data, [table], notes, figures, headline=headline)


def _draw(batch_sizes, medians, q25s, q75s, speedup, n_samples, out):
    from matplotlib.ticker import FuncFormatter

    fig, ax = new_figure(size=(7.0, 4.4))
    ms = np.array(medians) * 1e3
    err = [ms - np.array(q25s) * 1e3, np.array(q75s) * 1e3 - ms]
    ax.errorbar(batch_sizes, ms, yerr=err, fmt="o-", color="#2166ac", ecolor="#555555",
                capsize=4, lw=2, label="median, bars: 25th-75th percentile")
    for bs, m, s in zip(batch_sizes, ms, speedup):
        ax.annotate(f"{m:.2f} ms" + (f"\n{s:.0f}x faster" if s >= 1.5 else ""), (bs, m),
                    textcoords="offset points", xytext=(6, 6), fontsize=8.5)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(batch_sizes, [str(b) for b in batch_sizes])
    ax.set_xlabel("batch size (log scale)")
    ax.set_ylabel(f"time to process all {n_samples} samples, ms (log scale)")
    ax.set_title("Forward pass time against batch size")
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="lower left")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.margins(x=0.2, y=0.2)
    return save_figure(fig, out, "batching_times.png")
