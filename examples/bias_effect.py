"""The effect of bias on a sigmoid unit (the chapter's section 2.3), with layerwise.

Plots sigmoid(w x + b) for b in (-2, 0, 2) with ``lw.F.sigmoid`` (numerically stable for any
x) and writes the figure to a PNG instead of opening a window.

Run: python examples/bias_effect.py [output.png]   (default: bias_effect.png)
"""

import sys

import matplotlib

matplotlib.use("Agg")  # no display needed
import matplotlib.pyplot as plt
import numpy as np

import layerwise as lw

path = sys.argv[1] if len(sys.argv) > 1 else "bias_effect.png"

x = np.linspace(-5, 5, 100)
biases = [-2, 0, 2]
w = 1  # fixed weight

plt.figure(figsize=(10, 4))
for b in biases:
    y = lw.F.sigmoid(w * x + b).numpy()
    plt.plot(x, y, label=f"bias = {b}")
    # the bias shifts the curve: the output crosses 0.5 where w x + b = 0, at x = -b / w
    print(f"bias = {b:+d}: crosses 0.5 at x = {-b / w:+.1f}; "
          f"first={y[0]:.6f}, mean={y.mean():.6f}, last={y[-1]:.6f}")
plt.xlabel("Input x")
plt.ylabel("Output sigmoid(wx + b)")
plt.title("Effect of Bias on Sigmoid Activation")
plt.legend()
plt.grid(True, alpha=0.3)
plt.axhline(y=0.5, color="gray", linestyle="--", alpha=0.5)
plt.axvline(x=0, color="gray", linestyle="--", alpha=0.5)
plt.savefig(path, dpi=100, bbox_inches="tight")
print(f"wrote {path}")
