"""Table of a ``complement.explain/1`` document: an item's nearest neighbours in each view,
side by side, neighbours found by both views marked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from complement.report.model.common import get
from complement.report.model.fmt import count, fmt
from complement.report.model.table import Table, make_table

__all__ = ["explain_tables", "item_label"]

BOTH_MARK = "*"


def item_label(item: Any) -> str:
    """``id title`` (or just the id when the item has no title)."""
    ident = str(get(item, "id"))
    title = get(item, "title")
    return f"{ident} {title}" if title else ident


def _cells(rows: list[Any], j: int) -> list[str]:
    if j >= len(rows) or not isinstance(rows[j], Mapping):
        return ["", ""]
    row = rows[j]
    mark = f"{BOTH_MARK} " if row.get("in_both") else ""
    return [mark + item_label(row), fmt(row.get("similarity"))]


def explain_tables(doc: Mapping[str, Any]) -> list[Table]:
    """Nearest neighbours of the item in the semantic and in the collaborative view."""
    sem = doc.get("semantic") or []
    cf = doc.get("collaborative") or []
    rows = [[str(j + 1), *_cells(sem, j), *_cells(cf, j)] for j in range(max(len(sem), len(cf)))]
    shared = doc.get("shared") or []
    note = (
        f"{BOTH_MARK} in both views' top {count(doc.get('k'))}: {len(shared)} neighbours "
        f"(overlap {fmt(doc.get('overlap'))})"
    )
    notes = [note]
    if doc.get("note"):  # the item named is also another item's title
        notes.append(f"note: {doc['note']}")
    return [
        make_table(
            "explain.neighbours",
            f"Nearest neighbours of {item_label(doc.get('item'))}",
            ["#", "semantic", "similarity", "collaborative", "similarity"],
            rows,
            notes=notes,
            text=(1, 3),
        )
    ]
