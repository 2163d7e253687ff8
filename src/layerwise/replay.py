"""``lw.compile``: run a training step again without rebuilding layerwise's graph nodes.

A training step builds the same graph every time: the same layers, the same primitives, on
arrays of the same shapes. ``step = lw.compile(train_step)`` keeps the step's own Python
running on every call (a loss, metric or ``print`` written by its user, and every decision
about the path taken) and replays what layerwise itself does inside it: each call of a
*replayable* module (layerwise's layers, and containers made of them).

The first call of a module on inputs of some shapes, dtypes and ``requires_grad`` runs
normally and is recorded: the primitives its forward pass made (which NumPy rule, on which
operands: the call's inputs, the module's parameters and buffers, earlier results; with
which options), the side effects layerwise defines (``Dense.cache``) and the order in which
``backward`` would visit the graph nodes. A later call with the same signature runs just
those rules and returns ONE graph node whose backward runs the recorded vector-Jacobian
products in that order: the same NumPy calls on the same arrays in the same order as the
unreplayed call, so values and gradients are identical bit for bit (``tests/replay``).

A call runs normally, as without ``compile``, whenever anything differs from the recording
(shapes, dtypes, ``requires_grad``, grad mode, the default dtype, any module attribute or an
array a module holds in a dict, training flags included) and whenever in doubt: a module that is not replayable (a user's module class runs its own
``forward``, though the layerwise modules it calls are replayed), a Dense layer with a Python
activation, an operand computed by NumPy outside the primitives (it would be stale), a
forward pass that sets module attributes or returns something other than one Tensor.

``lw.graph`` draws a model the same way with or without ``compile`` (it never replays).
"""

from __future__ import annotations

import builtins
import contextlib
import functools
import numbers
import threading

import numpy as np

from . import dtypes as _dtypes
from .autodiff import tensor as _tensor
from .autodiff.tensor import RECORDING, Tensor, sum_to_shape

__all__ = ["STATS", "compile", "replaying"]

PRIVATE = ("_replays", "_replay_refused")
"""The attributes replay keeps on a module (left out of its copies and pickles)."""

STATS = {"recorded": 0, "replayed": 0, "refused": 0}
"""How many module calls were recorded, replayed, and found not replayable (for tests)."""


class _State:
    depth = 0  # compiled calls running: module calls replay only inside one
    edits = 0  # bumped when any module changes: recordings made before are stale


def edited() -> None:
    """Note that a module changed (an attribute set, a layer appended): re-record."""
    _State.edits += 1


def compile(fn):
    """``fn`` with layerwise's own work replayed after its first call (see the module doc).

    Returns a callable with the same results as ``fn`` (values, gradients, optimiser
    updates, bit for bit). ``fn`` itself runs on every call; the calls of layerwise modules
    inside it replay their recorded NumPy work when their inputs have the shapes, dtypes and
    ``requires_grad`` they were recorded with, and run normally otherwise.

    >>> import numpy as np, layerwise as lw
    >>> net = lw.MLP([4, 8, 3], output_activation="none", rng=0)
    >>> opt = lw.optim.SGD(net.parameters(), lr=0.1)
    >>> loss_fn = lw.nn.CrossEntropyLoss()
    >>> @lw.compile
    ... def step(X, y):
    ...     opt.zero_grad()
    ...     loss = loss_fn(y, net(X))
    ...     loss.backward()
    ...     opt.step()
    ...     return float(loss.data)
    >>> X, y = np.ones((5, 4), np.float32), np.array([0, 1, 2, 0, 1])
    >>> first, second = step(X, y), step(X, y)  # recorded, then replayed
    >>> second < first
    True
    """
    if not callable(fn):
        raise TypeError(f"lw.compile: expected a function, got {type(fn).__name__}")

    @functools.wraps(fn)
    def compiled(*args, **kwargs):  # replaying() written out: a context manager costs ~1 us
        _State.depth += 1
        try:
            return fn(*args, **kwargs)
        finally:
            _State.depth -= 1

    return compiled


@contextlib.contextmanager
def replaying():
    """Replay module calls inside the block, as inside a compiled function (``lw.fit``)."""
    _State.depth += 1
    try:
        yield
    finally:
        _State.depth -= 1


@contextlib.contextmanager
def suspended():
    """Run module calls normally inside the block, even within a compiled function (what
    ``lw.graph`` traces must be the real graph, not a replayed node)."""
    depth, _State.depth = _State.depth, 0
    try:
        yield
    finally:
        _State.depth = depth


