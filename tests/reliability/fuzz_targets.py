"""Hypothesis fuzzers for lw.load and load_csv, run by test_fuzz.py in a child process under a
memory limit (so an over-allocation is a failure, not a slow machine). Each target raises
(exit status 1, the falsifying example on stderr) if anything but an allowed exception
escapes. Not collected by pytest: its name does not start with test_.
"""

import json
import os
import sys
import tempfile

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import layerwise as lw
from layerwise.datasets import load_csv
from layerwise.serialization import loads

ALLOWED = (ValueError, OSError)  # what lw.load and load_csv may raise for a bad file
FOLDER = tempfile.mkdtemp(prefix="lw-fuzz-")


def fuzz_settings(max_examples):
    return settings(max_examples=max_examples, deadline=None, database=None,
                    derandomize=True, suppress_health_check=list(HealthCheck))


def load_bytes(data: bytes, via_file: bool):
    """lw.load of ``data`` (through a file or from bytes): a module, or an allowed error."""
    try:
        if via_file:
            path = os.path.join(FOLDER, "m.safetensors")
            with open(path, "wb") as f:
                f.write(data)
            model = lw.load(path, return_metadata=True)[0]
        else:
            model = loads(data)
    except ALLOWED:
        return None
    assert isinstance(model, lw.nn.Module), type(model)
    return model


# ------------------------------------------------------------------ model files
def _models():
    nested = lw.nn.Sequential(lw.nn.Sequential(lw.nn.Linear(3, 2, rng=0)), lw.nn.Softmax())
    return [
        lw.serialization.dumps(lw.MLP([4, 5, 3], rng=0)),
        lw.serialization.dumps(lw.MLP([2, 3], rng=1, dtype=np.float64),
                               metadata={"classes": ["a", "b", "c"], "features": ["x", "y"]}),
        lw.serialization.dumps(nested),
        lw.serialization.dumps(lw.nn.Sequential(lw.nn.Dense(2, 2, "tanh", rng=2),
                                                lw.nn.LeakyReLU(0.2))),
    ]


BASE = _models()

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.sampled_from([0, 1, -1, 10**12]),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12),
    st.sampled_from(["Dense", "Linear", "MLP", "Sequential", "ReLU", "Softmax", "relu",
                     "float32", "float64", "F32", "layerwise"]),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.sampled_from(
                                ["type", "layers", "n_input", "n_output", "bias", "activation",
                                 "axis", "negative_slope", "dtype", "model", "x"]), inner,
                                max_size=5)),
    max_leaves=20,
)


def _split(data: bytes):
    size = int.from_bytes(data[:8], "little")
    return json.loads(data[8:8 + size]), data[8 + size:]


def _join(header: dict, body: bytes) -> bytes:
    text = json.dumps(header).encode()
    return len(text).to_bytes(8, "little") + text + body


def _set_path(tree, path, value):
    """``tree`` with the value at ``path`` (a list of choices) replaced."""
    if not path or not isinstance(tree, (dict, list)) or not tree:
        return value
    keys = list(tree) if isinstance(tree, dict) else list(range(len(tree)))
    key = keys[path[0] % len(keys)]
    tree[key] = _set_path(tree[key], path[1:], value)
    return tree


