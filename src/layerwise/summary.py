"""``lw.summary``: a table of a model's layers, output shapes and parameter counts.

The output shapes are those of a real forward pass on zeros (under ``no_grad``, in eval
mode): each leaf module's ``forward`` is wrapped for the duration of that one call to note
the shape it returns, then unwrapped. So the table shows what the model actually does, in
the order it does it, for any module tree.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np

from .autodiff.tensor import Tensor, no_grad
from .dtypes import get_default_dtype
from .nn import Module, training_mode

__all__ = ["Summary", "SummaryRow", "summary"]


class SummaryRow(NamedTuple):
    """One call of one layer: its dotted name, type, output shape (batch axis as given in
    ``input_shape``, ``None`` by default), its own parameter count and how many are trainable."""

    name: str
    type: str
    output_shape: tuple
    params: int
    trainable_params: int


class Summary(str):
    """What ``lw.summary`` returns: the table itself, as a ``str``, carrying its figures.

    ``print``, ``in``, regular expressions and file writes work on it directly.

    Attributes:
        rows: list of :class:`SummaryRow`, in call order.
        total_params, trainable_params, non_trainable_params: counts over the whole model.
        param_bytes: memory held by the parameters.
        buffers: numbers held in buffers (running statistics: saved, not trained), listed
            on a line of their own when there are any.
        input_shape: the input shape, batch axis first.
    """

    def __new__(cls, title, input_shape, rows, total, trainable, param_bytes, buffers=0):
        self = super().__new__(cls, _table(title, input_shape, rows, total, trainable,
                                           param_bytes, buffers))
        self.title, self.input_shape, self.rows = title, input_shape, rows
        self.buffers = buffers
        self.total_params, self.trainable_params = total, trainable
        self.non_trainable_params = total - trainable
        self.param_bytes = param_bytes
        return self

    def __repr__(self) -> str:  # the table, not a quoted string, at the prompt
        return str(self)

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        """Jupyter's view: the table as text and as HTML."""
        from .display import summary_mimebundle

        return summary_mimebundle(self, include, exclude)


def _table(title, input_shape, rows, total, trainable, param_bytes, buffers=0) -> str:
    head = ("Layer (type)", "Output Shape", "Param #", "Trainable")
    body = [(f"{r.name} ({r.type})" if r.name else r.type, _shape(r.output_shape),
             f"{r.params:,}", _trainable(r)) for r in rows]
    widths = [max(len(row[i]) for row in [head, *body]) for i in range(4)]

    def line(cells):
        return "  ".join([cells[0].ljust(widths[0]), cells[1].ljust(widths[1]),
                          cells[2].rjust(widths[2]), cells[3]]).rstrip()

    rule = sum(widths) + 6
    return "\n".join([
        f"Model: {title}", f"Input shape: {_shape(input_shape)}",
        "-" * rule, line(head), "=" * rule, *map(line, body), "=" * rule,
        f"Total params: {total:,}",
        f"Trainable params: {trainable:,}",
        f"Non-trainable params: {total - trainable:,}",
        f"Params size: {_size(param_bytes)}",
        *([f"Buffers (saved, not trained): {buffers:,}"] if buffers else []),
        "-" * rule,
    ])


def _shape(shape) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + \
        ("," if len(shape) == 1 else "") + ")"


def _trainable(row) -> str:
    if not row.params:
        return "--"
    if row.trainable_params == row.params:
        return "yes"
    return "no" if not row.trainable_params else "partial"


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    return f"{n / 1024:.2f} KB" if n < 1024**2 else f"{n / 1024**2:.2f} MB"


