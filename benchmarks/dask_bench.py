"""Dask: scoring throughput with 1 and 2 workers, and data-parallel step time against one process.

Scoring: ``layerwise.dask.predict`` of a 32 -> 256 -> 256 -> 10 MLP (float32) over a large
array held in the workers' memory (generated there and persisted before timing, so only the
scoring is timed; the outputs are reduced on the workers, so only a small sum comes back).
Each worker is one process with one thread (Dask's nanny sets OMP/OPENBLAS threads to 1), so
the speed-up from 1 to 2 workers is what a second process buys (target: >= 1.6x).

Training: the seconds per step of ``layerwise.dask.fit`` on 2 workers (each computing the
gradient of half of every batch, the caller averaging and stepping Adam) against ``lw.fit``
in this process on the same batches, for a small and a large batch. The difference is the
price of the round trip per step (weights out, gradients back).

    python benchmarks/dask_bench.py [--rows N] [--repeats R] [--quick] [--json PATH]

Times are medians of R runs; the machine's other load shows in them, so run it on an idle
machine and read the ratio rather than the absolute numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # benchmark this working tree

import layerwise as lw

SIZES = [32, 256, 256, 10]


def _cluster(n_workers):
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                           dashboard_address=":0")
    return cluster, Client(cluster)


def scoring(rows, repeats, chunk_rows=100_000):
    """Rows scored per second with 1 and 2 workers."""
    import dask.array as da
    from distributed import wait

    import layerwise.dask as lwd

    net = lw.MLP(SIZES, output_activation="none", rng=0, dtype=np.float32)
    results = {}
    for n_workers in (1, 2):
        cluster, client = _cluster(n_workers)
        try:
            X = da.random.default_rng(0).standard_normal((rows, SIZES[0]),
                                                         chunks=(chunk_rows, SIZES[0]))
            X = client.persist(X.astype(np.float32))
            wait(X)
            total = lwd.predict(net, X).sum(axis=0)
            client.compute(total).result()  # warm: the model reaches every worker
            times = []
            for _ in range(repeats):
                started = time.perf_counter()
                client.compute(total).result()
                times.append(time.perf_counter() - started)
            results[n_workers] = rows / statistics.median(times)
        finally:
            client.close()
            cluster.close()
    return results


def training(repeats, epochs=2, n=16_384):
    """Seconds per step: layerwise.dask.fit on 2 workers against lw.fit in this process."""
    import layerwise.dask as lwd

    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, SIZES[0])).astype(np.float32)
    y = rng.integers(0, SIZES[-1], n)
    loss = lw.nn.CrossEntropyLoss()
    results = {}
    cluster, client = _cluster(2)
    try:
        for batch in (256, 4096):
            steps = epochs * -(-n // batch)
            for name in ("single", "dask"):
                times = []
                for _ in range(repeats):
                    net = lw.MLP(SIZES, output_activation="none", rng=0, dtype=np.float32)
                    opt = lw.optim.Adam(net.parameters())
                    started = time.perf_counter()
                    if name == "single":
                        lw.fit(net, X, y, loss, opt, epochs, batch, shuffle=False,
                               progress=False)
                    else:
                        lwd.fit(net, X, y, loss, opt, epochs, batch, client=client)
                    times.append((time.perf_counter() - started) / steps)
                results[(batch, name)] = statistics.median(times)
    finally:
        client.close()
        cluster.close()
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2_000_000, help="rows scored")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="fewer rows and repeats")
    parser.add_argument("--json", help="also write the numbers to this file")
    args = parser.parse_args(argv)
    rows, repeats = (200_000, 1) if args.quick else (args.rows, args.repeats)
    print(f"Dask benchmarks ({os.cpu_count()} CPUs; MLP {' -> '.join(map(str, SIZES))}, "
          "float32)")
    score = scoring(rows, repeats)
    print(f"\nScoring {rows:,} rows (layerwise.dask.predict, persisted dask.array):")
    for n_workers, rate in score.items():
        print(f"  {n_workers} worker{'s' if n_workers > 1 else ' '}  {rate:12,.0f} rows/s")
    speedup = score[2] / score[1]
    print(f"  speed-up 1 -> 2 workers: {speedup:.2f}x (target >= 1.6x)")
    train = training(repeats)
    print("\nTraining step (Adam, cross-entropy), seconds per step:")
    print(f"  {'batch':>6}  {'lw.fit':>10}  {'dask.fit x2':>12}  ratio")
    for batch in (256, 4096):
        single, dask = train[(batch, "single")], train[(batch, "dask")]
        print(f"  {batch:>6}  {single * 1e3:8.2f}ms  {dask * 1e3:10.2f}ms  {dask / single:5.1f}x")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "rows": rows, "scoring_rows_per_s": {str(k): v for k, v in score.items()},
            "speedup_2_workers": speedup,
            "step_seconds": {f"{b}-{name}": v for (b, name), v in train.items()},
        }, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
