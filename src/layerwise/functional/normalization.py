"""Normalisation: ``layer_norm`` and ``batch_norm``, composed from lw ops.

Both are mean/variance arithmetic on tensors, so autodiff differentiates them through the
statistics (the gradient flows through the mean and the variance, as in PyTorch) and
``lw.graph`` draws their ops. The running statistics of ``batch_norm`` are plain ndarrays,
updated in place outside the graph.
"""

from __future__ import annotations

import numpy as np

from ..autodiff import ops
from ..autodiff.tensor import Tensor, no_grad
from ..dtypes import get_default_dtype

__all__ = ["batch_norm", "layer_norm"]


def _float_tensor(x) -> Tensor:
    """``x`` as a Tensor; integer and bool inputs become the default float dtype."""
    x = x if isinstance(x, Tensor) else Tensor(x)
    return x if x.dtype.kind == "f" else x.astype(get_default_dtype())


def _affine(out: Tensor, weight, bias) -> Tensor:
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def _normalise(x: Tensor, axes: tuple, eps: float):
    """``((x - mean) / sqrt(var + eps), mean, var)`` over ``axes`` (biased variance)."""
    mean = ops.mean(x, axis=axes, keepdims=True)
    centred = x - mean
    var = ops.mean(centred * centred, axis=axes, keepdims=True)
    return centred * (var + eps) ** -0.5, mean, var


def layer_norm(x, normalized_shape, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    """Layer normalisation (Ba et al., 2016) over the last ``len(normalized_shape)`` axes.

    y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias, with the mean and the biased variance
    taken per sample over those axes. Equals ``torch.nn.functional.layer_norm``.

    Args:
        x: ``(..., *normalized_shape)``.
        normalized_shape: an int or a tuple, the trailing shape to normalise over.
        weight, bias: ``normalized_shape``-shaped scale and shift, or None.
        eps: added to the variance, > 0.

    >>> import numpy as np, layerwise as lw
    >>> lw.F.layer_norm(np.array([[1.0, 3.0]]), 2).data.round(4)
    array([[-1.,  1.]])
    """
    shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) \
        else tuple(normalized_shape)
    x = _float_tensor(x)
    if not shape or x.shape[x.ndim - len(shape):] != shape:
        raise ValueError(f"layer_norm: input of shape {x.shape} does not end with the "
                         f"normalized_shape {shape}")
    out, _, _ = _normalise(x, tuple(range(-len(shape), 0)), eps)
    return _affine(out, weight, bias)


def batch_norm(x, running_mean=None, running_var=None, weight=None, bias=None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Batch normalisation (Ioffe & Szegedy, 2015) per feature (axis 1), as
    ``torch.nn.functional.batch_norm``.

    Training: y = (x - mean_B) / sqrt(var_B + eps) * weight + bias with the batch's mean and
    biased variance over every axis but 1, and the running statistics (if given) updated in
    place: ``running = (1 - momentum) running + momentum stat``, the variance's stat unbiased
    (times n / (n - 1)). Evaluation: the running statistics in place of the batch's.

    Args:
        x: ``(N, C)`` or ``(N, C, L)``.
        running_mean, running_var: ``(C,)`` ndarrays (needed in evaluation).
        weight, bias: ``(C,)`` scale and shift, or None.
        training: use (and update) batch statistics.
        momentum: the running statistics' update factor in [0, 1].
        eps: added to the variance.

    >>> import numpy as np, layerwise as lw
    >>> lw.F.batch_norm(np.array([[1.0], [3.0]]), training=True).data.round(4)
    array([[-1.],
           [ 1.]])
    """
    x = _float_tensor(x)
    if x.ndim not in (2, 3):
        raise ValueError(f"batch_norm: expected input (N, C) or (N, C, L), got {x.shape}")
    channels = x.shape[1]
    axes = (0, 2) if x.ndim == 3 else (0,)
    shape = (1, channels, 1)[:x.ndim]
    weight = None if weight is None else ops.reshape(weight, shape=shape)
    bias = None if bias is None else ops.reshape(bias, shape=shape)
    if training:
        n = x.size // max(channels, 1)
        if n < 2:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when "
                             f"training, got input of shape {x.shape}")
        out, mean, var = _normalise(x, axes, eps)
        if running_mean is not None and running_var is not None:
            with no_grad():  # PyTorch's rule: a convex mix, the variance unbiased
                running_mean[...] = momentum * mean.data.reshape(-1) + \
                    (1 - momentum) * running_mean
                running_var[...] = momentum * var.data.reshape(-1) * (n / (n - 1)) + \
                    (1 - momentum) * running_var
        return _affine(out, weight, bias)
    if running_mean is None or running_var is None:
        raise ValueError("batch_norm: evaluation needs running_mean and running_var "
                         "(or training=True)")
    mean = np.asarray(running_mean, dtype=x.dtype).reshape(shape)
    scale = (1.0 / np.sqrt(np.asarray(running_var, dtype=x.dtype) + eps)).reshape(shape)
    return _affine((x - mean) * scale, weight, bias)
