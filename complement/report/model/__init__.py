"""One table model for every renderer (terminal, HTML, Markdown).

Each document kind that ``--json`` writes has a builder from the parsed document (a plain
dict) to a list of :class:`Table`: titles, headers and rows of already formatted strings
(:mod:`.fmt` holds the one number formatter), notes for one-line facts. A
``complement.report/1`` document is its sections' tables in order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from complement.report.model.dispatch import (
    BUILDERS,
    REPORT_SCHEMA,
    SCHEMAS,
    is_not_run,
    kind_of,
    section_tables,
)
from complement.report.model.report import (
    SECTION_LEADS,
    SECTION_ORDER,
    SECTION_TITLES,
    headline,
    not_run_reason,
    provenance_tables,
    report_sections,
    report_tables,
    subtitle,
)
from complement.report.model.table import Table

__all__ = [
    "BUILDERS",
    "REPORT_SCHEMA",
    "SCHEMAS",
    "SECTION_LEADS",
    "SECTION_ORDER",
    "SECTION_TITLES",
    "Table",
    "document_tables",
    "headline",
    "is_not_run",
    "kind_of",
    "not_run_reason",
    "provenance_tables",
    "report_sections",
    "section_tables",
    "subtitle",
]


def document_tables(doc: Mapping[str, Any]) -> list[Table]:
    """The tables of any complement document, by its ``schema``.

    A report gives every section's tables in order (a skipped section as a table with no
    rows and the note ``not run: <reason>``). Raises ValueError for an unknown schema.
    """
    kind = kind_of(doc)
    if kind == "report":
        return report_tables(doc)
    return section_tables(kind, doc)
