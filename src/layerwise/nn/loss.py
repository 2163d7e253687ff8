"""Loss modules with PyTorch's names, called ``loss_fn(y_true, y_pred)`` as the chapter.

Made from the declarations in ``lw.F.LOSSES``: each declared loss gets its module class here
(``MSELoss``, ``CrossEntropyLoss``, ...), whose constructor takes the loss function's options
(``reduction``, ``delta``, ``label_smoothing``, ...) with the same names and defaults, and whose
``forward`` is one call of the function. Nothing about a loss is written in this file.
"""

from __future__ import annotations

import inspect

import numpy as np

from ..autodiff.tensor import Tensor
from ..functional.losses import LOSSES, check_labels, check_options
from ..registry import Declaration
from .module import Module, register

__all__ = ["Loss"]


class Loss(Module):
    """Base of the loss modules: a declared loss function and its options.

    Attributes:
        declaration: the loss's entry in ``lw.F.LOSSES`` (name, targets, predictions, ...).
    """

    declaration: Declaration = None  # type: ignore[assignment]  # set on each made class
    takes_labels = False  # the declaration's targets are class labels (set on each made class)

    def __init__(self, **options):
        check_options(type(self).__name__, **options)  # the functions' own rules
        self.options = options
        self.fn = self.declaration.obj

    def forward(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self.options)

    def replayable(self) -> bool:
        """layerwise's own losses; one declared by a user is its user's code, run every time."""
        return super().replayable() and self.declaration.builtin

    def replay_key(self, y_true, y_pred):
        """What of the inputs' values decides the loss's path (see ``Module.replay_key``):
        for integer class labels, whether some are ``ignore_index``; labels out of range
        raise here, as the function would."""
        if not self.takes_labels:
            return None
        target = y_true.data if isinstance(y_true, Tensor) else y_true
        shape = y_pred.shape
        if not shape or target.shape != shape[:-1] or target.dtype.kind not in "iu":
            return None
        return check_labels(target, shape, self.declaration.name,
                            self.options.get("ignore_index", -100))

    def __getattr__(self, key):
        options = self.__dict__.get("options", {})
        if key in options:
            return options[key]
        raise AttributeError(f"{type(self).__name__} has no attribute {key!r}")

    def extra_repr(self) -> str:
        defaults = self.declaration.options
        return ", ".join(f"{k}={v!r}" for k, v in self.options.items()
                         if not _same(v, defaults[k]))


def _same(value, default) -> bool:
    # options may be arrays (class weights): compare as values, never elementwise
    return value is default or (not isinstance(value, np.ndarray) and value == default)


def _loss_class(decl) -> type:
    """The ``lw.nn`` class of a declared loss: the function's options as its arguments."""
    params = list(inspect.signature(decl.obj).parameters.values())[2:]
    signature = inspect.Signature([inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY),
                                   *(p.replace(kind=p.POSITIONAL_OR_KEYWORD) for p in params)])

    def __init__(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        Loss.__init__(self, **dict(list(bound.arguments.items())[1:]))

    __init__.__signature__ = signature  # type: ignore[attr-defined]
    summary = (decl.obj.__doc__ or "").strip().splitlines()
    decl.fields["options"] = {p.name: p.default for p in params}
    return type(decl.module, (Loss,), {
        "__init__": __init__,
        "__doc__": f"Module form of ``lw.F.{decl.obj.__name__}``: "
                   f"{summary[0] if summary else ''}",
        "__module__": __name__,
        "__qualname__": decl.module,
        "declaration": decl,
        "takes_labels": decl.targets == "labels",
    })


for _decl in LOSSES.declarations():
    _cls = globals()[_decl.module] = register(_loss_class(_decl), _builtin=True)
    __all__.append(_decl.module)
    for _alias in _decl.module_aliases:
        globals()[_alias] = _cls
        __all__.append(_alias)
