"""Terminal rendering of the table model with Rich.

Every string shown (titles, headers, cells, notes, section names, reasons) goes through
:func:`~complement.report.model.text.visible` and is wrapped in :class:`rich.text.Text`, so
user-supplied text is never parsed as Rich markup or emoji codes, never highlighted, and can
never carry a terminal escape sequence (ANSI, OSC hyperlinks, carriage returns).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text

from complement.report.model import (
    Table,
    document_tables,
    is_not_run,
    kind_of,
    not_run_reason,
    report_sections,
    section_tables,
)
from complement.report.model.text import visible

__all__ = ["render_document", "render_report", "render_table", "render_tables", "safe_text"]


def safe_text(text: Any, style: str = "") -> Text:
    """Plain text for Rich: control characters escaped, no markup, no emoji codes."""
    return Text(visible(text), style=style)


def _print(console: Console, text: Any, style: str = "") -> None:
    console.print(safe_text(text, style), markup=False, highlight=False, emoji=False)


def render_table(table: Table, console: Console) -> None:
    """One table, then its notes (a table with no rows is its title and notes)."""
    if not table.rows:
        _print(console, table.title, "italic")
    else:
        rich_table = RichTable(
            title=safe_text(table.title),
            box=box.SIMPLE_HEAD,
            show_edge=False,
            pad_edge=False,
            highlight=False,
        )
        for j, header in enumerate(table.headers):
            rich_table.add_column(
                safe_text(header),
                justify="right" if table.is_numeric(j) else "left",
                overflow="fold",
            )
        ends = set(table.group_ends)
        for i, row in enumerate(table.rows):
            rich_table.add_row(*(safe_text(cell) for cell in row), end_section=i in ends)
        console.print(rich_table, markup=False, highlight=False, emoji=False)
    for note in table.notes:
        _print(console, note)


def render_tables(tables: Iterable[Table], console: Console) -> None:
    for table in tables:
        render_table(table, console)


def render_report(doc: Mapping[str, Any], console: Console) -> None:
    """A rule per section, then its tables, or ``not run: <reason>`` for a skipped one."""
    for name, sec in report_sections(doc):
        console.rule(safe_text(name))
        if is_not_run(sec):
            _print(console, not_run_reason(sec))
        else:
            render_tables(section_tables(name, sec), console)


def render_document(doc: Mapping[str, Any], console: Console) -> None:
    """Any complement ``--json`` document (by its schema) as terminal tables.

    Raises ValueError for a document whose schema is unknown.
    """
    if kind_of(doc) == "report":
        render_report(doc, console)
    else:
        render_tables(document_tables(doc), console)
