"""What the table builders share: reading a JSON document, one display name per thing, and
the one-line facts several documents print (the split, the views, the log's coverage).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from complement.report.model.fmt import MISSING, count, fmt, param

__all__ = [
    "BOUNDS",
    "EXCEEDS_MARK",
    "HIT_CLASSES",
    "ORACLE_SCOPE",
    "USER_CLASSES",
    "VIEWS",
    "coverage_line",
    "exceeds_line",
    "exceeds_oracle",
    "get",
    "ks",
    "method_label",
    "name",
    "ordered",
    "per_group",
    "split_line",
    "text_or_missing",
    "views_line",
]

VIEWS = ("semantic", "collaborative")
HIT_CLASSES = ("common", "semantic_only", "collaborative_only")
USER_CLASSES = ("both", "semantic_only", "collaborative_only", "no_hit")
BOUNDS = ("union", "budget", "select")
#: marks a fusion whose mean Recall@K is above an oracle bound
EXCEEDS_MARK = "†"
#: what the oracle bounds bound, for every table and page that shows them
ORACLE_SCOPE = (
    "oracle bounds: how well one could do by choosing among the two views' top-K lists "
    "(union, budget: items from both lists; select: one list per user), not a bound on every "
    "fusion"
)

#: the one display name of each JSON key shown in a table
_NAMES = {
    "semantic": "semantic",
    "collaborative": "collaborative",
    "common": "common",
    "semantic_only": "semantic only",
    "collaborative_only": "collaborative only",
    "both": "both",
    "no_hit": "no hit",
    "recall": "recall",
    "ndcg": "NDCG",
    "hit_rate": "hit rate",
    "concat_fixed": "concat fixed",
    "score_interpolation": "interpolation",
    "gated": "gated",
    "rrf": "RRF",
    "union": "union",
    "budget": "budget",
    "select": "select",
    "sem2cf": "semantic → collaborative",
    "cf2sem": "collaborative → semantic",
}


def name(key: Any) -> str:
    """The display name of a JSON key (the key itself when it has none)."""
    return _NAMES.get(str(key), str(key))


def method_label(key: str, fused: Mapping[str, Any] | None = None) -> str:
    """A fusion method's name, with the α it used and the mark of a fusion above an oracle
    bound: ``interpolation α=0.3 †``."""
    label = name(key)
    alpha = fused.get("alpha") if isinstance(fused, Mapping) else None
    label += f" α={fmt(alpha, 1)}" if alpha is not None else ""
    return label + (f" {EXCEEDS_MARK}" if exceeds_oracle(fused) else "")


def exceeds_oracle(fused: Any) -> list[str]:
    """The oracle bounds a fusion row's mean Recall@K is above (its ``exceeds_oracle``)."""
    bounds = fused.get("exceeds_oracle") if isinstance(fused, Mapping) else None
    return [str(b) for b in bounds] if isinstance(bounds, list) else []


def exceeds_line(fusion: Any) -> str | None:
    """The caption line for fusions above an oracle bound (None when there is none)."""
    if not isinstance(fusion, Mapping):
        return None
    above = {name(m): exceeds_oracle(f) for m, f in fusion.items() if exceeds_oracle(f)}
    if not above:
        return None
    which = "; ".join(f"{m} above {', '.join(b)}" for m, b in above.items())
    return (
        f"{EXCEEDS_MARK} above an oracle bound ({which}): the bounds only bound choosing among "
        "the two views' top-K lists, and this fusion ranks items outside them"
    )


def get(node: Any, *path: str) -> Any:
    """``node[path[0]][path[1]]...``, or None where a step is missing or not a mapping."""
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def ks(doc: Any) -> list[str]:
    """The cut-offs of a document's ``k`` mapping, in increasing order."""
    per_k = get(doc, "k")
    if not isinstance(per_k, Mapping):
        return []
    return sorted((str(k) for k in per_k if str(k).isdigit()), key=int)


def ordered(mapping: Any, known: tuple[str, ...]) -> list[str]:
    """The keys of ``mapping`` (skipping ``ci95``): the ``known`` ones first, in that order."""
    if not isinstance(mapping, Mapping):
        return []
    keys = [k for k in mapping if k != "ci95"]
    return [k for k in known if k in keys] + [k for k in keys if k not in known]


def split_line(split: Any) -> str | None:
    """The split and the counts every user-level output reports, on one line."""
    if not isinstance(split, Mapping):
        return None
    how = [f"split {param(split.get('kind'))}"]
    for key in ("cutoff", "test_frac"):
        if split.get(key) is not None:
            how.append(f"{key} {param(split[key])}")
    how.append(f"valid_frac {param(split.get('valid_frac', 0))}")
    line = ", ".join(how)
    if split.get("n_users") is None:
        return (
            f"{line}: rows train {count(split.get('n_train'))}, valid "
            f"{count(split.get('n_valid'))}, test {count(split.get('n_test'))}"
        )
    return (
        f"{line}: {count(split.get('n_users'))} users, {count(split.get('n_items'))} candidate "
        f"items; rows train {count(split.get('n_train'))}, valid {count(split.get('n_valid'))}, "
        f"test {count(split.get('n_test'))}; {count(split.get('n_users_evaluated'))} users "
        f"evaluated on {count(split.get('n_test_targets'))} test items; test rows removed: "
        f"{count(split.get('n_test_removed_not_candidate'))} not a candidate, "
        f"{count(split.get('n_test_removed_in_history'))} already in history"
    )


def views_line(views: Any) -> str | None:
    """How many items both views share, what was left out, what was dropped as invalid."""
    if not isinstance(views, Mapping):
        return None
    parts = [f"{count(views.get('n_items'))} shared items"]
    dims = (views.get("dim_semantic"), views.get("dim_collaborative"))
    if None not in dims:
        parts[0] += f" ({count(dims[0])} semantic and {count(dims[1])} collaborative dimensions)"
    if views.get("only_semantic") or views.get("only_collaborative"):
        parts.append(
            f"left out: {count(views.get('only_semantic'))} only in semantic, "
            f"{count(views.get('only_collaborative'))} only in collaborative"
        )
    dropped = views.get("dropped")
    if isinstance(dropped, Mapping) and dropped.get("total"):
        why = ", ".join(f"{k}={count(v)}" for k, v in dropped.items() if k != "total" and v)
        parts.append(f"dropped {count(dropped['total'])} invalid ({why})")
    return "; ".join(parts)


def coverage_line(interactions: Any) -> str | None:
    """Log items without embeddings in both views, when there are any."""
    if not isinstance(interactions, Mapping) or not interactions.get("n_items_without_embeddings"):
        return None
    return (
        f"interaction log: {count(interactions['n_items_without_embeddings'])} items "
        f"({count(interactions.get('n_rows_without_embeddings'))} rows) have no embeddings in "
        "both views"
    )


def text_or_missing(value: Any) -> str:
    """A user-supplied string as given, ``–`` when absent."""
    return MISSING if value is None or value == "" else str(value)


def per_group(
    doc: Mapping[str, Any], cutoffs: list[str], cells: Callable[[Any], list[str]]
) -> list[list[list[str]]]:
    """The rows of ``k.<K>.groups`` (popularity groups) for each K that has them: K, the
    group's name, then ``cells(group's node)``."""
    groups = []
    for k in cutoffs:
        per_k = get(doc, "k", k, "groups")
        if isinstance(per_k, Mapping):
            groups.append([[k, str(g), *cells(row)] for g, row in per_k.items()])
    return groups