# ------------------------------------------------------------------------- module calls
_REFUSED = "refused"


def call_module(module, *args, **kwargs):
    """``module(*args)`` inside a compiled function: replayed, recorded, or run normally."""
    if kwargs or RECORDING.on or module.__dict__.get("_replay_refused"):
        return module.forward(*args, **kwargs)
    # the default dtype too: Python numbers and integer inputs are computed in it
    key = [_tensor._GradMode.enabled, module.training, _dtypes._default]
    for a in args:
        if isinstance(a, Tensor):
            d = a._data
            key += (d.shape, d.dtype, a.requires_grad)
        elif type(a) is np.ndarray:
            key += (a.shape, a.dtype, None)
        else:
            return module.forward(*args)
    extra = module.replay_key(*args)
    key = tuple(key) if extra is None else (*key, extra)
    memo = module.__dict__.get("_replays")
    if memo is None or memo[0] != _State.edits:
        memo = (_State.edits, {})
        object.__setattr__(module, "_replays", memo)
    segment = memo[1].get(key)
    if segment is None:
        if not _replayable(module):
            memo[1][key] = _REFUSED
            STATS["refused"] += 1
            return module.forward(*args)
        segment, out = _record(module, args)
        if segment is None:  # the forward pass set module attributes: never replayed
            object.__setattr__(module, "_replay_refused", True)
            STATS["refused"] += 1
        else:
            memo[1][key] = segment
        return out
    if segment is _REFUSED:
        return module.forward(*args)
    out = segment.replay(*args)
    if out is None:  # a parameter's requires_grad, shape or dtype, or a training flag changed
        del memo[1][key]
        return call_module(module, *args)
    return out


def _replayable(module) -> bool:
    """Whether every module in the tree declares its forward replayable (see
    ``Module.replayable``): layerwise's own code, no Python of its users."""
    return all(m.replayable() and "forward" not in m.__dict__  # a patched forward: user code
               for _, m in module.named_modules())


def _record(module, args):
    """Run ``module.forward`` once, recording it; returns ``(segment or None, output)``.
    The segment is ``_REFUSED`` when the forward pass cannot be replayed."""
    recorder = _Recorder(module, args)
    edits, depth = _State.edits, _State.depth
    _State.depth = 0  # the sub-modules run plainly: they are part of this recording
    RECORDING.note, RECORDING.on = recorder.note, True
    try:
        out = module.forward(*args)
    finally:
        RECORDING.on, RECORDING.note = False, _no_note
        _State.depth = depth
    if _State.edits != edits:
        return None, out
    segment = recorder.finish(out)
    STATS["recorded" if segment is not _REFUSED else "refused"] += 1
    return segment, out


def _no_note(op, operands, arrays, kwargs, out) -> None:
    pass


# ------------------------------------------------------------------------------ recording
_SLOT, _PARAM, _CONST = 0, 1, 2
_PLAIN = (str, bytes, numbers.Number, np.generic, np.dtype, type, type(None))


class _Refuse(Exception):
    """A recorded forward pass that cannot be replayed, and why."""


