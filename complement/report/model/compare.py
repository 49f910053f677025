"""Tables of a ``complement.compare/1`` document: pairwise matrices and what each view adds.

Item level: overlap@k of every pair as a view × view matrix per k, and linear and debiased CKA
as matrices. User level (with a log): per-view accuracy with unique hits, the N-view oracles
against the best single view, the greedy forward selection, and with ``--anchor`` what each
view adds to the anchor.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from complement.report.model.common import coverage_line, get, ks, split_line
from complement.report.model.fmt import MISSING, count, fmt, fmt_ci, param, pct, signed
from complement.report.model.table import Table, grouped, make_table

__all__ = ["compare_tables", "pair_value", "view_names"]

#: the diagonal of a view × view matrix (a view against itself)
SELF = "·"


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def view_names(doc: Mapping[str, Any]) -> list[str]:
    views = doc.get("views")
    return [str(v) for v in views] if isinstance(views, list) else []


def pair_value(doc: Mapping[str, Any], a: str, b: str, *path: str) -> Any:
    """A pair's figure whichever order the document stores the pair in."""
    value = get(doc, "pairs", a, b, *path)
    return value if value is not None else get(doc, "pairs", b, a, *path)


def _item_ks(doc: Mapping[str, Any], names: list[str]) -> list[str]:
    if len(names) < 2:
        return []
    return ks(get(doc, "pairs", names[0], names[1]))


def _matrix_rows(
    doc: Mapping[str, Any], names: list[str], *path: str, digits: int = 3
) -> list[list[str]]:
    return [
        [a, *(SELF if a == b else fmt(pair_value(doc, a, b, *path), digits) for b in names)]
        for a in names
    ]


def _join_line(doc: Mapping[str, Any]) -> str | None:
    join = doc.get("join")
    if not isinstance(join, Mapping):
        return None
    dims = _mapping(join.get("dims"))
    line = (
        f"{count(join.get('n_items'))} items in every view ("
        + ", ".join(f"{name} {count(d)}" for name, d in dims.items())
        + " dimensions)"
    )
    left = _mapping(join.get("not_shared"))
    if any(left.values()):
        line += "; left out (not in every view): " + ", ".join(
            f"{count(v)} of {n}" for n, v in left.items() if v
        )
    dropped = join.get("dropped")
    if isinstance(dropped, Mapping) and dropped.get("total"):
        why = ", ".join(f"{k}={count(v)}" for k, v in dropped.items() if k != "total" and v)
        line += f"; dropped {count(dropped['total'])} invalid ({why})"
    return line


def _overlap(doc: Mapping[str, Any], names: list[str]) -> Table:
    cutoffs = _item_ks(doc, names)
    groups = [[[k, *row] for row in _matrix_rows(doc, names, "k", k, "overlap")] for k in cutoffs]
    rows, ends = grouped(groups)
    chance = ", ".join(
        f"k={k}: {fmt(pair_value(doc, names[0], names[1], 'k', k, 'chance'), 4)}" for k in cutoffs
    )
    facts = (
        f"{count(doc.get('n_queries'))} query items of {count(doc.get('n_items'))}; metric "
        f"{doc.get('metric')}; chance {chance}"
    )
    return make_table(
        "compare.overlap",
        "Neighbour overlap@k between views",
        ["k", "view", *names],
        rows,
        notes=[_join_line(doc), facts, coverage_line(doc.get("interactions"))],
        text=(0, 1),
        group_ends=ends,
    )


def _cka(doc: Mapping[str, Any], names: list[str]) -> Table:
    groups = [
        [[label, *row] for row in _matrix_rows(doc, names, key)]
        for label, key in (("linear", "cka_linear"), ("debiased", "cka_debiased"))
    ]
    rows, ends = grouped(groups)
    return make_table(
        "compare.cka",
        "Linear CKA between views (biased and debiased)",
        ["CKA", "view", *names],
        rows,
        notes=[
            "debiased: the unbiased HSIC estimator (Song et al., 2012) with linear kernels; "
            "near 0 for unrelated views whatever n and the dimensions"
        ],
        text=(0, 1),
        group_ends=ends,
    )


def _accuracy(doc: Mapping[str, Any], names: list[str], cutoffs: list[str]) -> Table:
    groups = []
    for k in cutoffs:
        row = get(doc, "k", k) or {}
        best = get(row, "best_single", "view")
        groups.append(
            [
                [
                    k,
                    v + ("*" if v == best else ""),
                    fmt(get(row, "recall", v)),
                    fmt_ci(get(row, "recall", "ci95", v)),
                    fmt(get(row, "ndcg", v)),
                    count(get(row, "hits", v)),
                    count(get(row, "unique_hits", v)),
                    fmt(get(row, "unique_recall", v)),
                    fmt_ci(get(row, "unique_recall", "ci95", v)),
                ]
                for v in names
            ]
        )
    rows, ends = grouped(groups)
    return make_table(
        "compare.accuracy",
        "Per-view Recall@K and the hits no other view finds",
        [
            "K",
            "view",
            "recall",
            "95% CI",
            "NDCG",
            "hits",
            "unique hits",
            "unique recall",
            "95% CI",
        ],  # fmt: skip
        rows,
        notes=[
            "* best single view; unique hits: test hits in no other view's top K; unique "
            "recall: what the union oracle loses without the view"
        ],  # fmt: skip
        text=(0, 1),
        group_ends=ends,
    )


