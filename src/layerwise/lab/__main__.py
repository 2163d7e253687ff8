"""``python -m layerwise.lab <exercise> [options]``, the same as ``layerwise lab``."""

import sys

from .cli import main

sys.exit(main())
