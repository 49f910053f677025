"""The default rules: the headline figures of each section the baseline holds.

Used when no ``--rules`` file is given, or when the file sets ``defaults = true``. Each template
names a section, a path (``{k}`` is the headline cut-off, see :mod:`complement.headline`), its
bound and where its interval is; a template whose section or path is absent from the baseline is
skipped. Every practical fusion's recall at the headline k is added too.

Reports with different k lists are not comparable (exit 3); compared anyway
(``--allow-incomparable``), the headline k is chosen among the cut-offs both hold, and a default
rule that still has no value in the current report is bad input, said in one line
(:func:`missing_default`), never as a rule the user got wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from complement.gate.paths import MISSING, get, resolve_path
from complement.gate.rules import KeyPath, Rule, dotted
from complement.headline import headline_k

__all__ = ["default_rules", "missing_default"]

#: (section, path template with {k}, bounds, explicit interval path template or "auto")
_TEMPLATES: tuple[tuple[str, str, dict[str, float], str], ...] = (
    ("overlap", "k.{k}.overlap", {"max_drop_rel": 0.25}, "k.{k}.ci95"),
    ("hits", "k.{k}.recall.semantic", {"max_drop_abs": 0.01}, "auto"),
    ("hits", "k.{k}.recall.collaborative", {"max_drop_abs": 0.01}, "auto"),
    ("hits", "k.{k}.ndcg.semantic", {"max_drop_abs": 0.01}, "auto"),
    ("hits", "k.{k}.ndcg.collaborative", {"max_drop_abs": 0.01}, "auto"),
    ("oracle", "k.{k}.oracle.budget", {"max_drop_rel": 0.05}, "auto"),
    ("oracle", "k.{k}.best_single.recall", {"max_drop_abs": 0.01}, "auto"),
    ("probe", "random.capacities.linear.test.r2", {"max_drop_abs": 0.05}, "auto"),
    ("probe", "capacities.linear.test.r2", {"max_drop_abs": 0.05}, "auto"),
    ("structure", "shared_dim", {"max_drop_rel": 0.25}, "auto"),
)


def _k_key(node: Any, other: Any = None) -> str | None:
    """The headline k among the keys of a ``k`` mapping, as its key string; None if none.

    With ``other`` (the current report's ``k`` mapping), among the keys both hold, when they
    share any: reports with different cut-offs are not comparable, but compared anyway
    (``--allow-incomparable``) they are gated at a k both have.
    """
    if not isinstance(node, Mapping) or not node:
        return None
    keys: Any = node
    if isinstance(other, Mapping):
        keys = [key for key in node if key in other] or node
    k = headline_k(keys)
    return None if k is None else str(k)


def _section_prefix(doc: Any, section: str) -> KeyPath | None:
    schema = get(doc, "schema")
    if schema == "complement.report/1":
        node = get(doc, section)
        if isinstance(node, Mapping) and "schema" in node:
            return (section,)
        return None
    if schema == f"complement.{section}/1":
        return ()
    return None


def default_rules(baseline: Any, current: Any = None) -> list[Rule]:
    """The headline figures present in the baseline (k = 20, else the nearest k).

    With ``current``, the headline k is chosen among the cut-offs both reports hold (when
    they share any).
    """
    rules: list[Rule] = []
    for section, template, bounds, ci in _TEMPLATES:
        prefix = _section_prefix(baseline, section)
        if prefix is None:
            continue
        k = (
            _k_key(get(baseline, *prefix, "k"), get(current, *prefix, "k"))
            if "{k}" in template
            else ""
        )
        if k is None:
            continue
        path = (*prefix, *template.format(k=k).split("."))
        if resolve_path(baseline, path) is MISSING:
            continue
        ci_path: str | KeyPath | None = (
            "auto" if ci == "auto" else (*prefix, *ci.format(k=k).split("."))
        )
        rules.append(Rule(path=path, bounds=bounds, ci=ci_path, name="default"))
    # every practical fusion's recall
    prefix = _section_prefix(baseline, "oracle")
    if prefix is not None:
        k = _k_key(get(baseline, *prefix, "k"), get(current, *prefix, "k"))
        fusion = get(baseline, *prefix, "k", k or "", "fusion")
        if isinstance(fusion, Mapping):
            for name in fusion:
                path = (*prefix, "k", str(k), "fusion", str(name), "recall")
                if resolve_path(baseline, path) is not MISSING:
                    rules.append(Rule(path=path, bounds={"max_drop_abs": 0.01}, name="default"))
    return rules


def _ks(node: Any) -> str:
    return ", ".join(str(k) for k in sorted(node, key=lambda k: (len(str(k)), str(k))))


def missing_default(rule: Rule, baseline: Any, current: Any) -> str | None:
    """Why a built-in default rule (built from the baseline) cannot be read in the current
    report, as a one-line message; None when its path is there (or its section was not run,
    which :func:`~complement.gate.paths.lookup` reports)."""
    if resolve_path(current, rule.path) is not MISSING:
        return None
    for depth in range(1, len(rule.path)):
        part = resolve_path(current, rule.path[:depth])
        if isinstance(part, Mapping) and part.get("status") == "not run":
            return None
    path = dotted(rule.path)
    for i, part in enumerate(rule.path[:-1]):
        if part != "k":
            continue
        k = rule.path[i + 1]
        cur_k = resolve_path(current, rule.path[: i + 1])
        base_k = resolve_path(baseline, rule.path[: i + 1])
        if isinstance(cur_k, Mapping) and k not in cur_k and isinstance(base_k, Mapping):
            return (
                f"gate: the built-in default rule on {path!r} needs k = {k}, which the current "
                f"report does not have (its k: {_ks(cur_k)}; the baseline's: {_ks(base_k)}): "
                "the k list changed; build both reports with the same --k, or give --rules "
                "with paths present in both"
            )
    return (
        f"gate: the built-in default rule on {path!r} has no value in the current report "
        "(the baseline has one): the reports were built with different settings; build both "
        "with the same settings, or give --rules with paths present in both"
    )
