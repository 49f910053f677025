"""Runner of ``gate``: compare a new report with the last accepted one.

Reads the two reports and the rules file through :mod:`complement.io.reports`, decides with
:mod:`complement.gate`, and returns the verdict with its ``complement.gate/1`` document.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from complement.config import Settings
from complement.errors import UsageError
from complement.gate import DEFINITIONS, GATE_SCHEMA, GateResult, parse_rules, run_gate
from complement.io.jsonio import document
from complement.io.reports import read_report, read_rules_text

__all__ = ["GateRun", "gate_reports"]


@dataclass(frozen=True)
class GateRun:
    """The verdict and its document; ``exit_code`` is 0 pass, 1 regression, 3 not comparable."""

    result: GateResult
    doc: dict[str, Any]

    @property
    def exit_code(self) -> int:
        return int(self.result.exit_code)


def gate_reports(settings: Settings, current: str | Path) -> GateRun:
    """Gate ``current`` against ``settings["baseline"]`` with the rules of ``settings``."""
    if settings.get("baseline") is None:
        raise UsageError("gate needs --baseline BASELINE.json (or baseline in [gate])")
    rule_list = None
    include_defaults = False
    source = "default rules"
    if settings.get("rules") is not None:
        rule_list, include_defaults = parse_rules(
            read_rules_text(settings["rules"]), settings["rules"]
        )
        source = str(settings["rules"]) + (" + default rules" if include_defaults else "")
    base_doc = read_report(settings["baseline"], "baseline")
    cur_doc = read_report(current, "current")
    result = run_gate(
        base_doc,
        cur_doc,
        rule_list,
        include_defaults=include_defaults,
        rules_source=source,
        allow_incomparable=bool(settings["allow_incomparable"]),
    )
    doc = document(
        GATE_SCHEMA,
        result.to_dict(),
        baseline=str(settings["baseline"]),
        current=str(current),
        definitions=DEFINITIONS,
    )
    return GateRun(result, doc)
