"""The dense layer's affine map, ``Z = X @ W + b``, and the chapter's ``forward_layer``."""

from __future__ import annotations

import numpy as np

from ..autodiff.tensor import primitive
from .activations import get_activation

__all__ = ["forward_layer", "linear"]


@primitive("linear")
def linear(X, W, b=None):
    """Z = X @ W + b, fused: one output array, the bias added in place.

    ``lw.graph`` draws this node as its two parts, ``matmul`` then ``add``.

    Args:
        X: ``(..., n_in)`` inputs, batches as rows.
        W: ``(n_in, n_out)`` weights (the chapter's layout, not PyTorch's ``(out, in)``).
        b: ``(1, n_out)`` or ``(n_out,)`` bias, or None.

    Backward: dX = g W^T, dW = X^T g, db = sum of g over the batch.

    >>> import numpy as np, layerwise as lw
    >>> lw.F.linear(np.ones((2, 3)), np.ones((3, 1)), np.array([[0.5]]))
    Tensor([[3.5],
            [3.5]], dtype=float64)
    """
    # np.dot multiplies a few rows with the same BLAS call as @ and a third less overhead per
    # call; with many rows it is slower (up to 1.7x at 100,000 rows), so those keep @
    small = 0 < X.ndim <= 2 and len(X) <= 64
    Z = np.dot(X, W) if small else X @ W
    if b is not None:
        if Z.ndim >= b.ndim and (Z.dtype == b.dtype or Z.dtype == np.result_type(Z, b)):
            Z += b
        else:
            Z = Z + b

    def backward(g, needs):
        gX = (np.dot(g, W.T) if small else g @ W.T) if needs[0] else None
        gW = gb = None
        g2 = g if g.ndim == 2 else g.reshape(-1, g.shape[-1])
        if needs[1]:
            Xt = (X if X.ndim == 2 else X.reshape(-1, X.shape[-1])).T
            gW = np.dot(Xt, g2) if small else Xt @ g2
        if b is not None and needs[2]:
            gb = np.add.reduce(g2, axis=0, keepdims=True)  # a fresh array: it becomes b.grad
            if gb.shape != b.shape:
                gb = gb.reshape(b.shape)
        return gX, gW, gb

    return Z, backward


def forward_layer(X, W, b, activation):
    """One layer's forward pass as in the chapter: ``Z = X @ W + b``, ``A = f(Z)``.

    Args:
        X: ``(batch, n_in)``; W: ``(n_in, n_out)``; b: ``(1, n_out)``.
        activation: a name (``'relu'``, ``'sigmoid'``, ``'tanh'``, ``'softmax'``, ``'none'``, ...)
            or any callable, including plain NumPy lambdas such as
            ``lambda x: np.maximum(0, x)`` (still differentiable: NumPy ufuncs on a Tensor
            dispatch to layerwise's ops).

    Returns:
        ``(A, Z)``, both ``(batch, n_out)`` Tensors.

    >>> import numpy as np, layerwise as lw
    >>> A, Z = lw.F.forward_layer(np.array([[1.0, 2.0]]), np.eye(2), np.zeros((1, 2)),
    ...                           lambda x: np.maximum(0, x))
    >>> A.shape
    (1, 2)
    """
    _, fn = get_activation(activation)
    Z = linear(X, W, b)
    A = fn(Z)
    return A, Z
