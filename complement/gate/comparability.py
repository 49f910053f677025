"""Whether two reports can be compared at all: same schema, split, item universe and metric.

A property that neither report carries is skipped; the schema and, when both reports carry a
split, its kind, cutoff and test fraction are always compared. A NaN or infinite number among
them is bad input (an InputError), never a difference. Pure functions over parsed JSON.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from complement.errors import InputError
from complement.gate.paths import get

__all__ = ["Comparability", "check_comparable"]


def _split_of(doc: Any) -> Any:
    split = get(doc, "provenance", "split")
    if split is None:
        split = get(doc, "split")
    if not isinstance(split, Mapping):
        return None
    return {key: split.get(key) for key in ("kind", "cutoff", "test_frac")}


def _n_items(doc: Any) -> Any:
    for path in (("provenance", "n_items"), ("views", "n_items"), ("n_items",)):
        value = get(doc, *path)
        if value is not None:
            return value
    return None


def _metric(doc: Any) -> Any:
    value = get(doc, "provenance", "config", "values", "metric")
    return value if value is not None else get(doc, "metric")


@dataclass(frozen=True)
class Comparability:
    """One entry per compared property: ``{what, baseline, current, same}``."""

    checks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c["same"] for c in self.checks)

    @property
    def reasons(self) -> list[str]:
        return [
            f"{c['what']} differs (baseline {c['baseline']}, current {c['current']})"
            for c in self.checks
            if not c["same"]
        ]

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checks": self.checks}


def check_comparable(baseline: Any, current: Any) -> Comparability:
    """Schema, split, item universe, metric; a property neither report carries is skipped."""
    checks: list[dict[str, Any]] = []

    def add(what: str, b: Any, c: Any, *, required: bool = False) -> None:
        for which, value in (("baseline", b), ("current", c)):
            if isinstance(value, float) and not math.isfinite(value):
                # NaN never equals itself: it would read as "differs" (exit 3), not bad input
                raise InputError(
                    f"gate: the {which} report's {what} is {value!r}, not a finite number "
                    "(JSON has no NaN or infinity); give a report written by complement --json"
                )
        if b is None and c is None and not required:
            return
        checks.append({"what": what, "baseline": b, "current": c, "same": b == c})

    add("schema", get(baseline, "schema"), get(current, "schema"), required=True)
    split_b, split_c = _split_of(baseline), _split_of(current)
    if split_b is None or split_c is None:
        add("split", split_b, split_c)
    else:
        for key in split_b:
            add(f"split {key}", split_b[key], split_c[key], required=True)
    add("n_items", _n_items(baseline), _n_items(current))
    sha_b = get(baseline, "provenance", "item_universe_sha256")
    sha_c = get(current, "provenance", "item_universe_sha256")
    if sha_b is not None and sha_c is not None:
        add("item_universe_sha256", sha_b, sha_c)
    add("metric", _metric(baseline), _metric(current))
    return Comparability(checks)
