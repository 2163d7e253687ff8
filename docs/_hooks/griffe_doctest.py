"""Griffe extension: the doctest examples in docstrings become ``pycon`` code blocks.

layerwise's docstrings end with ``>>>`` examples (they run as doctests) without an
``Examples:`` heading; in Markdown a line starting with ``>`` would read as a quotation.
Each run of ``>>>`` lines and their output (up to the next blank line) is fenced instead.
Docstrings with an ``Example(s):`` section are left alone: griffe parses those itself.
"""

from __future__ import annotations

import re

import griffe

_EXAMPLES_HEADING = re.compile(r"^\s*Examples?:\s*$", re.MULTILINE)


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
    """Fence the doctest examples of every docstring griffe loads."""

    def on_instance(self, *, obj, **kwargs) -> None:
        docstring = obj.docstring
        if docstring and ">>>" in docstring.value and not _EXAMPLES_HEADING.search(
                docstring.value):
            docstring.value = fence_doctests(docstring.value)
