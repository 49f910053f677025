"""Render a document's files: the JSON itself, and its HTML page and Markdown.

:func:`render_outputs` returns the bytes of each output asked for, keyed by its target, so
that the caller writes them as one set (:class:`complement.io.writer.OutputSet`). The HTML
renderer (and with it matplotlib) is imported only when an HTML page is asked for.
"""

from __future__ import annotations

import os
from typing import Any

from complement.io.jsonio import dumps
from complement.io.writer import OutputSet

__all__ = ["render_outputs", "write_outputs"]


def render_outputs(
    doc: dict[str, Any],
    *,
    json: str | os.PathLike[str] | None = None,
    html: str | os.PathLike[str] | None = None,
    markdown: str | os.PathLike[str] | None = None,
) -> list[tuple[str, bytes]]:
    """(target, content) of each output that is given (None: not asked for)."""
    files: list[tuple[str, bytes]] = []
    if json is not None:
        files.append((os.fspath(json), dumps(doc).encode("utf-8")))
    if html is not None:
        from complement.report.html import render_html

        files.append((os.fspath(html), render_html(doc).encode("utf-8")))
    if markdown is not None:
        from complement.report.markdown import render_markdown

        files.append((os.fspath(markdown), render_markdown(doc).encode("utf-8")))
    return files


def write_outputs(doc: dict[str, Any], **targets: str | os.PathLike[str] | None) -> None:
    """Render and write the outputs given in ``targets`` (json, html, markdown) as one set."""
    with OutputSet() as outputs:
        for option, path in targets.items():
            outputs.check(option, path, stdout_ok=option in ("json", "markdown"))
        for target, data in render_outputs(doc, **targets):
            outputs.stage(target, data)
        outputs.commit()
