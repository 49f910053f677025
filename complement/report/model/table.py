"""The table every renderer draws: a title, column headers, rows of formatted strings, notes.

A :class:`Table` holds text only (numbers already formatted by :mod:`.fmt`), so the terminal,
the HTML page and the Markdown show the same figures with the same names. Rows may be grouped
(for instance one group per cut-off K); ``group_ends`` lists the rows that close a group, which
the terminal draws as a rule. A table with no rows is a heading with notes (for instance a
setting that was not evaluated).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

__all__ = ["Table", "grouped", "make_table"]


@dataclass(frozen=True)
class Table:
    """One table: ``key`` names it for code (``"hits.user_classes"``), ``title`` for people."""

    key: str
    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...] = ()
    notes: tuple[str, ...] = ()
    #: per column: True for numbers (right-aligned); empty means no numeric column
    numeric: tuple[bool, ...] = field(default=())
    #: indices of rows after which a group of rows ends
    group_ends: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        width = len(self.headers)
        for row in self.rows:
            if len(row) != width:
                raise ValueError(f"table {self.key}: a row has {len(row)} cells, not {width}")
        if self.numeric and len(self.numeric) != width:
            raise ValueError(f"table {self.key}: numeric flags for {len(self.numeric)} columns")

    def is_numeric(self, column: int) -> bool:
        return bool(self.numeric) and self.numeric[column]

    def column(self, header: str) -> list[str]:
        """The cells of the first column with this header."""
        j = self.headers.index(header)
        return [row[j] for row in self.rows]

    def with_notes(self, *notes: str | None) -> Table:
        """The same table with more notes (empty or None notes are left out)."""
        return replace(self, notes=self.notes + tuple(n for n in notes if n))


def make_table(
    key: str,
    title: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[str]] = (),
    *,
    notes: Iterable[str | None] = (),
    text: Iterable[int] = (0,),
    group_ends: Iterable[int] = (),
) -> Table:
    """A table whose columns are numbers except those listed in ``text`` (by position)."""
    text_columns = set(text)
    return Table(
        key=key,
        title=title,
        headers=tuple(headers),
        rows=tuple(tuple(row) for row in rows),
        notes=tuple(n for n in notes if n),
        numeric=tuple(j not in text_columns for j in range(len(headers))),
        group_ends=tuple(group_ends),
    )


def grouped(groups: Iterable[Sequence[Sequence[str]]]) -> tuple[list[list[str]], list[int]]:
    """Rows of several groups one after the other, and the last row of each group but the last.

    The first cell of a group names it (K, a setting...) and is left blank on its later rows.
    """
    rows: list[list[str]] = []
    ends: list[int] = []
    for group in groups:
        for j, row in enumerate(group):
            rows.append([row[0] if j == 0 else "", *row[1:]])
        if group:
            ends.append(len(rows) - 1)
    return rows, ends[:-1]
