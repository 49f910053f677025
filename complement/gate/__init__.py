"""The CI gate: rules over two JSON reports, comparability, verdicts.

Pure functions over parsed JSON (``dict``) and rule text; nothing here reads files or prints
(reading is :mod:`complement.io.reports`, rendering :mod:`complement.report.model.gate`).

- :mod:`~complement.gate.rules`: the :class:`Rule` record and its parsing from TOML text;
- :mod:`~complement.gate.paths`: dotted paths in a document, the value and interval lookup;
- :mod:`~complement.gate.checks`: one verdict per bound (the definitions of drop, tolerance,
  point and interval tests);
- :mod:`~complement.gate.comparability`: whether two reports can be compared at all;
- :mod:`~complement.gate.defaults`: the default rules on the baseline's headline figures;
- :mod:`~complement.gate.verdict`: the whole gate and its exit code.
"""

from complement.gate.checks import Check, evaluate
from complement.gate.comparability import Comparability, check_comparable
from complement.gate.defaults import default_rules
from complement.gate.paths import resolve_path
from complement.gate.rules import BOUNDS, Rule, parse_rules
from complement.gate.verdict import (
    DEFINITIONS,
    GATE_SCHEMA,
    GateResult,
    not_comparable_error,
    run_gate,
)

__all__ = [
    "BOUNDS",
    "DEFINITIONS",
    "GATE_SCHEMA",
    "Check",
    "Comparability",
    "GateResult",
    "Rule",
    "check_comparable",
    "default_rules",
    "evaluate",
    "not_comparable_error",
    "parse_rules",
    "resolve_path",
    "run_gate",
]
