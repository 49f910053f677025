"""Terminal rendering of the table model with Rich.

Every string shown (titles, headers, cells, notes, section names, reasons) goes through
:func:`~complement.report.model.text.visible` and is wrapped in :class:`rich.text.Text`, so
user-supplied text is never parsed as Rich markup or emoji codes, never highlighted, and can
never carry a terminal escape sequence (ANSI, OSC hyperlinks, carriage returns).

A table is laid out by :mod:`complement.report.layout`, not by Rich, so that a figure is never
split across lines at the 80 columns of a pipe: a cell breaks only at a space, and never inside
a *unit*, a word (a number, a signed percentage, a dotted path, a verdict) or a bracketed
interval ``[a, b]``; a lone mark (``†``, ``≤``, ``/``) stays with its neighbour. Columns take
their natural widths when they fit; otherwise they narrow where that costs the fewest extra
lines (free text first, then numbers), never below their widest unit (a header's too), and the
gaps between columns narrow from 3 spaces to 2 (or 1) where that saves lines or is needed. A
table that still cannot fit is drawn as one record per row (``header  value`` lines). A unit
wider than the whole console is cut with a visible ``…``, never silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text

from complement.report.layout import Grid, grid, min_width, wrap
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

__all__ = [
    "render_document",
    "render_report",
    "render_table",
    "render_tables",
    "safe_text",
]

#: the gap between a record's header and its value
_RECORD_GUTTER = 3


def safe_text(text: Any, style: str = "") -> Text:
    """Plain text for Rich: control characters escaped, no markup, no emoji codes."""
    return Text(visible(text), style=style)


def _print(console: Console, text: Any, style: str = "") -> None:
    console.print(safe_text(text, style), markup=False, highlight=False, emoji=False)


# --- breaking text into lines ----------------------------------------------------------------


# --- drawing ---------------------------------------------------------------------------------


def _rich_table(title: str, width: int, **kwargs: Any) -> RichTable:
    """The table frame, without padding (the gaps are the columns' own); at least as wide
    as the title's longest unit (within the console) so that Rich never folds a path inside
    the title."""
    return RichTable(
        title=Text(title),
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        highlight=False,
        padding=0,
        min_width=min(min_width(title), width),
        **kwargs,
    )


def _column(
    rich_table: RichTable, width: int, gap: int, right: bool, header: list[str] | None = None
) -> None:
    """A column ``width`` wide after ``gap`` spaces (the box's divider is one of them)."""
    pad = max(gap - 1, 0)
    rich_table.add_column(
        "" if header is None else _lines(header, 0 if right else pad),
        justify="right" if right else "left",
        width=width + pad,
        no_wrap=True,
        overflow="ellipsis",
    )


def _lines(lines: list[str], indent: int = 0) -> Text:
    """Already visible, already broken lines as one Rich text (no wrapping left to Rich)."""
    return Text("\n".join(" " * indent + line for line in lines))


def _draw_grid(
    title: str,
    headers: list[str],
    rows: list[list[str]],
    numeric: list[bool],
    group_ends: set[int],
    grid: Grid,
    width: int,
) -> RichTable:
    rich_table = _rich_table(title, width)
    for header, right, w, gap in zip(headers, numeric, grid.widths, grid.gaps, strict=True):
        _column(rich_table, w, gap, right, wrap(header, w))
    indents = [
        0 if right else max(gap - 1, 0) for right, gap in zip(numeric, grid.gaps, strict=True)
    ]
    for i, row in enumerate(rows):
        cells = (
            _lines(wrap(cell, w), indent)
            for cell, w, indent in zip(row, grid.widths, indents, strict=True)
        )
        rich_table.add_row(*cells, end_section=i in group_ends)
    return rich_table


def _draw_records(title: str, headers: list[str], rows: list[list[str]], width: int) -> RichTable:
    """One record per row, ``header  value`` on each line; a group's name (the first cell,
    left blank on the group's later rows) is repeated on each of its records."""
    records: list[list[str]] = []
    group = ""
    for row in rows:
        group = row[0] or group
        records.append([group, *row[1:]])
    label_width = min(max(cell_len(h) for h in headers), max(width // 3, 1))
    value_width = min(
        max(width - label_width - _RECORD_GUTTER, 1),
        max(1, *(cell_len(cell) for record in records for cell in record)),
    )
    rich_table = _rich_table(title, width, show_header=False)
    _column(rich_table, label_width, 0, False)
    _column(rich_table, value_width, _RECORD_GUTTER, False)
    for i, record in enumerate(records):
        for j, (header, cell) in enumerate(zip(headers, record, strict=True)):
            rich_table.add_row(
                _lines(wrap(header, label_width, fold=True)),
                _lines(wrap(cell, value_width), _RECORD_GUTTER - 1),
                end_section=j == len(headers) - 1 and i < len(rows) - 1,
            )
    return rich_table


def render_table(table: Table, console: Console) -> None:
    """One table, then its notes (a table with no rows is its title and notes).

    Numbers right-aligned; no cell broken inside a unit (see the module's docstring).
    """
    if not table.rows:
        _print(console, table.title, "italic")
    else:
        width = console.width
        title = visible(table.title)
        headers = [visible(h) for h in table.headers]
        rows = [[visible(c) for c in row] for row in table.rows]
        numeric = [table.is_numeric(j) for j in range(len(headers))]
        layout = grid(headers, rows, numeric, width)
        if layout is None:
            rich_table = _draw_records(title, headers, rows, width)
        else:
            ends = set(table.group_ends)
            rich_table = _draw_grid(title, headers, rows, numeric, ends, layout, width)
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
