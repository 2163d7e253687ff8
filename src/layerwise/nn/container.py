"""``Sequential`` and the chapter's multi-layer network ``MLP``."""

from __future__ import annotations

import itertools

from .. import functional as F
from .. import replay
from ..functional.dropout import check_probability
from ..rng import resolve_rng
from .activation import _CLASSES, Activation
from .dense import Dense
from .dropout import Dropout
from .module import Module, register, to_json

__all__ = ["MLP", "Sequential", "append_folded"]


@register(_builtin=True)
class Sequential(Module):
    """Modules applied one after another; indexable, sliceable and iterable.

    >>> import layerwise as lw
    >>> net = lw.nn.Sequential(lw.nn.Dense(4, 8, rng=0), lw.nn.Dense(8, 3, 'softmax', rng=0))
    >>> len(net), net[1]
    (2, Dense(8 -> 3, activation=softmax))
    """

    def __init__(self, *modules: Module):
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(f"Sequential: item {i} is a {type(m).__name__}, not a Module")
        self._layers = list(modules)

    def forward(self, x):
        for i, layer in enumerate(self._layers):
            try:
                x = layer(x)
            except ValueError as exc:
                if getattr(exc, "_layer_named", False):
                    raise
                err = ValueError(f"layer {i} of {type(self).__name__}: {exc}")
                err._layer_named = True
                raise err from exc
        return x

    def named_children(self):
        for i, m in enumerate(self._layers):
            yield str(i), m

    def get_config(self) -> dict:
        """``{"modules": [...]}``: the modules it holds now (``append`` included)."""
        return {"modules": [to_json(m, f"Sequential.{i}") for i, m in enumerate(self._layers)]}

    def to_torch_modules(self, nn) -> list:
        return [t for m in self._layers for t in m.to_torch_modules(nn)]

    def to_onnx(self, graph, x: str) -> str:
        for name, m in self.named_children():
            x = graph.run(name, m, x)
        return x

    def append(self, module: Module) -> Sequential:
        self._layers.append(module)
        replay.edited()
        return self

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Sequential(*self._layers[index])
        return self._layers[index]

    def __len__(self) -> int:
        return len(self._layers)

    def __iter__(self):
        return iter(self._layers)


@register(_builtin=True)
class MLP(Module):
    """The chapter's ``MultiLayerNetwork``: Dense layers with one activation for hidden layers
    and another for the output.

    Each layer draws its ``W`` in order (``b = 0``), so with ``np.random.seed(42)`` and
    ``init='he'`` the weights equal the chapter's.

    Args:
        layer_sizes: ``[n_input, hidden_1, ..., n_output]``.
        hidden_activation, output_activation: activation names (or callables).
        init, rng, dtype: as ``Dense``.
        dropout: a ``Dropout(dropout)`` after every hidden layer (0: none).
        norm: ``'batch'`` or ``'layer'``: each hidden layer becomes ``Dense`` without
            activation, then ``BatchNorm1d`` / ``LayerNorm``, then the activation's module.
            The default (None, with ``dropout=0``) builds exactly the chapter's Dense layers;
            the weights are drawn in the same order either way.

    >>> import layerwise as lw
    >>> lw.MLP([4, 8, 4, 3], rng=0).num_parameters()
    91
    """

    def __init__(self, layer_sizes, hidden_activation="relu", output_activation="softmax",
                 init: str = "he", rng=None, dtype=None, dropout: float = 0.0, norm=None):
        sizes = [int(n) for n in layer_sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(
                f"MLP: layer_sizes needs at least an input and an output size, all positive; "
                f"got {list(layer_sizes)}"
            )
        dropout = check_probability(dropout, "MLP: dropout")
        if norm not in _NORMS:
            raise ValueError(f"MLP: norm must be one of {list(_NORMS)}, got {norm!r}")
        rng = resolve_rng(rng)
        last = len(sizes) - 2
        self.layer_sizes = sizes
        layers: list[Module] = []
        for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
            if i == last:
                layers.append(Dense(n_in, n_out, output_activation, init=init, rng=rng,
                                    dtype=dtype))
                break
            if norm is None:
                layers.append(Dense(n_in, n_out, hidden_activation, init=init, rng=rng,
                                    dtype=dtype))
            else:
                name = F.get_activation(hidden_activation)[0]
                layers += [Dense(n_in, n_out, "none", init=init, rng=rng, dtype=dtype),
                           _NORMS[norm](n_out, dtype=dtype)]
                layers += [_activation_module(name)] if name != "none" else []
            if dropout:
                layers.append(Dropout(dropout, rng=rng))
        self.layers = Sequential(*layers)

    def forward(self, X):
        return self.layers(X)

    def get_config(self) -> dict:
        """The constructor's arguments; ``dropout`` and ``norm`` only where they are set, so a
        plain MLP's file is the same as before they existed (and older readers load it)."""
        config = super().get_config()
        for key, default in (("dropout", 0.0), ("norm", None)):
            if config.get(key) == default:
                del config[key]
        return config

    def to_torch_modules(self, nn) -> list:
        return self.layers.to_torch_modules(nn)

    def to_onnx(self, graph, x: str) -> str:
        return graph.run("layers", self.layers, x)

    def forward_with_cache(self, X):
        """Forward pass that also returns the chapter's cache.

        Returns:
            ``(output, cache)`` with ``cache[0] == {'A': X}`` and
            ``cache[i] == {'Z': Z_i, 'A': A_i}`` (ndarrays) for layer i = 1..L.
        """
        output = self(X)
        cache = [{"A": self.layers[0].cache["X"]}]
        cache += [{"Z": layer.cache["Z"], "A": layer.cache["A"]} for layer in self.layers
                  if isinstance(layer, Dense)]  # with norm= or dropout=, the Dense layers' own
        return output, cache

    def extra_repr(self) -> str:
        return " -> ".join(map(str, self.layer_sizes))


def _activation_module(name: str) -> Activation:
    """The activation's own class (``ReLU()``) where it has one, else ``Activation(name)``."""
    return _CLASSES[name]() if name in _CLASSES else Activation(name)


def _norms() -> dict:
    from .normalization import BatchNorm1d, LayerNorm

    return {None: None, "batch": BatchNorm1d, "layer": LayerNorm}


_NORMS = _norms()


def append_folded(layers: list, module) -> None:
    """Append a converted layer to ``layers``; an activation with its default settings right
    after a ``Dense`` without one becomes that Dense's activation (same weights), as it was
    written in the chapter. Used by the PyTorch and ONNX importers."""
    from .activation import Activation

    previous = layers[-1] if layers else None
    if (isinstance(module, Activation) and type(previous) is Dense
            and previous.activation == "none"
            and module.params == module.declaration.params):
        folded = Dense(previous.n_input, previous.n_output, module.name, init="zeros",
                       bias=previous.b is not None, dtype=previous.W.dtype)
        folded.load_state_dict(previous.state_dict())
        layers[-1] = folded
    elif module is not None:
        layers.append(module)