@st.composite
def mutated_files(draw):
    data = bytearray(draw(st.sampled_from(BASE)))
    kind = draw(st.sampled_from(["flip", "truncate", "insert", "length", "json", "metadata",
                                 "nest"]))
    if kind == "flip":
        for _ in range(draw(st.integers(1, 8))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    elif kind == "truncate":
        del data[draw(st.integers(0, len(data))):]
    elif kind == "insert":
        at = draw(st.integers(0, len(data)))
        data[at:at] = draw(st.binary(min_size=1, max_size=64))
    elif kind == "length":
        data[:8] = draw(st.integers(0, 2**64 - 1)).to_bytes(8, "little")
    else:
        header, body = _split(bytes(data))
        path = draw(st.lists(st.integers(0, 50), max_size=5))
        if kind == "json":  # any value anywhere in the safetensors header
            header = _set_path(header, path, draw(json_values))
        elif kind == "metadata":  # the architecture or the user metadata, as parsed JSON
            meta = header["__metadata__"]
            field = draw(st.sampled_from(["architecture", "user"]))
            tree = json.loads(meta.get(field, "{}"))
            meta[field] = json.dumps(_set_path(tree, path, draw(json_values)))
        else:  # deep nesting, as text, in the header, the architecture or the user metadata
            depth = draw(st.sampled_from([50, 101, 1000, 100_000]))
            nest = "[" * depth + "]" * draw(st.sampled_from([depth, 0]))
            where = draw(st.sampled_from(["architecture", "user", "header"]))
            if where == "header":
                return len(nest).to_bytes(8, "little") + nest.encode() + body
            header["__metadata__"][where] = nest
        return _join(header, body)
    return bytes(data)


def load_mutated(max_examples):
    @fuzz_settings(max_examples)
    @given(mutated_files(), st.booleans())
    def check(data, via_file):
        load_bytes(data, via_file)

    check()


tensor_entries = st.fixed_dictionaries({
    "dtype": st.sampled_from(["F32", "F64", "F16", "BF16", "I64", "U8", "BOOL", "X9"]),
    "shape": st.lists(st.integers(0, 2**40), max_size=3),
    "data_offsets": st.lists(st.integers(-5, 2**40), min_size=0, max_size=3),
})


@st.composite
def generated_files(draw):
    """A safetensors-shaped file from scratch: layerwise metadata around any architecture."""
    arch = draw(st.one_of(json_values, st.fixed_dictionaries(
        {"dtype": st.sampled_from(["float32", "float64", "int8"]), "model": json_values})))
    meta = {"format": "layerwise", "format_version": "1", "architecture": json.dumps(arch)}
    if draw(st.booleans()):
        meta["user"] = json.dumps(draw(json_values))
    header = {"__metadata__": meta}
    header.update(draw(st.dictionaries(st.sampled_from(["W", "b", "layers.0.W", "0.W", "x"]),
                                       tensor_entries, max_size=3)))
    return _join(header, draw(st.binary(max_size=256)))


def load_generated(max_examples):
    @fuzz_settings(max_examples)
    @given(generated_files(), st.booleans())
    def check(data, via_file):
        load_bytes(data, via_file)

    check()


@st.composite
def absurd_claims(draw):
    """A small valid file whose architecture claims huge layers (issue 14 item 1)."""
    n_in = draw(st.sampled_from([20_000, 10**6, 10**12]))
    n_out = draw(st.sampled_from([3, 20_000, 10**6]))
    kind = draw(st.sampled_from(["Dense", "Linear", "MLP"]))
    dense = {"type": "Dense", "n_input": n_in, "n_output": n_out, "activation": "relu",
             "bias": True}
    tree = {"Dense": dense, "Linear": {k: v for k, v in dense.items() if k != "activation"}
            | {"type": "Linear"}, "MLP": {"type": "MLP", "layers": [dense]}}[kind]
    prefix = "layers.0." if kind == "MLP" else ""
    header, body = _split(BASE[0])
    tensors = {k: v for k, v in header.items() if k != "__metadata__"}
    header = {"__metadata__": {**header["__metadata__"],
                               "architecture": json.dumps({"dtype": "float32", "model": tree})},
              f"{prefix}W": tensors["layers.0.W"], f"{prefix}b": tensors["layers.0.b"]}
    return _join(header, body)


def load_absurd(max_examples):
    @fuzz_settings(max_examples)
    @given(absurd_claims(), st.booleans())
    def check(data, via_file):
        load_bytes(data, via_file)

    check()


# ------------------------------------------------------------------------------- CSV
cells = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr), st.integers().map(str),
    st.text(max_size=8),
    st.sampled_from(["", " ", '"', '""', '"a,b"', '"x\ny"', "1_000", "\u00a01", "\u0661",
                     "\uff11", "1e39", ";", "\t", "\r", "\ufeff", "nan", "-inf", "0x10",
                     "a" * 140_000]),
)


