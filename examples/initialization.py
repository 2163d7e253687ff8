"""Weight initialisation methods compared (the chapter's section 2.2), with layerwise.

``lw.init.initialize_weights(n_in, n_out, method)`` is the chapter's function; with
``np.random.seed(42)`` it draws the chapter's numbers. It also knows the uniform variants and
LeCun's, and takes ``rng=`` (an int seed, a Generator or a RandomState) and ``dtype=``.

Run: python examples/initialization.py
"""

import numpy as np

import layerwise as lw

# Compare initialization methods
np.random.seed(42)
n_in, n_out = 784, 256
for method in ["zeros", "random", "xavier", "he"]:
    W = lw.init.initialize_weights(n_in, n_out, method, dtype=np.float64)
    print(f"{method:8s}: mean={W.mean():.6f}, std={W.std():.6f}")

# Beyond the chapter: the other methods, against the standard deviation each one targets.
print()
targets = {
    "xavier_uniform": np.sqrt(2.0 / (n_in + n_out)),  # U(-a, a) with a = sqrt(6 / (in + out))
    "he_uniform": np.sqrt(2.0 / n_in),
    "lecun": np.sqrt(1.0 / n_in),
}
for method, std in targets.items():
    W = lw.init.initialize_weights(n_in, n_out, method, rng=0, dtype=np.float64)
    print(f"{method:14s}: mean={W.mean():.6f}, std={W.std():.6f} (target {std:.6f})")

# A seed gives the same numbers in any dtype: draws are float64, then cast.
W32 = lw.init.initialize_weights(n_in, n_out, "he", rng=7, dtype=np.float32)
W64 = lw.init.initialize_weights(n_in, n_out, "he", rng=7, dtype=np.float64)
print("\nfloat32 draw == float64 draw cast to float32:", np.array_equal(W32, W64.astype(np.float32)))
