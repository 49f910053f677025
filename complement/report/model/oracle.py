"""Tables of a ``complement.oracle/1`` document, every one at every cut-off K.

Recall of each view against the oracle bounds (with the gain over the best single view; the
bounds bound choosing among the two views' top-K lists, not every fusion), practical fusion
against the best single view (share of the budget and select oracles' headroom, paired
difference, p-value; a mark where a fusion is above a bound), and the bounds again per
popularity group of the test item; the split, the α used and the scoring as notes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from complement.report.model.common import (
    BOUNDS,
    ORACLE_SCOPE,
    VIEWS,
    exceeds_line,
    get,
    ks,
    method_label,
    name,
    per_group,
    split_line,
)
from complement.report.model.fmt import count, fmt, fmt_ci, pct, signed
from complement.report.model.hits import scoring_line
from complement.report.model.table import Table, grouped, make_table

__all__ = ["alpha_line", "bound_cell", "oracle_tables"]

BEST_MARK = "*"


def bound_cell(row: Mapping[str, Any], bound: str) -> str:
    """An oracle bound with its gain over the best single view: ``0.120 +11.3%``."""
    return f"{fmt(get(row, 'oracle', bound))} {pct(get(row, 'gain', bound))}"


def _bounds(doc: Mapping[str, Any], cutoffs: list[str]) -> Table:
    rows = []
    for k in cutoffs:
        row = get(doc, "k", k) or {}
        best = get(row, "best_single", "view")
        rows.append(
            [
                k,
                *(fmt(get(row, "recall", v)) + (BEST_MARK if v == best else "") for v in VIEWS),
                *(bound_cell(row, b) for b in BOUNDS),
            ]
        )
    return make_table(
        "oracle.bounds",
        "Recall@K of each view and the oracle bounds on choosing among the two views' lists "
        "(gain over the best single view)",
        ["K", *VIEWS, *BOUNDS],
        rows,
        notes=[
            f"{BEST_MARK} best single view; 95% intervals of every mean are in the JSON",
            ORACLE_SCOPE,
        ],
        text=(),
    )


def _fusion(doc: Mapping[str, Any], cutoffs: list[str]) -> Table:
    groups, exceeds = [], []
    for k in cutoffs:
        fusion = get(doc, "k", k, "fusion") or {}
        line = exceeds_line(fusion)
        if line is not None:
            exceeds.append(f"K={k}: {line}")
        groups.append(
            [
                [
                    k,
                    method_label(m, f),
                    fmt(get(f, "recall")),
                    pct(get(f, "headroom")),
                    pct(get(f, "headroom_select")),
                    signed(get(f, "mean_diff")),
                    fmt_ci(get(f, "ci95_diff")),
                    fmt(get(f, "p_value")),
                ]
                for m, f in fusion.items()
            ]
        )
    rows, ends = grouped(groups)
    return make_table(
        "oracle.fusion",
        "Practical fusion vs the best single view (Recall@K)",
        ["K", "method", "recall", "headroom budget", "headroom select", "Δ vs best", "95% CI", "p"],
        rows,
        notes=[
            "headroom = share of an oracle's headroom captured: (fused − best single) / "
            "(budget or select − best single); Δ: paired difference of Recall@K with the best "
            "single view, p its two-sided bootstrap p-value",
            "gated: a re-ranking of the union of both top-K lists learned on the validation "
            "part (logistic regression on standardised scores, user features, popularity)",
            *exceeds,
        ],
        text=(1,),
        group_ends=ends,
    )


def _popularity(doc: Mapping[str, Any], cutoffs: list[str]) -> Table | None:
    groups = per_group(doc, cutoffs, lambda row: [
        count(get(row, "n_users")),
        name(get(row, "best_single", "view")),
        fmt(get(row, "best_single", "recall")),
        *(bound_cell(row, b) for b in BOUNDS),
    ])  # fmt: skip
    if not any(groups):
        return None
    rows, ends = grouped(groups)
    return make_table(
        "oracle.groups",
        "Oracle bounds by popularity group of the test item (Recall@K)",
        ["K", "group", "users", "best single", "recall", *BOUNDS],
        rows,
        text=(1, 3),
        group_ends=ends,
    )


def alpha_line(doc: Mapping[str, Any]) -> str | None:
    """The interpolation weight α: fixed by --alpha, or chosen on the validation part per K."""
    search = doc.get("alpha_search")
    chosen = get(search, "alpha")
    if not isinstance(chosen, Mapping) or not chosen:
        return None
    fixed = get(search, "fixed")
    if fixed is not None:
        return f"α fixed by --alpha: {fmt(fixed, 2)} (α = 0: collaborative view, 1: semantic)"
    per_k = ", ".join(f"K={k}: {fmt(a, 1)}" for k, a in sorted(chosen.items(), key=_k_order))
    n = count(get(search, "validation", "n_users"))
    return f"α chosen on the validation part ({n} users): {per_k}"


def _k_order(item: tuple[Any, Any]) -> int:
    key = str(item[0])
    return int(key) if key.isdigit() else 0


def oracle_tables(doc: Mapping[str, Any]) -> list[Table]:
    """Bounds, practical fusion and bounds per popularity group, at every K."""
    cutoffs = ks(doc)
    tables = [_bounds(doc, cutoffs), _fusion(doc, cutoffs)]
    popularity = _popularity(doc, cutoffs)
    if popularity is not None:
        tables.append(popularity)
    tables[-1] = tables[-1].with_notes(
        split_line(doc.get("split")), alpha_line(doc), scoring_line(doc, rrf=True)
    )
    return tables
