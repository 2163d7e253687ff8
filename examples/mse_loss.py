"""Mean squared error and its gradient (the chapter's section 4.1), with layerwise.

``lw.F.mse_loss(y_true, y_pred)`` and the chapter's hand-written ``lw.F.mse_gradient``; autodiff
gives the same gradient. Then MAE and the Huber loss (the chapter's exercise 3) on an outlier.

Run: python examples/mse_loss.py
"""

import numpy as np

import layerwise as lw

# Example: regression task
y_true = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
y_pred = np.array([1.2, 1.8, 3.1, 3.9, 5.2])
loss = lw.F.mse_loss(y_true, y_pred)
grad = lw.F.mse_gradient(y_true, y_pred)
print(f"True values: {y_true}")
print(f"Predictions: {y_pred}")
print(f"MSE Loss: {loss:.4f}")
print(f"Gradient: {grad}")

# Beyond the chapter: autodiff gives the same gradient ...
prediction = lw.Tensor(y_pred, requires_grad=True)
lw.F.mse_loss(y_true, prediction).backward()
print(f"Autodiff: {prediction.grad}")

# ... and with one outlier, MSE is dominated by it; MAE and Huber much less so.
y_outlier = y_pred.copy()
y_outlier[-1] = 15.0
print("\nWith an outlier (last prediction 15.0):")
for name, fn in [("MSE", lw.F.mse_loss), ("MAE", lw.F.mae_loss), ("Huber", lw.F.huber_loss)]:
    print(f"  {name:5s}: {fn(y_true, y_pred):.4f} -> {fn(y_true, y_outlier):.4f}")
