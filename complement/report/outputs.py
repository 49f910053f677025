"""Write a document's files: the JSON itself, and for a report its HTML page and Markdown.

Each file is written atomically (see :mod:`complement.io.jsonio`). The HTML renderer (and
with it matplotlib) is imported only when an HTML page is asked for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from complement.io.jsonio import write_json, write_text_atomic

__all__ = ["write_outputs"]


def write_outputs(
    doc: dict[str, Any],
    *,
    json: str | Path | None = None,
    html: str | Path | None = None,
    markdown: str | Path | None = None,
) -> None:
    """Write each output that is given (None: not asked for)."""
    if json is not None:
        write_json(json, doc)
    if html is not None:
        from complement.report.html import render_html

        write_text_atomic(html, render_html(doc))
    if markdown is not None:
        from complement.report.markdown import render_markdown

        write_text_atomic(markdown, render_markdown(doc))
