"""The dense layer's affine map, ``Z = X @ W + b``, and the chapter's ``forward_layer``."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..autodiff import fuse, primitive
from .activations import get_activation, identity

__all__ = ["dense", "forward_layer", "linear"]


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


def dense(X, W, b=None, activation=identity):
    """A = activation(X @ W + b) as ONE graph node; returns ``(A, Z)``, Z the pre-activation.

    The node is ``lw.autodiff.fuse(linear, activation)``, named ``"linear+<activation>"``:
    the same arithmetic as ``activation(linear(X, W, b))`` (the two primitives' own NumPy
    rules), but one node to build and to walk, which is most of a small network's training
    step; ``lw.graph`` draws it as its parts (``matmul``, ``add`` and the activation).
    With nothing to differentiate (``no_grad``, frozen weights) no node is built at all.

    Args:
        X: ``(..., n_in)``; W: ``(n_in, n_out)``; b: ``(1, n_out)`` or None (Tensors or arrays).
        activation: ``identity`` or an activation primitive of ``lw.F`` (default arguments).

    Returns:
        ``(A, Z)``: A a Tensor ``(..., n_out)``, Z an ndarray of the same shape.

    >>> import numpy as np, layerwise as lw
    >>> W = lw.Tensor(np.eye(2), requires_grad=True)
    >>> A, Z = lw.F.dense(np.array([[1.0, -2.0]]), W, None, lw.F.relu)
    >>> A.op, A.data, Z
    ('linear+relu', array([[1., 0.]]), array([[ 1., -2.]]))
    """
    if activation is identity:
        Z = linear(X, W, b)
        return Z, Z.data
    op = _DENSE_OPS.get(activation)
    if op is None:
        op = _DENSE_OPS[activation] = fuse(linear, activation)
    intermediates = []
    A = op(X, W, b, intermediates=intermediates)
    return A, intermediates[0]


# activation -> fuse(linear, activation), looked up once per layer call
_DENSE_OPS: dict[Callable, Callable] = {}


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
