"""The default rules: the headline figures of each section the baseline holds.

Used when no ``--rules`` file is given, or when the file sets ``defaults = true``. Each template
names a section, a path (``{k}`` is the headline cut-off, see :mod:`complement.headline`), its
bound and where its interval is; a template whose section or path is absent from the baseline is
skipped. Every practical fusion's recall at the headline k is added too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from complement.gate.paths import MISSING, get, resolve_path
from complement.gate.rules import KeyPath, Rule
from complement.headline import headline_k

__all__ = ["default_rules"]

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


def _k_key(node: Any) -> str | None:
    """The headline k among the keys of a ``k`` mapping, as its key string; None if none."""
    if not isinstance(node, Mapping) or not node:
        return None
    k = headline_k(node)
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


def default_rules(baseline: Any) -> list[Rule]:
    """The headline figures present in the baseline (k = 20, else the nearest k)."""
    rules: list[Rule] = []
    for section, template, bounds, ci in _TEMPLATES:
        prefix = _section_prefix(baseline, section)
        if prefix is None:
            continue
        k = _k_key(get(baseline, *prefix, "k")) if "{k}" in template else ""
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
        k = _k_key(get(baseline, *prefix, "k"))
        fusion = get(baseline, *prefix, "k", k or "", "fusion")
        if isinstance(fusion, Mapping):
            for name in fusion:
                path = (*prefix, "k", str(k), "fusion", str(name), "recall")
                if resolve_path(baseline, path) is not MISSING:
                    rules.append(Rule(path=path, bounds={"max_drop_abs": 0.01}, name="default"))
    return rules
