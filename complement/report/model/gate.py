"""Tables of a ``complement.gate/1`` document: comparability, then one row per checked bound.

When a rule has a name of its own, checks are labelled ``name (path)`` (the built-in rules'
name is ``default``). Compared figures are shown with 4 significant digits (they can be of any
scale), their 95% intervals beside them; the verdict is a note.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from complement.report.model.fmt import MISSING, count, sig, signed_sig
from complement.report.model.table import Table, make_table

__all__ = ["bound_label", "gate_subtitle", "gate_tables"]


def bound_label(bound: Any, limit: Any) -> str:
    """A rule's bound in words: ``drop ≤ 0.01``, ``drop ≤ 25%``, ``≥ 0.1``."""
    if not isinstance(limit, (int, float)) or isinstance(limit, bool):
        return f"{bound} {limit}"
    if bound == "max_drop_abs":
        return f"drop ≤ {limit:g}"
    if bound == "max_drop_rel":
        whole = limit * 100 == int(limit * 100)
        return f"drop ≤ {limit:.0%}" if whole else f"drop ≤ {limit:g}·|b|"
    if bound == "min":
        return f"≥ {limit:g}"
    if bound == "max":
        return f"≤ {limit:g}"
    return f"{bound} {limit:g}"


def _value(value: Any, ci: Any) -> str:
    """A compared value and its interval: ``0.06216 [0.0588, 0.0658]``; ``null`` when absent."""
    text = "null" if value is None else sig(value)
    if isinstance(ci, (list, tuple)) and len(ci) == 2:
        text += f" [{sig(ci[0], 3)}, {sig(ci[1], 3)}]"
    return text


def _raw(value: Any) -> str:
    """A compared property's value; a sha256 shortened to 12 digits (the JSON has it whole)."""
    if value is None:
        return "null"
    text = str(value)
    if len(text) == 64 and all(ch in "0123456789abcdef" for ch in text):
        return text[:12] + "…"
    return text


def _comparability(comparable: Mapping[str, Any]) -> Table:
    return make_table(
        "gate.comparability",
        "Comparability",
        ["property", "baseline", "current", "same"],
        [
            [
                str(c.get("what")),
                _raw(c.get("baseline")),
                _raw(c.get("current")),
                "same" if c.get("same") else "DIFFERS",
            ]
            for c in comparable.get("checks") or []
            if isinstance(c, Mapping)
        ],  # fmt: skip
        text=(0, 1, 2, 3),
    )


#: the name of the built-in default rules (complement.gate.defaults)
DEFAULT_NAME = "default"


def _name(check: Mapping[str, Any]) -> str | None:
    name = check.get("name")
    return name if isinstance(name, str) and name else None


def _label(check: Mapping[str, Any], named: bool) -> str:
    """A check's rule: ``name (path)`` when some rule has a name of its own, else the path."""
    name, path = _name(check), str(check.get("path"))
    return f"{name} ({path})" if named and name else path


def _checks(doc: Mapping[str, Any]) -> Table:
    checks = [c for c in doc.get("checks") or [] if isinstance(c, Mapping)]
    # only the default rules: every one is "default", the title says so
    named = any(_name(c) not in (None, DEFAULT_NAME) for c in checks)
    rows = [
        [
            _label(c, named),
            bound_label(c.get("bound"), c.get("limit")),
            _value(c.get("baseline"), c.get("baseline_ci95")),
            _value(c.get("current"), c.get("current_ci95")),
            "" if c.get("delta") is None else signed_sig(c.get("delta")),
            "REGRESSION" if c.get("verdict") == "regression" else str(c.get("verdict")),
            str(c.get("decided_by")),
        ]
        for c in checks
    ]
    n = len(checks)
    regressions = sum(1 for c in checks if c.get("verdict") == "regression")
    verdict = (
        f"gate: {regressions} of {n} checks regressed"
        if regressions
        else f"gate: all {n} checks pass"
    )
    first = "rule (path)" if named else "path"
    return make_table(
        "gate.checks",
        f"Gate ({doc.get('rules_source')})",
        [first, "bound", "baseline", "current", "delta", "verdict", "decided by"],
        rows,
        notes=[verdict],
        text=(0, 1, 5, 6),
    )


def gate_subtitle(doc: Mapping[str, Any]) -> str:
    """``1682 items · split user-temporal · complement 0.1.0``: the compared reports' item
    count and split kind, read from the comparability checks (``b → c`` when they differ)."""
    checks = {
        c.get("what"): c
        for c in (doc.get("comparable") or {}).get("checks") or []
        if isinstance(c, Mapping)
    }

    def both(what: str, show: Any) -> str:
        check = checks.get(what)
        if not isinstance(check, Mapping):
            return MISSING
        b, c = check.get("baseline"), check.get("current")
        return show(b) if b == c else f"{show(b)} → {show(c)}"

    def kind(value: Any) -> str:
        return "none" if value is None else str(value)

    items = both("n_items", count)
    split = both("split kind", kind)
    split = "none" if split == MISSING else split
    version = doc.get("complement_version") or ""
    return f"{items} items · split {split} · complement {version}"


def gate_tables(doc: Mapping[str, Any]) -> list[Table]:
    """Comparability (when it failed) and the checks with the verdict."""
    comparable = doc.get("comparable")
    tables: list[Table] = []
    if isinstance(comparable, Mapping) and not comparable.get("ok", True):
        table = _comparability(comparable)
        if not doc.get("allow_incomparable"):
            return [table.with_notes("not comparable: nothing checked (exit 3)")]
        tables.append(table.with_notes("not comparable, compared anyway (--allow-incomparable)"))
    tables.append(_checks(doc))
    return tables