class _Recorder:
    """Collects the primitive calls of one module call (see ``RECORDING.note``)."""

    def __init__(self, module, args):
        self.modules = [m for _, m in module.named_modules()]
        self.slots: dict[int, int] = {}  # id(Tensor or ndarray) -> slot of its array
        self.keep: list = []  # what the ids above refer to, kept alive while recording
        self.params = {}  # id(parameter or its array) -> the parameter
        for p in module.parameters():
            self.params[id(p)] = self.params[id(p._data)] = p
        # id(array) -> the dict holding it (None: an attribute, whose change re-records)
        self.held = {id(v): holder for m in self.modules for holder, v in _held_arrays(m)}
        self.held_guards: list = []  # (dict, key, array) used: checked on every replay
        self.args = args
        for a in args:
            self._new_slot(a)
            if isinstance(a, Tensor):
                self.slots.setdefault(id(a._data), self.slots[id(a)])
                self.keep.append(a._data)
        self.caches = [(c, dict(c)) for m in self.modules
                       if isinstance(c := m.__dict__.get("cache"), dict)]
        self.entries: list = []
        self.node_entry: dict[int, tuple] = {}  # id(node) -> the entries that made it
        self.failure: str | None = None
        self.thread = threading.get_ident()

    def _new_slot(self, obj) -> int:
        slot = len(self.keep)
        if obj is not None:  # None: a fused node's inner result that nobody else saw
            self.slots[id(obj)] = slot
        self.keep.append(obj)
        return slot

    def note(self, op, operands, arrays, kwargs, out) -> None:
        if self.failure is not None or threading.get_ident() != self.thread:
            return  # (another thread's operations are not part of this call)
        try:
            sources = [self._source(op, x, a) for x, a in zip(operands, arrays)]
            options, intermediates = self._options(op, kwargs)
        except _Refuse as why:
            self.failure = str(why)
            return
        first = len(self.entries)
        parts = getattr(op, "parts", None)
        if parts is None:
            slot = self._new_slot(out)
            inter_slots = tuple(self._new_slot(z) for z in intermediates)
            self.entries.append((op.rule, tuple(sources), options, slot, inter_slots))
        else:  # a fused node: its parts' rules one after another, no chaining closures
            known = list(intermediates) + [None] * (len(parts) - 1 - len(intermediates))
            slot = -1  # set by the first part
            for i, part in enumerate(parts):
                last = i == len(parts) - 1
                made = self._new_slot(out if last else known[i])
                self.entries.append((part.rule, tuple(sources) if i == 0 else
                                     ((_SLOT, slot, None),), options if i == 0 else {}, made, ()))
                slot = made
        self.slots.setdefault(id(out._data), slot)
        if out._backward is not None:
            self.node_entry[id(out)] = tuple(range(first, len(self.entries)))

    def _source(self, op, x, a):
        """Where operand ``x`` (as the array ``a`` the rule got) comes from on a replay."""
        if x is None:
            return (_CONST, None, None)
        if isinstance(x, Tensor | np.ndarray):
            cast = None if a is x or (isinstance(x, Tensor) and a is x._data) else a.dtype
            key = id(x)
            if key in self.slots:
                return (_SLOT, self.slots[key], cast)
            if isinstance(x, Tensor) and id(x._data) in self.slots:
                return (_SLOT, self.slots[id(x._data)], cast)
            p = self.params.get(key)
            if p is None and isinstance(x, Tensor):
                p = self.params.get(id(x._data))
            if p is not None:
                return (_PARAM, p, cast)
            data = x._data if isinstance(x, Tensor) else x
            if id(data) in self.held and not (isinstance(x, Tensor) and x.requires_grad):
                self._use_held(data)
                return (_CONST, data, cast)  # a buffer: the same array, read on each call
            raise _Refuse(f"an operand of {op.op_name!r} was computed outside the primitives")
        if isinstance(x, bool | int | float | np.generic):
            return (_CONST, a, None)  # a number, turned into an array of the operands' dtype
        raise _Refuse(f"an operand of {op.op_name!r} is a {type(x).__name__}")

    def _use_held(self, array) -> None:
        holder = self.held[id(array)]
        if holder is not None:  # in a dict (e.g. a loss's options): replaced without a trace
            key = next(k for k, v in holder.items() if v is array)
            self.held_guards.append((holder, key, array))

    def _options(self, op, kwargs):
        options, intermediates = {}, ()
        for k, v in kwargs.items():
            if k == "intermediates" and isinstance(v, list):
                intermediates = tuple(v)
                continue
            if isinstance(v, np.ndarray):
                if id(v) not in self.held:
                    raise _Refuse(f"option {k} of {op.op_name!r} is an array made on the way")
                self._use_held(v)
            elif isinstance(v, Tensor | list | dict | set) or (
                    isinstance(v, tuple) and not all(isinstance(i, _PLAIN) for i in v)):
                raise _Refuse(f"option {k} of {op.op_name!r} is a {type(v).__name__}")
            options[k] = v
        return options, intermediates

    def finish(self, out):
        """The recorded segment, or ``_REFUSED``."""
        if self.failure is not None or not isinstance(out, Tensor):
            return _REFUSED
        out_slot = self.slots.get(id(out), self.slots.get(id(out._data)))
        if out_slot is None:
            return _REFUSED
        effects = []
        for cache, before in self.caches:
            for k, v in cache.items():
                if before.get(k) is not v:
                    slot = self.slots.get(id(v))
                    if slot is None:
                        return _REFUSED
                    effects.append((cache, k, slot))
        plan = self._plan(out) if out._backward is not None else None
        if plan is _REFUSED:
            return _REFUSED
        # what a replay checks first: every module's training flag, every parameter's
        # requires_grad, shape and dtype, and the arrays held in dicts
        checks = (tuple((m, m.training) for m in self.modules),
                  tuple((p, p.requires_grad, p._data.shape, p._data.dtype)
                        for p in {id(p): p for p in self.params.values()}.values()),
                  tuple(self.held_guards))
        arg_out = next((i for i, a in enumerate(self.args) if a is out), None)
        arg_kinds = tuple(isinstance(a, Tensor) for a in self.args)
        return _Segment(self.entries, out_slot, arg_out, effects, plan, checks, arg_kinds,
                        type(out).__name__)

    def _plan(self, out):
        """The backward walk over the recorded nodes, in the order ``Tensor.backward`` takes
        (the reversed depth-first post-order from the output: outside the segment, only the
        segment's inputs are reached from it, so the order inside is the same)."""
        order = [n for n in _tensor._topological_order(out) if id(n) in self.node_entry]
        steps, uses = [], []
        for node in order:
            dests = []
            for p in node._parents:
                if not p.requires_grad:
                    dests.append(None)
                    continue
                shape, dtype = p._data.shape, p._data.dtype
                if id(p) in self.node_entry:
                    dests.append((True, self.slots[id(p)], shape, dtype))
                    continue
                if id(p) in self.params:
                    uses.append(self.params[id(p)])
                else:
                    arg = next((i for i, a in enumerate(self.args) if a is p), None)
                    if arg is None:
                        return _REFUSED  # a tensor needing gradients made on the way
                    uses.append(arg)
                dests.append((False, len(uses) - 1, shape, dtype))
            steps.append((self.node_entry[id(node)], self.slots[id(node)],
                          tuple(p.requires_grad for p in node._parents), tuple(dests)))
        return tuple(steps), tuple(uses)


