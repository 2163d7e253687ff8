"""layerwise against PyTorch eager and the bare-matmul bound, side by side, in one process.

Workloads (float32, ReLU hidden layers, logits out, softmax cross-entropy):

    W1 tiny    4 -> 8 -> 4 -> 3           batch 5
    W2 medium  784 -> 256 -> 128 -> 10    batch 128
    W3 large   784 -> 1024 -> 1024 -> 10  batch 512
    W4         one epoch of ``lw.fit`` on digits (X / 16) against the same PyTorch loop
    W5         the new layers on a 512 x 1024 input: LayerNorm, BatchNorm1d and Dropout
               (p = 0.5), training mode, against torch.nn's, forward and forward + backward

Each of W1-W3 is timed as a forward pass (no graph: ``lw.no_grad`` / ``torch.no_grad``) and as
one training step (zero grads, forward, cross-entropy, backward, SGD update). Next to
layerwise and PyTorch run a careful hand-written NumPy MLP and the *matmul bound*: the same
matrix products in plain NumPy and nothing else (forward: the layer products; training step:
those plus the backward ones, dW = A^T G and dA = G W^T), the time no NumPy code can beat.
Every library starts from the same weights, and one step of each is checked to agree before
anything is timed. Calls are timed in blocks, the libraries taking turns block by block so
that drift on a shared machine hits them alike; the table shows the median and the
interquartile range. The memory a W3 training step adds (peak RSS minus RSS after setup) is
measured for each library in a fresh process.

W5 is timed against PyTorch only (no hand-written or matmul-bound contestant): forward
under ``no_grad`` and forward + backward of a fixed upstream gradient into the input and the
parameters. Outputs and gradients are checked to agree first; Dropout's random streams
differ, so for it only the shapes and the kept fraction are checked.

    python benchmarks/run.py [--threads N[,N...]] [--repeats R] [--quick] [--only W1,W3]
                             [--json PATH]

``--threads 1,2`` times everything at each thread count in turn, in one process, and the table
shows, at each, the ratio of layerwise's time to PyTorch's, to the hand-written NumPy step's and
to the matmul bound's (issue 15's targets hold at every thread count).

OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (set on some machines for old OpenBLAS builds) slow a
current NumPy; the script re-runs itself without them (``--keep-openblas-env`` keeps them) and
reports which BLAS kernel runs.
"""

from __future__ import annotations

import os
import sys

_OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
_UNSET_NOTE = "LAYERWISE_BENCH_UNSET"

# Before NumPy is imported: the BLAS reads these variables once, when it loads.
if __name__ == "__main__" and "--keep-openblas-env" not in sys.argv:
    _found = {k: os.environ[k] for k in _OPENBLAS_VARS if k in os.environ}
    if _found:
        _env = {k: v for k, v in os.environ.items() if k not in _OPENBLAS_VARS}
        _env[_UNSET_NOTE] = ",".join(f"{k}={v}" for k, v in _found.items())
        os.execve(sys.executable, [sys.executable, *sys.argv], _env)

import argparse
import gc
import itertools
import json
import platform
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # benchmark this working tree

import layerwise as lw

try:
    import torch
except ImportError:  # pragma: no cover - the bench needs torch, said clearly below
    torch = None

LR = 1e-3
MIB = 2**20


@dataclass
class Workload:
    key: str
    title: str
    sizes: list
    batch: int


WORKLOADS = {
    "W1": Workload("W1", "tiny", [4, 8, 4, 3], 5),
    "W2": Workload("W2", "medium", [784, 256, 128, 10], 128),
    "W3": Workload("W3", "large", [784, 1024, 1024, 10], 512),
}
W4_SIZES, W4_BATCH, W4_LR = [64, 128, 64, 10], 32, 0.05
W5_SHAPE, W5_LAYERS, W5_P = (512, 1024), ("LayerNorm", "BatchNorm1d", "Dropout"), 0.5
EXTRA_TITLES = {"W5": "new layers"}  # workloads that are not MLPs

