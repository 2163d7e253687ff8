"""``layerwise lab <exercise> [options]``: each of the chapter's exercises as a command.

``layerwise lab all --out DIR`` runs them all and writes ``DIR/index.html``. Options left
out take the Python function's defaults, which reproduce the chapter.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..cli_types import finite_float, nonnegative_float, positive_float, positive_int, probability
from ..cli_types import nonnegative_int as count
from ..init import METHODS
from .ex5_init import ACTIVATIONS
from .report import EXERCISES, run_all

__all__ = ["build_parser", "main"]


@dataclass(frozen=True)
class Option:
    flag: str
    dest: str
    type: Callable[[str], Any]
    help: str
    nargs: int | str | None = None
    choices: Sequence[str] | None = None


SEED = Option("--seed", "seed", count, "random seed (np.random.RandomState, as np.random.seed)")

OPTIONS = {
    "forward": [Option("--x", "x", finite_float, "the input (x1 x2)", nargs=2)],
    "losses": [
        Option("--points", "n_points", positive_int, "number of predictions y_hat"),
        Option("--low", "low", probability, "smallest prediction"),
        Option("--high", "high", probability, "largest prediction"),
    ],
    "huber": [
        Option("--samples", "n_samples", positive_int, "number of points"),
        Option("--outliers", "n_outliers", count, "number of outliers (the rightmost points)"),
        Option("--shift", "outlier_shift", finite_float, "how far down the outliers are moved"),
        Option("--delta", "delta", positive_float, "Huber's threshold"),
        Option("--slope", "slope", finite_float, "slope of the true line"),
        Option("--intercept", "intercept", finite_float, "intercept of the true line"),
        Option("--noise", "noise", nonnegative_float, "std of the noise around the line"),
        Option("--epochs", "epochs", positive_int, "gradient-descent steps"),
        Option("--lr", "lr", positive_float, "learning rate"),
        SEED,
    ],
    "batching": [
        Option("--samples", "n_samples", positive_int, "number of samples"),
        Option("--features", "n_features", positive_int, "number of features"),
        Option("--hidden", "hidden", positive_int, "hidden layer sizes", nargs="*"),
        Option("--outputs", "n_outputs", positive_int, "output size"),
        Option("--batch-sizes", "batch_sizes", positive_int, "batch sizes to time", nargs="+"),
        Option("--repeats", "repeats", positive_int, "timed passes per batch size"),
        Option("--threads", "threads", positive_int, "BLAS threads while timing"),
        SEED,
    ],
    "init": [
        Option("--sizes", "layer_sizes", positive_int, "layer sizes, input first", nargs="+"),
        Option("--methods", "methods", str, "initialisation methods", nargs="+",
               choices=tuple(METHODS)),
        Option("--activation", "activation", str, "hidden activation", choices=ACTIVATIONS),
        Option("--samples", "n_samples", positive_int, "rows of random input"),
        Option("--bins", "bins", positive_int, "histogram bins"),
        SEED,
    ],
    "graph": [
        Option("--sizes", "layer_sizes", positive_int, "layer sizes, input first", nargs="+"),
        Option("--batch-size", "batch_size", positive_int, "rows of the traced input"),
        Option("--hidden-activation", "hidden_activation", str, "hidden activation",
               choices=("relu", "sigmoid", "tanh", "leaky_relu", "none")),
        Option("--output-activation", "output_activation", str, "output activation",
               choices=("softmax", "sigmoid", "none", "log_softmax")),
        SEED,
    ],
}

QUICK = {"huber": {"epochs": 300}, "batching": {"repeats": 3}, "init": {"n_samples": 300}}
"""``layerwise lab all --quick``: smaller runs for a fast look."""


def _summary_line(fn) -> str:
    doc = inspect.getdoc(fn)
    assert doc is not None, fn  # every exercise has a docstring
    return doc.splitlines()[0].replace("``", "")


def _default_text(value) -> str:
    if isinstance(value, (tuple, list)):
        return " ".join(_default_text(v) for v in value)
    return str(value)


def build_parser() -> tuple:
    """The ``layerwise lab`` parser and ``{exercise: subparser}``."""
    parser = argparse.ArgumentParser(
        prog="layerwise lab",
        description="Run the chapter's exercises with layerwise: numbers, figures and an "
                    "HTML report. `layerwise lab all --out DIR` runs everything.",
    )
    sub = parser.add_subparsers(dest="exercise", metavar="EXERCISE", required=True)
    subparsers = {}
    for name, fn in EXERCISES.items():
        p = sub.add_parser(name, help=_summary_line(fn), description=_summary_line(fn))
        defaults = inspect.signature(fn).parameters
        for opt in OPTIONS[name]:
            default = _default_text(defaults[opt.dest].default)
            p.add_argument(opt.flag, dest=opt.dest, type=opt.type, nargs=opt.nargs,
                           choices=opt.choices, default=None,
                           metavar=None if opt.choices else _metavar(opt.type),
                           help=f"{opt.help} (default: {default})")
        p.add_argument("--out", metavar="DIR", default=None, type=folder,
                       help="folder for the figures (default: none, numbers only)")
        _common_flags(p)
        subparsers[name] = p
    p = sub.add_parser("all", help="every exercise, written up as DIR/index.html",
                       description="Run every exercise and write DIR/index.html (one "
                                   "self-contained file), DIR/results.json and DIR/figures/.")
    p.add_argument("--out", metavar="DIR", default="lab-report", type=folder,
                   help="report folder (default: lab-report)")
    p.add_argument("--seed", type=count, default=42, help="random seed (default: 42)")
    p.add_argument("--quick", action="store_true",
                   help="fewer repeats and samples, for a fast look")
    _common_flags(p)
    subparsers["all"] = p
    return parser, subparsers


def folder(text: str) -> str:
    """An argparse type: a folder to write into; an existing file is refused."""
    if os.path.exists(text) and not os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text} is a file, not a folder (it is created if "
                                         "needed)")
    return text


def _metavar(kind) -> str:
    return "N" if kind in (positive_int, count) else "X"


def _common_flags(p):
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument("--json", action="store_true",
                   help="print the numbers as JSON instead of the summary")


def main(argv=None) -> int:
    """Entry point of ``layerwise lab``; returns the exit status (2 for bad arguments)."""
    parser, subparsers = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2)
        return exc.code if isinstance(exc.code, int) else 0
    progress = not args.quiet
    # Extreme settings may overflow: the exercise then fails with one line (below), and NumPy's
    # warnings on the way there would only be noise before it.
    errstate = np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore")
    try:
        with errstate:
            if args.exercise == "all":
                report = run_all(args.out, seed=args.seed, options=QUICK if args.quick else None,
                                 progress=progress)
                if args.json:
                    print(report.results_json.read_text(encoding="utf-8"))
                    return 0
                print(report.summary(), end="\n\n")
                print("Each exercise in one line:")
                for r in report.results.values():
                    print(f"  {r.name:<9} {r.headline}")
                print(f"\nReport written to {report.index.resolve()}")
                return 0
            fn = EXERCISES[args.exercise]
            kwargs = {o.dest: getattr(args, o.dest) for o in OPTIONS[args.exercise]
                      if getattr(args, o.dest) is not None}
            result = fn(out=args.out, progress=progress, **kwargs)
    except ValueError as exc:  # a bad combination of values: usage + one line, as argparse
        sub = subparsers[args.exercise]
        sub.print_usage(sys.stderr)
        message = str(exc).removeprefix(f"{args.exercise} lab: ")
        print(f"{sub.prog}: error: {message}", file=sys.stderr)
        return 2
    except (ImportError, OSError, ArithmeticError) as exc:
        # a missing extra; a folder we cannot write; training that diverged (NonFiniteLossError)
        print(f"layerwise lab {args.exercise}: {exc}", file=sys.stderr)
        return 1
    except MemoryError:
        print(f"layerwise lab {args.exercise}: out of memory; choose smaller sizes",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\nlayerwise lab {args.exercise}: interrupted", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps(result.to_dict(), indent=1))
    else:
        print(result.summary())
        if args.out is None:
            print(f"\n(add --out DIR to write the figures: layerwise lab {args.exercise} "
                  "--out DIR)")
    return 0
