"""The ``layerwise`` command: train, predict, evaluate and summarise models; run the lab.

::

    layerwise train --data digits --layers 64 --epochs 20 --out digits.safetensors --plot h.png
    layerwise summary digits.safetensors
    layerwise predict digits.safetensors new_rows.csv --proba
    layerwise evaluate digits.safetensors --data digits
    layerwise convert digits.safetensors digits.onnx
    layerwise lab all --out report

``train`` standardises the features (mean 0, standard deviation 1 over the training rows)
with a ``Standardize`` layer in front of the network, saved with it, so the saved model takes
raw features: ``lw.load(path)(X)`` is what ``predict`` prints. The file's metadata keeps the
loss, the feature and class names, for ``predict`` and ``evaluate``.

The choices of ``--activation``, ``--loss`` and ``--optimizer`` are the registries' names
(``lw.F.ACTIVATIONS``, ``lw.F.LOSSES``, ``lw.optim.OPTIMIZERS``); what a loss needs (the output
layer, the form of the targets, how outputs become probabilities) is read from its declaration
(see ``layerwise.tasks``).

Bad arguments exit with status 2 (a usage line and one error line); unreadable data or model
files and failed training exit with status 1 and one line naming the file or the problem.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import sys

import numpy as np

from . import tasks
from .cli_types import fraction, nonnegative_float, nonnegative_int, positive_float, positive_int
from .functional.activations import ACTIVATIONS
from .functional.losses import LOSSES
from .optim import OPTIMIZERS

__all__ = ["build_parser", "main"]

DATASETS = ("iris", "digits")


class CommandError(Exception):
    """A problem with the data, a file or the run (not the arguments): one line, exit 1."""


# ------------------------------------------------------------------------ option types
seed_int = nonnegative_int


def layer_sizes(text):
    """``"64,32"`` -> ``[64, 32]``; ``""`` or ``"none"`` -> ``[]`` (no hidden layer)."""
    if text.strip().lower() in ("", "none"):
        return []
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(
            f"must be hidden layer sizes such as 64,32 (positive integers), got {text!r}")
    return sizes


def existing_file(text):
    if not os.path.exists(text):
        raise argparse.ArgumentTypeError(f"file not found: {text}")
    if os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text} is a folder, not a file")
    return text


def dataset(text):
    """``iris``, ``digits`` or the path of an existing CSV file."""
    if text.lower() in DATASETS:
        return text.lower()
    if os.path.exists(text) or text.lower().endswith(".csv"):
        return existing_file(text)
    raise argparse.ArgumentTypeError(
        f"unknown dataset {text!r}: use {', '.join(DATASETS)} or the path of a .csv file")


def output_file(text):
    folder = os.path.dirname(os.path.abspath(text))
    if not os.path.isdir(folder):
        raise argparse.ArgumentTypeError(f"the folder {folder} does not exist")
    if os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text} is a folder; give a file name")
    return text


# ----------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    """The ``layerwise`` argument parser (subcommands train, predict, evaluate, summary, lab)."""
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="layerwise", description="Train, inspect and use layerwise networks.")
    parser.add_argument("--version", action="version", version=f"layerwise {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser(
        "train", help="train a network on iris, digits or a CSV file",
        usage="layerwise train --data DATA [--layers SIZES] [--loss LOSS] [--epochs N] "
              "[--out FILE] [options]",
        description="Train a multi-layer network and report its accuracy (or loss).")
    train.set_defaults(subparser=train)
    _data_options(train)
    train.add_argument("--layers", type=layer_sizes, default=[64], metavar="SIZES",
                       help="hidden layer sizes, e.g. 64,32 ('none' for none; default: 64); "
                            "input and output sizes come from the data")
    train.add_argument("--activation", choices=ACTIVATIONS.names(), default="relu",
                       help="hidden activation (default: relu)")
    train.add_argument("--loss", choices=LOSSES.names(), default="cross_entropy",
                       help="cross_entropy (classes), bce (two classes), mse, mae or huber "
                            "(regression), ...; default: cross_entropy")
    train.add_argument("--optimizer", choices=OPTIMIZERS.names(), default="adam",
                       help="default: adam")
    train.add_argument("--lr", type=positive_float, metavar="LR",
                       help="learning rate (default: the optimiser's own, 0.01 where it has "
                            "none)")
    train.add_argument("--momentum", type=fraction, metavar="M",
                       help="SGD momentum in [0, 1) (default: 0)")
    train.add_argument("--weight-decay", type=nonnegative_float, default=0.0, metavar="WD",
                       help="L2 weight decay (default: 0)")
    train.add_argument("--epochs", type=positive_int, default=20, metavar="N",
                       help="default: 20")
    train.add_argument("--batch-size", type=positive_int, default=32, metavar="N",
                       help="default: 32")
    train.add_argument("--seed", type=seed_int, default=0, metavar="N",
                       help="seed for the weights, the split and the shuffling (default: 0)")
    train.add_argument("--val-split", type=fraction, default=0.2, metavar="F",
                       help="share of rows held out for validation, in [0, 1) (default: 0.2)")
    train.add_argument("--patience", type=positive_int, metavar="N",
                       help="stop when the validation loss has not improved for N epochs "
                            "and keep the best weights")
    train.add_argument("--no-standardize", dest="standardize", action="store_false",
                       help="train on the raw features")
    train.add_argument("--dropout", type=fraction, default=0.0, metavar="P",
                       help="dropout after each hidden layer, in [0, 1) (default: 0)")
    train.add_argument("--norm", choices=("batch", "layer"),
                       help="batch or layer normalisation in each hidden layer")
    train.add_argument("--lr-schedule", choices=tuple(LR_SCHEDULES),
                       help="learning-rate schedule: cosine (to 0 over the epochs), step "
                            "(x0.1 every third of them), onecycle (per batch), plateau (x0.5 "
                            "when the validation loss stalls)")
    train.add_argument("--class-weight", choices=("balanced",),
                       help="weigh each class by n / (classes * its count)")
    train.add_argument("--checkpoint", metavar="DIR",
                       help=f"after every epoch, write the training state to "
                            f"DIR/{CHECKPOINT_FILE} (for --resume)")
    train.add_argument("--resume", type=existing_file, metavar="CHECKPOINT",
                       help="continue the training saved in CHECKPOINT (give the same options "
                            "as the first run; --epochs is the total)")
    train.add_argument("--out", type=output_file, metavar="FILE",
                       help="write the trained model here (.safetensors)")
    train.add_argument("--plot", type=output_file, metavar="FILE",
                       help="write the loss and accuracy curves here (.png)")
    train.add_argument("--quiet", action="store_true", help="no progress bar")

    predict = commands.add_parser(
        "predict", help="predict the rows of a CSV file with a saved model",
        usage="layerwise predict MODEL {CSV | --data BIG} [--out FILE] [--proba] "
              "[--dask ADDRESS|local]",
        description="Print one prediction per row of CSV (a header row, then numbers). "
                    "With --data (or a .npy/.parquet file, or --dask): stream a file of any size "
                    "(.npy, CSV, Parquet) chunk by chunk into OUT (.npy or .csv): probabilities "
                    "for classifiers, else the model's outputs; memory about CHUNK_ROWS rows.")
    predict.set_defaults(subparser=predict)
    predict.add_argument("model", type=existing_file, metavar="MODEL")
    predict.add_argument("csv", type=existing_file, metavar="CSV", nargs="?")
    predict.add_argument("--data", type=existing_file, metavar="BIG",
                         help="stream this .npy, .csv or .parquet file (any size)")
    predict.add_argument("--dask", metavar="ADDRESS|local",
                         help="score the chunks on a Dask cluster (a scheduler address, or "
                              "'local' for a LocalCluster on this machine)")
    predict.add_argument("--chunk-rows", type=positive_int, default=65536, metavar="N",
                         help="rows per chunk when streaming (default 65536)")
    predict.add_argument("--out", type=output_file, metavar="FILE",
                         help="write the predictions to FILE instead of the screen")
    predict.add_argument("--proba", action="store_true",
                         help="print class probabilities instead of classes")

    evaluate = commands.add_parser(
        "evaluate", help="score a saved model on a data set",
        usage="layerwise evaluate MODEL --data DATA [--target COLUMN] [--loss LOSS]",
        description="Print the loss (and accuracy) of a saved model on a data set.")
    evaluate.set_defaults(subparser=evaluate)
    evaluate.add_argument("model", type=existing_file, metavar="MODEL")
    _data_options(evaluate)
    evaluate.add_argument("--loss", choices=LOSSES.names(),
                          help="the loss to report (default: the one it was trained with)")

    summary = commands.add_parser("summary", help="print a saved model's layers",
                                  description="Print a saved model's layers and parameters.")
    summary.set_defaults(subparser=summary)
    summary.add_argument("model", type=existing_file, metavar="MODEL")

    convert = commands.add_parser(
        "convert", help="convert a model file between .safetensors and .onnx",
        usage="layerwise convert IN OUT",
        description="Convert a model file to the other format, by the files' suffixes "
                    "(.safetensors <-> .onnx); the class and feature names it records go along.")
    convert.set_defaults(subparser=convert)
    convert.add_argument("source", type=existing_file, metavar="IN")
    convert.add_argument("target", type=output_file, metavar="OUT")

    commands.add_parser("lab", add_help=False, help="run the chapter's exercises "
                                                    "(layerwise lab --help)")
    return parser


def _data_options(p):
    p.add_argument("--data", type=dataset, required=True, metavar="DATA",
                   help="iris, digits, or the path of a CSV file with a header row")
    p.add_argument("--target", metavar="COLUMN",
                   help="the CSV's label column, by name or position (default: the last)")


# ------------------------------------------------------------------------------ data
def _load(data, target):
    """``(X float32, y, feature_names, class_names or None, target_name)`` of a data set."""
    from . import datasets

    if data in DATASETS:
        if target is not None:
            raise _UsageError(f"--target applies to CSV files; {data} has its own labels")
        loader = datasets.load_iris if data == "iris" else datasets.load_digits
        X, y, features, classes = loader(return_names=True)
        return X, y, features, classes, "species" if data == "iris" else "digit"
    header = _csv_header(data)
    if target is None:
        column = -1
    elif target.lstrip("-").isdigit() and target not in header:
        column = int(target)
    else:
        column = target
    try:
        X, y, features, classes = datasets.load_csv(data, target=column, return_names=True)
    except UnicodeDecodeError as err:
        raise CommandError(f"{data}: not a text file ({err.reason})") from None
    except (ValueError, OSError) as err:
        raise CommandError(str(err)) from None
    name = header[column] if isinstance(column, int) else column
    return X, y, features, classes, name


def _csv_header(path):
    """The CSV file's column names, read as ``load_csv`` reads them (one line on failure)."""
    from .datasets.loaders import csv_header

    try:
        return csv_header(path)
    except UnicodeDecodeError as err:
        raise CommandError(f"{path}: not a text file ({err.reason})") from None
    except (ValueError, OSError) as err:
        raise CommandError(str(err) if isinstance(err, ValueError) else
                           f"{path}: cannot be read ({err.strerror or err})") from None


