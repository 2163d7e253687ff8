"""``python -m layerwise.lab <exercise> [options]``, the same as ``layerwise lab``."""

import sys

from .cli import main

if __name__ == "__main__":  # not when imported (by the docs' inspection, say)
    sys.exit(main())
