"""The whole gate: comparability first, then the rules, then one verdict and its exit code.

Also the gate's JSON schema name and the definitions written into its JSON document. Exit
codes: 0 pass, 1 regression, 3 not comparable (bad input is an InputError, exit 2).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from complement.errors import InputError, NotComparableError
from complement.gate.checks import Check, evaluate
from complement.gate.comparability import Comparability, check_comparable
from complement.gate.defaults import default_rules, missing_default
from complement.gate.paths import get
from complement.gate.rules import Rule

__all__ = ["DEFINITIONS", "GATE_SCHEMA", "GateResult", "not_comparable_error", "run_gate"]

GATE_SCHEMA = "complement.gate/1"

DEFINITIONS = {
    "drop": "b - c when higher is better (direction = higher, the default), c - b when lower "
    "is better; b = baseline value, c = current value",
    "max_drop_abs": "tolerance tau = the given number",
    "max_drop_rel": "tolerance tau = the given fraction times |b|",
    "point_test": "used when either report has no 95% interval for the value (an interval "
    "with a null, NaN or infinite end counts as none): regression iff drop > tau",
    "interval_test": "used when both reports carry a 95% interval: margin m = "
    "sqrt(h_b^2 + h_c^2) with half-widths h = (hi - lo) / 2 (the half-width of the interval of "
    "the difference of two independent estimates); regression iff drop - m > tau, i.e. the "
    "drop exceeds the tolerance beyond the interval of the difference",
    "min": "regression iff c < min (point value of the current report)",
    "max": "regression iff c > max (point value of the current report)",
    "null": "a null (non-finite) current value where the baseline has a number is a "
    "regression; null in the baseline passes; a NaN or infinite literal where a value is "
    "read is bad input (exit 2)",
    "interval_lookup": "ci = 'auto' (default): the value node's own {mean|value, ci95}; else "
    "the parent's ci95 mapping keyed by the value's key; else a '<key>_ci95' sibling; else a "
    "[lo, hi] 'ci95' sibling when the value is its parent's first key or is named "
    "mean/value. ci = 'PATH' names the interval explicitly, ci = false disables it",
    "comparable": "the same evaluation, whatever the embeddings (their files' hashes are not "
    "compared): same schema; same split (kind, cutoff, test_frac; valid_cutoff, valid_frac and "
    "the seed of a split that depends on it, i.e. random; the rows in train, valid and test); "
    "same interaction log (the sha256 of each log file in provenance.inputs, when both carry "
    "it); same item universe (n_items, and the sha256 of the item ids when both carry it); "
    "same similarity metric; same cut-offs k; the same scoring of each view's users (hits' "
    "and oracle's scoring: user embeddings or the mean of the history items), when both "
    "reports ran the section; when both reports ran the probe, the same probe "
    "direction and the same shift and reference shift (kind and settings: tail_frac, "
    "test_frac, seed, cutoff, max_interactions). A property neither report carries is "
    "skipped. Otherwise exit 3 unless --allow-incomparable (then the default rules use a k "
    "both reports hold)",
    "exit_codes": "0 pass, 1 regression, 2 bad input or usage, 3 not comparable",
}


@dataclass(frozen=True)
class GateResult:
    """Comparability, the checks run (none when not comparable and not allowed), the verdict."""

    comparability: Comparability
    allow_incomparable: bool
    rules_source: str
    checks: list[Check]

    @property
    def regressions(self) -> int:
        return sum(c.regression for c in self.checks)

    @property
    def exit_code(self) -> int:
        if not self.comparability.ok and not self.allow_incomparable:
            return 3
        return 1 if self.regressions else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.exit_code == 0,
            "exit_code": self.exit_code,
            "regressions": self.regressions,
            "n_checks": len(self.checks),
            "rules_source": self.rules_source,
            "comparable": self.comparability.to_dict(),
            "allow_incomparable": self.allow_incomparable,
            "checks": [c.to_dict() for c in self.checks],
        }


def _check_document(doc: Any, which: str) -> None:
    schema = get(doc, "schema") if isinstance(doc, Mapping) else None
    if not isinstance(schema, str) or not schema.startswith("complement."):
        raise InputError(
            f"gate: the {which} file is not a complement JSON document (no 'schema': "
            "'complement.…'); give the --json output of complement report"
        )


def run_gate(
    baseline: Any,
    current: Any,
    rules: Sequence[Rule] | None = None,
    *,
    include_defaults: bool = False,
    rules_source: str = "defaults",
    allow_incomparable: bool = False,
) -> GateResult:
    """Compare, then evaluate. Not comparable (and not allowed): no rules are evaluated."""
    _check_document(baseline, "baseline")
    _check_document(current, "current")
    comparability = check_comparable(baseline, current)
    if not comparability.ok and not allow_incomparable:
        return GateResult(comparability, allow_incomparable, rules_source, [])
    chosen = list(rules or [])
    if rules is None or include_defaults:
        defaults = default_rules(baseline, current)
        for rule in defaults:
            why = missing_default(rule, baseline, current)
            if why is not None:
                raise InputError(why)
        chosen = defaults + chosen
    if not chosen:
        raise InputError(
            f"gate: no default rule applies to a {baseline.get('schema')} document; "
            "give --rules gate.toml"
        )
    return GateResult(
        comparability, allow_incomparable, rules_source, evaluate(chosen, baseline, current)
    )


def not_comparable_error(result: GateResult) -> NotComparableError:
    """The error the CLI raises (exit 3) for a result that is not comparable."""
    return NotComparableError(
        "reports are not comparable: "
        + "; ".join(result.comparability.reasons)
        + "; pass --allow-incomparable to compare them anyway"
    )