def _input_shape(input_shape):
    """``(batch, *features)`` with batch None, -1 or a positive int; an int or a 1-tuple
    means the features alone."""
    shape = (input_shape,) if isinstance(input_shape, numbers.Integral) else input_shape
    try:
        shape = tuple(shape)
    except TypeError:
        raise TypeError(f"summary: input_shape must be a tuple such as (None, 4), got "
                        f"{input_shape!r}") from None
    if len(shape) == 1:
        shape = (None, *shape)

    def size(d):
        return isinstance(d, numbers.Integral) and not isinstance(d, bool) and d > 0

    if len(shape) < 2 or not (shape[0] is None or shape[0] == -1 or size(shape[0])) \
            or not all(map(size, shape[1:])):
        raise ValueError(f"summary: input_shape must be (batch, n_1, ...) with batch None, -1 "
                         f"or a positive int and positive sizes, got {input_shape!r}")
    batch, features = shape[0], shape[1:]
    return (None if batch in (None, -1) else int(batch), *map(int, features))


def summary(model, input_shape) -> Summary:
    """Summarise ``model``: each layer's output shape and parameters, and the totals.

    Args:
        model: a ``lw.nn.Module``.
        input_shape: the shape of one input batch, batch axis first: ``(None, 4)`` (or
            ``(-1, 4)``, or ``4``, or ``(4,)``) shows the batch axis as ``None``; a number
            such as ``(32, 4)`` is shown as it is.

    Returns:
        :class:`Summary`, a ``str`` (the table) with the figures as attributes.

    >>> import layerwise as lw
    >>> s = lw.summary(lw.MLP([4, 8, 3], rng=0), (None, 4))
    >>> print(s)
    Model: MLP(4 -> 8 -> 3)
    Input shape: (None, 4)
    --------------------------------------------------
    Layer (type)      Output Shape  Param #  Trainable
    ==================================================
    layers.0 (Dense)  (None, 8)          40  yes
    layers.1 (Dense)  (None, 3)          27  yes
    ==================================================
    Total params: 67
    Trainable params: 67
    Non-trainable params: 0
    Params size: 268 B
    --------------------------------------------------
    >>> s.total_params, s.rows[0].output_shape, "Total params: 67" in s
    (67, (None, 8), True)
    """
    if not isinstance(model, Module):
        raise TypeError(f"summary: model must be a lw.nn.Module, got {type(model).__name__}")
    shape = _input_shape(input_shape)
    batch = shape[0] or 2
    params = model.parameters()
    dtype = params[0].data.dtype if params else get_default_dtype()
    rows: list[SummaryRow] = []
    watched = [(name, m) for name, m in model.named_modules()
               if not any(True for _ in m.named_children()) or _own_params(m)]
    saved = [vars(m).get("forward") for _, m in watched]  # None: the class's forward
    for name, m in watched:
        m.forward = _recorder(name, m, rows, shape[0], batch)
    try:
        with training_mode(model, False), no_grad():
            model(np.zeros((batch, *shape[1:]), dtype=dtype))
    except ValueError as err:
        raise ValueError(f"summary: input_shape {_shape(shape)} does not fit the model: {err}"
                         ) from None
    finally:
        for (_, m), forward in zip(watched, saved):
            if forward is None:
                del m.forward
            else:
                m.forward = forward
    title = type(model).__name__ + (f"({model.extra_repr()})" if model.extra_repr() else "")
    return Summary(title, shape, rows, sum(p.size for p in params),
                   sum(p.size for p in params if p.requires_grad),
                   sum(p.data.nbytes for p in params),
                   sum(b.size for _, b in model.named_buffers()))


def _own_params(module) -> list:
    return [v for v in vars(module).values() if isinstance(v, Tensor)]


def _recorder(name, module, rows, batch_label, batch):
    forward = module.forward
    own = _own_params(module)
    count = sum(p.size for p in own)
    trainable = sum(p.size for p in own if p.requires_grad)

    def record(*args, **kwargs):
        out = forward(*args, **kwargs)
        shape = tuple(np.shape(out.data if isinstance(out, Tensor) else out))
        if shape and shape[0] == batch:
            shape = (batch_label, *shape[1:])
        rows.append(SummaryRow(name, type(module).__name__, shape, count, trainable))
        return out

    return record
