"""Checking the bounds of rules against a baseline and a current report: Check, evaluate.

Definitions (fixed; also in docs/definitions.md and the gate's JSON):

- ``drop = b - c`` for ``direction = "higher"`` (higher is better, the default) and ``c - b``
  for ``"lower"``, where b is the baseline value and c the current one.
- ``max_drop_abs = t``: tolerance ``τ = t``. ``max_drop_rel = r``: tolerance ``τ = r·|b|``.
  Point test (used when either report lacks an interval for the value): regression iff
  ``drop > τ``. Interval test (both reports carry a 95% interval): with half-widths
  ``h_b = (b_hi - b_lo) / 2`` and ``h_c = (c_hi - c_lo) / 2``, the margin
  ``m = sqrt(h_b² + h_c²)`` is the half-width of the 95% interval of the difference of two
  independent estimates; regression iff ``drop - m > τ``: the drop must exceed the tolerance
  beyond the interval of the difference (a drop within the noise is not a regression).
- ``min = m``: regression iff ``c < m``; ``max = M``: regression iff ``c > M`` (point value of
  the current report; intervals are not used).
- A value that is null (not finite) in the current report but a number in the baseline is a
  regression; null in the baseline only, or in both, passes (there is nothing to drop from).
- An interval with a null, NaN or infinite end is no interval: the point test decides (an
  interval that is missing never widens the margin, so it can never turn a drop into a pass).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from complement.gate.paths import Value, lookup
from complement.gate.rules import Rule, dotted

__all__ = ["Check", "check_bound", "evaluate"]


def _g(x: float) -> str:
    return f"{x:.4g}"


@dataclass(frozen=True)
class Check:
    """The verdict of one bound of one rule."""

    rule: Rule
    bound: str
    limit: float
    baseline: float | None
    current: float | None
    baseline_ci95: tuple[float, float] | None
    current_ci95: tuple[float, float] | None
    ci_path: str | None
    test: str  # "interval", "point", "bound" or "null"
    regression: bool
    decided_by: str

    @property
    def delta(self) -> float | None:
        if self.baseline is None or self.current is None:
            return None
        return self.current - self.baseline

    def to_dict(self) -> dict[str, Any]:
        rel = None
        if self.delta is not None and self.baseline not in (None, 0.0):
            assert self.baseline is not None
            rel = self.delta / abs(self.baseline)
        return {
            "path": dotted(self.rule.path),
            "name": self.rule.name,
            "bound": self.bound,
            "limit": self.limit,
            "direction": self.rule.direction,
            "baseline": self.baseline,
            "current": self.current,
            "delta": self.delta,
            "delta_rel": rel,
            "baseline_ci95": list(self.baseline_ci95) if self.baseline_ci95 else None,
            "current_ci95": list(self.current_ci95) if self.current_ci95 else None,
            "ci_path": self.ci_path,
            "test": self.test,
            "verdict": "regression" if self.regression else "pass",
            "decided_by": self.decided_by,
        }


def check_bound(rule: Rule, bound: str, limit: float, b: Value, c: Value) -> Check:
    """One bound of ``rule`` on the baseline value ``b`` and the current value ``c``."""

    def make(test: str, regression: bool, why: str) -> Check:
        return Check(
            rule, bound, limit, b.value, c.value, b.ci, c.ci, c.ci_path or b.ci_path,
            test, regression, why,
        )  # fmt: skip

    if c.value is None:
        if bound in ("min", "max") or b.value is not None:
            return make("null", True, "current value is null (not finite)")
        return make("null", False, "null in both reports")
    cur = c.value
    if bound == "min":
        bad = cur < limit
        return make("bound", bad, f"c {_g(cur)} {'<' if bad else '>='} min {_g(limit)}")
    if bound == "max":
        bad = cur > limit
        return make("bound", bad, f"c {_g(cur)} {'>' if bad else '<='} max {_g(limit)}")
    if b.value is None:
        return make("null", False, "baseline value is null: nothing to drop from")
    base = b.value
    tol = limit if bound == "max_drop_abs" else limit * abs(base)
    higher = rule.direction == "higher"
    drop = base - cur if higher else cur - base
    margin = (
        math.hypot((b.ci[1] - b.ci[0]) / 2, (c.ci[1] - c.ci[0]) / 2)
        if b.ci is not None and c.ci is not None
        else math.nan
    )
    if math.isfinite(margin):
        beyond = drop - margin
        rel = ">" if beyond > tol else "<="
        why = f"interval: drop {_g(drop)} - margin {_g(margin)} = {_g(beyond)} {rel} tol {_g(tol)}"
        return make("interval", beyond > tol, why)
    rel = ">" if drop > tol else "<="
    return make("point", drop > tol, f"point: drop {_g(drop)} {rel} tol {_g(tol)}")


def evaluate(rules: Sequence[Rule], baseline: Any, current: Any) -> list[Check]:
    """Every bound of every rule, in order. Raises InputError for a path absent in either."""
    checks: list[Check] = []
    for rule in rules:
        b = lookup(baseline, rule, "baseline")
        c = lookup(current, rule, "current")
        for bound, limit in rule.bounds.items():
            checks.append(check_bound(rule, bound, limit, b, c))
    return checks