def _bound(row: Mapping[str, Any], bound: str) -> str:
    value = get(row, "oracle", bound)
    gain = get(row, "gain", bound)
    return f"{fmt(value)} {pct(gain)}" if value is not None else MISSING


def _oracle(doc: Mapping[str, Any], cutoffs: list[str]) -> Table:
    rows = []
    for k in cutoffs:
        row = get(doc, "k", k) or {}
        rows.append(
            [
                k,
                str(get(row, "best_single", "view") or MISSING),
                fmt(get(row, "best_single", "recall")),
                _bound(row, "union"),
                _bound(row, "budget"),
                _bound(row, "select"),
            ]
        )
    return make_table(
        "compare.oracle",
        "Oracle bounds over all views (gain over the best single view)",
        ["K", "best single", "recall", "union", "budget", "select"],
        rows,
        notes=["each bound's 95% interval is in the JSON (k.<K>.oracle.ci95)"],
        text=(1,),
    )


def _greedy(doc: Mapping[str, Any], cutoffs: list[str]) -> Table:
    groups = []
    for k in cutoffs:
        steps = get(doc, "k", k, "greedy")
        if not isinstance(steps, list):
            continue
        groups.append(
            [
                [
                    k,
                    str(j + 1),
                    str(get(step, "view")),
                    fmt(get(step, "budget")),
                    signed(get(step, "gain")) if get(step, "gain") is not None else MISSING,
                    fmt_ci(get(step, "ci95", "gain")),
                ]
                for j, step in enumerate(steps)
            ]
        )
    rows, ends = grouped(groups)
    start = "the anchor" if doc.get("anchor") else "the best single view"
    return make_table(
        "compare.greedy",
        "Greedy forward selection on the budget oracle (Recall@K)",
        ["K", "step", "view", "budget", "gain", "95% CI"],
        rows,
        notes=[
            f"step 1 is {start}; each step adds the view that adds most budget-oracle Recall@K"
        ],  # fmt: skip
        text=(2,),
        group_ends=ends,
    )


def _anchor(doc: Mapping[str, Any], cutoffs: list[str]) -> Table | None:
    anchor = doc.get("anchor")
    if not anchor:
        return None
    groups = []
    for k in cutoffs:
        node = get(doc, "k", k, "anchor")
        if not isinstance(node, Mapping):
            continue
        raw = node.get("ranking")
        ranking: list[Any] = raw if isinstance(raw, list) else []
        groups.append(
            [
                [
                    k,
                    str(v),
                    fmt(get(node, "added", v, "budget")),
                    signed(get(node, "added", v, "gain")),
                    fmt_ci(get(node, "added", v, "ci95", "gain")),
                    count(get(node, "added", v, "unique_hits")),
                    count(get(node, "added", v, "anchor_only")),
                ]
                for v in ranking
            ]
        )
    rows, ends = grouped(groups)
    return make_table(
        "compare.anchor",
        f"What each view adds to {anchor} (budget oracle of the pair, Recall@K)",
        ["K", "view", "budget", "gain", "95% CI", "hits it adds", f"{anchor} only"],
        rows,
        notes=[
            f"Recall@K of {anchor}: "
            + ", ".join(f"K={k} {fmt(get(doc, 'k', k, 'anchor', 'recall'))}" for k in cutoffs)
            + f"; views ranked by gain; hits it adds: test hits of the view that {anchor} misses"
        ],
        text=(1,),
        group_ends=ends,
    )


def _scoring_line(doc: Mapping[str, Any], names: list[str]) -> str:
    scoring = _mapping(doc.get("scoring"))
    kinds = {str(v) for v in scoring.values()}
    how = kinds.pop() if len(kinds) == 1 else "; ".join(f"{n} = {scoring.get(n)}" for n in names)
    return (
        f"scoring: {how}; {count(doc.get('n_boot'))} bootstrap resamples of users (seed "
        f"{param(doc.get('seed'))})"
    )


def compare_tables(doc: Mapping[str, Any]) -> list[Table]:
    """Overlap and CKA matrices; with a log, accuracy, oracles, greedy selection, anchor."""
    names = view_names(doc)
    tables = [_overlap(doc, names), _cka(doc, names)]
    user_level = doc.get("user_level")
    if isinstance(user_level, Mapping):
        reason = user_level.get("reason") or "no reason given"
        tables.append(
            make_table("compare.user_level", "User level", [], notes=[f"not run: {reason}"])
        )
        return tables
    cutoffs = ks(doc)
    tables += [_accuracy(doc, names, cutoffs), _oracle(doc, cutoffs), _greedy(doc, cutoffs)]
    anchor = _anchor(doc, cutoffs)
    if anchor is not None:
        tables.append(anchor)
    tables[-1] = tables[-1].with_notes(split_line(doc.get("split")), _scoring_line(doc, names))
    return tables
