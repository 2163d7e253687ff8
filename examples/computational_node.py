"""A computational node that stores a value and a gradient (the chapter's section 3.2).

The chapter's ``ComputationalNode(value, requires_grad)`` is ``lw.Tensor``: ``.data`` is the
value, ``.grad`` the gradient. Every op on Tensors records a node (op name, inputs), so the
forward pass builds the graph that ``backward()`` walks with the chain rule.

Run: python examples/computational_node.py
"""

import numpy as np

import layerwise as lw

X = np.array([[1.0, 2.0]])
W = lw.Tensor(np.array([[0.5, -0.5], [0.3, 0.7]]), requires_grad=True)
b = lw.Tensor(np.array([[0.1, -0.1]]), requires_grad=True)

A, Z = lw.F.forward_layer(X, W, b, "relu")  # the chapter's forward_with_cache
print("Input X:", X)
print("Pre-activation Z:", Z)
print("Output A:", A)

# Beyond the chapter: the graph the forward pass recorded ...
print("\nGraph:")
print(f"  A = {A.op}(Z)          shape {A.shape}")
print(f"  Z = {Z.op}(X, W, b)  shapes {', '.join(str(p.shape) for p in Z.parents)}")

# ... and the chain rule through it: dA/dZ is 1 where Z > 0, else 0.
A.sum().backward()
print("\ndL/dW for L = sum(A):\n", W.grad)
print("dL/db:", b.grad)
print("by hand, X^T (Z > 0):\n", X.T @ (Z.numpy() > 0))
