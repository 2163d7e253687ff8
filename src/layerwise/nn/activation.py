"""Activation modules, made from the declarations in ``lw.F.ACTIVATIONS``.

``Activation(name, **params)`` runs any declared activation; each built-in declaration that
names a module class (``ReLU``, ``Softmax``, ...) gets that class here, a subclass whose
constructor takes the activation's own parameters. Nothing about an activation is written in
this file: declaring one in ``lw.functional`` is enough.
"""

from __future__ import annotations

import inspect
import math
import numbers

from .. import replay
from ..functional.activations import ACTIVATIONS, identity
from ..onnx.forms import as_op
from .module import Module, register

__all__ = ["Activation"]


@register(_builtin=True)
class Activation(Module):
    """A module applying the declared activation ``name`` with keyword ``params``.

    >>> import layerwise as lw
    >>> lw.nn.Activation("leaky_relu", negative_slope=0.2)
    Activation('leaky_relu', negative_slope=0.2)
    >>> lw.nn.LeakyReLU(0.2)(lw.Tensor([-1.0]))
    Tensor([-0.2])
    """

    def __init__(self, name: str, dtype=None, **params):
        # dtype: accepted (and unused: an activation has no parameters) so that loading, which
        # passes dtype= to every constructor that takes it, does not mistake it for a param
        try:
            decl = ACTIVATIONS.declaration(name)
        except KeyError as err:
            raise ValueError(err.args[0]) from None
        unknown = set(params) - set(decl.params)
        if unknown:
            raise ValueError(f"activation {decl.name!r} takes no parameter "
                             f"{', '.join(sorted(unknown))} (its parameters: "
                             f"{', '.join(decl.params) or 'none'})")
        self.name = decl.name
        self.params = {**decl.params,
                       **{k: _checked(decl.name, k, v, decl.params[k]) for k, v in params.items()}}
        self.fn = decl.obj

    @property
    def declaration(self):
        """This activation's declaration in ``lw.F.ACTIVATIONS``."""
        return ACTIVATIONS.declaration(self.name)

    def forward(self, x):
        return self.fn(x, **self.params)

    def replayable(self) -> bool:
        """layerwise's own activations (and any primitive); a user's Python function runs."""
        return super().replayable() and (self.declaration.builtin or hasattr(self.fn, "rule"))

    def __getattr__(self, key):
        # the activation's parameters read as attributes: LeakyReLU().negative_slope
        params = self.__dict__.get("params", {})
        if key in params:
            return params[key]
        raise AttributeError(f"{type(self).__name__} has no attribute {key!r}")

    def __setattr__(self, key, value):
        params = self.__dict__.get("params")
        if params is not None and key in params:  # checked as in the constructor
            params[key] = _checked(self.name, key, value, self.declaration.params[key])
            replay.edited()
        else:
            super().__setattr__(key, value)

    def get_config(self) -> dict:
        """The activation's current parameters (and its name, for a bare ``Activation``)."""
        return {**({"name": self.name} if type(self) is Activation else {}), **self.params}

    def extra_repr(self) -> str:
        changed = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        if type(self) is Activation:
            return ", ".join(filter(None, [repr(self.name), changed]))
        return changed

    # ------------------------------------------------------------------ conversions
    def to_torch_modules(self, nn) -> list:
        decl = self.declaration
        if decl.torch is None:
            raise ValueError(f"to_torch: the activation {self.name!r} names no PyTorch "
                             "counterpart (register it with torch=...)")
        if callable(decl.torch):
            return [decl.torch(**self.params)]
        renamed = {decl.torch_args.get(k, k): v for k, v in self.params.items()}
        return [getattr(nn, decl.torch)(**renamed)]

    @classmethod
    def torch_counterparts(cls) -> tuple:
        return tuple(d.torch for d in ACTIVATIONS.declarations() if isinstance(d.torch, str))

    @classmethod
    def from_torch_module(cls, module):
        decl = next(d for d in ACTIVATIONS.declarations() if d.torch == type(module).__name__)
        params = {k: getattr(module, decl.torch_args.get(k, k)) for k in decl.params}
        made = _CLASSES.get(decl.name)
        return made(**params) if made else Activation(decl.name, **params)

    def to_onnx(self, graph, x: str) -> str:
        return graph.activation(self.name, self.params, x)

    @classmethod
    def onnx_counterparts(cls) -> tuple:
        """The ops the declarations name, and the domain of composed activations' functions."""
        if cls is not Activation:  # the generated classes import through Activation
            return ()
        ops = tuple(op.op_type for d in ACTIVATIONS.declarations() if (op := as_op(d.onnx)))
        return (*ops, "layerwise.activations")

    @classmethod
    def from_onnx(cls, node, reader):
        """The activation the node computes (``reader.activation``); the identity gives None:
        nothing to do."""
        decl, params = reader.activation(node)
        if decl.obj is identity:
            return None
        made = _CLASSES.get(decl.name)
        return made(**params) if made else Activation(decl.name, **params)


def _checked(name: str, key: str, value, default):
    """A parameter of the type its default has (a finite float, an int of sane size, ...):
    hyper-parameters also come from files, so NaN, huge axes and wrong types stop here."""
    kind = type(default)
    if kind is float and isinstance(value, numbers.Real) and not isinstance(value, bool) \
            and math.isfinite(value):
        return float(value)
    if kind is int and isinstance(value, numbers.Integral) and not isinstance(value, bool) \
            and abs(value) < 2**31:  # type: ignore[operator]  # typeshed's Integral has no <
        return int(value)
    if kind in (bool, str) and isinstance(value, kind) or default is None:
        return value
    what = "a finite number" if kind is float else f"a {kind.__name__}"
    raise ValueError(f"activation {name!r}: {key} must be {what} like its default "
                     f"{default!r}, got {value!r}")


def _activation_class(decl) -> type:
    """The ``lw.nn`` class of a declared activation: its parameters as constructor arguments."""
    params = [inspect.Parameter(k, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=v)
              for k, v in decl.params.items()]
    signature = inspect.Signature([inspect.Parameter("self",
                                                     inspect.Parameter.POSITIONAL_ONLY),
                                   *params])

    def __init__(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        Activation.__init__(self, decl.name, **dict(list(bound.arguments.items())[1:]))

    __init__.__signature__ = signature  # type: ignore[attr-defined]
    doc = (decl.obj.__doc__ or "").strip().splitlines()
    return type(decl.module, (Activation,), {
        "__init__": __init__,
        "__doc__": f"Module form of ``lw.F.{decl.obj.__name__}``: {doc[0] if doc else ''}",
        "__module__": __name__,
        "__qualname__": decl.module,
    })


_CLASSES: dict = {}  # activation name -> its module class (built-ins; users use Activation)

for _decl in ACTIVATIONS.declarations():
    if _decl.module:
        _CLASSES[_decl.name] = globals()[_decl.module] = register(_activation_class(_decl), _builtin=True)
        __all__.append(_decl.module)
