"""Tables of a ``complement.align/1`` document.

Training and tuning of each trained system; per evaluation setting (warm items, cold items
among cold items, cold items among all items) the single views, practical fusion, oracle bounds
and the trained systems with Recall@K, NDCG@K, the mean ± sd over seeds and the paired test
against the best single view (raw and Holm-adjusted); then which hits each system shares with
each raw view. The protocol, split, system notes, exported files and the bootstrap are notes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from complement.report.model.common import (
    BOUNDS,
    EXCEEDS_MARK,
    VIEWS,
    exceeds_line,
    exceeds_oracle,
    get,
    method_label,
    name,
    split_line,
)
from complement.report.model.fmt import MISSING, count, fmt, fmt_ci
from complement.report.model.table import Table, grouped, make_table

__all__ = ["align_tables"]

SETTINGS = ("warm", "cold", "cold_all")
SETTING_TITLES = {
    "warm": "warm items (ranked among warm items)",
    "cold": "cold items (ranked among cold items only)",
    "cold_all": "cold items (ranked among all items)",
}
BEST_MARK = "*"


def _paired(fused: Mapping[str, Any]) -> str:
    """The paired test's p-value with the direction of the difference (↑ above the best)."""
    p = fused.get("p", fused.get("p_value"))
    diff = get(fused, "pooled", "mean_diff")
    diff = fused.get("mean_diff") if diff is None else diff
    if p is None or not isinstance(diff, (int, float)):
        return MISSING
    arrow = "↑" if diff > 0 else "↓" if diff < 0 else "="
    return f"{arrow} {fmt(p)}"


def _chosen(t: Mapping[str, Any]) -> str:
    """The tuned point: ``lr 0.005, weight 0.1`` (the grid's size in brackets)."""
    chosen = get(t, "tuning", "chosen") or {}
    axis = get(t, "tuning", "axis")
    text = f"lr {fmt(chosen.get('lr'), 4)}"
    if axis is not None and chosen.get("weight") is not None:
        text += f", {axis} {fmt(chosen.get('weight'), 3)}"
    n = len(get(t, "tuning", "grid") or [])
    return text + (f" (of {n})" if n > 1 else "")


def _training(doc: Mapping[str, Any]) -> Table:
    groups = []
    for method, t in (doc.get("training") or {}).items():
        epochs = get(t, "epochs_run") or {}
        group = []
        for j, phase in enumerate(epochs):
            first = get(t, "loss_first", phase)
            last = get(t, "loss_last", phase)
            group.append(
                [
                    str(method),
                    _chosen(t) if j == 0 else "",
                    str(phase),
                    count(epochs[phase]),
                    count(get(t, "best_epoch", phase)),
                    fmt(get(t, "best_valid_ndcg10", phase)),
                    MISSING if first is None else f"{fmt(first, 4)} → {fmt(last, 4)}",
                ]
            )
        groups.append(group)
    rows, ends = grouped(groups)
    grid = doc.get("grid") or {}
    seeds = grid.get("seeds") or []
    return make_table(
        "align.training",
        "Training (tuned on validation NDCG@10, early stopping; first seed)",
        ["system", "tuned", "phase", "epochs", "best epoch", "valid NDCG@10", "loss first → last"],
        rows,
        notes=[
            f"grid {grid.get('name')}: lr × {grid.get('lr_factors')}, weight × "
            f"{grid.get('weight_factors')} of each system's defaults; at most "
            f"{count(grid.get('max_epochs_per_phase'))} epochs per phase, patience "
            f"{count(grid.get('patience'))}; seeds {', '.join(str(x) for x in seeds)}"
        ]
        if grid
        else [],
        text=(0, 1, 2),
        group_ends=ends,
    )


def _seeds(node: Mapping[str, Any]) -> str:
    """``0.190 ± 0.002 (2)`` over the seeds (blank for one seed or a fusion)."""
    runs = node.get("seeds")
    if not isinstance(runs, list) or len(runs) < 2:
        return ""
    return f"{fmt(get(node, 'mean', 'recall'))} ± {fmt(get(node, 'sd', 'recall'))} ({len(runs)})"