def _held_arrays(module):
    """``(holder, array)`` for each ndarray a module holds (buffers, options), read live on
    every replay: holder is the dict it sits in, or None for an attribute."""
    for k, v in module.__dict__.items():
        if k == "cache":  # the last call's arrays (Dense.cache): results, not state
            continue
        if isinstance(v, np.ndarray):
            yield None, v
        elif isinstance(v, dict):
            yield from ((v, i) for i in v.values() if isinstance(i, np.ndarray))


# -------------------------------------------------------------------------------- replay
class _Segment:
    """A recorded module call as generated straight-line Python: ``replay(*args)`` checks the
    recording still holds (training flags, parameters), runs the primitives' rules in order
    and the side effects, and returns the output (one graph node when gradients are needed);
    that node's ``backward`` runs the recorded nodes' vector-Jacobian products in
    ``Tensor.backward``'s order, with its fix-ups and its accumulation order. ``code`` is
    their source, for reading."""

    def __init__(self, entries, out_slot, arg_out, effects, plan, checks, arg_kinds,
                 out_type):
        names: dict = {"sum_to_shape": sum_to_shape, "ndarray": np.ndarray,
                       "asarray": np.asarray, "wrap": _tensor._wrap, "stats": STATS,
                       "partial": functools.partial}
        self.code = _forward_source(entries, out_slot, arg_out, effects, plan, checks,
                                    arg_kinds, names)
        if plan is not None:
            self.code += "\n" + _backward_source(plan[0], len(plan[1]), out_slot, names)
        exec(_compile_source(self.code, f"<lw.compile of a {out_type}>", "exec"), names)  # noqa: S102
        self.replay = names["replay"]
        """``replay(*args)``: the module's output, or None when a parameter or the training
        flag of a module in the tree changed since the recording."""


_compile_source = builtins.compile  # this module's compile() hides the builtin


def _name(names: dict, prefix: str, value) -> str:
    """The name in the generated code's namespace bound to ``value`` (one per object)."""
    known = names.setdefault("_names", {})
    name = known.get(id(value))
    if name is None:
        name = known[id(value)] = f"{prefix}{len(known)}"
        names[name] = value
    return name


