"""Small datasets shipped inside layerwise, and a CSV loader for your own data.

- :func:`load_iris`: Fisher's Iris, 150 x 4 features, 3 classes.
- :func:`load_digits`: UCI 8x8 optical digits, 1,797 x 64 pixels (0..16), 10 classes.
- :func:`load_csv`: a numeric table with a header row, from a file of yours.

The data files ship in ``layerwise/datasets/data/`` (see ``README.txt``
there for source and licence); nothing is downloaded. This subpackage
imports only NumPy and the standard library.

Example:
    >>> import layerwise as lw
    >>> X, y = lw.datasets.load_iris()
    >>> X.shape, y.shape
    ((150, 4), (150,))
"""

from .loaders import load_csv, load_digits, load_iris

__all__ = ["load_csv", "load_digits", "load_iris"]
