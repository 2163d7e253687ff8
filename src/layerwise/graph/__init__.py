"""``lw.graph``: draw the computational graph of a forward pass, with shapes and parameters.

>>> import numpy as np, layerwise as lw
>>> g = lw.graph.trace(lw.MLP([2, 3, 2], rng=0), np.ones((1, 2), dtype=np.float32))
>>> g.num_parameters, len(g.parameters)
(17, 4)
"""

from .layout import Layout, layout
from .render import render, to_png, to_svg
from .trace import KINDS, Edge, Graph, Node, trace

__all__ = [
           "KINDS",
           "Edge",
           "Graph",
           "Layout",
           "Node",
           "layout",
           "render",
           "to_png",
           "to_svg",
           "trace",
]
