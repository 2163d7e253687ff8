"""Normalisation: ``layer_norm`` and ``batch_norm``, each ONE primitive.

Each is a fused NumPy rule with its vector-Jacobian product beside it (PyTorch's
``native_layer_norm_backward`` / ``native_batch_norm_backward`` formulas): one graph node, a
few passes over the data instead of the ~8 ops and ~27 passes of the composed form.

Why the rules walk the data in blocks: a 512x1024 float32 array (2 MiB) does not stay in a
core's cache next to its output, and a pass between two such arrays costs 3x a pass over one
block already in cache. So every rule handles one block of rows (layer norm) or of channels
(batch norm) at a time, about ``_BLOCK_BYTES``, and makes all its passes over that block
while it is in cache: the full arrays are read and written once each, as in PyTorch's fused
kernels. The statistics are two-pass (the mean first, then the mean of squared deviations),
which stays accurate when the mean is large against the spread.

Work that must happen on every call lives inside the rules (``lw.compile`` replays rules, not
the Python around them): ``batch_norm`` updates its running statistics, passed as keyword
arrays, in place in its forward rule.
"""

from __future__ import annotations

import numpy as np

from ..autodiff.tensor import Tensor, primitive

__all__ = ["batch_norm", "layer_norm"]

_BLOCK_BYTES = 1 << 18
"""About how much of an input each rule handles at a time (see the module docstring)."""


