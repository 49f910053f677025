"""A complement document as Markdown (for pull-request comments), drawn from the table model.

The same tables as the terminal and the HTML page, with the same numbers and names. Every
cell and every user-supplied string is escaped: control characters (line breaks included) made
visible, then HTML (``<``, ``>``, ``&``), table pipes, backslashes, and Markdown's emphasis,
code and link syntax, so a title can neither break a row nor become a link, an image or raw
HTML.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from complement.report.model import (
    SECTION_TITLES,
    Table,
    headline,
    is_not_run,
    kind_of,
    not_run_reason,
    provenance_tables,
    report_sections,
    section_tables,
    subtitle,
)
from complement.report.model.text import visible

__all__ = ["md_escape", "render_markdown", "table_markdown"]

_ESCAPES = {
    "\\": "\\\\",
    "|": "\\|",
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    "`": "\\`",
    "*": "\\*",
    "_": "\\_",
    "~": "\\~",
}


def md_escape(text: Any) -> str:
    """Text safe in a Markdown table cell or paragraph: shown literally, on one line.

    A ``]`` is escaped where a link or image could start (before ``(`` or ``[``); elsewhere
    brackets are harmless (no line of ours starts with user text, so no link definition).
    """
    value = visible(text)
    out = []
    for j, ch in enumerate(value):
        if ch == "]" and value[j + 1 : j + 2] in ("(", "["):
            out.append("\\]")
        else:
            out.append(_ESCAPES.get(ch, ch))
    return "".join(out)


def table_markdown(table: Table) -> list[str]:
    """The lines of one table: bold title, the table, its notes in italics."""
    lines = [f"**{md_escape(table.title)}**", ""]
    if table.rows:
        lines.append("| " + " | ".join(md_escape(h) for h in table.headers) + " |")
        lines.append(
            "|" + "|".join("---:" if table.is_numeric(j) else "---"
                           for j in range(len(table.headers))) + "|"
        )  # fmt: skip
        lines += ["| " + " | ".join(md_escape(c) for c in row) + " |" for row in table.rows]
        lines.append("")
    for note in table.notes:
        lines += [f"_{md_escape(note)}_", ""]
    return lines


def _cards(doc: Mapping[str, Any]) -> list[str]:
    cards = headline(doc)
    if not cards:
        return []
    return [
        "| " + " | ".join(md_escape(label) for label, _ in cards) + " |",
        "|" + "|".join("---:" for _ in cards) + "|",
        "| " + " | ".join(md_escape(value) for _, value in cards) + " |",
        "",
    ]


def render_markdown(doc: Mapping[str, Any]) -> str:
    """The document as Markdown (a report: cards, every section, provenance).

    Raises ValueError for a document whose schema is unknown.
    """
    kind = kind_of(doc)
    heading = "complement report" if kind == "report" else f"complement {kind}"
    lines = [f"## {heading}", "", md_escape(subtitle(doc)), ""]
    if kind == "report":
        lines += _cards(doc)
    sections = report_sections(doc) if kind == "report" else [(kind, doc)]
    for name, sec in sections:
        lines += [f"### {md_escape(SECTION_TITLES.get(name, name))} (`{name}`)", ""]
        if is_not_run(sec):
            lines += [f"> {md_escape(not_run_reason(sec))}", ""]
            continue
        for table in section_tables(name, sec):
            lines += table_markdown(table)
    prov = provenance_tables(doc)
    if prov:
        lines += ["### Provenance", ""]
        for table in prov:
            lines += table_markdown(table)
    return "\n".join(lines).rstrip() + "\n"
