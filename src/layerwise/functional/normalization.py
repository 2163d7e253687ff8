"""Normalisation: ``layer_norm`` and ``batch_norm``, each ONE primitive.

Each is a fused NumPy rule with its vector-Jacobian product beside it (PyTorch's
``native_layer_norm_backward`` / ``native_batch_norm_backward`` formulas): one graph node, a
few passes over the data instead of the ~8 ops and ~27 passes of the composed form.

Why the rules walk the data in blocks: a 512x1024 float32 array (2 MiB) does not stay in a
core's cache next to its output, and a pass between two such arrays costs several passes over
one block already in cache. So the rules handle blocks of about ``_BLOCK_BYTES`` of rows
(samples) at a time and make their passes over a block while it is in cache. Layer norm needs
one sweep (each row is normalised on its own); batch norm two (every row's contribution to the
per-feature statistics first, then the output). The statistics stay accurate when the mean
is large against the spread: layer norm centres before squaring (two-pass), batch norm sums
deviations from a shift close to the mean (the first block's mean).

Work that must happen on every call lives inside the rules (``lw.compile`` replays rules, not
the Python around them): ``batch_norm`` updates its running statistics, passed as keyword
arrays, in place in its forward rule.
"""

from __future__ import annotations

import numpy as np

from ..autodiff.tensor import Tensor, primitive

__all__ = ["batch_norm", "layer_norm"]

_BLOCK_BYTES = 1 << 19
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
    """The shape of a Tensor or an array-like."""
    return np.shape(v.data if isinstance(v, Tensor) else v)


def _grad_of(g, operand):
    """A parameter gradient in its operand's shape and dtype."""
    return g.reshape(operand.shape).astype(operand.dtype, copy=False)


@primitive("layer_norm")
def _layer_norm(x, weight=None, bias=None, *, ndim: int, eps: float):
    """Layer normalisation of ``x`` over its last ``ndim`` axes: the rule of ``layer_norm``.

    Forward, per row of the last ``ndim`` axes (D elements): mu = mean(x), c = x - mu,
    r = 1 / sqrt(mean(c^2) + eps), y = c r w + b. Backward (g upstream, gh = g w,
    xhat = c r): dx = r (gh - mean(gh) - xhat mean(gh xhat)), dw = sum over rows of g xhat
    (= r @ (g c), a matrix-vector product), db = sum over rows of g.
    """
    dtype = _common_dtype(x, weight, bias)
    d = int(np.prod(x.shape[x.ndim - ndim:]))
    x2 = x.astype(dtype, copy=False).reshape(-1, d)
    blocks = _blocks(len(x2), d * dtype.itemsize)
    size = blocks[0].stop if blocks else 0
    # the parameters repeated to a block's shape (see _tiled)
    w = None if weight is None else _tiled(weight.astype(dtype, copy=False), (size, d))
    b = None if bias is None else _tiled(bias.astype(dtype, copy=False), (size, d))
    inv_d = 1.0 / d if d else np.nan
    ones = np.ones(d, dtype)
    y = np.empty(x2.shape, dtype)
    mean = np.empty(len(x2), dtype)
    rstd = np.empty(len(x2), dtype)
    for rows in blocks:
        xb, yb, mb, rb = x2[rows], y[rows], mean[rows], rstd[rows]
        n = len(xb)
        np.matmul(xb, ones, out=mb)  # row sums as a BLAS product: 4x add.reduce's speed
        mb *= inv_d
        np.subtract(xb, mb[:, None], out=yb)
        np.vecdot(yb, yb, out=rb)
        rb *= inv_d
        rb += eps
        np.sqrt(rb, out=rb)
        np.divide(1, rb, out=rb)
        yb *= rb[:, None]
        if w is not None:
            yb *= w[:n]
        if b is not None:
            yb += b[:n]

    def backward(g, needs):
        g2 = g.astype(dtype, copy=False).reshape(-1, d)
        dx = np.empty(x2.shape, dtype) if needs[0] else None
        dw = np.zeros(d, dtype) if w is not None and needs[1] else None
        db = np.zeros(d, dtype) if b is not None and needs[2] else None
        centred = np.empty((size, d), dtype) if dx is not None or dw is not None else None
        scratch = np.empty((size, d), dtype) if dw is not None else None
        for rows in blocks:
            gb, mb, rb = g2[rows], mean[rows], rstd[rows]
            n = len(gb)
            if db is not None:
                db += ones[:n] @ gb if n <= d else np.add.reduce(gb, axis=0)
            if centred is None:
                continue
            cb = centred[:n]
            np.subtract(x2[rows], mb[:, None], out=cb)
            if dw is not None:
                sb = scratch[:n]
                np.multiply(gb, cb, out=sb)
                dw += rb @ sb
            if dx is None:
                continue
            dxb = dx[rows]
            if w is not None:
                np.multiply(gb, w[:n], out=dxb)
            else:
                np.copyto(dxb, gb)
            mean_gh = dxb @ ones
            mean_gh *= inv_d
            k = np.vecdot(dxb, cb)  # k = r mean(gh xhat) r = mean(gh c) r^2
            k *= rb
            k *= rb
            k *= inv_d
            cb *= k[:, None]
            cb += mean_gh[:, None]
            dxb -= cb
            dxb *= rb[:, None]
        return (None if dx is None else dx.reshape(x.shape).astype(x.dtype, copy=False),
                None if dw is None else _grad_of(dw, weight),
                None if db is None else _grad_of(db, bias))

    return y.reshape(x.shape), backward