@st.composite
def csv_files(draw):
    sep = draw(st.sampled_from([",", ";", "\t", "|"]))
    width = draw(st.integers(1, 4))
    rows = draw(st.lists(st.lists(cells, min_size=width, max_size=width + 1), max_size=6))
    header = draw(st.lists(st.text(max_size=5), min_size=width, max_size=width))
    end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = end.join(sep.join(r) for r in [header, *rows]) + draw(st.sampled_from(["", end]))
    data = text.encode("utf-8", "surrogatepass")
    if draw(st.booleans()):  # some raw bytes: invalid UTF-8, NUL, BOM
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.sampled_from([b"\xff", b"\xc3", b"\x00", b"\xef\xbb\xbf",
                                                 b"\xe9t\xe9"])) + data[at:]
    return data


def csv_fuzz(max_examples):
    path = os.path.join(FOLDER, "t.csv")

    @fuzz_settings(max_examples)
    @given(csv_files(), st.sampled_from([-1, 0, None, "a", 5]),
           st.sampled_from([None, ",", ";"]), st.sampled_from([None, np.float64]))
    def check(data, target, delimiter, dtype):
        with open(path, "wb") as f:
            f.write(data)
        try:
            out = load_csv(path, target=target, delimiter=delimiter, dtype=dtype)
        except ALLOWED:
            return
        X = out if target is None else out[0]
        assert X.ndim == 2 and np.isfinite(X).all()

    check()


# ------------------------------------------------------------------------ lab arguments
# Small settings first, so that each run is quick; the drawn options come after and win.
LAB_BASE = {"huber": ["--epochs", "3"], "batching": ["--repeats", "1", "--samples", "40",
                                                     "--batch-sizes", "1", "40"],
            "init": ["--samples", "30"], "losses": [], "forward": [], "graph": []}
SLOW = {"--epochs", "--repeats", "--batch-sizes", "--samples", "--points", "--bins"}
values = st.sampled_from(["0", "-1", "1", "2", "0.5", "1e308", "-1e308", "nan", "inf",
                          "1e-320", "abc", "", "1099511627776", "100000", "3000"])
small_values = st.sampled_from(["0", "-1", "1", "2", "3", "nan", "abc", "1e308",
                                "1099511627776"])


@st.composite
def lab_arguments(draw):
    from layerwise.lab.cli import OPTIONS

    exercise = draw(st.sampled_from(sorted(OPTIONS)))
    argv = [exercise, *LAB_BASE[exercise]]
    for opt in draw(st.lists(st.sampled_from(OPTIONS[exercise]), max_size=4, unique=True)):
        pool = small_values if opt.flag in SLOW else values
        if opt.choices:
            pool = st.one_of(st.sampled_from(opt.choices), pool)
        count = {None: 1, 2: 2, "+": draw(st.integers(1, 3)), "*": draw(st.integers(0, 3))}
        argv += [opt.flag, *draw(st.lists(pool, min_size=count[opt.nargs],
                                          max_size=count[opt.nargs]))]
    return argv


def lab_fuzz(max_examples):
    import contextlib
    import io

    from layerwise.lab.cli import main

    @fuzz_settings(max_examples)
    @given(lab_arguments())
    def check(argv):
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            status = main([*argv, "--quiet"])
        lines = err.getvalue().strip().splitlines()
        assert "Traceback" not in err.getvalue(), err.getvalue()
        assert status in (0, 1, 2), (status, lines)
        if status:
            assert lines and lines[-1].startswith("layerwise lab"), lines

    check()


if __name__ == "__main__":
    import warnings

    warnings.simplefilter("error")  # a leaked warning is a failure too (not hypothesis' own)
    warnings.filterwarnings("ignore", module="hypothesis")
    globals()[sys.argv[1]](int(sys.argv[2]))
