"""``Module``: parameters found by attribute, dotted names, state dicts, readable reprs,
and a self-description (``get_config`` / ``from_config``) that saving and converting read.
"""

from __future__ import annotations

import contextlib
import inspect
import math
from typing import Any, ClassVar

import numpy as np

from .. import replay
from ..autodiff.tensor import Tensor
from ..registry import Registry

__all__ = ["MODULES", "Module", "register", "training_mode"]

MODULES: Registry = Registry("module")
"""Every module class that files may name, by class name: the built-ins and the user classes
decorated with :func:`register`. Loading rebuilds only these."""

_NOT_CONFIG = ("rng", "dtype")  # constructor arguments that shape no architecture
_UNSET = object()


def register(cls=None, *, name: str | None = None, _builtin: bool = False):
    """Class decorator: let ``lw.save`` / ``lw.load`` (and conversions) handle a Module class.

    The class is found by ``name`` (default: the class name) when a file is loaded; its
    constructor arguments are captured automatically (see :meth:`Module.get_config`).

    >>> import layerwise as lw
    >>> @lw.nn.register
    ... class Scale(lw.nn.Module):
    ...     def __init__(self, factor=2.0):
    ...         self.factor = factor
    ...     def forward(self, x):
    ...         return x * self.factor
    >>> Scale(3.0).get_config()
    {'factor': 3.0}
    >>> lw.nn.MODULES.remove("Scale")
    """

    def decorate(klass):
        if not (isinstance(klass, type) and issubclass(klass, Module)):
            raise TypeError(f"lw.nn.register: {klass!r} is not a lw.nn.Module subclass")
        MODULES.add(name or klass.__name__, klass, builtin=_builtin)
        return klass

    return decorate if cls is None else decorate(cls)


