"""From a document's schema to its table builder."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from complement.report.model.align import align_tables
from complement.report.model.compare import compare_tables
from complement.report.model.explain import explain_tables
from complement.report.model.gate import gate_tables
from complement.report.model.hits import hits_tables
from complement.report.model.oracle import oracle_tables
from complement.report.model.overlap import overlap_tables
from complement.report.model.probe import probe_tables
from complement.report.model.segments import extra_tables
from complement.report.model.structure import structure_tables
from complement.report.model.table import Table

__all__ = ["BUILDERS", "REPORT_SCHEMA", "SCHEMAS", "is_not_run", "kind_of", "section_tables"]

Builder = Callable[[Mapping[str, Any]], list[Table]]

#: one builder per single-command document kind
BUILDERS: dict[str, Builder] = {
    "overlap": overlap_tables,
    "hits": hits_tables,
    "oracle": oracle_tables,
    "probe": probe_tables,
    "structure": structure_tables,
    "explain": explain_tables,
    "align": align_tables,
    "compare": compare_tables,
    "gate": gate_tables,
}
REPORT_SCHEMA = "complement.report/1"
#: schema -> kind
SCHEMAS = {f"complement.{kind}/1": kind for kind in BUILDERS} | {REPORT_SCHEMA: "report"}


def kind_of(doc: Mapping[str, Any]) -> str:
    """The document's kind (``hits``, ``report``...) from its ``schema``.

    Raises ValueError for a document that is not a known complement document.
    """
    schema = doc.get("schema") if isinstance(doc, Mapping) else None
    if schema not in SCHEMAS:
        raise ValueError(
            f"not a complement document this version can show (schema {schema!r}); "
            f"known: {', '.join(sorted(SCHEMAS))}"
        )
    return SCHEMAS[str(schema)]


def is_not_run(sec: Any) -> bool:
    """A report section that was skipped (``{"status": "not run", "reason": ...}``)."""
    return not isinstance(sec, Mapping) or sec.get("status") == "not run"


def section_tables(name: str, sec: Mapping[str, Any]) -> list[Table]:
    """The tables of one document kind (a report section or a single command's document);
    none for a section that did not run.

    Raises ValueError for an unknown kind.
    """
    if name not in BUILDERS:
        raise ValueError(f"no tables for a document of kind {name!r}")
    if is_not_run(sec):
        return []
    return BUILDERS[name](sec) + extra_tables(name, sec)
