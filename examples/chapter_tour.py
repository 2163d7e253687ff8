"""A short tour of the chapter with layerwise: the Iris network, layer by layer.

Run: python examples/chapter_tour.py
"""

import numpy as np

import layerwise as lw

np.random.seed(42)
network = lw.MLP([4, 8, 4, 3])  # He initialisation, ReLU hidden layers, softmax output
print(network)

X = np.array([
    [5.1, 3.5, 1.4, 0.2],  # setosa
    [7.0, 3.2, 4.7, 1.4],  # versicolor
    [6.3, 3.3, 6.0, 2.5],  # virginica
])
y = np.array([0, 1, 2])

output, cache = network.forward_with_cache(X)
print("\nForward pass, layer by layer:")
for i, step in enumerate(cache):
    A = step["A"]
    print(f"  layer {i}: shape {A.shape}, mean={A.mean():.4f}, std={A.std():.4f}")

print("\nPredicted probabilities:\n", output)
print("Predicted classes:", np.argmax(output.data, axis=1), " true:", y)

one_hot = np.eye(3)[y]
loss = lw.F.categorical_cross_entropy(one_hot, output)
loss.backward()
print(f"\nCategorical cross-entropy: {loss:.4f}")
for name, p in network.named_parameters():
    print(f"  d loss / d {name:<10} shape {p.grad.shape}, |grad| = {np.abs(p.grad).max():.4f}")