# (workload, case) -> (max layerwise / PyTorch, max layerwise / matmul bound); None: no target.
# Issue 15's table, at every thread count.
TARGETS = {
    ("W1", "forward"): (0.45, None),
    ("W1", "train step"): (0.20, None),
    ("W2", "forward"): (1.0, None),
    ("W2", "train step"): (0.75, None),
    ("W3", "forward"): (1.0, 1.05),
    ("W3", "train step"): (1.0, 1.08),
    ("W4", "epoch"): (0.3, None),
    **{("W5", f"{layer} {case}"): (1.0, None) for layer in W5_LAYERS
       for case in ("forward", "fwd+bwd")},
}
MEMORY_TARGET_MIB = 12.0
NOISY_SHARE = 0.05  # other processes' share of the CPU above which a run is flagged noisy

LIBS = ("layerwise", "torch", "numpy", "bound")
LIB_TITLES = {"layerwise": "layerwise", "torch": "PyTorch", "numpy": "NumPy by hand",
              "bound": "matmul bound"}


# ---------------------------------------------------------------------------- contestants
def make_data(sizes, batch, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    y = rng.integers(0, sizes[-1], batch)
    return X, y


def lw_sgd(params, lr):
    """``lw.optim.SGD`` when it exists; until then the same in-place update, written out."""
    optim = getattr(lw, "optim", None) if _has_module("optim") else None
    if optim is not None and hasattr(optim, "SGD"):
        return optim.SGD(params, lr=lr)

    class _SGD:
        def zero_grad(self):
            for p in params:
                p.grad = None

        def step(self):
            for p in params:
                p.grad *= lr
                p.data -= p.grad

    return _SGD()


def _has_module(name):
    import importlib.util

    return importlib.util.find_spec(f"layerwise.{name}") is not None


def layerwise_mlp(sizes, X, y):
    model = lw.nn.MLP(sizes, output_activation="none", rng=0)
    loss_fn = lw.nn.CrossEntropyLoss()
    opt = lw_sgd(model.parameters(), LR)

    def forward():
        with lw.no_grad():
            return model(X).data

    def step():
        opt.zero_grad()
        loss = loss_fn(y, model(X))
        loss.backward()
        opt.step()
        return float(loss.data)

    # as users run them: lw.fit, predict and lw.compile replay the model's and the loss's
    # recorded NumPy work; the eager calls (graph rebuilt every time) are timed beside them
    return model, lw.compile(forward), lw.compile(step), forward, step


def torch_mlp(model, X, y):
    tmodel = lw.interop.to_torch(model)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    loss_fn = torch.nn.CrossEntropyLoss()
    opt = torch.optim.SGD(tmodel.parameters(), lr=LR)

    def forward():
        with torch.no_grad():
            return tmodel(Xt).numpy()

    def step():
        opt.zero_grad()
        loss = loss_fn(tmodel(Xt), yt)
        loss.backward()
        opt.step()
        return float(loss.detach())

    return forward, step


class HandMLP:
    """What a careful person writes in plain NumPy: in-place bias and ReLU, the fused
    softmax-cross-entropy gradient, in-place SGD."""

    def __init__(self, weights):
        self.params = [(W.copy(), b.copy()) for W, b in weights]

    def forward(self, X):
        acts = [X]
        h = X
        last = len(self.params) - 1
        for i, (W, b) in enumerate(self.params):
            h = h @ W
            h += b
            if i < last:
                np.maximum(h, 0, out=h)
            acts.append(h)
        return acts

    def step(self, X, y, lr):
        acts = self.forward(X)
        logits = acts[-1]
        shifted = logits - logits.max(axis=1, keepdims=True)
        np.exp(shifted, out=shifted)
        shifted /= shifted.sum(axis=1, keepdims=True)
        rows = np.arange(len(y))
        loss = -np.log(shifted[rows, y]).mean()
        g = shifted
        g[rows, y] -= 1
        g /= len(y)
        for i in range(len(self.params) - 1, -1, -1):
            W, b = self.params[i]
            gW = acts[i].T @ g
            gb = g.sum(axis=0, keepdims=True)
            if i:
                g = g @ W.T
                g *= acts[i] > 0
            gW *= lr
            W -= gW
            gb *= lr
            b -= gb
        return float(loss)


def numpy_mlp(model, X, y):
    hand = HandMLP([(layer.W.data, layer.b.data) for layer in model.layers])

    def forward():
        return hand.forward(X)[-1]

    def step():
        return hand.step(X, y, LR)

    return forward, step


def matmul_bound(sizes, batch, seed=1):
    """The forward and backward matrix products of the MLP, in plain NumPy, nothing else."""
    rng = np.random.default_rng(seed)

    def rand(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    Ws = [rand(a, b) for a, b in itertools.pairwise(sizes)]
    acts = [rand(batch, n) for n in sizes[:-1]]  # the inputs of each layer
    grads = [rand(batch, n) for n in sizes[1:]]  # dLoss/dZ of each layer

    def forward():
        h = acts[0]
        for W in Ws:
            h = h @ W
        return h

    def step():
        forward()
        for i in range(len(Ws) - 1, -1, -1):
            acts[i].T @ grads[i]
            if i:
                grads[i] @ Ws[i].T

    return forward, step


def build_mlp_workload(wl: Workload):
    X, y = make_data(wl.sizes, wl.batch)
    model, lw_forward, lw_step, lw_forward_eager, lw_eager = layerwise_mlp(wl.sizes, X, y)
    t_forward, t_step = torch_mlp(model, X, y)
    n_forward, n_step = numpy_mlp(model, X, y)
    b_forward, b_step = matmul_bound(wl.sizes, wl.batch)
    _check_agree(wl.key, "forward",
                 {"layerwise": lw_forward(), "torch": t_forward(), "numpy": n_forward()})
    _check_agree(wl.key, "training-step loss",
                 {"layerwise": lw_step(), "torch": t_step(), "numpy": n_step()})
    return {
        "forward": {"layerwise": lw_forward, "torch": t_forward, "numpy": n_forward,
                    "bound": b_forward},
        "forward, eager": {"layerwise": lw_forward_eager, "torch": t_forward,
                           "numpy": n_forward, "bound": b_forward},
        "train step": {"layerwise": lw_step, "torch": t_step, "numpy": n_step,
                       "bound": b_step},
        "train step, eager": {"layerwise": lw_eager, "torch": t_step, "numpy": n_step,
                              "bound": b_step},
    }


def _check_agree(key, what, values):
    ref = np.asarray(values["torch"], dtype=np.float64)
    for name, value in values.items():
        if not np.allclose(np.asarray(value, dtype=np.float64), ref, rtol=1e-3, atol=1e-4):
            raise SystemExit(f"{key}: {name} and PyTorch disagree on the {what}; not timing it")


def build_w4():
    """One epoch of ``lw.fit`` on digits against the same loop written in PyTorch."""
    fit = getattr(lw, "fit", None)
    if fit is None:
        return None, "lw.fit does not exist yet"
    X, y = lw.datasets.load_digits()
    X = (X / 16).astype(np.float32)
    model = lw.nn.MLP(W4_SIZES, output_activation="none", rng=0)
    tmodel = lw.interop.to_torch(model)
    loss_fn = lw.nn.CrossEntropyLoss()
    opt = lw_sgd(model.parameters(), W4_LR)
    rng = np.random.default_rng(0)

    def lw_epoch():
        return fit(model, X, y, loss_fn, opt, epochs=1, batch_size=W4_BATCH, shuffle=True,
                   rng=rng, progress=False)

    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    t_loss = torch.nn.CrossEntropyLoss()
    t_opt = torch.optim.SGD(tmodel.parameters(), lr=W4_LR)
    t_rng = np.random.default_rng(0)

    def torch_epoch():
        order = torch.from_numpy(t_rng.permutation(len(X)))
        total, correct = 0.0, 0
        for start in range(0, len(X), W4_BATCH):
            idx = order[start:start + W4_BATCH]
            xb, yb = Xt[idx], yt[idx]
            t_opt.zero_grad()
            logits = tmodel(xb)
            loss = t_loss(logits, yb)
            loss.backward()
            t_opt.step()
            total += loss.item() * len(idx)
            correct += int((logits.argmax(1) == yb).sum())
        return total / len(X), correct / len(X)

    return {"epoch": {"layerwise": lw_epoch, "torch": torch_epoch}}, None


def _w5_layers(n_features):
    """Each new layer in layerwise and in torch.nn, in training mode, with the same parameters
    (random, so that a wrong scale or shift would show)."""
    rng = np.random.default_rng(2)
    pairs = {
        "LayerNorm": (lw.nn.LayerNorm(n_features), torch.nn.LayerNorm(n_features)),
        "BatchNorm1d": (lw.nn.BatchNorm1d(n_features), torch.nn.BatchNorm1d(n_features)),
        "Dropout": (lw.nn.Dropout(W5_P, rng=0), torch.nn.Dropout(W5_P)),
    }
    for layer, tlayer in pairs.values():
        for p, tp in zip(layer.parameters(), tlayer.parameters(), strict=True):
            p.data[...] = rng.standard_normal(p.shape).astype(np.float32)
            with torch.no_grad():
                tp.copy_(torch.from_numpy(p.data))
        layer.train()
        tlayer.train()
    return pairs


def build_w5():
    """The new layers alone: forward (no graph) and forward + backward of a fixed gradient."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal(W5_SHAPE).astype(np.float32)
    G = rng.standard_normal(W5_SHAPE).astype(np.float32)
    x, Xt, Gt = lw.Tensor(X, requires_grad=True), torch.from_numpy(X), torch.from_numpy(G)
    xt = Xt.clone().requires_grad_(True)
    cases = {}
    for name, (layer, tlayer) in _w5_layers(W5_SHAPE[1]).items():
        params = layer.parameters()

        def lw_forward(layer=layer):
            with lw.no_grad():
                return layer(X).data

        def lw_fwd_bwd(layer=layer, params=params):
            x.grad = None
            for p in params:
                p.grad = None
            out = layer(x)
            out.backward(G)
            return [out.data, x.grad, *(p.grad for p in params)]

        def t_forward(tlayer=tlayer):
            with torch.no_grad():
                return tlayer(Xt).numpy()

        def t_fwd_bwd(tlayer=tlayer):
            xt.grad = None
            tlayer.zero_grad(set_to_none=True)
            out = tlayer(xt)
            out.backward(Gt)
            return [out.detach().numpy(), xt.grad.numpy(),
                    *(p.grad.numpy() for p in tlayer.parameters())]

        if name == "Dropout":
            _check_dropout(lw_forward(), t_forward(), W5_P)
            ours, theirs = lw_fwd_bwd(), t_fwd_bwd()
            for a, b in zip(ours, theirs, strict=True):
                _check_dropout(a, b, W5_P)
        else:
            _check_agree("W5", f"{name} forward", {"layerwise": lw_forward(),
                                                   "torch": t_forward()})
            for i, (a, b) in enumerate(zip(lw_fwd_bwd(), t_fwd_bwd(), strict=True)):
                what = ("output", "input gradient", "weight gradient", "bias gradient")[i]
                _check_agree("W5", f"{name} {what}", {"layerwise": a, "torch": b})
        cases[f"{name} forward"] = {"layerwise": lw_forward, "torch": t_forward}
        cases[f"{name} fwd+bwd"] = {"layerwise": lw_fwd_bwd, "torch": t_fwd_bwd}
    return cases


def _check_dropout(ours, theirs, p):
    """Random streams differ: the same shape, and each keeps about 1 - p of the elements
    (524,288 draws: the kept fraction's standard deviation is 0.0007)."""
    kept = {lib: np.count_nonzero(a) / a.size for lib, a in (("layerwise", ours),
                                                                ("torch", theirs))}
    if ours.shape != theirs.shape or any(abs(k - (1 - p)) > 0.01 for k in kept.values()):
        raise SystemExit(f"W5: Dropout shapes {ours.shape} / {theirs.shape} or kept fractions "
                         f"{kept} disagree with p={p}; not timing it")


# --------------------------------------------------------------------------------- timing
def _block(fn, loops):
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(loops):
            fn()
        return time.perf_counter() - start
    finally:
        if enabled:
            gc.enable()


def _loops_for(fn, block_s):
    """Calls per timed block so that a block lasts about ``block_s`` (after warming up)."""
    loops = 1
    while True:
        elapsed = _block(fn, loops)
        if elapsed >= block_s / 2 or loops >= 1_000_000:
            return max(1, round(loops * block_s / max(elapsed, 1e-9)))
        loops *= 4


def measure(fns: dict, repeats: int, block_s: float, warmup_s: float, settle_s: float) -> dict:
    """Median and spread of seconds per call, over ``repeats`` timed blocks per contestant.

    Each repeat times PyTorch first, after a pause of ``settle_s``: OpenBLAS worker threads
    spin for a while (about 0.1 s) after NumPy's last product and would otherwise steal a
    core from PyTorch's threads. The NumPy-based contestants share one thread pool, so they
    follow at once, taking turns in a rotating order so that drift on a shared machine hits
    them alike. Every timed block follows one untimed call.
    """
    loops = {}
    for name, fn in fns.items():
        if name == "torch":
            time.sleep(settle_s)
        deadline = time.perf_counter() + warmup_s
        fn()
        while time.perf_counter() < deadline:
            fn()
        loops[name] = _loops_for(fn, block_s)
    samples = {name: [] for name in fns}
    others = [name for name in fns if name != "torch"]
    for r in range(repeats):
        gc.collect()
        order = others[r % len(others):] + others[:r % len(others)]
        if "torch" in fns:
            time.sleep(settle_s)
            order = ["torch", *order]
        for name in order:
            fns[name]()
            samples[name].append(_block(fns[name], loops[name]) / loops[name])
    out = {}
    for name, values in samples.items():
        q1, med, q3 = np.percentile(values, [25, 50, 75])
        out[name] = {"median_s": float(med), "q1_s": float(q1), "q3_s": float(q3),
                     "min_s": float(min(values)), "max_s": float(max(values)),
                     "loops": loops[name], "samples_s": [float(v) for v in values]}
    return out


# --------------------------------------------------------------------------------- memory
_MEMORY_STEPS = 3


def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _reset_peak():
    """Reset the kernel's peak-RSS mark (Linux >= 4.0); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _peak_rss_bytes():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def memory_child(lib: str) -> None:
    """Set up W3 for one library, then run training steps; print what they added (JSON)."""
    wl = WORKLOADS["W3"]
    X, y = make_data(wl.sizes, wl.batch)
    model = lw.nn.MLP(wl.sizes, output_activation="none", rng=0)
    if lib == "layerwise":
        step = layerwise_mlp(wl.sizes, X, y)[2]
    elif lib == "torch":
        step = torch_mlp(model, X, y)[1]
    elif lib == "numpy":
        step = numpy_mlp(model, X, y)[1]
    else:
        raise SystemExit(f"--memory-child: unknown library {lib!r}")
    del model
    gc.collect()
    setup = _rss_bytes()
    exact = _reset_peak()
    for _ in range(_MEMORY_STEPS):
        step()
    peak = _peak_rss_bytes()
    print(json.dumps({"setup_rss": setup, "peak_rss": peak, "added_bytes": peak - setup,
                      "peak_reset": exact}))


def measure_memory(threads: int) -> dict:
    out = {}
    for lib in ("layerwise", "torch", "numpy"):
        cmd = [sys.executable, str(Path(__file__).resolve()), "--memory-child", lib,
               "--threads", str(threads), "--keep-openblas-env"]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode:
            raise SystemExit(f"memory measurement for {lib} failed:\n{proc.stderr}")
        out[lib] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


# ------------------------------------------------------------------------ threads and env
def set_threads(threads: int | None) -> tuple:
    """Give NumPy's BLAS and PyTorch the same number of threads; return (threads, controller)."""
    from threadpoolctl import threadpool_info, threadpool_limits

    limiter = None
    if threads is None:
        blas = [p for p in threadpool_info() if p["user_api"] == "blas"
                and "numpy" in p["filepath"]] or [p for p in threadpool_info()
                                                  if p["user_api"] == "blas"]
        threads = blas[0]["num_threads"] if blas else 1
    else:
        limiter = threadpool_limits(limits=threads)
    if torch is not None:
        torch.set_num_threads(threads)
    return threads, limiter


def environment() -> dict:
    from threadpoolctl import threadpool_info

    pools = [{k: p.get(k) for k in ("user_api", "internal_api", "prefix", "version",
                                    "num_threads", "architecture", "threading_layer")}
             for p in threadpool_info()]
    numpy_blas = next((p for p, raw in zip(pools, threadpool_info())
                       if raw["user_api"] == "blas" and "numpy" in raw["filepath"]), None)
    unset = os.environ.get(_UNSET_NOTE, "")
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__ if torch is not None else None,
        "layerwise": lw.__version__,
        "machine": platform.machine(),
        "processor": _cpu_name(),
        "cpus": os.cpu_count(),
        "numpy_blas": numpy_blas,
        "threadpools": pools,
        "unset_env": unset.split(",") if unset else [],
        "kept_env": {k: os.environ[k] for k in _OPENBLAS_VARS if k in os.environ},
    }


def _machine_busy() -> tuple | None:
    """(CPU seconds all processes have run, this process's own incl. children, wall time)."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    busy = (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")  # less idle, iowait
    own = os.times()
    return busy, own.user + own.system + own.children_user + own.children_system, time.time()


def other_load(start: tuple | None) -> float | None:
    """Share of the machine's CPU time that other processes used since ``start``."""
    end = _machine_busy()
    if start is None or end is None or end[2] <= start[2]:
        return None
    others = (end[0] - start[0]) - (end[1] - start[1])
    return max(0.0, others / ((end[2] - start[2]) * (os.cpu_count() or 1)))


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


# --------------------------------------------------------------------------------- report
@dataclass
class Row:
    workload: str
    case: str
    stats: dict
    ratios: dict = field(default_factory=dict)
    met: bool | None = None
    threads: int = 1


def _ratios(key, case, stats):
    lw_med = stats["layerwise"]["median_s"]
    ratios = {"vs_torch": lw_med / stats["torch"]["median_s"]}
    if "bound" in stats:
        ratios["vs_bound"] = lw_med / stats["bound"]["median_s"]
    if "numpy" in stats:
        ratios["vs_numpy"] = lw_med / stats["numpy"]["median_s"]
    target_torch, target_bound = TARGETS.get((key, case), (None, None))
    met = None
    if target_torch is not None:
        met = ratios["vs_torch"] <= target_torch
        if target_bound is not None:
            met = met and ratios["vs_bound"] <= target_bound
    return ratios, met


def _fmt_time(s: float) -> str:
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.2f} ms"
    return f"{s * 1e6:.1f} us"


def _cell(stats, lib):
    if lib not in stats:
        return "-"
    st = stats[lib]
    iqr = (st["q3_s"] - st["q1_s"]) / st["median_s"] * 100
    return f"{_fmt_time(st['median_s'])} ±{iqr:.0f}%"


def _target_text(key, case):
    target_torch, target_bound = TARGETS.get((key, case), (None, None))
    if target_torch is None:
        return "-"
    text = f"<= {target_torch:g}x"
    if target_bound is not None:
        text += f", <= {target_bound:g}x bound"
    return text


def render(rows: list, memory: dict, skipped: dict, env: dict, threads: list) -> str:
    """The table: one row per workload, case and thread count (``memory``: thread count ->
    what a W3 step adds, per library)."""
    headers = ["workload", "case", "threads", *(LIB_TITLES[lib] for lib in LIBS), "lw/torch",
               "lw/numpy", "lw/bound", "target", "met"]
    body = []
    for row in rows:
        body.append([
            f"{row.workload} {WORKLOADS[row.workload].title}" if row.workload in WORKLOADS
            else f"{row.workload} {EXTRA_TITLES[row.workload]}" if row.workload in EXTRA_TITLES
            else row.workload,
            row.case,
            str(row.threads),
            *(_cell(row.stats, lib) for lib in LIBS),
            f"{row.ratios['vs_torch']:.2f}x",
            f"{row.ratios['vs_numpy']:.2f}x" if "vs_numpy" in row.ratios else "-",
            f"{row.ratios['vs_bound']:.3f}x" if "vs_bound" in row.ratios else "-",
            _target_text(row.workload, row.case),
            {True: "yes", False: "NO", None: "-"}[row.met],
        ])
    for count, libs in memory.items():
        added = {lib: v["added_bytes"] / MIB for lib, v in libs.items()}
        body.append([
            "W3 large", "step memory", str(count),
            f"+{added['layerwise']:.1f} MiB", f"+{added['torch']:.1f} MiB",
            f"+{added['numpy']:.1f} MiB", "-", "-", "-", "-", f"<= {MEMORY_TARGET_MIB:g} MiB",
            "yes" if added["layerwise"] <= MEMORY_TARGET_MIB else "NO",
        ])
    blas = env.get("numpy_blas") or {}
    counts = ", ".join(map(str, threads))
    caption = (f"{env['processor']}, {counts} thread(s); NumPy {env['numpy']} "
               f"({blas.get('internal_api')} {blas.get('version')}, kernel "
               f"{blas.get('architecture')}), PyTorch {env['torch']}. Median ± IQR per call.")
    if env["unset_env"]:
        caption += f" Ran with {', '.join(env['unset_env'])} unset."
    share = env.get("other_processes_cpu_share")
    if share is not None:
        caption += f" Other processes used {share:.0%} of the CPU meanwhile."
    notes = [f"{key}: skipped ({why})" for key, why in skipped.items()]
    share = env.get("other_processes_cpu_share")
    if share is not None and share > NOISY_SHARE:
        notes.append(f"warning: other processes used {share:.0%} of the machine's CPU during "
                     "this run; the times are noisy, run again on a quiet machine")
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        return _plain_table(headers, body, caption, notes)
    table = Table(*headers, title="layerwise benchmarks", caption=caption)
    for line in body:
        table.add_row(*line)
    console = Console(width=200)
    with console.capture() as cap:
        console.print(table)
        for note in notes:
            console.print(note)
    return cap.get()


def _plain_table(headers, body, caption, notes):
    widths = [max(len(str(r[i])) for r in [headers, *body]) for i in range(len(headers))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(headers, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)) for r in body]
    return "\n".join([*lines, caption, *notes])


