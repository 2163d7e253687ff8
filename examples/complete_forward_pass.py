"""A complete forward pass, layer by layer (the chapter's section 5.3), with layerwise.

The chapter's loop, with ``lw.init.initialize_weights`` drawing the weights and
``lw.F.forward_layer`` doing each layer; the same seed gives the chapter's numbers.

Run: python examples/complete_forward_pass.py
"""

import itertools

import numpy as np

import layerwise as lw


def complete_forward_pass(X, weights, biases):
    """ReLU hidden layers, softmax output; returns the output and every layer's activation."""
    activations = [X]
    A = X
    for i, (W, b) in enumerate(zip(weights, biases)):
        A, _ = lw.F.forward_layer(A, W, b, "softmax" if i == len(weights) - 1 else "relu")
        activations.append(A.numpy())
    return A, activations


# Initialize network (He, float64, as the chapter's NumPy code)
np.random.seed(42)
layer_sizes = [4, 8, 4, 3]
weights, biases = [], []
for n_in, n_out in itertools.pairwise(layer_sizes):
    weights.append(lw.init.initialize_weights(n_in, n_out, "he", dtype=np.float64))
    biases.append(np.zeros((1, n_out)))

# Input data (Iris-like)
X = np.array([
    [5.1, 3.5, 1.4, 0.2],  # setosa
    [7.0, 3.2, 4.7, 1.4],  # versicolor
    [6.3, 3.3, 6.0, 2.5],  # virginica
])
output, activations = complete_forward_pass(X, weights, biases)
print("Layer-by-layer activations:")
for i, A in enumerate(activations):
    print(f"  Layer {i}: shape {A.shape}, mean={A.mean():.4f}, std={A.std():.4f}")
print("\nFinal output (probabilities):")
print(output)
print("\nPredicted classes:", np.argmax(output, axis=1))
