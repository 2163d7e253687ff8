"""``lw.lab``: the chapter's six exercises, each one call (or one ``layerwise lab`` command).

Each exercise computes with layerwise itself, returns a ``LabResult`` (its numbers in
``.data``, JSON-ready; ``print(result)`` shows the summary) and, given ``out=``, writes its
figures there. ``lw.lab.all(out)`` runs them all and writes one self-contained HTML report.

=============  ==================================================================
``forward``    exercise 1: the 2 -> 2 -> 2 forward pass, by hand and by layerwise
``losses``     exercise 2: MSE against cross-entropy for a true label of 1
``huber``      exercise 3: Huber, MSE and MAE, and line fits to data with outliers
``batching``   exercise 4: forward-pass time against batch size
``init``       exercise 5: activation statistics under each initialisation
``graph``      exercise 6: the 2 -> 3 -> 2 network's computational graph, 17 parameters
``all``        every exercise, written to ``out/index.html`` and ``out/results.json``
=============  ==================================================================

>>> import layerwise as lw
>>> lw.lab.graph()['num_parameters']
17
"""

from ._common import LabResult, Progress, Table
from .ex1_forward import forward
from .ex2_losses import losses
from .ex3_huber import huber
from .ex4_batching import batching
from .ex5_init import init
from .ex6_graph import graph
from .report import EXERCISES, LabReport, run_all, write_html

all = run_all  # `lw.lab.all(...)` mirrors `layerwise lab all` (shadows the builtin here only)

__all__ = ["EXERCISES", "LabReport", "LabResult", "Progress", "Table", "all", "batching",
           "forward", "graph", "huber", "init", "losses", "run_all", "write_html"]
