"""MkDocs hook: pages written at build time from the code, so they cannot drift from it.

- ``cli.md``: every ``layerwise`` command's ``--help``, from ``layerwise.cli.build_parser()``.
- ``performance.md``: ``benchmarks/README.md``, the measured tables and where the time goes.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[2]


def _subcommands(parser: argparse.ArgumentParser) -> dict:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _help(parser: argparse.ArgumentParser) -> str:
    # argparse wraps to the terminal's width; fix it so the page is the same on every machine
    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "96"
    try:
        return parser.format_help()
    finally:
        if saved is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = saved


def cli_page() -> str:
    from layerwise.cli import build_parser

    parser = build_parser()
    parts = [
        "# The command line",
        "",
        "`layerwise` trains, inspects and uses networks without writing Python. Every",
        "subcommand has `--help`; a bad argument exits with status 2 and one clear error line",
        "(a learning rate of `nan`, `inf`, `0` or `-1` is refused), never a traceback.",
        "",
        "This page is generated from the parser itself (`layerwise.cli.build_parser()`) each",
        "time the site is built, so it always says what the installed command accepts.",
        "",
        "```text",
        _help(parser).rstrip(),
        "```",
    ]

    def walk(prefix: str, sub: argparse.ArgumentParser, level: int) -> None:
        for name, child in _subcommands(sub).items():
            command = f"{prefix} {name}"
            parts.extend(["", f"{'#' * level} `{command}`", "", "```text",
                          _help(child).rstrip(), "```"])
            walk(command, child, min(level + 1, 4))

    walk("layerwise", parser, 2)
    return "\n".join(parts) + "\n"


def performance_page() -> str:
    text = (ROOT / "benchmarks" / "README.md").read_text(encoding="utf-8")
    intro = ("*This page is `benchmarks/README.md`, included when the site is built; "
             "`make bench` measures it again on your machine.*\n\n")
    head, _, body = text.partition("\n")
    return head + "\n\n" + intro + body


def on_files(files, config):
    for name, content in [("cli.md", cli_page()), ("performance.md", performance_page())]:
        files.append(File.generated(config, name, content=content))
    return files
