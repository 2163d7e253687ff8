"""Inference throughput: layerwise against ONNX Runtime running the file ``lw.onnx.export``
writes (the same MatMul + Add + activation graph), on the CPU with the same thread count.

Workloads (float32, ReLU hidden layers, softmax out), each at batch sizes 1, 128 and 4,096:

    W2 medium  784 -> 256 -> 128 -> 10
    W3 large   784 -> 1024 -> 1024 -> 10

layerwise runs ``model(x)`` under ``lw.no_grad()`` in evaluation mode; ONNX Runtime runs
``session.run`` with ``intra_op_num_threads`` = the thread count (one by default, as NumPy's
BLAS is limited to) and sequential execution. Both are checked to agree (1e-5) first; calls are
timed in blocks, the two taking turns block by block, and the table shows the median time per
call and layerwise's time as a multiple of ONNX Runtime's (below 1: layerwise is faster).
``--profile`` adds where layerwise's time goes for one batch-1 W2 call (cProfile).

    python benchmarks/onnx_bench.py [--threads N] [--seconds S] [--profile] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # benchmark this working tree

import layerwise as lw

WORKLOADS = {"W2": [784, 256, 128, 10], "W3": [784, 1024, 1024, 10]}
BATCHES = (1, 128, 4096)


def per_call(fn, seconds: float) -> float:
    """Seconds per call of ``fn``, from a block of calls lasting about ``seconds``."""
    calls, start = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return elapsed / calls


def compare(model, session, x, seconds: float, blocks: int = 7) -> tuple[float, float]:
    """Median seconds per call of layerwise and of ONNX Runtime, blocks taken in turn."""

    def layerwise_call():
        with lw.no_grad():
            model(x)

    feed = {"input": x}

    def runtime_call():
        session.run(["output"], feed)

    for fn in (layerwise_call, runtime_call):  # warm up caches and the allocator
        per_call(fn, seconds / 2)
    times = {layerwise_call: [], runtime_call: []}
    for _ in range(blocks):
        for fn, record in times.items():
            record.append(per_call(fn, seconds / blocks))
    return float(np.median(times[layerwise_call])), float(np.median(times[runtime_call]))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="threads for both (default 1)")
    parser.add_argument("--seconds", type=float, default=1.5,
                        help="timing per library and case, in seconds (default 1.5)")
    parser.add_argument("--profile", action="store_true",
                        help="also profile one batch-1 W2 layerwise call")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    try:
        import onnxruntime as ort
        from threadpoolctl import threadpool_limits
    except ImportError as err:
        print(f"onnx_bench needs onnxruntime and threadpoolctl (pip install -e '.[dev]'): {err}")
        return 1

    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    rows = []
    print(f"layerwise {lw.__version__} vs ONNX Runtime {ort.__version__}, {args.threads} "
          f"thread(s), float32, median time per call")
    print(f"{'workload':<10}{'batch':>7}{'layerwise':>14}{'ONNX Runtime':>15}{'ratio':>8}")
    with threadpool_limits(limits=args.threads), tempfile.TemporaryDirectory() as folder:
        for name, sizes in WORKLOADS.items():
            model = lw.MLP(sizes, rng=0, dtype=np.float32).eval()
            path = lw.onnx.export(model, Path(folder) / f"{name}.onnx")
            session = ort.InferenceSession(str(path), options,
                                           providers=["CPUExecutionProvider"])
            for batch in BATCHES:
                x = np.random.default_rng(1).standard_normal((batch, sizes[0]), np.float32)
                with lw.no_grad():
                    want = model(x).data
                got = session.run(["output"], {"input": x})[0]
                np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
                ours, theirs = compare(model, session, x, args.seconds)
                rows.append({"workload": name, "batch": batch, "layerwise_s": ours,
                             "onnxruntime_s": theirs, "ratio": ours / theirs})
                print(f"{name:<10}{batch:>7}{ours * 1e6:>12.1f}us{theirs * 1e6:>13.1f}us"
                      f"{ours / theirs:>7.2f}x")
        if args.profile:
            profile(lw.MLP(WORKLOADS["W2"], rng=0).eval())
    if args.json:
        args.json.write_text(json.dumps({"threads": args.threads, "rows": rows}, indent=1))
    return 0


def profile(model, calls: int = 20000):
    """Where a batch-1 forward pass spends its time: the top functions by own time."""
    import cProfile
    import pstats

    x = np.random.default_rng(1).standard_normal((1, model.layer_sizes[0]), np.float32)

    def many():
        with lw.no_grad():
            for _ in range(calls):
                model(x)

    profiler = cProfile.Profile()
    profiler.runcall(many)
    print(f"\nlayerwise, W2 at batch 1: the top functions by own time over {calls} calls")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(12)


if __name__ == "__main__":
    sys.exit(main())