class Module:
    """Base class of layers and models (as ``torch.nn.Module``, without hooks).

    Parameters are the Tensor attributes of a module; sub-modules are its Module attributes;
    buffers (state that is saved but not trained, e.g. running statistics) are the ndarrays
    named in the class's ``_buffers``. Names are dotted paths in attribute order, e.g.
    ``layers.0.W``.

    A module describes itself: the arguments its constructor was called with are captured
    when it is made, so :meth:`get_config` / :meth:`from_config` need no code in subclasses.
    """

    training = True
    _buffers: tuple = ()

    def __new__(cls, *args, **kwargs):
        self = super().__new__(cls)
        # captured for get_config (as Keras 3 does); bound to the signature only when asked
        object.__setattr__(self, "_init_args", (args, kwargs))
        return self

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    @property
    def __call__(self):
        """``module(x)`` runs ``module.forward(x)`` (inside ``lw.compile``, maybe replayed).

        A property returning the bound ``forward`` rather than a method that calls it: the call
        then costs no extra Python frame and no argument re-packing (0.4 us a module, a tenth of
        a small Dense layer's whole forward pass).
        """
        if replay._State.depth:
            return self._replayed_call
        return self.forward

    def _replayed_call(self, *args, **kwargs):
        return replay.call_module(self, *args, **kwargs)

    def replayable(self) -> bool:
        """Whether ``lw.compile`` may replay this module's recorded primitives instead of
        running ``forward`` (its sub-modules are asked too).

        True for layerwise's own module classes (registered as built-in): their ``forward``
        does all its NumPy work in primitives (random draws and running statistics included)
        and its path depends only on the input shapes and dtypes and the module's attributes;
        ``tests/replay`` holds every one of them to that, bit for bit. A user's class runs its
        own ``forward`` every time (the layers it calls are still replayed); a built-in class
        whose forward may run its user's code says so by overriding this (``Dense`` with a
        Python activation).
        """
        name = MODULES.name_of(type(self))
        return name is not None and MODULES.declaration(name).builtin

    def replay_key(self, *args):
        """What of the inputs' *values* (not shapes) decides the path ``forward`` takes, for
        ``lw.compile``: called on every call inside a compiled function, its result is
        part of what a recording must match (None: nothing). It may raise as ``forward``
        would on bad values (e.g. class labels out of range)."""

    def __setattr__(self, name, value):
        # a changed attribute may change what forward does: recordings of lw.compile are stale
        # (except the training flag, which each recording checks itself: train/eval switches
        # keep both recordings)
        if name != "training" and self.__dict__.get(name, _UNSET) is not value:
            replay.edited()
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        replay.edited()
        object.__delattr__(self, name)

    def __getstate__(self):
        # copies and pickles leave lw.compile's recordings behind: they name this module's
        # own parameters, and a copy records its own
        return {k: v for k, v in self.__dict__.items() if k not in replay.PRIVATE}

    # --------------------------------------------------------------------- traversal
    def named_children(self):
        """Yield ``(name, module)`` for direct sub-modules."""
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value

    def named_modules(self, prefix: str = ""):
        """Yield ``(dotted_name, module)`` for this module and every sub-module."""
        yield prefix, self
        for name, child in self.named_children():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def named_buffers(self, prefix: str = ""):
        """Yield ``(dotted_name, ndarray)`` for every buffer (saved, not trained)."""
        for name in self._buffers:
            value = getattr(self, name, None)
            if value is not None:
                yield (f"{prefix}.{name}" if prefix else name), value
        for name, child in self.named_children():
            yield from child.named_buffers(f"{prefix}.{name}" if prefix else name)

    def named_parameters(self, prefix: str = ""):
        """Yield ``(dotted_name, Tensor)`` for every parameter, in definition order."""
        for name, value in vars(self).items():
            if isinstance(value, Tensor):
                yield (f"{prefix}.{name}" if prefix else name), value
        for name, child in self.named_children():
            yield from child.named_parameters(f"{prefix}.{name}" if prefix else name)

    def parameters(self) -> list:
        """All parameters (Tensors), in ``named_parameters`` order."""
        return [p for _, p in self.named_parameters()]

    def num_parameters(self, trainable_only: bool = False) -> int:
        """Total number of scalar parameters (only those with requires_grad if asked)."""
        return sum(p.size for p in self.parameters() if p.requires_grad or not trainable_only)

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to None."""
        for p in self.parameters():
            p.grad = None

    def train(self, mode: bool = True):
        """Set training mode here and in every sub-module; returns self."""
        for _, m in self.named_modules():
            m.training = mode
        return self

    def eval(self):
        """Set evaluation mode (``train(False)``); returns self."""
        return self.train(False)

    # ------------------------------------------------------------------------ predict
    def predict(self, X, batch_size: int = 1024) -> np.ndarray:
        """The model's outputs on the rows of ``X`` as one ndarray, ``batch_size`` rows at a time.

        Runs in evaluation mode (Dropout off, BatchNorm on its running statistics) without
        building a graph; the training flag is put back afterwards.

        Args:
            X: ``(n, ...)`` inputs (ndarray, memmap, Tensor or array-like).
            batch_size: rows per forward pass (bounds the memory used), a positive int.

        Returns:
            ``(n, ...)`` ndarray of outputs.

        >>> import numpy as np, layerwise as lw
        >>> lw.MLP([4, 8, 3], rng=0).predict(np.ones((5, 4))).shape
        (5, 3)
        """
        from ..autodiff.tensor import no_grad
        from ..checks import positive_int
        from ..data.batching import as_rows

        where = f"{type(self).__name__}.predict"
        X = as_rows(X, "X", where)
        batch_size = positive_int(batch_size, "batch_size", where)
        outputs = []
        with training_mode(self, False), no_grad(), replay.replaying():
            for start in range(0, max(len(X), 1), batch_size):
                out = self(np.asarray(X[start:start + batch_size]))
                outputs.append(np.asarray(out.data if isinstance(out, Tensor) else out))
        return outputs[0] if len(outputs) == 1 else np.concatenate(outputs)

    # ------------------------------------------------------------------- state dicts
    def state_dict(self) -> dict:
        """``{dotted_name: ndarray copy}`` of every parameter, then every buffer."""
        state = {name: p.data.copy() for name, p in self.named_parameters()}
        state.update((name, b.copy()) for name, b in self.named_buffers())
        return state

    def _state_arrays(self) -> dict:
        """``{dotted_name: the live ndarray}`` of every parameter and buffer."""
        state = {name: p.data for name, p in self.named_parameters()}
        state.update(self.named_buffers())
        return state

    def load_state_dict(self, state: dict, strict: bool = True) -> None:
        """Copy arrays into the parameters and buffers, checking names and shapes first
        (nothing changes if any check fails). Values are converted to each one's dtype."""
        params = self._state_arrays()
        missing = [n for n in params if n not in state]
        unexpected = [n for n in state if n not in params]
        if strict and (missing or unexpected):
            parts = []
            if missing:
                parts.append(f"missing: {', '.join(missing)}")
            if unexpected:
                parts.append(f"unexpected: {', '.join(unexpected)}")
            raise ValueError(
                f"load_state_dict into {type(self).__name__}: {'; '.join(parts)} "
                f"(expected names: {', '.join(params)})"
            )
        arrays = {}
        for name, p in params.items():
            if name not in state:
                continue
            value = np.asarray(state[name].data if isinstance(state[name], Tensor) else state[name])
            if value.shape != p.shape:
                raise ValueError(
                    f"load_state_dict into {type(self).__name__}: {name} has shape "
                    f"{value.shape} but the parameter has shape {p.shape}"
                )
            arrays[name] = value
        for name, value in arrays.items():
            np.copyto(params[name], value, casting="unsafe")

    # ------------------------------------------------------------------------ config
    def get_config(self) -> dict:
        """The constructor's arguments as a JSON-serialisable dict, keyed by their names.

        Captured when the module was made (defaults filled in; ``rng`` and ``dtype`` left out,
        as they shape no architecture). Sub-modules given as arguments become
        ``{"module": class name, "config": {...}}``; registered activation functions their
        names. An argument that cannot be written as JSON raises ``ValueError`` naming it:
        override ``get_config`` in such a class.

        >>> import layerwise as lw
        >>> lw.nn.Dense(4, 8, rng=0).get_config()
        {'n_input': 4, 'n_output': 8, 'activation': 'relu', 'init': 'he', 'bias': True}
        """
        cls = type(self)
        args, kwargs = getattr(self, "_init_args", ((), {}))
        try:
            bound = inspect.signature(cls.__init__).bind(None, *args, **kwargs)
        except TypeError as err:  # pragma: no cover - the constructor accepted these
            raise ValueError(f"{cls.__name__}.get_config: {err}") from None
        bound.apply_defaults()
        config: dict[str, Any] = {}
        for i, (key, value) in enumerate(bound.arguments.items()):
            if i == 0 or key in _NOT_CONFIG:
                continue
            kind = inspect.signature(cls.__init__).parameters[key].kind
            if kind is inspect.Parameter.VAR_KEYWORD:
                config.update({k: to_json(v, f"{cls.__name__}.{k}") for k, v in value.items()})
            else:
                config[key] = to_json(value, f"{cls.__name__}.{key}")
        return config

    @classmethod
    def from_config(cls, config: dict, **overrides):
        """A new module built from :meth:`get_config`'s dict (fresh parameters).

        ``overrides`` are passed to the constructor too (``dtype=``, ``rng=``) where it takes
        them.
        """
        if not isinstance(config, dict):
            raise ValueError(  # noqa: TRY004 - a malformed file or config, not a caller's type
                f"{cls.__name__}.from_config: the config must be an object, got "
                f"{type(config).__name__}")
        params = inspect.signature(cls.__init__).parameters
        args: list = []
        kwargs = {k: v for k, v in overrides.items() if k in params}
        for key, value in config.items():
            value = from_json(value, f"{cls.__name__}.{key}")
            param = params.get(key)
            if param is not None and param.kind is inspect.Parameter.VAR_POSITIONAL:
                if not isinstance(value, list):
                    raise ValueError(f"{cls.__name__}.{key} must be a list")
                args = value
            elif param is None and not _takes_any(params):
                raise ValueError(f"{cls.__name__} takes no argument {key!r}")
            else:
                kwargs[key] = value
        if args:  # *args must come after the positional ones: bind by name first
            positional = [p for p in params.values()
                          if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD][1:]
            args = [kwargs.pop(p.name) for p in positional if p.name in kwargs] + args
        try:
            return cls(*args, **kwargs)
        except TypeError as err:
            raise ValueError(f"{cls.__name__}: {err}") from None

    @property
    def input_size(self) -> int | None:
        """The number of input features this module takes (None: any, as an activation).

        Layers declare theirs (``Dense``: ``n_input``); containers give their first layer's.
        """
        for _, child in self.named_children():
            size = child.input_size
            if size is not None:
                return size
        return None

    # ------------------------------------------------------------------ conversions
    def to_torch_modules(self, nn) -> list:
        """PyTorch modules doing what this module does, in order (``nn`` is ``torch.nn``).

        A module class declares its PyTorch form by defining this method (``Dense`` gives
        ``Linear`` and its activation, ``Sequential`` its children's); without one,
        ``to_torch`` raises ``ValueError`` naming the class rather than guess what its
        ``forward`` does.
        """
        raise ValueError(f"to_torch: {type(self).__name__} has no PyTorch form (a module class "
                         "declares one by defining to_torch_modules)")

    @classmethod
    def torch_counterparts(cls) -> tuple:
        """Class names of the ``torch.nn`` leaf modules this class converts from."""
        return ()

    @classmethod
    def from_torch_module(cls, module):
        """The layerwise module equal to one ``torch.nn`` leaf module whose class name is in
        :meth:`torch_counterparts` (weights copied, dtype kept)."""
        raise NotImplementedError(f"{cls.__name__} does not convert from PyTorch")

    def to_onnx(self, graph, x: str) -> str:
        """Add this module's ONNX nodes to ``graph`` after the value named ``x``; return the name
        of its output (see ``lw.onnx.GraphBuilder``).

        A module class declares its ONNX form by defining this method beside its forward;
        without one, ``lw.onnx.export`` raises ``ValueError`` naming the module.
        """
        raise ValueError(f"lw.onnx.export: {graph.where or 'the model'} ({type(self).__name__}) "
                         "has no ONNX form (a module class declares one by defining to_onnx)")

    @classmethod
    def onnx_counterparts(cls) -> tuple:
        """ONNX op types (default domain) this class is imported from by ``lw.onnx.load``."""
        return ()

    @classmethod
    def from_onnx(cls, node, reader):
        """The layerwise module equal to ``node`` (an ``onnx.NodeProto`` whose op type is in
        :meth:`onnx_counterparts`), or None when it changes nothing at inference. ``reader``
        (``lw.onnx.load``'s) gives constants and attributes and may absorb the nodes that
        follow (``reader.absorb("Add")``)."""
        raise NotImplementedError(f"{cls.__name__} does not convert from ONNX")

    # -------------------------------------------------------------------------- repr
    def extra_repr(self) -> str:
        """One line describing this module's own settings (override in layers)."""
        return ""

    def __repr__(self) -> str:
        children = list(self.named_children())
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not children:
            return head + ")"
        lines = [head]
        for name, child in children:
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        return "\n".join(lines) + "\n)"

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        """Jupyter's view: the repr as text, an HTML table of layers, shapes and parameters."""
        from ..display import module_mimebundle

        return module_mimebundle(self, include, exclude)