def _tiled(v, shape) -> np.ndarray:
    """``v``, one value per entry of axis 1 (``(D,)`` for layer norm's rows, ``(C,)`` for
    batch norm's channels), repeated to a block's ``shape`` ``(rows, D)`` or
    ``(rows, C[, L])``: an elementwise product of two same-shaped arrays runs one long loop, a
    broadcast one a loop per row (twice the time on rows of 1024)."""
    out = np.empty(shape, v.dtype)
    out[...] = v.reshape((shape[1],) + (1,) * (len(shape) - 2))
    return out


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
    y = x s + (b - mu s). Backward in training (xhat = (x - mu) / sqrt(var + eps)):
    db = sum g, dw = sum g xhat, dx = s (g - db / n - xhat dw / n); in evaluation dx = g s.

    The rule walks blocks of samples (contiguous rows) in two sweeps: statistics (or, in
    backward, the sums of g and g xhat), then the output.
    """
    dtype, x_dtype = _common_dtype(x, weight, bias), x.dtype
    x = x.astype(dtype, copy=False)
    channels = x.shape[1]
    n = x.size // max(channels, 1)
    blocks = _blocks(len(x), x[:1].nbytes)
    size = blocks[0].stop if blocks else 0
    scratch = np.empty((size, *x.shape[1:]), dtype)
    if training:
        mean, var = _batch_statistics(x, blocks, scratch)
    else:
        mean = np.asarray(running_mean, dtype=dtype).reshape(channels)
        var = np.asarray(running_var, dtype=dtype).reshape(channels)
    rstd = 1.0 / np.sqrt(var + eps)
    scale = rstd if weight is None else rstd * weight.astype(dtype, copy=False)
    shift = -mean * scale
    if bias is not None:
        shift += bias
    # per-channel vectors repeated to a block's shape (see _tiled): each is used per block
    scale_t, shift_t = _tiled(scale, scratch.shape), _tiled(shift, scratch.shape)
    y = np.empty(x.shape, dtype)
    for rows in blocks:
        m = rows.stop - rows.start
        yb = y[rows]
        np.multiply(x[rows], scale_t[:m], out=yb)
        yb += shift_t[:m]
    if training and running_mean is not None and running_var is not None:
        _update_running(running_mean, running_var, num_batches_tracked, momentum, mean,
                        var * (n / (n - 1)))

    def backward(g, needs):
        g = g.astype(dtype, copy=False)
        need_dx = needs[0]
        need_dw = weight is not None and needs[1]
        need_db = bias is not None and needs[2]
        # training's dx needs both sums whether or not the parameters need them
        sums = (need_dx and training) or need_dw or need_db
        sum_g = np.zeros(channels, dtype) if sums else None
        sum_gc = np.zeros(channels, dtype) if sums else None  # the sum of g (x - mu)
        mean_t = _tiled(mean, scratch.shape) if sums else None
        for rows in blocks if sums else ():
            m = rows.stop - rows.start
            gb, sb = g[rows], scratch[:m]
            sum_g += _sum_over_samples(gb)
            np.subtract(x[rows], mean_t[:m], out=sb)
            sb *= gb
            sum_gc += _sum_over_samples(sb)
        dx = None
        if need_dx:
            dx = np.empty(x.shape, dtype)
            if training:  # dx = s g - (x - mu) s rstd dw / n - s db / n, dw = rstd sum_gc
                k_t = _tiled(scale * rstd * rstd * sum_gc * (1.0 / n), scratch.shape)
                c_t = _tiled(scale * sum_g * (1.0 / n), scratch.shape)
            for rows in blocks:
                m = rows.stop - rows.start
                dxb = dx[rows]
                np.multiply(g[rows], scale_t[:m], out=dxb)
                if training:
                    sb = scratch[:m]
                    np.subtract(x[rows], mean_t[:m], out=sb)
                    sb *= k_t[:m]
                    sb += c_t[:m]
                    dxb -= sb
        return (None if dx is None else dx.astype(x_dtype, copy=False),
                _grad_of(sum_gc * rstd, weight) if need_dw else None,
                _grad_of(sum_g, bias) if need_db else None)

    return y, backward


def _update_running(running_mean, running_var, num_batches_tracked, momentum, mean,
                    unbiased_var) -> None:
    """PyTorch's update, in place: ``running = (1 - momentum) running + momentum stat``;
    ``momentum=None``: a cumulative average over ``num_batches_tracked`` (incremented here)."""
    if num_batches_tracked is not None:
        num_batches_tracked += 1
    if momentum is None:
        momentum = 1.0 / float(num_batches_tracked)
    running_mean[...] = momentum * mean + (1 - momentum) * running_mean
    running_var[...] = momentum * unbiased_var + (1 - momentum) * running_var


def _sum_over_samples(a) -> np.ndarray:
    """The per-channel sum of a block ``(m, C)`` or ``(m, C, L)``: ``(C,)``."""
    if a.ndim == 2:  # a BLAS matrix-vector product: twice add.reduce's speed
        return np.ones(len(a), a.dtype) @ a
    return np.add.reduce(a, axis=(0, 2))


def _batch_statistics(x, blocks, scratch):
    """The per-channel mean and biased variance of ``x`` (every axis but 1), block by block.

    The deviations are summed from a shift K, the first block's mean (close to the batch's:
    no cancellation): mean = K + S1 / n, var = S2 / n - (S1 / n)^2 with S1 = sum (x - K) and
    S2 = sum (x - K)^2; with one block K is the mean itself and this is the two-pass formula.
    """
    n = x.size // max(x.shape[1], 1)
    first = x[blocks[0]]
    shift = _sum_over_samples(first) * (1.0 / (first.size // max(x.shape[1], 1)))
    shift_t = _tiled(shift, scratch.shape)
    s1 = np.zeros_like(shift)
    s2 = np.zeros_like(shift)
    for rows in blocks:
        m = rows.stop - rows.start
        sb = scratch[:m]
        np.subtract(x[rows], shift_t[:m], out=sb)
        s1 += _sum_over_samples(sb)
        sb *= sb
        s2 += _sum_over_samples(sb)
    s1 *= 1.0 / n
    s2 *= 1.0 / n
    s2 -= s1 * s1
    np.maximum(s2, 0, out=s2)  # rounding must not make a variance negative
    return shift + s1, s2


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
