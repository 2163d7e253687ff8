"""The chapter's own listings, copied verbatim (only indented into functions): the oracle.

Each ``listing_*`` function runs one listing of ``shared/seed/000_4733b4238f9127ae.txt`` and
prints what the chapter's code prints. ``tests/test_examples.py`` compares that output with
the layerwise example that redoes the listing; the nn and init tests use the chapter's
``initialize_weights``, ``MultiLayerNetwork`` and ``DenseLayer`` directly.

Two listings are adapted where they cannot run as printed: the bias plot records its curves
instead of showing a window, and the PyTorch listing takes its weights as an argument (the
chapter leaves them to torch's unseeded initialisation).
"""
# ruff: noqa: PLR0402, RUF059, UP008 - the chapter's code, kept as printed there

import numpy as np


# ----------------------------------------------------------------------- 1.2 forward_layer
def forward_layer(X, W, b, activation_fn):
    # Linear transformation: Z = X @ W + b
    Z = np.dot(X, W) + b
    # Apply activation function
    A = activation_fn(Z)
    return A, Z


def listing_forward_layer():
    np.random.seed(42)
    # Input: 4 samples, 3 features
    X = np.array([
        [1.0, 2.0, 3.0],
        [4.0, 5.0, 6.0],
        [7.0, 8.0, 9.0],
        [10.0, 11.0, 12.0]
    ])
    # Weights: 3 inputs -> 2 outputs
    W = np.random.randn(3, 2) * 0.01
    b = np.zeros((1, 2))
    # ReLU activation
    relu = lambda x: np.maximum(0, x)
    A, Z = forward_layer(X, W, b, relu)
    print("Input shape:", X.shape)
    print("Output shape:", A.shape)
    print("Pre-activation:\n", Z)
    print("Activation:\n", A)


# ------------------------------------------------------------------ 2.2 initialize_weights
def initialize_weights(n_in, n_out, method='he'):
    if method == 'zeros':
        # Bad: all neurons learn the same thing
        return np.zeros((n_in, n_out))
    elif method == 'random':
        # Small random values
        return np.random.randn(n_in, n_out) * 0.01
    elif method == 'xavier':
        # Good for sigmoid/tanh
        std = np.sqrt(2.0 / (n_in + n_out))
        return np.random.randn(n_in, n_out) * std
    elif method == 'he':
        # Good for ReLU
        std = np.sqrt(2.0 / n_in)
        return np.random.randn(n_in, n_out) * std
    else:
        raise ValueError(f"Unknown method: {method}")


def listing_initialization():
    # Compare initialization methods
    np.random.seed(42)
    n_in, n_out = 784, 256
    for method in ['zeros', 'random', 'xavier', 'he']:
        W = initialize_weights(n_in, n_out, method)
        print(f"{method:8s}: mean={W.mean():.6f}, std={W.std():.6f}")


# --------------------------------------------------------------------- 2.3 bias effect
def listing_bias_effect():
    """Returns the curves the chapter plots: {bias: (x, y)}."""
    curves = {}
    # Demonstrate the effect of bias
    x = np.linspace(-5, 5, 100)

    def sigmoid(z):
        return 1 / (1 + np.exp(-z))
    # Different bias values
    biases = [-2, 0, 2]
    w = 1  # Fixed weight
    for b in biases:
        z = w * x + b
        y = sigmoid(z)
        curves[b] = (x, y)  # plt.plot(x, y, label=f'bias = {b}')
    return curves


# ------------------------------------------------------------- 3.2 computational node
class ComputationalNode:
    """
    Simple computational node that stores value and gradient
    """
    def __init__(self, value, requires_grad=False):
        self.value = value
        self.grad = 0 if requires_grad else None
        self.requires_grad = requires_grad


def forward_with_cache(X, W, b):
    # Store inputs
    cache = {'X': X, 'W': W, 'b': b}
    # Linear transformation
    Z = np.dot(X, W) + b
    cache['Z'] = Z
    # ReLU activation
    A = np.maximum(0, Z)
    cache['A'] = A
    return A, cache


def listing_computational_node():
    X = np.array([[1.0, 2.0]])
    W = np.array([[0.5, -0.5], [0.3, 0.7]])
    b = np.array([[0.1, -0.1]])
    output, cache = forward_with_cache(X, W, b)
    print("Input X:", X)
    print("Pre-activation Z:", cache['Z'])
    print("Output A:", output)


# ------------------------------------------------------------ 3.3 multi-layer network
def relu(x):
    return np.maximum(0, x)


def softmax(x):
    exp_x = np.exp(x - np.max(x, axis=1, keepdims=True))
    return exp_x / np.sum(exp_x, axis=1, keepdims=True)