def _blocks(n: int, item_bytes: int) -> list:
    """Slices cutting ``range(n)`` into blocks of about ``_BLOCK_BYTES`` (items of
    ``item_bytes`` each)."""
    step = max(1, _BLOCK_BYTES // max(item_bytes, 1))
    return [slice(i, min(i + step, n)) for i in range(0, n, step)]


def _common_dtype(x, weight, bias):
    """The dtype the rule computes in: ``x``'s, promoted by the affine parameters (as
    ``x * weight + bias`` would be)."""
    return np.result_type(x, *[p for p in (weight, bias) if p is not None])


def _shape(v) -> tuple:
    return np.shape(v.data if isinstance(v, Tensor) else v)


def _grad_of(g, operand):
    """A parameter gradient in its operand's shape and dtype."""
    return g.reshape(operand.shape).astype(operand.dtype, copy=False)


@primitive("layer_norm")
def _layer_norm(x, weight=None, bias=None, *, ndim: int, eps: float):
    """Layer normalisation of ``x`` over its last ``ndim`` axes: the rule of ``layer_norm``.

    Forward, per row of the last ``ndim`` axes (D elements): mu = mean(x),
    rstd = 1 / sqrt(mean((x - mu)^2) + eps), xhat = (x - mu) rstd, y = xhat w + b.
    Backward (g the upstream gradient, gh = g w): dx = rstd (gh - mean(gh) - xhat mean(gh xhat)),
    dw = sum over rows of g xhat, db = sum over rows of g.
    """
    dtype = _common_dtype(x, weight, bias)
    d = int(np.prod(x.shape[x.ndim - ndim:]))
    x2 = x.astype(dtype, copy=False).reshape(-1, d)
    w = None if weight is None else weight.reshape(d).astype(dtype, copy=False)
    b = None if bias is None else bias.reshape(d).astype(dtype, copy=False)
    inv_d = 1.0 / d if d else np.nan
    y = np.empty(x2.shape, dtype)
    mean = np.empty(len(x2), dtype)
    rstd = np.empty(len(x2), dtype)
    ones = np.ones(d, dtype)
    blocks = _blocks(len(x2), d * dtype.itemsize)
    for rows in blocks:
        xb, yb, mb, rb = x2[rows], y[rows], mean[rows], rstd[rows]
        np.vecdot(xb, ones, out=mb)  # a BLAS dot per row: faster than add.reduce here
        mb *= inv_d
        np.subtract(xb, mb[:, None], out=yb)
        np.vecdot(yb, yb, out=rb)
        rb *= inv_d
        rb += eps
        np.sqrt(rb, out=rb)
        np.divide(1, rb, out=rb)
        yb *= rb[:, None]
        if w is not None:
            yb *= w
        if b is not None:
            yb += b

    def backward(g, needs):
        g2 = g.reshape(-1, d)
        dx = np.empty(x2.shape, dtype) if needs[0] else None
        dw = np.zeros(d, dtype) if w is not None and needs[1] else None
        db = np.zeros(d, dtype) if b is not None and needs[2] else None
        if db is not None:
            for rows in blocks:
                db += np.add.reduce(g2[rows], axis=0)
        if dx is None and dw is None:
            return None, None, _grad_of(db, bias) if db is not None else None
        xhat = np.empty((blocks[0].stop if blocks else 0, d), dtype)  # one block's worth
        scratch = np.empty_like(xhat) if dw is not None else None
        c1, c2 = np.empty(len(xhat), dtype), np.empty(len(xhat), dtype)
        for rows in blocks:
            gb, rb = g2[rows], rstd[rows, None]
            n = len(gb)
            hb = xhat[:n]
            np.subtract(x2[rows], mean[rows, None], out=hb)
            hb *= rb
            if dw is not None:
                sb = scratch[:n]
                np.multiply(gb, hb, out=sb)
                dw += np.add.reduce(sb, axis=0)
            if dx is None:
                continue
            dxb = dx[rows]
            if w is not None:
                np.multiply(gb, w, out=dxb)
            else:
                np.copyto(dxb, gb)
            a1, a2 = c1[:n], c2[:n]
            np.vecdot(dxb, ones, out=a1)
            np.vecdot(dxb, hb, out=a2)
            a1 *= inv_d
            a2 *= inv_d
            hb *= a2[:, None]  # hb becomes xhat mean(gh xhat) + mean(gh)
            hb += a1[:, None]
            dxb -= hb
            dxb *= rb
        return (None if dx is None else dx.reshape(x.shape).astype(x.dtype, copy=False),
                None if dw is None else _grad_of(dw, weight),
                None if db is None else _grad_of(db, bias))

    return y.reshape(x.shape), backward


def layer_norm(x, normalized_shape, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    """Layer normalisation (Ba et al., 2016) over the last ``len(normalized_shape)`` axes.

    y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias, with the mean and the biased variance
    taken per sample over those axes. Equals ``torch.nn.functional.layer_norm``. One graph
    node; its gradient, with xhat the normalised input and gh = g weight:
    dx = (gh - mean(gh) - xhat mean(gh xhat)) / sqrt(Var[x] + eps), dweight = sum of g xhat,
    dbias = sum of g (over the leading axes).

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
    x_shape = _shape(x)
    if not shape or tuple(x_shape[len(x_shape) - len(shape):]) != shape:
        raise ValueError(f"layer_norm: input of shape {x_shape} does not end with the "
                         f"normalized_shape {shape}")
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and _shape(p) != shape:
            raise ValueError(f"layer_norm: {name} of shape {_shape(p)} does not match the "
                             f"normalized_shape {shape}")
    return _layer_norm(x, weight, bias, ndim=len(shape), eps=float(eps))


@primitive("batch_norm")
def _batch_norm(x, weight=None, bias=None, *, running_mean=None, running_var=None,
                num_batches_tracked=None, training: bool, momentum, eps: float):
    """Batch normalisation of ``(N, C)`` or ``(N, C, L)`` per channel: the rule of
    ``batch_norm``, including the in-place update of the running statistics.

    Forward, per channel over its n = N L values: training uses mu and var the batch's mean
    and biased variance, evaluation the running ones; s = w / sqrt(var + eps),
    y = (x - mu) s + b. Backward in training (xhat = (x - mu) / sqrt(var + eps)):
    db = sum g, dw = sum g xhat, dx = s (g - db / n - xhat dw / n); in evaluation dx = g s.
    """
    dtype = _common_dtype(x, weight, bias)
    x = x.astype(dtype, copy=False)
    channels = x.shape[1]
    n = x.size // max(channels, 1)
    axes = (0, 2) if x.ndim == 3 else (0,)
    view = (1, -1, 1)[:x.ndim]  # a (C,) vector broadcast along the channel axis
    w = None if weight is None else weight.astype(dtype, copy=False)
    b = None if bias is None else bias.astype(dtype, copy=False)
    y = np.empty(x.shape, dtype)
    if training:
        mean = np.empty(channels, dtype)
        var = np.empty(channels, dtype)
    else:
        mean = np.asarray(running_mean, dtype=dtype).reshape(channels)
        var = np.asarray(running_var, dtype=dtype).reshape(channels)
    scratch = None
    blocks = _blocks(channels, x.itemsize * n)
    for cols in blocks:
        index = (slice(None), cols)
        xb, yb = x[index], y[index]
        mb, vb = mean[cols], var[cols]
        if training:
            np.add.reduce(xb, axis=axes, out=mb)
            mb *= 1.0 / n
            np.subtract(xb, mb.reshape(view), out=yb)
            if scratch is None:
                scratch = np.empty_like(yb)
            sb = scratch[:, :yb.shape[1]]
            np.multiply(yb, yb, out=sb)
            np.add.reduce(sb, axis=axes, out=vb)
            vb *= 1.0 / n
        else:
            np.subtract(xb, mb.reshape(view), out=yb)
        scale = 1.0 / np.sqrt(vb + eps)
        if w is not None:
            scale *= w[cols]
        yb *= scale.reshape(view)
        if b is not None:
            yb += b[cols].reshape(view)
    if training and running_mean is not None and running_var is not None:
        if num_batches_tracked is not None:
            num_batches_tracked += 1
        if momentum is None:  # a cumulative average, as PyTorch's momentum=None
            momentum = 1.0 / float(num_batches_tracked)
        # PyTorch's rule: a convex mix, the variance's statistic unbiased
        running_mean[...] = momentum * mean + (1 - momentum) * running_mean
        running_var[...] = momentum * var * (n / (n - 1)) + (1 - momentum) * running_var
    rstd = 1.0 / np.sqrt(var + eps)
    scale_all = rstd if w is None else rstd * w

    def backward(g, needs):
        g = g.astype(dtype, copy=False)
        dx = np.empty(x.shape, dtype) if needs[0] else None
        dw = np.empty(channels, dtype) if w is not None and needs[1] else None
        db = np.empty(channels, dtype) if b is not None and needs[2] else None
        # training's dx needs both sums whether or not the parameters need them
        sum_g = db if db is not None else (np.empty(channels, dtype)
                                           if training and dx is not None else None)
        sum_gh = dw if dw is not None else (np.empty(channels, dtype)
                                            if training and dx is not None else None)
        xhat = prod = None
        for cols in blocks:
            index = (slice(None), cols)
            gb = g[index]
            if sum_g is not None:
                np.add.reduce(gb, axis=axes, out=sum_g[cols])
            if sum_gh is not None:
                if xhat is None:
                    xhat, prod = np.empty_like(gb), np.empty_like(gb)
                hb, pb = xhat[:, :gb.shape[1]], prod[:, :gb.shape[1]]
                np.subtract(x[index], mean[cols].reshape(view), out=hb)
                hb *= rstd[cols].reshape(view)
                np.multiply(gb, hb, out=pb)
                np.add.reduce(pb, axis=axes, out=sum_gh[cols])
            if dx is None:
                continue
            dxb = dx[index]
            if training:  # dx = s (g - db / n - xhat dw / n)
                hb *= (sum_gh[cols] * (1.0 / n)).reshape(view)
                hb += (sum_g[cols] * (1.0 / n)).reshape(view)
                np.subtract(gb, hb, out=dxb)
                dxb *= scale_all[cols].reshape(view)
            else:
                np.multiply(gb, scale_all[cols].reshape(view), out=dxb)
        return (dx, None if dw is None else _grad_of(dw, weight),
                None if db is None else _grad_of(db, bias))

    return y, backward


def batch_norm(x, running_mean=None, running_var=None, weight=None, bias=None,
               training: bool = False, momentum: float | None = 0.1, eps: float = 1e-5,
               num_batches_tracked=None) -> Tensor:
    """Batch normalisation (Ioffe & Szegedy, 2015) per feature (axis 1), as
    ``torch.nn.functional.batch_norm``.

    Training: y = (x - mean_B) / sqrt(var_B + eps) * weight + bias with the batch's mean and
    biased variance over every axis but 1, and the running statistics (if given) updated in
    place: ``running = (1 - momentum) running + momentum stat``, the variance's stat unbiased
    (times n / (n - 1)). Evaluation: the running statistics in place of the batch's. One
    graph node; its gradient in training, with xhat the normalised input and n the values per
    channel: dbias = sum of g, dweight = sum of g xhat,
    dx = weight / sqrt(var_B + eps) (g - dbias / n - xhat dweight / n); in evaluation
    dx = g weight / sqrt(running_var + eps).

    Args:
        x: ``(N, C)`` or ``(N, C, L)``.
        running_mean, running_var: ``(C,)`` ndarrays (needed in evaluation).
        weight, bias: ``(C,)`` scale and shift, or None.
        training: use (and update) batch statistics.
        momentum: the running statistics' update factor in [0, 1]; None: their cumulative
            average over ``num_batches_tracked`` batches.
        eps: added to the variance.
        num_batches_tracked: a 0-d ndarray counting the training calls, incremented in place
            (with the running statistics), or None.

    >>> import numpy as np, layerwise as lw
    >>> lw.F.batch_norm(np.array([[1.0], [3.0]]), training=True).data.round(4)
    array([[-1.],
           [ 1.]])
    """
    shape = _shape(x)
    if len(shape) not in (2, 3):
        raise ValueError(f"batch_norm: expected input (N, C) or (N, C, L), got {shape}")
    channels = shape[1]
    for name, p in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                    ("running_var", running_var)):
        if p is not None and _shape(p) != (channels,):
            raise ValueError(f"batch_norm: {name} of shape {_shape(p)} does not match the "
                             f"{channels} channels of the input {shape}")
    if training:
        if int(np.prod(shape)) // max(channels, 1) < 2:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when "
                             f"training, got input of shape {shape}")
        if momentum is None and (num_batches_tracked is None and running_mean is not None):
            raise ValueError("batch_norm: momentum=None (a cumulative average) needs "
                             "num_batches_tracked")
    elif running_mean is None or running_var is None:
        raise ValueError("batch_norm: evaluation needs running_mean and running_var "
                         "(or training=True)")
    return _batch_norm(x, weight, bias, running_mean=running_mean, running_var=running_var,
                       num_batches_tracked=num_batches_tracked, training=bool(training),
                       momentum=momentum, eps=float(eps))