def _takes_any(params) -> bool:
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def to_json(value, where: str):
    """A constructor argument as JSON: numbers, strings, lists, dicts, modules, activations."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value):
            raise ValueError(f"{where} is {value}: only finite numbers can be saved")
        return float(value)
    if isinstance(value, (list, tuple)):
        return [to_json(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: to_json(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, Module):
        name = MODULES.name_of(type(value))
        if name is None:
            raise ValueError(f"{where} is a {type(value).__name__}, which is neither built in "
                             "nor registered: decorate its class with @lw.nn.register")
        return {"module": name, "config": value.get_config()}
    if callable(value):
        from ..functional.activations import ACTIVATIONS

        name = ACTIVATIONS.name_of(value)
        if name is not None:
            return name
        raise ValueError(f"{where} is the function {getattr(value, '__name__', value)!r}, "
                         "which cannot be saved: declare it with lw.register_activation and "
                         "pass its name")
    if isinstance(value, np.ndarray) and value.ndim <= 1:
        return to_json(value.tolist(), where)
    raise ValueError(f"{where} is a {type(value).__name__}, which cannot be written as JSON; "
                     "override get_config() in that class")


def from_json(value, where: str):
    """Undo :func:`to_json`: ``{"module": name, "config": {...}}`` becomes that module."""
    if isinstance(value, list):
        return [from_json(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        if set(value) == {"module", "config"}:
            name = value["module"]
            if name not in MODULES:
                raise ValueError(f"{where} names the module class {name!r}, which is not "
                                 "registered (decorate it with @lw.nn.register before loading; "
                                 f"known: {', '.join(MODULES.names())})")
            return MODULES[name].from_config(value["config"], **_BUILD.overrides)
        return {k: from_json(v, f"{where}.{k}") for k, v in value.items()}
    return value


class _BUILD:
    """Constructor arguments every module built from a config gets (``dtype`` while loading)."""

    overrides: ClassVar[dict] = {}


@contextlib.contextmanager
def building(**overrides):
    """Build modules from configs with ``overrides`` (e.g. ``dtype=``) passed to every
    constructor that takes them."""
    previous = _BUILD.overrides
    _BUILD.overrides = {**previous, **overrides}
    try:
        yield
    finally:
        _BUILD.overrides = previous


@contextlib.contextmanager
def training_mode(module: Module, training: bool):
    """Run a block with ``module`` in training (True) or evaluation (False) mode, then put back
    the mode it had (in it and every sub-module), even if the block raises.

    >>> import layerwise as lw
    >>> net = lw.MLP([2, 3], rng=0)
    >>> with lw.nn.training_mode(net, False):
    ...     net.training
    False
    >>> net.training
    True
    """
    was_training = module.training
    module.train(training)
    try:
        yield module
    finally:
        module.train(was_training)