class MultiLayerNetwork:
    """
    Multi-layer neural network with forward propagation
    """
    def __init__(self, layer_sizes):
        self.n_layers = len(layer_sizes) - 1
        self.weights = []
        self.biases = []
        # He initialization for ReLU
        for i in range(self.n_layers):
            n_in = layer_sizes[i]
            n_out = layer_sizes[i + 1]
            W = np.random.randn(n_in, n_out) * np.sqrt(2.0 / n_in)
            b = np.zeros((1, n_out))
            self.weights.append(W)
            self.biases.append(b)

    def forward(self, X):
        cache = [{'A': X}]  # Store input as first "activation"
        A = X
        for i in range(self.n_layers):
            Z = np.dot(A, self.weights[i]) + self.biases[i]
            # Use ReLU for hidden layers, softmax for output
            if i < self.n_layers - 1:
                A = relu(Z)
            else:
                A = softmax(Z)
            cache.append({'Z': Z, 'A': A})
        return A, cache


IRIS_5 = np.array([
    [5.1, 3.5, 1.4, 0.2],
    [6.3, 2.9, 5.6, 1.8],
    [5.8, 2.7, 5.1, 1.9],
    [5.0, 3.4, 1.5, 0.2],
    [6.7, 3.1, 5.6, 2.4]
])


def listing_multilayer_network():
    # Example: 4 inputs -> 8 hidden -> 4 hidden -> 3 outputs
    np.random.seed(42)
    network = MultiLayerNetwork([4, 8, 4, 3])
    # Test data
    X = np.array([
        [5.1, 3.5, 1.4, 0.2],
        [6.3, 2.9, 5.6, 1.8],
        [5.8, 2.7, 5.1, 1.9]
    ])
    output, cache = network.forward(X)
    print("Input shape:", X.shape)
    print("Output shape:", output.shape)
    print("Predictions (probabilities):\n", output)
    print("Predicted classes:", np.argmax(output, axis=1))


# ----------------------------------------------------------------------------- 4.1 MSE
def mse_loss(y_true, y_pred):
    return np.mean((y_true - y_pred) ** 2)


def mse_gradient(y_true, y_pred):
    n = y_true.shape[0]
    return 2 * (y_pred - y_true) / n


def listing_mse_loss():
    # Example: regression task
    y_true = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    y_pred = np.array([1.2, 1.8, 3.1, 3.9, 5.2])
    loss = mse_loss(y_true, y_pred)
    grad = mse_gradient(y_true, y_pred)
    print(f"True values: {y_true}")
    print(f"Predictions: {y_pred}")
    print(f"MSE Loss: {loss:.4f}")
    print(f"Gradient: {grad}")


# ------------------------------------------------------------------- 4.2 cross entropy
def binary_cross_entropy(y_true, y_pred, epsilon=1e-15):
    # Clip predictions to avoid log(0)
    y_pred = np.clip(y_pred, epsilon, 1 - epsilon)
    return -np.mean(y_true * np.log(y_pred) + (1 - y_true) * np.log(1 - y_pred))


def categorical_cross_entropy(y_true, y_pred, epsilon=1e-15):
    y_pred = np.clip(y_pred, epsilon, 1 - epsilon)
    return -np.mean(np.sum(y_true * np.log(y_pred), axis=1))


def listing_cross_entropy():
    # Example: multi-class classification
    # 3 samples, 4 classes
    y_true = np.array([
        [1, 0, 0, 0],  # Class 0
        [0, 1, 0, 0],  # Class 1
        [0, 0, 0, 1]   # Class 3
    ])
    # Good predictions
    y_pred_good = np.array([
        [0.9, 0.05, 0.03, 0.02],
        [0.1, 0.7, 0.1, 0.1],
        [0.05, 0.05, 0.1, 0.8]
    ])
    # Bad predictions
    y_pred_bad = np.array([
        [0.25, 0.25, 0.25, 0.25],
        [0.1, 0.3, 0.3, 0.3],
        [0.4, 0.3, 0.2, 0.1]
    ])
    loss_good = categorical_cross_entropy(y_true, y_pred_good)
    loss_bad = categorical_cross_entropy(y_true, y_pred_bad)
    print(f"Good predictions - Loss: {loss_good:.4f}")
    print(f"Bad predictions - Loss: {loss_bad:.4f}")


# ------------------------------------------------------------------- 5.1 DenseLayer
class DenseLayer:
    """
    Fully connected (dense) layer implementation
    """
    def __init__(self, n_input, n_output, activation='relu'):
        self.n_input = n_input
        self.n_output = n_output
        self.activation = activation
        # He initialization
        self.W = np.random.randn(n_input, n_output) * np.sqrt(2.0 / n_input)
        self.b = np.zeros((1, n_output))
        # Cache for backpropagation
        self.cache = {}

    def _activate(self, Z):
        """Apply activation function"""
        if self.activation == 'relu':
            return np.maximum(0, Z)
        elif self.activation == 'sigmoid':
            return 1 / (1 + np.exp(-Z))
        elif self.activation == 'softmax':
            exp_Z = np.exp(Z - np.max(Z, axis=1, keepdims=True))
            return exp_Z / np.sum(exp_Z, axis=1, keepdims=True)
        elif self.activation == 'none':
            return Z
        else:
            raise ValueError(f"Unknown activation: {self.activation}")

    def forward(self, X):
        self.cache['X'] = X
        # Linear transformation
        Z = np.dot(X, self.W) + self.b
        self.cache['Z'] = Z
        # Activation
        A = self._activate(Z)
        self.cache['A'] = A
        return A


