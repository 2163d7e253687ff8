"""Registries: each activation, loss, module class and optimiser is declared once, by name.

A declaration is a small record beside the thing it declares (a decorator on the function
or class). Everything that needs to know about the catalogue reads the registries instead of
keeping its own table: ``Dense(activation=...)``, saving and loading, PyTorch and ONNX
conversion, ``lw.summary``, ``lw.graph``, ``fit``'s target checks, the command line's choices
and the contract tests. Adding an entry is its declaration (and one test catalogue row).

A :class:`Registry` is a read-only mapping from name (or alias) to the declared object, so
``lw.F.ACTIVATIONS['relu']`` is the function; ``declaration(name)`` gives the whole record.

>>> from layerwise.registry import Registry
>>> colours = Registry("colour")
>>> red = (255, 0, 0)
>>> _ = colours.add("red", red, aliases=("rouge",))
>>> colours["rouge"], colours.name_of(red)
((255, 0, 0), 'red')
>>> colours["blue"]
Traceback (most recent call last):
...
KeyError: "unknown colour 'blue'; known: red, rouge"
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

__all__ = ["Declaration", "Registry"]

T = TypeVar("T")


@dataclass(frozen=True)
class Declaration(Generic[T]):
    """One registered entry: its canonical name, the object, its aliases and its fields."""

    name: str
    obj: T
    aliases: tuple = ()
    builtin: bool = True
    fields: Mapping[str, Any] = field(default_factory=dict)

    def __getattr__(self, key):
        # the kind-specific fields (torch=, onnx=, targets=, ...) read as attributes
        try:
            return self.__dict__["fields"][key]
        except KeyError:
            raise AttributeError(f"a {type(self).__name__} has no field {key!r}") from None


class Registry(Mapping, Generic[T]):
    """A read-only mapping ``name -> object`` that entries are added to by declaration.

    Args:
        kind: what is registered (``'activation'``, ``'loss'``, ...), for error messages.
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._by_name: dict[str, Declaration] = {}  # canonical names and aliases
        self._by_id: dict[int, Declaration] = {}

    def add(self, name: str, obj: T, *, aliases=(), builtin: bool = True, **fields) -> Declaration:
        """Declare ``obj`` under ``name`` (and ``aliases``); a taken name raises ValueError."""
        if not isinstance(name, str) or not name:
            raise ValueError(f"a {self.kind} name must be a non-empty string, got {name!r}")
        for key in (name, *aliases):
            if key in self._by_name:
                taken = self._by_name[key]
                what = "a built-in" if taken.builtin else "already a registered"
                raise ValueError(f"{key!r} is {what} {self.kind} ({taken.name}); "
                                 "choose another name")
        decl = Declaration(name, obj, tuple(aliases), builtin, dict(fields))
        for key in (name, *aliases):
            self._by_name[key] = decl
        self._by_id.setdefault(id(obj), decl)
        return decl

    def remove(self, name: str) -> None:
        """Forget a user's entry (built-ins stay); for tests and interactive sessions."""
        decl = self.declaration(name)
        if decl.builtin:
            raise ValueError(f"{name!r} is a built-in {self.kind} and cannot be removed")
        for key in (decl.name, *decl.aliases):
            del self._by_name[key]
        if self._by_id.get(id(decl.obj)) is decl:
            del self._by_id[id(decl.obj)]

    # -------------------------------------------------------------------- reading
    def declaration(self, name: str) -> Declaration:
        """The whole declaration of ``name`` (or an alias); KeyError listing the known names."""
        try:
            return self._by_name[name]
        except (KeyError, TypeError):
            raise KeyError(f"unknown {self.kind} {name!r}; known: {', '.join(self)}") from None

    def declaration_of(self, obj) -> Declaration | None:
        """The declaration of a registered object (by identity), or None."""
        return self._by_id.get(id(obj))

    def name_of(self, obj) -> str | None:
        """The canonical name of a registered object, or None."""
        decl = self.declaration_of(obj)
        return None if decl is None else decl.name

    def declarations(self) -> list[Declaration]:
        """Every declaration once (aliases folded), in the order they were made."""
        return list({id(d): d for d in self._by_name.values()}.values())

    def names(self) -> list[str]:
        """The canonical names, in declaration order (no aliases)."""
        return [d.name for d in self.declarations()]

    def __getitem__(self, name: str) -> T:
        return self.declaration(name).obj

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._by_name))

    def __len__(self) -> int:
        return len(self._by_name)

    def __contains__(self, name) -> bool:
        return isinstance(name, str) and name in self._by_name

    def __repr__(self) -> str:
        return f"<{self.kind} registry: {', '.join(self.names())}>"