def _forward_source(entries, out_slot, arg_out, effects, plan, checks, arg_kinds,
                    names) -> str:
    args = [f"a{i}" for i in range(len(arg_kinds))]
    lines = [f"def replay({', '.join(args)}):"]
    modes, params, held = checks
    tests = [f"{_name(names, 'm', m)}.training is {training}" for m, training in modes]
    tests += [f"{_name(names, 'h', holder)}.get({key!r}) is {_name(names, 'c', array)}"
              for holder, key, array in held]
    for p, requires_grad, shape, dtype in params:
        p_name, d_name = _name(names, "p", p), _name(names, "d", dtype)
        tests += [f"{p_name}.requires_grad is {requires_grad}",
                   f"{p_name}._data.shape == {_name(names, 't', shape)}",
                   f"({p_name}._data.dtype is {d_name} or {p_name}._data.dtype == {d_name})"]
    if tests:
        lines.append(f"    if not ({' and '.join(tests)}):")
        lines.append("        return None")
    lines.append('    stats["replayed"] += 1')
    lines += [f"    s{i} = a{i}._data" if tensor else f"    s{i} = a{i}"
              for i, tensor in enumerate(arg_kinds)]
    for k, (rule, sources, options, slot, inter_slots) in enumerate(entries):
        operands = []
        for kind, value, cast in sources:
            if kind == _SLOT:
                text = f"s{value}"
            elif kind == _PARAM:
                text = f"{_name(names, 'p', value)}._data"
            else:
                text = "None" if value is None else _name(names, "c", value)
            operands.append(text if cast is None else f"{text}.astype({_name(names, 'd', cast)})")
        if inter_slots:
            operands.append("intermediates=(i := [])")
        if options:
            operands.append(f"**{_name(names, 'k', options)}")
        lines.append(f"    o, b{k} = {_name(names, 'r', rule)}({', '.join(operands)})")
        lines.append(f"    s{slot} = o if type(o) is ndarray else asarray(o)")
        lines += [f"    s{s} = i[{j}]" for j, s in enumerate(inter_slots)]
    for cache, key, slot in effects:
        lines.append(f"    {_name(names, 'e', cache)}[{key!r}] = s{slot}")
    if arg_out is not None:
        lines.append(f"    return a{arg_out}")
    elif plan is None:
        lines.append(f"    return wrap(s{out_slot})")
    else:
        parents = "".join(f"a{u}, " if type(u) is int else f"{_name(names, 'p', u)}, "
                          for u in plan[1])
        backwards = "".join(f"b{k}, " for k in range(len(entries)))
        lines.append(f"    return wrap(s{out_slot}, 'replay', ({parents}), "
                     f"partial(backward, ({backwards})))")
    return "\n".join(lines) + "\n"


def _backward_source(steps, n_uses, out_slot, names) -> str:
    lines = ["def backward(b, g, needs):", f"    g{out_slot} = g"]
    assigned = {out_slot}
    outs = ["None"] * n_uses
    for entry, slot, node_needs, dests in steps:
        if slot not in assigned:  # no gradient reached this node
            continue
        lines.append(f"    if g{slot} is not None:")
        inner = f"g{slot}"
        for k in reversed(entry[1:]):  # a fused node: its parts' rules chained back, as fuse's
            lines.append(f"        h = b[{k}]({inner}, (True,))[0]")
            inner = "h"
        lines.append(f"        gs = b[{entry[0]}]({inner}, {node_needs!r})")
        for j, dest in enumerate(dests):
            if dest is None:
                continue
            internal, where, shape, dtype = dest
            target = f"g{where}" if internal else f"u{where}"
            shape_name, dtype_name = _name(names, "t", shape), _name(names, "d", dtype)
            lines += [f"        pg = gs[{j}]",
                      "        if pg is not None:",
                      f"            if pg.shape != {shape_name}:",
                      f"                pg = sum_to_shape(pg, {shape_name})",
                      f"            if pg.dtype is not {dtype_name} and pg.dtype != {dtype_name}:",
                      f"                pg = pg.astype({dtype_name})"]
            if internal and where in assigned:
                lines.append(f"            {target} = pg if {target} is None else {target} + pg")
            else:
                lines.append(f"            {target} = pg")
            if internal:
                assigned.add(where)
            else:
                outs[where] = target
    # every name a branch may skip is set to None first
    first = [f"    {n} = None" for n in sorted({f"g{s}" for s in assigned} - {f"g{out_slot}"})]
    first += [f"    u{i} = None" for i in range(n_uses)]
    lines[2:2] = first
    lines.append(f"    return [{', '.join(outs)}]")
    return "\n".join(lines) + "\n"
