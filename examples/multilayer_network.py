"""A multi-layer network's forward pass (the chapter's section 3.3), with layerwise.

``lw.MLP`` is the chapter's ``MultiLayerNetwork``: He initialisation drawn layer by layer
(so ``np.random.seed(42)`` gives the chapter's weights), ReLU hidden layers and a softmax
output; ``forward_with_cache`` returns the chapter's cache.

Run: python examples/multilayer_network.py
"""

import numpy as np

import layerwise as lw

# Example: 4 inputs -> 8 hidden -> 4 hidden -> 3 outputs (float64, as the chapter's NumPy code)
np.random.seed(42)
network = lw.MLP([4, 8, 4, 3], dtype=np.float64)

X = np.array([
    [5.1, 3.5, 1.4, 0.2],
    [6.3, 2.9, 5.6, 1.8],
    [5.8, 2.7, 5.1, 1.9],
])
output, cache = network.forward_with_cache(X)
print("Input shape:", X.shape)
print("Output shape:", output.shape)
print("Predictions (probabilities):\n", output)
print("Predicted classes:", np.argmax(output, axis=1))

# Beyond the chapter: the network, and what the cache holds for each layer.
print()
print(network)
for i, step in enumerate(cache):
    print(f"cache[{i}]: " + ", ".join(f"{key} {value.shape}" for key, value in step.items()))
print(f"parameters: {network.num_parameters()}")
