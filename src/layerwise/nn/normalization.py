"""``LayerNorm`` and ``BatchNorm1d``: thin modules over ``lw.F.layer_norm`` / ``batch_norm``.

Scale (``weight``) and shift (``bias``) are parameters named as in PyTorch; BatchNorm1d's
running statistics are buffers: in ``state_dict()``, saved and loaded with the model, never
trained. ``num_batches_tracked`` is kept in the parameters' dtype (PyTorch uses int64) so a
model file holds one dtype; it counts exactly up to 2**24 batches in float32.
"""

from __future__ import annotations

import numpy as np

from .. import functional as F
from ..autodiff.tensor import Tensor
from ..checks import positive_int
from ..dtypes import resolve_dtype
from ..init import constant
from .module import Module, register

__all__ = ["BatchNorm1d", "LayerNorm"]


def _parameter(shape, value, dtype) -> Tensor:
    return Tensor(constant(shape, value, dtype), requires_grad=True)


def _copy_to_torch(torch, target, source: np.ndarray) -> None:
    with torch.no_grad():
        target.copy_(torch.from_numpy(np.ascontiguousarray(source)))


@register(_builtin=True)
class LayerNorm(Module):
    """Layer normalisation over the trailing ``normalized_shape`` axes (``lw.F.layer_norm``),
    as ``torch.nn.LayerNorm``.

    Args:
        normalized_shape: an int or tuple, the trailing shape of the inputs.
        eps: added to the variance.
        elementwise_affine: learn ``weight`` (ones) and ``bias`` (zeros) of that shape.
        dtype: the parameters' dtype (default: the default dtype).

    >>> import numpy as np, layerwise as lw
    >>> lw.nn.LayerNorm(3)
    LayerNorm((3,), eps=1e-05, elementwise_affine=True)
    >>> lw.nn.LayerNorm(2)(np.array([[1.0, 3.0]])).data.round(4)
    array([[-1.,  1.]], dtype=float32)
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 dtype=None):
        shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) \
            else tuple(normalized_shape)
        self.normalized_shape = tuple(positive_int(n, "normalized_shape", "LayerNorm")
                                      for n in shape)
        self.eps = float(eps)
        self.elementwise_affine = bool(elementwise_affine)
        dtype = resolve_dtype(dtype)
        self.weight = _parameter(self.normalized_shape, 1.0, dtype) if elementwise_affine \
            else None
        self.bias = _parameter(self.normalized_shape, 0.0, dtype) if elementwise_affine \
            else None
        self._dtype = dtype

    def forward(self, x):
        x = x if isinstance(x, Tensor) else Tensor(x)
        if x.dtype != self._dtype:
            x = x.astype(self._dtype)
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps:g}, "
                f"elementwise_affine={self.elementwise_affine}")

    # ------------------------------------------------------------------ conversions
    def to_torch_modules(self, nn) -> list:
        import torch

        layer = nn.LayerNorm(self.normalized_shape, self.eps, self.elementwise_affine,
                             dtype=getattr(torch, np.dtype(self._dtype).name))
        if self.elementwise_affine:
            assert self.weight is not None and self.bias is not None  # made with the flag
            _copy_to_torch(torch, layer.weight, self.weight.data)
            _copy_to_torch(torch, layer.bias, self.bias.data)
        return [layer]

    @classmethod
    def torch_counterparts(cls) -> tuple:
        return ("LayerNorm",)

    def to_onnx(self, graph, x):
        if self.elementwise_affine:
            scale = graph.parameter("weight", self.weight.data)
            bias = graph.parameter("bias", self.bias.data)
        else:
            scale = graph.constant(np.ones(self.normalized_shape))
            bias = graph.constant(np.zeros(self.normalized_shape))
        return graph.node("LayerNormalization", [x, scale, bias],
                          axis=-len(self.normalized_shape), epsilon=self.eps)

    @classmethod
    def onnx_counterparts(cls):
        return ("LayerNormalization",)

    @classmethod
    def from_onnx(cls, node, reader):
        attrs = reader.attributes(node)
        scale = reader.weight(node, 1)
        bias = reader.weight(node, 2) if len(node.input) > 2 and node.input[2] \
            else np.zeros_like(scale)
        axis, rank = attrs.get("axis", -1), reader.rank(reader.input_of(node))
        if axis >= 0:
            if rank is None:
                raise reader.refuse(node, "a positive axis on an input of unknown rank")
            axis -= rank
        if -axis != scale.ndim or (len(node.output) > 1 and any(node.output[1:])):
            raise reader.refuse(node, f"normalises over axis {axis} with a scale of shape "
                                      f"{scale.shape}")
        eps = float(str(np.float32(attrs.get("epsilon", 1e-5))))  # a float32 attribute
        module = cls(scale.shape, eps=eps, dtype=scale.dtype)
        module.load_state_dict({"weight": scale, "bias": bias})
        return module

    @classmethod
    def from_torch_module(cls, module):
        affine = module.elementwise_affine
        if affine and module.bias is None:
            raise ValueError("from_torch: LayerNorm(bias=False) has no layerwise counterpart")
        dtype = module.weight.detach().numpy().dtype if affine else None
        layer = cls(tuple(module.normalized_shape), module.eps, affine, dtype=dtype)
        if affine:
            layer.weight.data[...] = module.weight.detach().numpy()
            layer.bias.data[...] = module.bias.detach().numpy()
        return layer


@register(_builtin=True)
class BatchNorm1d(Module):
    """Batch normalisation per feature (``lw.F.batch_norm``), as ``torch.nn.BatchNorm1d``.

    Training mode normalises with the batch's statistics and updates the running ones
    (``running = (1 - momentum) running + momentum stat``, the variance unbiased; with
    ``momentum=None`` a cumulative average over ``num_batches_tracked``); evaluation mode
    normalises with the running statistics and changes nothing.

    Args:
        num_features: C, for inputs ``(N, C)`` or ``(N, C, L)``.
        eps: added to the variance.
        momentum: in [0, 1], or None.
        dtype: the parameters' and buffers' dtype.

    >>> import numpy as np, layerwise as lw
    >>> bn = lw.nn.BatchNorm1d(2)
    >>> bn(np.array([[1.0, 0.0], [3.0, 0.0]])).shape
    (2, 2)
    >>> bn.running_mean
    array([0.2, 0. ], dtype=float32)
    >>> sorted(bn.state_dict())
    ['bias', 'num_batches_tracked', 'running_mean', 'running_var', 'weight']
    """

    _buffers = ("running_mean", "running_var", "num_batches_tracked")

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 dtype=None):
        self.num_features = positive_int(num_features, "num_features", "BatchNorm1d")
        self.eps = float(eps)
        if momentum is not None and not 0 <= momentum <= 1:
            raise ValueError(f"BatchNorm1d: momentum must be in [0, 1] or None, got "
                             f"{momentum!r}")
        self.momentum = None if momentum is None else float(momentum)
        dtype = resolve_dtype(dtype)
        n = self.num_features
        self.weight = _parameter((n,), 1.0, dtype)
        self.bias = _parameter((n,), 0.0, dtype)
        self.running_mean = constant((n,), 0.0, dtype)
        self.running_var = constant((n,), 1.0, dtype)
        self.num_batches_tracked = constant((), 0.0, dtype)

    def forward(self, x):
        x = x if isinstance(x, Tensor) else Tensor(x)
        if x.dtype != self.weight.dtype:
            x = x.astype(self.weight.dtype)
        if x.ndim not in (2, 3) or x.shape[1] != self.num_features:
            raise ValueError(f"{self!r} expected input (N, {self.num_features}) or "
                             f"(N, {self.num_features}, L), got {x.shape}")
        # the running statistics and the batch count are updated inside lw.F.batch_norm's rule
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training, self.momentum, self.eps, self.num_batches_tracked)

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps:g}, momentum={self.momentum}"

    # ------------------------------------------------------------------ conversions
    def to_torch_modules(self, nn) -> list:
        import torch

        layer = nn.BatchNorm1d(self.num_features, self.eps, self.momentum,
                               dtype=getattr(torch, self.weight.dtype.name))
        for name in ("weight", "bias"):
            _copy_to_torch(torch, getattr(layer, name), getattr(self, name).data)
        _copy_to_torch(torch, layer.running_mean, self.running_mean)
        _copy_to_torch(torch, layer.running_var, self.running_var)
        layer.num_batches_tracked.fill_(int(self.num_batches_tracked))
        return [layer]

    @classmethod
    def torch_counterparts(cls) -> tuple:
        return ("BatchNorm1d",)

    def to_onnx(self, graph, x):
        """Inference form: the running statistics, as ``eval()`` uses them."""
        return graph.node("BatchNormalization", [
            x, graph.parameter("weight", self.weight.data),
            graph.parameter("bias", self.bias.data),
            graph.parameter("running_mean", self.running_mean),
            graph.parameter("running_var", self.running_var)], epsilon=self.eps)

    @classmethod
    def onnx_counterparts(cls):
        return ("BatchNormalization",)

    @classmethod
    def from_onnx(cls, node, reader):
        attrs = reader.attributes(node)
        if attrs.get("training_mode", 0) or (len(node.output) > 1 and any(node.output[1:])):
            raise reader.refuse(node, "a BatchNormalization in training mode")
        scale, bias, mean, var = (reader.weight(node, i) for i in range(1, 5))
        eps = float(str(np.float32(attrs.get("epsilon", 1e-5))))  # a float32 attribute
        module = cls(scale.shape[0], eps=eps, dtype=scale.dtype)
        module.load_state_dict({"weight": scale, "bias": bias, "running_mean": mean,
                                "running_var": var,
                                "num_batches_tracked": module.num_batches_tracked})
        return module

    @classmethod
    def from_torch_module(cls, module):
        if not (module.affine and module.track_running_stats):
            raise ValueError("from_torch: BatchNorm1d converts only with affine=True and "
                             "track_running_stats=True")
        weight = module.weight.detach().numpy()
        layer = cls(module.num_features, module.eps, module.momentum, dtype=weight.dtype)
        layer.weight.data[...] = weight
        layer.bias.data[...] = module.bias.detach().numpy()
        layer.running_mean[...] = module.running_mean.numpy()
        layer.running_var[...] = module.running_var.numpy()
        layer.num_batches_tracked[...] = int(module.num_batches_tracked)
        return layer
