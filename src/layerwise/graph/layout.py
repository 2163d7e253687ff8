"""A small layered (Sugiyama-style) layout, so graphs draw without Graphviz.

1. Ranks: each operation sits one rank below its deepest operand (longest path from the
   inputs); each leaf (input, parameter, constant) sits just above its first consumer.
2. Edges spanning several ranks get a dummy point per rank they cross, so they are routed
   around nodes instead of through them.
3. Order within ranks: barycentre sweeps (down, then up), keeping the order with the fewest
   edge crossings.
4. Positions: each node is pulled towards the mean position of its neighbours, then spread
   apart by the least amount that removes overlaps (isotonic regression, pool-adjacent-
   violators), a few times over.

Sizes are in CSS pixels; labels use a monospace font, so their widths are known exactly
enough from their length.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

__all__ = ["FONT_PX", "LABEL_FONT_PX", "NODE_H", "Layout", "layout"]

FONT_PX = 12.0  # node labels
LABEL_FONT_PX = 10.5  # edge labels (shapes)
CHAR_W = 0.6  # monospace advance width, in em
NODE_H = 30.0
NODE_PAD = 12.0  # horizontal padding inside a node
NODE_GAP = 26.0  # horizontal gap between neighbours in a rank
RANK_GAP = 46.0  # vertical gap between ranks (edge labels live here)
DUMMY_W = 10.0
MARGIN = 16.0


def text_width(text: str, font_px: float = FONT_PX) -> float:
    """Width of ``text`` in the monospace font at ``font_px``."""
    return len(text) * CHAR_W * font_px


@dataclass
class Layout:
    """Where everything goes, in pixels (origin top-left, y down).

    Attributes:
        width, height: canvas size.
        boxes: ``{node_id: (cx, cy, w, h)}``, box centres and sizes.
        routes: one polyline per edge (in ``graph.edges`` order), from the source's bottom to
            the target's top, through one point per rank crossed; drawn as smooth curves.
        labels: ``(x, y, anchor, text)`` shape labels, one per node with outgoing edges;
            anchor is SVG's ``text-anchor`` (``"start"`` or ``"end"``).
    """

    width: float
    height: float
    boxes: dict
    routes: list
    labels: list


def layout(graph) -> Layout:
    """Lay out a ``Graph`` top to bottom; see the module docstring for the steps."""
    ids = [n.id for n in graph.nodes]
    preds: dict[str, list[str]] = {i: [] for i in ids}
    succs: dict[str, list[str]] = {i: [] for i in ids}
    for e in graph.edges:
        preds[e.target].append(e.source)
        succs[e.source].append(e.target)

    rank: dict[str, int] = {}
    for i in ids:  # nodes are in topological order
        rank[i] = 1 + max((rank[p] for p in preds[i]), default=-1)
    for i in ids:
        if not preds[i] and succs[i]:
            rank[i] = min(rank[s] for s in succs[i]) - 1
    low = min(rank.values(), default=0)
    rank = {i: r - low for i, r in rank.items()}

    # Vertices of the layered graph: real nodes plus dummies on long edges.
    width = {i: text_width(graph.node(i).label) + 2 * NODE_PAD for i in ids}
    chains = []  # per edge: the vertices it passes through
    for k, e in enumerate(graph.edges):
        chain = [e.source]
        for r in range(rank[e.source] + 1, rank[e.target]):
            dummy = f"~{k}.{r}"
            rank[dummy], width[dummy] = r, DUMMY_W
            chain.append(dummy)
        chains.append(chain + [e.target])
    up: dict[str, list[str]] = {v: [] for v in rank}
    down: dict[str, list[str]] = {v: [] for v in rank}
    for chain in chains:
        for a, b in itertools.pairwise(chain):
            down[a].append(b)
            up[b].append(a)

    layers: list[list[str]] = [[] for _ in range(max(rank.values(), default=-1) + 1)]
    for v in rank:  # real nodes first, in topological order, then dummies
        layers[rank[v]].append(v)
    layers = _order(layers, up, down)
    x = _positions(layers, width, up, down)

    y = {v: MARGIN + rank[v] * (NODE_H + RANK_GAP) + NODE_H / 2 for v in rank}
    boxes = {i: (x[i], y[i], width[i], NODE_H) for i in ids}
    ports_out = _ports(ids, boxes, [c[1] for c in chains], [c[0] for c in chains], x)
    ports_in = _ports(ids, boxes, [c[-2] for c in chains], [c[-1] for c in chains], x)
    routes = []
    for k, chain in enumerate(chains):
        pts = [(ports_out[k], y[chain[0]] + NODE_H / 2)]
        pts += [(x[v], y[v]) for v in chain[1:-1]]
        pts.append((ports_in[k], y[chain[-1]] - NODE_H / 2))
        routes.append(pts)
    labels = _labels(graph, boxes, routes)

    # Shift everything so the drawing, edge labels included, starts at the margin.
    left = [bx - w / 2 for bx, _, w, _ in boxes.values()]
    right = [bx + w / 2 for bx, _, w, _ in boxes.values()]
    for lx, _, anchor, text in labels:
        w = text_width(text, LABEL_FONT_PX)
        left.append(lx - w if anchor == "end" else lx)
        right.append(lx if anchor == "end" else lx + w)
    dx = MARGIN - min(left, default=0.0)
    boxes = {i: (bx + dx, by, w, h) for i, (bx, by, w, h) in boxes.items()}
    routes = [[(px + dx, py) for px, py in pts] for pts in routes]
    labels = [(lx + dx, ly, a, text) for lx, ly, a, text in labels]
    height = MARGIN * 2 + len(layers) * NODE_H + max(len(layers) - 1, 0) * RANK_GAP
    return Layout(max(right, default=0.0) + dx + MARGIN, height, boxes, routes, labels)


def _labels(graph, boxes, routes):
    """One shape label per node with outgoing edges (they all carry the node's one tensor).

    A single edge is labelled beside where it leaves, on the side it does not bend towards;
    several edges share one label at the box's lower corner away from most of them.
    """
    leaving = {}
    for e, pts in zip(graph.edges, routes):
        leaving.setdefault(e.source, []).append((e, pts))
    labels = []
    for source, out in leaving.items():
        text = out[0][0].label
        cx, cy, w, h = boxes[source]
        ly = cy + h / 2 + LABEL_FONT_PX + 2
        bends = [pts[1][0] - pts[0][0] for _, pts in out]
        if len(out) == 1:
            x0 = out[0][1][0][0]
            labels.append((x0 - 5, ly, "end", text) if bends[0] > 1 else (x0 + 5, ly, "start", text))
        elif sum(b > 1 for b in bends) > sum(b < -1 for b in bends):
            labels.append((cx - w / 2 + 2, ly, "end", text))
        else:
            labels.append((cx + w / 2 - 2, ly, "start", text))
    return labels


def _crossings(layers, down) -> int:
    total = 0
    for upper, lower in itertools.pairwise(layers):
        pos = {v: i for i, v in enumerate(lower)}
        pairs = [(i, pos[w]) for i, v in enumerate(upper) for w in down[v] if w in pos]
        total += sum(1 for a, b in pairs for c, d in pairs if a < c and b > d)
    return total


def _order(layers, up, down, sweeps: int = 8):
    """Barycentre ordering within ranks; returns the order with the fewest crossings."""
    best, best_cross = [list(layer) for layer in layers], _crossings(layers, down)
    for sweep in range(sweeps):
        downward = sweep % 2 == 0
        span = range(1, len(layers)) if downward else range(len(layers) - 2, -1, -1)
        for r in span:
            ref = layers[r - 1] if downward else layers[r + 1]
            pos = {v: i for i, v in enumerate(ref)}
            nbrs = up if downward else down

            def key(item, pos=pos, nbrs=nbrs):
                i, v = item
                ps = [pos[w] for w in nbrs[v] if w in pos]
                return (sum(ps) / len(ps) if ps else i, i)

            layers[r] = [v for _, v in sorted(enumerate(layers[r]), key=key)]
        cross = _crossings(layers, down)
        if cross < best_cross:
            best, best_cross = [list(layer) for layer in layers], cross
    return best


def _isotonic(values):
    """Least-squares non-decreasing fit (pool adjacent violators)."""
    blocks = []  # [sum, count]
    for v in values:
        blocks.append([v, 1])
        while len(blocks) > 1 and blocks[-2][0] * blocks[-1][1] > blocks[-1][0] * blocks[-2][1]:
            s, c = blocks.pop()
            blocks[-1][0] += s
            blocks[-1][1] += c
    return [s / c for s, c in blocks for _ in range(c)]


def _place(layer, desired, width):
    """Centres as close as possible to ``desired`` while keeping the order and the gaps."""
    offsets = [0.0]
    for a, b in itertools.pairwise(layer):
        offsets.append(offsets[-1] + (width[a] + width[b]) / 2 + NODE_GAP)
    fitted = _isotonic([d - o for d, o in zip(desired, offsets)])
    return {v: f + o for v, f, o in zip(layer, fitted, offsets)}


def _positions(layers, width, up, down, rounds: int = 24):
    x = {}
    for layer in layers:
        x.update(_place(layer, [0.0] * len(layer), width))
    for r in range(rounds):
        order = layers if r % 2 == 0 else layers[::-1]
        for layer in order:
            desired = []
            for v in layer:
                nbrs = up[v] + down[v]
                desired.append(sum(x[w] for w in nbrs) / len(nbrs) if nbrs else x[v])
            x.update(_place(layer, desired, width))
    return x


def _ports(ids, boxes, others, ends, x):
    """Spread the edges meeting a node's side along it, ordered by where they come from."""
    port = [0.0] * len(ends)
    by_node = {i: [] for i in ids}
    for k, v in enumerate(ends):
        by_node[v].append(k)
    for v, ks in by_node.items():
        ks.sort(key=lambda k: (x[others[k]], k))
        cx, _, w, _ = boxes[v]
        step = min(14.0, w / (len(ks) + 1))
        for j, k in enumerate(ks):
            port[k] = cx + (j - (len(ks) - 1) / 2) * step
    return port
