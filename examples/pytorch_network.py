"""The chapter's PyTorch network (section 5.2), written with layerwise.

The same model as the chapter's ``SimpleNetwork``: Linear layers with ReLU between them and
raw scores (logits) out, for ``CrossEntropyLoss``. layerwise's ``Linear`` keeps the chapter's
``W (n_in, n_out)`` layout and He initialisation, so this model is seeded with
``np.random.seed(42)`` (the chapter's PyTorch code is not seeded). If PyTorch is installed, the
same weights are copied into PyTorch with ``lw.interop.to_torch`` for a side-by-side.

Run: python examples/pytorch_network.py
"""

import numpy as np

import layerwise as lw
from layerwise import nn


class SimpleNetwork(nn.Module):
    """Simple fully connected network: hidden Linear + ReLU layers, a Linear output."""

    def __init__(self, input_size, hidden_sizes, output_size):
        layers = []
        prev_size = input_size
        for hidden_size in hidden_sizes:  # hidden layers with ReLU
            layers += [nn.Linear(prev_size, hidden_size), nn.ReLU()]
            prev_size = hidden_size
        layers.append(nn.Linear(prev_size, output_size))  # no activation: logits
        self.network = nn.Sequential(*layers)

    def forward(self, x):
        return self.network(x)


np.random.seed(42)
model = SimpleNetwork(input_size=4, hidden_sizes=[8, 4], output_size=3)
print("Model architecture:")
print(model)

X = np.array([
    [5.1, 3.5, 1.4, 0.2],
    [6.3, 2.9, 5.6, 1.8],
    [5.8, 2.7, 5.1, 1.9],
    [5.0, 3.4, 1.5, 0.2],
    [6.7, 3.1, 5.6, 2.4],
], dtype=np.float32)

with lw.no_grad():
    logits = model(X)
    probabilities = lw.F.softmax(logits, axis=1)
print("\nLogits shape:", logits.shape)
print("Probabilities:\n", probabilities.numpy())
print("Predicted classes:", np.argmax(probabilities, axis=1))

# Loss calculation example
y_true = np.array([0, 2, 2, 0, 2])  # true class labels
criterion = nn.CrossEntropyLoss()
loss = criterion(y_true, model(X))  # layerwise order: (y_true, y_pred)
print(f"\nCross Entropy Loss: {loss.item():.4f}")

try:
    import torch
except ImportError:
    torch = None
if torch is not None:
    torch_model = lw.interop.to_torch(model.network)
    with torch.no_grad():
        torch_logits = torch_model(torch.from_numpy(X))
    torch_loss = torch.nn.CrossEntropyLoss()(torch_logits, torch.from_numpy(y_true))
    print("\nSide by side with PyTorch (the same weights, via lw.interop.to_torch):")
    print(torch_model)
    print(f"max |logits difference|: {np.abs(torch_logits.numpy() - logits.numpy()).max():.1e}")
    print(f"PyTorch Cross Entropy Loss: {torch_loss.item():.4f}")
