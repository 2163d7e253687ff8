"""Forward pass for a single layer (the chapter's section 1.2), with layerwise.

``lw.F.forward_layer`` is the chapter's ``forward_layer``: ``Z = X @ W + b``, ``A = f(Z)``. It
takes the chapter's plain NumPy lambda as the activation, and when ``W`` is a Tensor that
requires gradients the same call records the graph, so ``backward()`` gives dA/dW for free.

Run: python examples/forward_layer.py
"""

import numpy as np

import layerwise as lw

np.random.seed(42)

# Input: 4 samples, 3 features
X = np.array([
    [1.0, 2.0, 3.0],
    [4.0, 5.0, 6.0],
    [7.0, 8.0, 9.0],
    [10.0, 11.0, 12.0],
])
# Weights: 3 inputs -> 2 outputs, N(0, 1) * 0.01 (float64, as the chapter's NumPy code)
W = lw.init.initialize_weights(3, 2, "random", dtype=np.float64)
b = np.zeros((1, 2))

relu = lambda x: np.maximum(0, x)
A, Z = lw.F.forward_layer(X, W, b, relu)
print("Input shape:", X.shape)
print("Output shape:", A.shape)
print("Pre-activation:\n", Z)
print("Activation:\n", A)

# Beyond the chapter: the same call with W as a parameter gives its gradient.
W = lw.Tensor(W, requires_grad=True)
A, Z = lw.F.forward_layer(X, W, b, relu)
A.sum().backward()
print("\nd sum(A) / dW (column sums of X where Z > 0):\n", W.grad)
