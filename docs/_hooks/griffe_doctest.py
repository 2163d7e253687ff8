"""Griffe extension: the reStructuredText habits of layerwise's docstrings, read as Markdown.

The docstrings are written for ``help()`` and doctest first; three of their habits would
render badly on the site, so each is rewritten when griffe loads the docstring (the source
is never changed):

- ``>>>`` examples without an ``Examples:`` heading: in Markdown a line starting with ``>``
  is a quotation. Each run of ``>>>`` lines and their output (up to the next blank line) is
  fenced as ``pycon`` instead. Docstrings with an ``Example(s):`` section are left to griffe.
- roles such as ``:class:`Summary``` become inline code.
- simple tables (rows between ``=====  =====`` rules) become bullet lists, and a literal
  block's ``::`` a plain colon (the indented block under it is already code in Markdown).

It also keeps the names a module imports but does not export (``__all__``) off its page:
the site inspects the imported package, which sees every name.
"""

from __future__ import annotations

import re

import griffe

_EXAMPLES_HEADING = re.compile(r"^\s*Examples?:\s*$", re.MULTILINE)
_ROLE = re.compile(r":(?:class|func|meth|attr|mod|data|exc|obj):`~?([^`]+)`")
_RULE = re.compile(r"^\s*=+(\s+=+)+\s*$")


def simple_tables_to_lists(text: str) -> str:
    """Each row of a reStructuredText simple table as one bullet: its cells joined by a dash."""
    out, rows, inside = [], [], False
    for line in text.splitlines():
        if _RULE.match(line):
            if inside:
                out += [f"- {' — '.join(cells)}" for cells in rows] + [""]
                rows = []
            else:
                starts = [m.start() for m in re.finditer(r"=+", line)]
                if out and out[-1].strip():
                    out.append("")
            inside = not inside
        elif inside and line.strip():
            bounds = [*starts[1:], None]
            rows.append([line[a:b].strip() for a, b in zip(starts, bounds)])
        else:
            out.append(line)
    return "\n".join(out)


def fence_doctests(text: str) -> str:
    """Wrap each block of ``>>>`` lines and their output in a fenced ``pycon`` block."""
    out, block, indent = [], [], ""
    for line in text.splitlines() + [""]:
        if block and line.strip() and line.startswith(indent):
            block.append(line)
            continue
        if block:
            out += [f"{indent}```pycon", *block, f"{indent}```"]
            block = []
        if line.lstrip().startswith(">>>"):
            indent = line[: len(line) - len(line.lstrip())]
            block = [line]
        else:
            out.append(line)
    return "\n".join(out).rstrip("\n")


class DoctestBlocks(griffe.Extension):
    """Rewrite every docstring griffe loads (see the module's docstring)."""

    def on_module_members(self, *, mod, **kwargs) -> None:
        # Inspection sees every imported name; a module's page shows what its __all__ exports.
        if mod.exports is not None:
            for name, member in list(mod.members.items()):
                if member.is_alias and name not in mod.exports:
                    del mod.members[name]

    def on_instance(self, *, obj, **kwargs) -> None:
        docstring = obj.docstring
        if not docstring:
            return
        text = _ROLE.sub(r"``\1``", docstring.value).replace("::\n\n", ":\n\n")
        if _RULE.search(text):
            text = simple_tables_to_lists(text)
        if ">>>" in text and not _EXAMPLES_HEADING.search(text):
            text = fence_doctests(text)
        docstring.value = text
