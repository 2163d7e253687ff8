"""Training: the ``fit`` loop (``fit.py``), its ``History`` (``history.py``), the checks of
targets against the loss's declaration (``targets.py``) and the progress displays
(``progress.py``)."""

from .fit import NonFiniteLossError, evaluate, fit
from .history import History

__all__ = ["History", "NonFiniteLossError", "evaluate", "fit"]