def _setting(doc: Mapping[str, Any], setting: str, s: Mapping[str, Any]) -> Table:
    k = count(doc.get("k"))
    title = SETTING_TITLES.get(setting, setting)
    if s.get("skipped") is not None or not isinstance(s.get("recall"), Mapping):
        return make_table(
            f"align.{setting}",
            title,
            [],
            notes=[f"not evaluated: {s.get('skipped')}"],
        )
    methods = [str(m) for m in doc.get("systems") or doc.get("methods") or []]
    best = get(s, "best_single", "view")
    fusion = s.get("fusion") or {}

    def row(label: str, node: Mapping[str, Any], recall: Any, ndcg: Any, p: str) -> list[str]:
        return [label, fmt(recall), fmt_ci(get(node, "ci95", "recall")), fmt(ndcg),
                fmt_ci(get(node, "ci95", "ndcg")), _seeds(node), p,
                fmt(node.get("p_holm"))]  # fmt: skip

    views = [
        [name(v) + (f" {BEST_MARK}" if v == best else ""), fmt(get(s, "recall", v)),
         fmt_ci(get(s, "recall", "ci95", v)), fmt(get(s, "ndcg", v)),
         fmt_ci(get(s, "ndcg", "ci95", v)), "", "", ""]
        for v in VIEWS
    ]  # fmt: skip
    fused = [
        row(method_label(m, f), f, f.get("recall"), f.get("ndcg"), _paired(f))
        for m, f in fusion.items()
        if m not in methods
    ]
    bounds = [
        [f"oracle {name(b)}", fmt(get(s, "oracle", b)), fmt_ci(get(s, "oracle", "ci95", b)),
         MISSING, "", "", "", ""]
        for b in BOUNDS
    ]  # fmt: skip
    strategies = [
        row(
            m + (f" {EXCEEDS_MARK}" if exceeds_oracle(fusion[m]) else ""),
            fusion[m],
            get(fusion, m, "recall"),
            get(fusion, m, "ndcg"),
            _paired(fusion[m]),
        )
        for m in methods
        if isinstance(fusion.get(m), Mapping)
    ]
    line = exceeds_line(fusion)  # fusions and trained systems alike
    rows = views + fused + bounds + strategies
    ends = [len(views) + len(fused) - 1, len(views) + len(fused) + len(bounds) - 1]
    return make_table(
        f"align.{setting}",
        f"{title}: {count(s.get('n_users'))} users, {count(s.get('n_targets'))} targets, "
        f"{count(s.get('n_candidates'))} candidates",
        [
            "system",
            f"recall@{k}",
            "95% CI",
            f"NDCG@{k}",
            "95% CI",
            "seeds mean ± sd",
            "p vs best",
            "p Holm",
        ],  # fmt: skip
        rows,
        notes=[line] if line else [],
        text=(0,),
        group_ends=[e for e in ends if 0 <= e < len(rows) - 1],
    )


def _hits(doc: Mapping[str, Any]) -> Table | None:
    groups = []
    for setting in _setting_names(doc):
        per_method = get(doc, "settings", setting, "strategy_hits")
        if not isinstance(per_method, Mapping):
            continue
        groups.append(
            [
                [
                    setting,
                    str(m),
                    name(v),
                    count(get(h, "hits", "common")),
                    count(get(h, "hits", "strategy_only")),
                    count(get(h, "hits", "view_only")),
                    count(get(h, "private_hits")),
                    fmt(get(h, "private_survival")),
                    fmt_ci(get(h, "ci95", "private_survival")),
                ]
                for m, per_view in per_method.items()
                for v, h in (per_view or {}).items()
            ]  # fmt: skip
        )
    if not any(groups):
        return None
    rows, ends = grouped(groups)
    k = count(doc.get("k"))
    return make_table(
        "align.hits",
        f"Hits@{k} of strategy A vs raw view V",
        ["setting", "strategy", "vs", "both", "A only", "V only", "private", "kept", "95% CI"],
        rows,
        notes=[
            "both / A only / V only: hits in both lists, only A's, only V's; private: V's hits "
            "the other view misses; kept: share of private hits that A also finds"
        ],
        text=(0, 1, 2),
        group_ends=ends,
    )


def _setting_names(doc: Mapping[str, Any]) -> list[str]:
    settings = doc.get("settings") or {}
    return [s for s in SETTINGS if s in settings] + [s for s in settings if s not in SETTINGS]


def _facts(doc: Mapping[str, Any]) -> list[str | None]:
    p = doc.get("protocol") or {}
    cold_frac = p.get("cold_frac")
    seeded = f" (seeded {fmt(100 * cold_frac, 0)}%)" if isinstance(cold_frac, float) else ""
    notes: list[str | None] = [
        f"{count(p.get('n_cold_items'))} cold items{seeded}, their "
        f"{count(p.get('n_cold_rows_removed'))} train/validation rows removed; "
        f"{count(p.get('n_train_pairs'))} training pairs; cold rows of C predicted from S "
        "(ridge) for the views, fusions and oracle",
        split_line(doc.get("split")),
    ]
    for method, lines in (doc.get("notes") or {}).items():
        notes += [f"{method}: {line}" for line in lines or []]
    for method, paths in (doc.get("exports") or {}).items():
        notes.append(f"exported {method}: {get(paths, 'items')}, {get(paths, 'users')}")
    notes.append(
        f"{count(doc.get('n_boot'))} bootstrap resamples of users (seed {count(doc.get('seed'))}); "
        f"RRF depth {count(doc.get('rrf_depth'))}"
    )
    return notes


def align_tables(doc: Mapping[str, Any]) -> list[Table]:
    """Training, one table per setting, the hits table; facts as notes."""
    tables = [_training(doc)]
    settings = doc.get("settings") or {}
    evaluated = [_setting(doc, name_, settings[name_]) for name_ in _setting_names(doc)]
    tables += evaluated
    with_rows = [j for j, t in enumerate(tables) if t.rows and t.key != "align.training"]
    if with_rows:
        j = with_rows[-1]
        tables[j] = tables[j].with_notes(
            f"{BEST_MARK} best single view; p vs best: paired bootstrap test of recall against "
            "the best single view (↑ above, ↓ below; trained systems: per-user recall averaged "
            "over the seeds); p Holm: adjusted over every test of the document; a trained "
            "system's recall, NDCG and intervals are its first seed's; interpolation α = "
            f"{fmt(doc.get('alpha'), 1)}"
        )
    hits = _hits(doc)
    if hits is not None:
        tables.append(hits)
    tables[-1] = tables[-1].with_notes(*_facts(doc))
    return tables