def listing_dense_layer():
    # Build a simple network
    np.random.seed(42)
    # Layer 1: 4 inputs -> 8 neurons (ReLU)
    layer1 = DenseLayer(4, 8, activation='relu')
    # Layer 2: 8 neurons -> 4 neurons (ReLU)
    layer2 = DenseLayer(8, 4, activation='relu')
    # Layer 3: 4 neurons -> 3 outputs (Softmax)
    layer3 = DenseLayer(4, 3, activation='softmax')
    # Test forward pass
    X = IRIS_5.copy()
    # Forward through all layers
    A1 = layer1.forward(X)
    A2 = layer2.forward(A1)
    output = layer3.forward(A2)
    print("Input shape:", X.shape)
    print("After Layer 1:", A1.shape)
    print("After Layer 2:", A2.shape)
    print("Output shape:", output.shape)
    print("\nPredicted probabilities:\n", output)
    print("\nPredicted classes:", np.argmax(output, axis=1))


# ---------------------------------------------------------------- 5.2 PyTorch network
def listing_pytorch_network(weights, biases):
    """The chapter's PyTorch listing, with the given ``(n_in, n_out)`` weights and
    ``(1, n_out)`` biases copied into its Linear layers (the chapter does not seed torch)."""
    import torch
    import torch.nn as nn

    class SimpleNetwork(nn.Module):
        """
        Simple fully connected network in PyTorch
        """
        def __init__(self, input_size, hidden_sizes, output_size):
            super(SimpleNetwork, self).__init__()
            layers = []
            prev_size = input_size
            # Hidden layers with ReLU
            for hidden_size in hidden_sizes:
                layers.append(nn.Linear(prev_size, hidden_size))
                layers.append(nn.ReLU())
                prev_size = hidden_size
            # Output layer (no activation - use with CrossEntropyLoss)
            layers.append(nn.Linear(prev_size, output_size))
            self.network = nn.Sequential(*layers)

        def forward(self, x):
            return self.network(x)

    # Create network
    model = SimpleNetwork(input_size=4, hidden_sizes=[8, 4], output_size=3)
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    with torch.no_grad():  # not in the chapter: the weights under test
        for linear, W, b in zip(linears, weights, biases):
            linear.weight.copy_(torch.from_numpy(W.T.astype(np.float32)))
            linear.bias.copy_(torch.from_numpy(b.reshape(-1).astype(np.float32)))
    print("Model architecture:")
    print(model)
    # Test data
    X_torch = torch.tensor(IRIS_5.tolist(), dtype=torch.float32)
    # Forward pass
    with torch.no_grad():
        logits = model(X_torch)
        probabilities = torch.softmax(logits, dim=1)
    print("\nLogits shape:", logits.shape)
    print("Probabilities:\n", probabilities.numpy())
    print("Predicted classes:", torch.argmax(probabilities, dim=1).numpy())
    # Loss calculation example
    y_true = torch.tensor([0, 2, 2, 0, 2])  # True class labels
    criterion = nn.CrossEntropyLoss()
    loss = criterion(logits, y_true)
    print(f"\nCross Entropy Loss: {loss.item():.4f}")


# -------------------------------------------------------- 5.3 complete forward pass
def complete_forward_pass(X, weights, biases):
    def relu(x):
        return np.maximum(0, x)

    def softmax(x):
        exp_x = np.exp(x - np.max(x, axis=1, keepdims=True))
        return exp_x / np.sum(exp_x, axis=1, keepdims=True)
    activations = [X]
    A = X
    for i, (W, b) in enumerate(zip(weights, biases)):
        # Linear transformation
        Z = np.dot(A, W) + b
        # Activation (softmax for last layer, ReLU for others)
        if i == len(weights) - 1:
            A = softmax(Z)
        else:
            A = relu(Z)
        activations.append(A)
    return A, activations


def listing_complete_forward_pass():
    # Initialize network
    np.random.seed(42)
    layer_sizes = [4, 8, 4, 3]
    weights = []
    biases = []
    for i in range(len(layer_sizes) - 1):
        n_in, n_out = layer_sizes[i], layer_sizes[i + 1]
        W = np.random.randn(n_in, n_out) * np.sqrt(2.0 / n_in)
        b = np.zeros((1, n_out))
        weights.append(W)
        biases.append(b)
    # Input data (Iris-like)
    X = np.array([
        [5.1, 3.5, 1.4, 0.2],  # setosa
        [7.0, 3.2, 4.7, 1.4],  # versicolor
        [6.3, 3.3, 6.0, 2.5],  # virginica
    ])
    # Run forward pass
    output, activations = complete_forward_pass(X, weights, biases)
    print("Layer-by-layer activations:")
    for i, A in enumerate(activations):
        print(f"  Layer {i}: shape {A.shape}, mean={A.mean():.4f}, std={A.std():.4f}")
    print("\nFinal output (probabilities):")
    print(output)
    print("\nPredicted classes:", np.argmax(output, axis=1))