def _targets(y, classes, decl, where):
    """Targets as the loss wants them, and the class names (None for regression)."""
    try:
        return tasks.prepare_targets(y, classes, decl, where)
    except ValueError as err:
        raise CommandError(str(err)) from None


_MAX_PARAMETERS = 2**28  # 1 GiB of float32 weights; more is surely a typo on this machine


def _check_network_size(sizes):
    """Refuse, before allocating, a network whose weights could not fit in memory."""
    count = sum(a * b + b for a, b in itertools.pairwise(sizes))
    if count > _MAX_PARAMETERS:
        raise _UsageError(f"--layers {','.join(map(str, sizes[1:-1]))} makes a network of "
                          f"{count:,} parameters ({count * 4 / 2**30:.1f} GiB in float32); "
                          f"the limit is {_MAX_PARAMETERS:,}")


def _make_optimizer(name, params, args):
    """The optimiser ``name`` with the options given that its constructor takes."""
    import inspect

    cls = OPTIMIZERS[name]
    accepted = inspect.signature(cls).parameters
    given = {"lr": args.lr, "momentum": args.momentum,
             "weight_decay": args.weight_decay or None}
    for option, value in given.items():
        if value is not None and option not in accepted:
            raise _UsageError(f"--{option.replace('_', '-')} does not apply to --optimizer "
                              f"{name}")
    options = {k: v for k, v in given.items() if v is not None}
    if "lr" not in options and accepted["lr"].default is inspect.Parameter.empty:
        options["lr"] = 0.01
    return cls(params, **options)


