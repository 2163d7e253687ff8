"""``python -m layerwise``: the ``layerwise`` command (see ``layerwise.cli``)."""

from .cli import main

if __name__ == "__main__":  # not when imported (by the docs' inspection, say)
    raise SystemExit(main())