# ----------------------------------------------------------------------------------- main
def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", default=None,
                        help="BLAS and PyTorch threads, or a comma-separated list timed in turn, "
                             "e.g. 1,2 (default: NumPy's BLAS thread count)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="timed blocks per library and case (default 15, --quick 5)")
    parser.add_argument("--quick", action="store_true", help="shorter blocks and fewer repeats")
    parser.add_argument("--only", default="W1,W2,W3,W4,W5",
                        help="comma-separated workloads to run, e.g. W1,W3 (default: all)")
    parser.add_argument("--json", type=Path, default=None,
                        help="where to write the results (default benchmarks/results/...)")
    parser.add_argument("--no-memory", action="store_true", help="skip the W3 memory check")
    parser.add_argument("--keep-openblas-env", action="store_true",
                        help="keep OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE as they are")
    parser.add_argument("--memory-child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.threads is not None:
        try:
            args.threads = [int(t) for t in args.threads.split(",")]
        except ValueError:
            parser.error(f"--threads must be whole numbers >= 1, got {args.threads!r}")
        if min(args.threads) < 1:
            parser.error(f"--threads must be >= 1, got {','.join(map(str, args.threads))}")
    if args.repeats is not None and args.repeats < 3:
        parser.error(f"--repeats must be >= 3, got {args.repeats}")
    only = [w.strip().upper() for w in args.only.split(",") if w.strip()]
    unknown = [w for w in only if w not in {*WORKLOADS, "W4", "W5"}]
    if unknown:
        parser.error(f"--only: unknown workload(s) {', '.join(unknown)}; "
                     "known: W1, W2, W3, W4, W5")
    args.only = only
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if torch is None:
        raise SystemExit("benchmarks need PyTorch: pip install 'layerwise[dev]' (torch==2.13.0)")
    if args.memory_child:
        set_threads(args.threads[0] if args.threads else None)
        memory_child(args.memory_child)
        return 0
    repeats = args.repeats or (5 if args.quick else 15)
    block_s, warmup_s = (0.02, 0.05) if args.quick else (0.05, 0.2)
    settle_s = 0.25
    busy_start = _machine_busy()

    rows, skipped, memory, built = [], {}, {}, {}
    thread_counts = []
    for requested in args.threads or [None]:
        threads, _limiter = set_threads(requested)
        thread_counts.append(threads)
        for key in args.only:
            if key not in built:  # the same contestants at every thread count
                if key == "W4":
                    cases, why = build_w4()
                    if cases is None:
                        skipped["W4"] = why
                        print(f"W4 skipped: {why}", file=sys.stderr)
                elif key == "W5":
                    cases = build_w5()
                else:
                    cases = build_mlp_workload(WORKLOADS[key])
                built[key] = cases
            for case, fns in (built[key] or {}).items():
                print(f"timing {key} {case} at {threads} thread(s) ...", file=sys.stderr,
                      flush=True)
                stats = measure(fns, repeats, block_s, warmup_s, settle_s)
                ratios, met = _ratios(key, case, stats)
                rows.append(Row(key, case, stats, ratios, met, threads))
        if "W3" in args.only and not args.no_memory:
            print(f"measuring W3 training-step memory at {threads} thread(s) ...",
                  file=sys.stderr, flush=True)
            memory[threads] = measure_memory(threads)
    env = environment()  # after the runs: the thread pools as the last count left them

    env["other_processes_cpu_share"] = other_load(busy_start)
    print(render(rows, memory, skipped, env, thread_counts))
    results = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "argv": sys.argv[1:],
        # one count: that number (the files before thread lists); several: the list
        "threads": thread_counts[0] if len(thread_counts) == 1 else thread_counts,
        "repeats": repeats,
        "block_s": block_s,
        "settle_s": settle_s,
        "environment": env,
        "targets": {f"{k} {c}": {"vs_torch": t, "vs_bound": b} for (k, c), (t, b)
                    in TARGETS.items()},
        "results": [{"workload": r.workload, "case": r.case, "threads": r.threads,
                     "stats": r.stats, "ratios": r.ratios, "target_met": r.met} for r in rows],
        "memory": {str(count): {
            "target_mib": MEMORY_TARGET_MIB,
            **{lib: {**v, "added_mib": v["added_bytes"] / MIB} for lib, v in libs.items()},
        } for count, libs in memory.items()} or None,
        "skipped": skipped,
    }
    path = args.json or ROOT / "benchmarks" / "results" / time.strftime("bench-%Y%m%d-%H%M%S.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1))
    print(f"results written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
