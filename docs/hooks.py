"""mkdocs hooks: the parts of the site that are built rather than typed.

``<!-- readme:NAME -->`` on a page becomes the README's text between ``<!-- docs:NAME -->`` and
``<!-- /docs:NAME -->``, its links into ``docs/`` re-based to the page, so what the README and the
site share (the introduction, the two commands, the CLI tour, the page list, the layout) is
written once. ``<!-- cli-reference -->`` becomes the usage and help of every ``perception``
command, walked from the parser the entry point builds (:func:`perception.cli.build_parser`), so
the reference cannot fall behind the code.

This module knows markdown and argparse; it does not know which pages exist (``mkdocs.yml``
does). Run as a script, it prints the CLI reference.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mkdocs.exceptions import PluginError

REPO = Path(__file__).resolve().parents[1]
README_MARKER = re.compile(r"<!-- readme:([\w-]+) -->")
CLI_MARKER = "<!-- cli-reference -->"
# argparse wraps help to the terminal's width; a fixed one keeps the page the same everywhere
HELP_COLUMNS = "100"


def on_page_markdown(markdown: str, **_: object) -> str:
    """Fill the page's README and CLI-reference markers (mkdocs event)."""
    markdown = README_MARKER.sub(lambda m: readme_section(m.group(1)), markdown)
    if CLI_MARKER in markdown:
        markdown = markdown.replace(CLI_MARKER, cli_reference())
    return markdown


def readme_section(name: str) -> str:
    """The README's text between ``<!-- docs:NAME -->`` and ``<!-- /docs:NAME -->``.

    Links written from the repository root into ``docs/`` are re-based to the docs folder.
    """
    text = (REPO / "README.md").read_text(encoding="utf-8")
    match = re.search(rf"<!-- docs:{name} -->\n(.*?)<!-- /docs:{name} -->", text, re.S)
    if match is None:
        raise PluginError(
            f"README.md has no section '{name}' for <!-- readme:{name} -->; expected the text "
            f"between <!-- docs:{name} --> and <!-- /docs:{name} -->: add the markers to the "
            "README or remove the placeholder from the page"
        )
    return match.group(1).replace("](docs/", "](")


def cli_reference() -> str:
    """Markdown for every command of ``perception``: an index table, then each command's help."""
    from perception.cli import build_parser

    parser = build_parser()
    commands = list(_walk(parser, parser.description or ""))
    rows = [f"| [`{prog}`](#{_anchor(prog)}) | {summary} |" for prog, summary, _ in commands]
    lines = ["| command | what it does |", "| --- | --- |", *rows, ""]
    for prog, summary, parser in commands:
        depth = prog.count(" ")  # perception = 0, perception models = 1, ... list = 2
        lines += [f"{'#' * (3 + max(depth - 1, 0))} `{prog}`", ""]
        if summary:
            lines += [summary, ""]
        lines += ["```text", _help(parser).rstrip(), "```", ""]
    return "\n".join(lines)


def _walk(
    parser: argparse.ArgumentParser, summary: str
) -> Iterator[tuple[str, str, argparse.ArgumentParser]]:
    """(prog, one-line help, parser) of ``parser`` and of every subcommand below it, in order."""
    yield parser.prog, summary, parser
    for action in parser._actions:  # argparse has no public way to list subparsers
        if not isinstance(action, argparse._SubParsersAction):
            continue
        for choice in action._choices_actions:  # one per name, in the order they were added
            yield from _walk(action.choices[choice.dest], choice.help or "")


def _help(parser: argparse.ArgumentParser) -> str:
    with _columns(HELP_COLUMNS):
        return parser.format_help()


@contextmanager
def _columns(columns: str) -> Iterator[None]:
    before = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = columns
    try:
        yield
    finally:
        if before is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = before


def _anchor(prog: str) -> str:
    """The heading id mkdocs' toc gives a heading ``prog`` (lower case, words joined by '-')."""
    return re.sub(r"[^\w]+", "-", prog.lower()).strip("-")


if __name__ == "__main__":
    print(cli_reference())
