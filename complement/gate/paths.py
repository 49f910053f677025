"""Finding values in a JSON document: dotted-path resolution and the value-plus-interval lookup.

:func:`resolve_path` walks a parsed document (mappings by key, lists by integer position) and
returns :data:`MISSING` when the path is absent. :func:`lookup` reads the number a rule points
at in one report, with its 95% interval found as the rule's ``ci`` setting says:

- ``ci = "auto"`` (the default): the value node's own ``{mean|value, ci95}``; else the parent's
  ``ci95`` mapping keyed by the value's key; else a ``<key>_ci95`` sibling; else a ``[lo, hi]``
  ``ci95`` sibling when the value is its parent's first key or is named ``mean``/``value``;
- ``ci = PATH``: the interval at that path; ``ci = false``: no interval.

A missing path, a section that was not run, or a node that is not a number is an InputError;
so is a value that is NaN or infinite (JSON has neither: complement writes null for a value
that is not finite, and null is what the checks treat as "no value"). An interval with a null,
NaN or infinite end counts as no interval, so the point test decides: a missing interval is
never read as an infinitely wide one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from complement.errors import InputError
from complement.gate.rules import KeyPath, Rule, dotted

__all__ = [
    "MISSING",
    "Value",
    "finite_interval",
    "get",
    "is_interval",
    "lookup",
    "resolve_path",
]

#: what :func:`resolve_path` returns for an absent path (``None`` is a JSON null)
MISSING = object()


def resolve_path(doc: Any, path: Sequence[str]) -> Any:
    """The node at ``path`` (list items by integer position), or a sentinel when absent."""
    node = doc
    for part in path:
        if isinstance(node, Mapping):
            if part not in node:
                return MISSING
            node = node[part]
        elif isinstance(node, list):
            try:
                node = node[int(part)]
            except (ValueError, IndexError):
                return MISSING
        else:
            return MISSING
    return node


def get(doc: Any, *path: str) -> Any:
    """The node at ``path``, or None when absent."""
    node = resolve_path(doc, path)
    return None if node is MISSING else node


def is_interval(node: Any) -> bool:
    """Whether ``node`` is a ``[lo, hi]`` pair of numbers or nulls."""
    return (
        isinstance(node, list)
        and len(node) == 2
        and all(
            v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in node
        )
    )


@dataclass(frozen=True)
class Value:
    """A rule's value in one report: the number (None when not finite), its interval, and
    the dotted path the interval was found at (None without an interval)."""

    value: float | None
    ci: tuple[float, float] | None
    ci_path: str | None


def lookup(doc: Any, rule: Rule, which: str) -> Value:
    """The value ``rule`` points at in ``doc`` (the ``which`` report), with its interval."""
    node = resolve_path(doc, rule.path)
    path_str = dotted(rule.path)
    if node is MISSING:
        for depth in range(1, len(rule.path)):
            part = resolve_path(doc, rule.path[:depth])
            if isinstance(part, Mapping) and part.get("status") == "not run":
                raise InputError(
                    f"gate: path {path_str!r}: section {dotted(rule.path[:depth])!r} was not "
                    f"run in the {which} report ({part.get('reason', 'no reason given')})"
                )
        raise InputError(
            f"gate: path {path_str!r} does not exist in the {which} report; check the rule "
            "(paths are dotted JSON keys, e.g. hits.k.20.recall.collaborative)"
        )
    ci_node: Any = None
    ci_path: KeyPath | None = None
    if isinstance(node, Mapping):
        key = "mean" if "mean" in node else "value" if "value" in node else None
        if key is None:
            raise InputError(
                f"gate: path {path_str!r} in the {which} report is an object, not a number; "
                f"point the rule at one of its keys ({', '.join(list(node)[:6])})"
            )
        if rule.ci == "auto" and "ci95" in node:
            ci_node, ci_path = node["ci95"], (*rule.path, "ci95")
        node = node[key]
    if node is not None and (isinstance(node, bool) or not isinstance(node, (int, float))):
        raise InputError(f"gate: path {path_str!r} in the {which} report is {node!r}, not a number")
    if isinstance(node, float) and not math.isfinite(node):
        # JSON has no NaN or infinity; complement writes a value that is not finite as null, so
        # NaN, Infinity or an overflowing literal such as 1e999 came from elsewhere
        raise InputError(
            f"gate: path {path_str!r} in the {which} report is {_literal(node)}, not a finite "
            "number (JSON has no NaN or infinity; complement writes such a value as null); "
            "give a report written by complement --json"
        )
    if rule.ci == "auto" and ci_path is None:
        parent = resolve_path(doc, rule.path[:-1])
        leaf = rule.path[-1]
        if isinstance(parent, Mapping):
            sib = parent.get("ci95")
            if isinstance(sib, Mapping) and leaf in sib:
                ci_node, ci_path = sib[leaf], (*rule.path[:-1], "ci95", leaf)
            elif f"{leaf}_ci95" in parent:
                ci_node, ci_path = parent[f"{leaf}_ci95"], (*rule.path[:-1], f"{leaf}_ci95")
            elif is_interval(sib) and (leaf in ("mean", "value") or next(iter(parent)) == leaf):
                ci_node, ci_path = sib, (*rule.path[:-1], "ci95")
    elif isinstance(rule.ci, tuple):
        ci_node = resolve_path(doc, rule.ci)
        ci_path = rule.ci
        if ci_node is MISSING:
            raise InputError(
                f"gate: rule {path_str!r}: ci = {dotted(rule.ci)!r} is not a path in the {which} "
                'report; ci must be "auto" (look the interval up), false (no interval) or the '
                "dotted path of a [lo, hi] interval in the report"
            )
    ci: tuple[float, float] | None = None
    if ci_node is not None:
        if not is_interval(ci_node):
            raise InputError(
                f"gate: interval {dotted(ci_path or ())!r} in the {which} report is not [lo, hi]"
            )
        ci = finite_interval(ci_node)
    value = None if node is None else float(node)
    return Value(value, ci, dotted(ci_path) if ci_path is not None and ci else None)


def finite_interval(node: Any) -> tuple[float, float] | None:
    """``[lo, hi]`` as a pair of finite floats; None (no interval) when either end is null,
    NaN or infinite, so that a missing interval is never taken for a wide one."""
    lo, hi = node
    if lo is None or hi is None:
        return None
    pair = (float(lo), float(hi))
    if not all(math.isfinite(v) for v in pair):
        return None
    return pair


def _literal(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"