# ---------------------------------------------------------------------------- train
def _check_train_options(args):
    """Combinations of options that cannot work, refused before any data is read."""
    if args.patience is not None and args.val_split == 0:
        raise _UsageError("--patience watches the validation loss: give --val-split > 0")
    if args.plot is not None:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise CommandError("--plot needs matplotlib: pip install 'layerwise[plot]'"
                               ) from None
    if args.out and os.path.exists(args.out) and os.path.exists(args.data) \
            and os.path.samefile(args.out, args.data):
        raise _UsageError(f"--out {args.out} is the training data itself; give another file")


def _train(args):
    import layerwise as lw

    _check_train_options(args)
    decl = tasks.loss_for(args.loss)
    X, y, features, classes, target = _load(args.data, args.target)
    y, classes = _targets(y, classes, decl, args.data)
    _check_network_size([X.shape[1], *args.layers, tasks.output_size(decl, classes)])
    if classes is not None and len(classes) > max(20, len(y) // 4):
        raise CommandError(
            f"{args.data}: the target column has {len(classes)} different values for "
            f"{len(y)} rows, too many for classes: is it a number to predict? Use --loss mse "
            "(or mae, huber) for regression")
    rng = np.random.default_rng(args.seed)
    if args.val_split > 0:
        if math.ceil(args.val_split * len(X)) >= len(X):
            raise CommandError(f"--val-split {args.val_split} leaves no rows for training")
        X_train, X_val, y_train, y_val = lw.data.train_test_split(X, y, args.val_split, rng=rng)
    else:
        X_train, y_train, X_val, y_val = X, y, None, None
    network = lw.MLP([X.shape[1], *args.layers, tasks.output_size(decl, classes)],
                     hidden_activation=args.activation,
                     output_activation=tasks.output_activation(decl), rng=rng,
                     dropout=args.dropout, norm=args.norm)
    scaling = (lw.nn.Standardize.from_data(X_train) if args.standardize
               else lw.nn.Standardize(X.shape[1], dtype=X.dtype))
    model = lw.nn.Sequential(scaling, network)
    optimizer = _make_optimizer(args.optimizer, model.parameters(), args)
    loss = getattr(lw.nn, decl.module)()
    validation = None if X_val is None else (X_val, y_val)
    callbacks, schedule = _training_callbacks(args, optimizer, rng, len(X_train))
    initial_epoch = _resume(args, model, optimizer, schedule, rng)
    try:  # a diverging run ends in one line (NonFiniteLossError), not NumPy's warnings first
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            history = lw.fit(model, X_train, y_train, loss, optimizer,
                             args.epochs, args.batch_size, validation_data=validation,
                             rng=rng, progress=not args.quiet, early_stopping=args.patience,
                             callbacks=callbacks, class_weight=args.class_weight,
                             initial_epoch=initial_epoch)
    except (ValueError, FloatingPointError) as err:
        raise CommandError(str(err)) from None
    if args.checkpoint:
        print(f"checkpoint written to {os.path.join(args.checkpoint, CHECKPOINT_FILE)}")

    _report_scores(model, loss, decl, X_train, y_train, X_val, y_val)
    if args.out:
        metadata = {"loss": decl.name, "features": features, "target": target,
                    "classes": classes, "data": os.path.basename(args.data)}
        try:
            lw.save(model, args.out, metadata=metadata)
        except OSError as err:
            raise CommandError(f"cannot write {args.out}: {err.strerror or err}") from None
        print(f"model written to {args.out}")
    if args.plot:
        try:
            history.plot(args.plot, title=f"{os.path.basename(args.data)}: "
                                          f"MLP({network.extra_repr()})")
        except (OSError, ValueError) as err:
            raise CommandError(f"cannot write {args.plot}: {err}") from None
        print(f"training curves written to {args.plot}")
    return 0


def _report_scores(model, loss, decl, X_train, y_train, X_val, y_val):
    """One line each for the training and validation rows: accuracy (where it applies), loss."""
    from .training import evaluate

    scores = {"training": evaluate(model, X_train, y_train, loss)}
    if X_val is not None:
        scores["validation"] = evaluate(model, X_val, y_val, loss)
    for part, s in scores.items():
        figure = f"accuracy {s['accuracy']:.4f}  " if "accuracy" in s else ""
        print(f"{part:<10}  {figure}loss ({decl.name}) {s['loss']:.4f}")


LR_SCHEDULES = {"cosine": "epoch", "step": "epoch", "onecycle": "batch", "plateau": "epoch"}
CHECKPOINT_FILE = "checkpoint.safetensors"
# the options a resumed run must repeat: they decide the model, the data and the schedule
_RESUMED_OPTIONS = ("data", "target", "layers", "activation", "loss", "optimizer", "dropout",
                    "norm", "seed", "val_split", "standardize", "lr_schedule", "batch_size")


def _schedule(name, optimizer, args, n_rows):
    from .optim import lr_scheduler

    if name == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    if name == "step":
        return lr_scheduler.StepLR(optimizer, step_size=max(1, args.epochs // 3), gamma=0.1)
    if name == "onecycle":
        return lr_scheduler.OneCycleLR(optimizer, max_lr=optimizer.lr, epochs=args.epochs,
                                       steps_per_epoch=math.ceil(n_rows / args.batch_size))
    return lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5,
                                          patience=max(2, args.epochs // 10))


def _training_callbacks(args, optimizer, rng, n_rows):
    """The callbacks for --lr-schedule and --checkpoint, and the schedule (or None)."""
    from . import callbacks

    found, schedule = [], None
    if args.lr_schedule:
        schedule = _schedule(args.lr_schedule, optimizer, args, n_rows)
        found.append(callbacks.LearningRateScheduler(schedule, per=LR_SCHEDULES[args.lr_schedule]))
    if args.checkpoint:
        if os.path.exists(args.checkpoint) and not os.path.isdir(args.checkpoint):
            raise _UsageError(f"--checkpoint {args.checkpoint} is a file; give a folder")
        try:
            os.makedirs(args.checkpoint, exist_ok=True)
        except OSError as err:
            raise CommandError(f"cannot make {args.checkpoint}: {err.strerror or err}") from None
        found.append(callbacks.TrainingCheckpoint(
            os.path.join(args.checkpoint, CHECKPOINT_FILE), rng=rng, scheduler=schedule,
            options=_options(args)))
    return found, schedule


def _options(args) -> dict:
    return {k: getattr(args, k) for k in _RESUMED_OPTIONS}


def _resume(args, model, optimizer, schedule, rng) -> int:
    """Load --resume's checkpoint into the run; returns the epochs already done (0 without)."""
    if not args.resume:
        return 0
    from .checkpoint import load_checkpoint, read_extra, set_rng_state

    try:
        saved = read_extra(args.resume).get("options", {})
    except ValueError as err:
        raise CommandError(f"--resume: {err}") from None
    now = _json_like(_options(args))
    differ = [k for k in _RESUMED_OPTIONS if k in saved and saved[k] != now[k]]
    if differ:
        was = ", ".join(f"--{k.replace('_', '-')} {saved[k]}" for k in differ)
        raise CommandError(f"--resume: the checkpoint's run had {was}; give the same options")
    try:
        extra = load_checkpoint(args.resume, model, optimizer)
    except ValueError as err:
        raise CommandError(f"--resume: {err}") from None
    set_rng_state(rng, extra["rng"])
    if schedule is not None and extra.get("scheduler") is not None:
        schedule.load_state_dict(extra["scheduler"])
    done = int(extra["epoch"])
    if done >= args.epochs:
        raise CommandError(f"--resume: the checkpoint has done {done} epochs already; give "
                           f"--epochs above {done} (the total)")
    print(f"resuming after epoch {done}")
    return done


def _json_like(value):
    """``value`` as it comes back from JSON (tuples as lists)."""
    import json

    return json.loads(json.dumps(value))


# ------------------------------------------------------------------ saved models
def _open_model(path):
    from .onnx.files import load_any

    try:
        model, meta = load_any(path)
    except ImportError as err:
        raise CommandError(str(err)) from None
    except (ValueError, OSError) as err:
        raise CommandError(str(err) if isinstance(err, ValueError) else
                           f"{path}: cannot be read ({err.strerror or err})") from None
    _check_metadata(meta, path)
    return model, meta


# what the command line reads from a model file's metadata, and the form each must have
_METADATA = {"loss": str, "target": str, "data": str, "features": list, "classes": list}


def _check_metadata(meta, path):
    """The metadata ``train`` writes, as ``train`` writes it; anything else named clearly."""
    for key, kind in _METADATA.items():
        value = meta.get(key)
        if value is None:
            continue
        if not isinstance(value, kind) or (kind is list and not all(
                isinstance(v, str) for v in value)):
            what = "a string" if kind is str else "a list of strings"
            raise CommandError(f"{path}: the model's metadata {key!r} should be {what}, "
                               f"got {json.dumps(value)[:60]}")


def _input_size(model) -> int:
    if model.input_size is None:
        raise CommandError("the model does not declare its input size (no layer with a fixed "
                           "number of input features)")
    return model.input_size


def _columns(X, names, model, meta, where):
    """The model's feature columns of ``X``, picked by name when the file names them."""
    features = meta.get("features")
    if features and names != features:
        missing = [f for f in features if f not in names]
        if missing:
            raise CommandError(f"{where}: the model needs the columns {features[:8]}"
                               f"{' ...' if len(features) > 8 else ''}; missing {missing[:5]}"
                               f"{' ...' if len(missing) > 5 else ''}")
        X = X[:, [names.index(f) for f in features]]
    n = _input_size(model)
    if X.shape[1] != n:
        raise CommandError(f"{where}: the model takes {n} features, the data has "
                           f"{X.shape[1]} columns")
    return X


def _features_for(model, meta, path):
    """The rows of a CSV file to predict (a label column, if the file has one, is left out)."""
    from . import datasets

    header, target = _csv_header(path), meta.get("target")
    try:
        if target in header and len(header) > 1:
            X, _, names, _ = datasets.load_csv(path, target=target, return_names=True)
        else:
            X, names = datasets.load_csv(path, target=None, return_names=True)
    except (ValueError, OSError) as err:
        raise CommandError(str(err)) from None
    return _columns(X, names, model, meta, path)


def _loss_of(meta, out):
    """The declaration of the loss a model file says it was trained with; a file that names
    none (saved by lw.save) is taken as a classifier of logits when it has several outputs."""
    try:
        return tasks.loss_of_model_file(meta, out.shape[1])
    except ValueError as err:
        raise CommandError(f"the model file names an unknown loss: {err}") from None


def _predict(args):
    from .autodiff.tensor import no_grad

    if (args.csv is None) == (args.data is None):
        raise _UsageError("give the data once: layerwise predict MODEL CSV, or --data BIG")
    if args.data or args.dask or not args.csv.lower().endswith(".csv"):
        return _predict_streaming(args)
    model, meta = _open_model(args.model)
    X = _features_for(model, meta, args.csv)
    with no_grad():
        out = model.eval()(X).data
    classes = meta.get("classes")
    decl = _loss_of(meta, out)
    probs = tasks.probabilities(decl, out) if decl is not None else None
    if probs is not None:
        classes = classes or [str(k) for k in range(probs.shape[1])]
    if args.proba:
        if probs is None:
            raise _UsageError("--proba applies to classifiers; this model predicts values")
        lines = [",".join(classes)] + [",".join(map(str, row)) for row in probs]
    elif probs is not None:
        lines = ["prediction"] + [classes[k] for k in probs.argmax(axis=1)]
    else:
        lines = [",".join(f"prediction_{j}" for j in range(out.shape[1]))
                 if out.shape[1] > 1 else "prediction"]
        lines += [",".join(map(str, row)) for row in out]
    text = "\n".join(lines) + "\n"
    if args.out:
        try:
            with open(args.out, "w", encoding="utf-8") as f:
                f.write(text)
        except OSError as err:
            raise CommandError(f"cannot write {args.out}: {err.strerror or err}") from None
    else:
        sys.stdout.write(text)
    return 0


def _predict_streaming(args):
    from .predicting import predict_command

    if not args.out:
        raise _UsageError("streaming predictions (--data, --dask) need --out FILE (.npy or .csv)")
    try:
        predict_command(args.model, args.data or args.csv, args.out, args.dask, args.chunk_rows)
    except (ValueError, OSError, ImportError) as err:
        raise CommandError(str(err)) from None
    return 0


def _evaluate(args):
    import layerwise as lw

    model, meta = _open_model(args.model)
    name = args.loss or meta.get("loss")
    if name is None:
        raise _UsageError("the model file does not say which loss it was trained with; "
                          "give --loss")
    try:
        decl = tasks.loss_for(name)
    except ValueError as err:
        raise CommandError(f"the model file names an unknown loss: {err}") from None
    target = args.target
    if target is None and meta.get("target") and args.data not in DATASETS:
        header = _csv_header(args.data)
        target = meta["target"] if meta["target"] in header else None
    X, y, names, classes, _ = _load(args.data, target)
    X = _columns(X, names, model, meta, args.data)
    trained = meta.get("classes")
    if classes is not None and trained:  # class names: map them to the model's labels
        unknown = sorted(set(classes) - set(trained))
        if unknown:
            raise CommandError(f"{args.data}: classes {unknown} were not in the training data")
        y = np.array([trained.index(c) for c in classes])[y]
        classes = trained
    elif classes is None and trained and decl.targets != "values":
        try:
            lookup = {int(c): k for k, c in enumerate(trained)}
            y = np.array([lookup[int(v)] for v in y])
        except (ValueError, KeyError) as err:
            raise CommandError(f"{args.data}: label {err} was not in the training data"
                               ) from None
        classes = trained
    y, _ = _targets(y, classes, decl, args.data)
    try:
        scores = lw.training.evaluate(model, X, y, getattr(lw.nn, decl.module)())
    except ValueError as err:
        raise CommandError(str(err)) from None
    print(f"loss ({decl.name}): {scores['loss']:.4f}")
    if "accuracy" in scores:
        print(f"accuracy: {scores['accuracy']:.4f}")
    return 0


def _summary(args):
    import layerwise as lw

    model, meta = _open_model(args.model)
    print(lw.summary(model, (None, _input_size(model))))
    for key in ("data", "target", "loss"):
        if meta.get(key):
            print(f"{key.capitalize()}: {meta[key]}")
    if meta.get("classes"):
        print(f"Classes: {', '.join(meta['classes'])}")
    return 0


def _convert(args):
    from .onnx.files import convert

    try:
        convert(args.source, args.target)
    except ImportError as err:
        raise CommandError(str(err)) from None
    except (ValueError, OSError) as err:
        raise CommandError(str(err) if isinstance(err, ValueError) else
                           f"{args.source}: cannot be converted ({err.strerror or err})"
                           ) from None
    print(f"model written to {args.target}")
    return 0


# ----------------------------------------------------------------------------- main
class _UsageError(Exception):
    """A bad combination of arguments, found after parsing: usage line + one line, exit 2."""


def _lab(argv):
    try:
        from .lab.cli import main as lab_main
    except ModuleNotFoundError as err:
        if err.name in ("layerwise.lab", "layerwise.lab.cli"):
            print("layerwise lab: the lab is not available in this installation",
                  file=sys.stderr)
            return 1
        print(f"layerwise lab: needs the package {err.name!r} "
              "(pip install 'layerwise[plot]')", file=sys.stderr)
        return 1
    return lab_main(argv)


COMMANDS = {"train": _train, "predict": _predict, "evaluate": _evaluate, "summary": _summary,
            "convert": _convert}


def main(argv=None) -> int:
    """Run the ``layerwise`` command with ``argv`` (default: ``sys.argv[1:]``); return the
    exit status: 0 done, 1 a data, file or training problem, 2 bad arguments, 130 Ctrl-C."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["lab"]:
        return _lab(argv[1:])
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help / --version (0) or a usage error (2)
        return exc.code if isinstance(exc.code, int) else 0
    where = f"layerwise {args.command}"
    try:
        return COMMANDS[args.command](args)
    except _UsageError as err:
        args.subparser.print_usage(sys.stderr)
        print(f"{where}: error: {err}", file=sys.stderr)
        return 2
    except CommandError as err:
        print(f"{where}: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\n{where}: interrupted", file=sys.stderr)
        return 130
