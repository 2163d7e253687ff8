"""A network of dense layers (the chapter's section 5.1), with layerwise.

``lw.nn.Dense(n_input, n_output, activation)`` is the chapter's ``DenseLayer``: He
initialisation, ``b = 0``, and ``layer.cache`` holding the last ``X``, ``Z`` and ``A``.

Run: python examples/dense_layer.py
"""

import numpy as np

import layerwise as lw

# Build a simple network (float64, as the chapter's NumPy code)
np.random.seed(42)
layer1 = lw.nn.Dense(4, 8, activation="relu", dtype=np.float64)  # 4 inputs -> 8 neurons
layer2 = lw.nn.Dense(8, 4, activation="relu", dtype=np.float64)  # 8 -> 4 neurons
layer3 = lw.nn.Dense(4, 3, activation="softmax", dtype=np.float64)  # 4 -> 3 outputs

X = np.array([
    [5.1, 3.5, 1.4, 0.2],
    [6.3, 2.9, 5.6, 1.8],
    [5.8, 2.7, 5.1, 1.9],
    [5.0, 3.4, 1.5, 0.2],
    [6.7, 3.1, 5.6, 2.4],
])
# Forward through all layers
A1 = layer1(X)
A2 = layer2(A1)
output = layer3(A2)
print("Input shape:", X.shape)
print("After Layer 1:", A1.shape)
print("After Layer 2:", A2.shape)
print("Output shape:", output.shape)
print("\nPredicted probabilities:\n", output)
print("\nPredicted classes:", np.argmax(output, axis=1))

# Beyond the chapter: the layers describe themselves and keep the chapter's cache.
print()
for layer in (layer1, layer2, layer3):
    shapes = ", ".join(f"{key} {value.shape}" for key, value in layer.cache.items())
    print(f"{layer}: {layer.num_parameters()} parameters; cache {shapes}")
