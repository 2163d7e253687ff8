"""``python -m layerwise``: the ``layerwise`` command (see ``layerwise.cli``)."""

from .cli import main

raise SystemExit(main())
