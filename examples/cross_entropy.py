"""Cross-entropy losses (the chapter's section 4.2), with layerwise.

``lw.F.categorical_cross_entropy(y_true, y_pred)`` takes one-hot targets and probabilities,
exactly as the chapter's function; ``lw.F.binary_cross_entropy`` likewise for 0/1 labels. For
a network's raw scores, ``lw.F.cross_entropy(labels, logits)`` does softmax and the loss in one
stable step (PyTorch's ``CrossEntropyLoss``).

Run: python examples/cross_entropy.py
"""

import numpy as np

import layerwise as lw

# Example: multi-class classification, 3 samples, 4 classes
y_true = np.array([
    [1, 0, 0, 0],  # Class 0
    [0, 1, 0, 0],  # Class 1
    [0, 0, 0, 1],  # Class 3
])
y_pred_good = np.array([
    [0.9, 0.05, 0.03, 0.02],
    [0.1, 0.7, 0.1, 0.1],
    [0.05, 0.05, 0.1, 0.8],
])
y_pred_bad = np.array([
    [0.25, 0.25, 0.25, 0.25],
    [0.1, 0.3, 0.3, 0.3],
    [0.4, 0.3, 0.2, 0.1],
])
loss_good = lw.F.categorical_cross_entropy(y_true, y_pred_good)
loss_bad = lw.F.categorical_cross_entropy(y_true, y_pred_bad)
print(f"Good predictions - Loss: {loss_good:.4f}")
print(f"Bad predictions - Loss: {loss_bad:.4f}")

# Beyond the chapter: per-sample losses, and the same numbers from logits and class labels.
print("\nPer sample (bad):", lw.F.categorical_cross_entropy(y_true, y_pred_bad, reduction="none"))
labels = np.argmax(y_true, axis=1)
print(f"From logits log(p): {lw.F.cross_entropy(labels, np.log(y_pred_good)):.4f} (good), "
      f"{lw.F.cross_entropy(labels, np.log(y_pred_bad)):.4f} (bad)")

# Binary cross-entropy, and its gradient: large where the prediction is confidently wrong.
y = np.array([1.0, 0.0, 1.0, 0.0])
p = lw.Tensor(np.array([0.9, 0.1, 0.2, 0.99]), requires_grad=True)
bce = lw.F.binary_cross_entropy(y, p)
bce.backward()
print(f"\nBinary cross-entropy: {bce:.4f}")
print("dL/dp:", p.grad)
