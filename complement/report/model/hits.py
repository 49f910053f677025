"""Tables of a ``complement.hits/1`` document, every one at every cut-off K.

Per-view accuracy (recall, NDCG, hit rate with their intervals), complementarity (list
Jaccard, pooled unique hits, complementary ratio), users by which view hits, and hits by
popularity group of the test item; the split and the scoring as notes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from complement.report.model.ceiling import ceiling_tables
from complement.report.model.common import (
    HIT_CLASSES,
    USER_CLASSES,
    VIEWS,
    get,
    ks,
    name,
    ordered,
    per_group,
    split_line,
)
from complement.report.model.fmt import count, fmt, fmt_ci
from complement.report.model.table import Table, grouped, make_table

__all__ = ["hits_tables", "scoring_line"]

_METRICS = ("recall", "ndcg", "hit_rate")


def scoring_line(doc: Mapping[str, Any], *, rrf: bool = False) -> str:
    """How each view scores items, and the bootstrap behind every interval."""
    depth = f"RRF depth {count(doc.get('rrf_depth'))}; " if rrf else ""
    return (
        f"scoring: semantic = {get(doc, 'scoring', 'semantic')}; collaborative = "
        f"{get(doc, 'scoring', 'collaborative')}; {depth}{count(doc.get('n_boot'))} bootstrap "
        f"resamples of users (seed {count(doc.get('seed'))})"
    )


def _accuracy(doc: Mapping[str, Any], cutoffs: list[str]) -> Table:
    groups = []
    for k in cutoffs:
        row = get(doc, "k", k) or {}
        groups.append(
            [
                [
                    k,
                    name(metric),
                    *(
                        cell
                        for v in VIEWS
                        for cell in (fmt(get(row, metric, v)), fmt_ci(get(row, metric, "ci95", v)))
                    ),
                ]
                for metric in _METRICS
                if isinstance(row.get(metric), Mapping)
            ]
        )
    rows, ends = grouped(groups)
    return make_table(
        "hits.accuracy",
        "Per-view accuracy (mean over users)",
        ["K", "metric", "semantic", "95% CI", "collaborative", "95% CI"],
        rows,
        text=(1,),
        group_ends=ends,
    )


def _complementarity(doc: Mapping[str, Any], cutoffs: list[str]) -> Table:
    rows = []
    for k in cutoffs:
        row = get(doc, "k", k) or {}
        rows.append(
            [
                k,
                fmt(row.get("list_jaccard")),
                *(count(get(row, "hits", c)) for c in HIT_CLASSES),
                fmt(row.get("complementary_ratio")),
                fmt_ci(get(row, "ci95", "complementary_ratio")),
            ]
        )
    return make_table(
        "hits.complementarity",
        "Complementarity: list Jaccard, pooled unique hits, complementary ratio",
        ["K", "list Jaccard", *(name(c) for c in HIT_CLASSES), "ratio", "95% CI"],
        rows,
        text=(),
    )


def _user_classes(doc: Mapping[str, Any], cutoffs: list[str]) -> Table:
    groups = []
    for k in cutoffs:
        classes = get(doc, "k", k, "user_classes") or {}
        groups.append(
            [
                [
                    k,
                    name(c),
                    count(get(classes, c, "count")),
                    fmt(get(classes, c, "share")),
                    fmt_ci(get(classes, c, "ci95", "share")),
                    fmt(get(classes, c, "mean_log_activity")),
                ]
                for c in ordered(classes, USER_CLASSES)
            ]
        )
    rows, ends = grouped(groups)
    return make_table(
        "hits.user_classes",
        "Users by which view hits",
        ["K", "class", "users", "share", "95% CI", "mean log(1+activity)"],
        rows,
        text=(1,),
        group_ends=ends,
    )


def _popularity(doc: Mapping[str, Any], cutoffs: list[str]) -> Table | None:
    groups = per_group(doc, cutoffs, lambda row: [
        count(get(row, "n_users")),
        *(fmt(get(row, "recall", v)) for v in VIEWS),
        *(count(get(row, "hits", c)) for c in HIT_CLASSES),
        fmt(get(row, "complementary_ratio")),
    ])  # fmt: skip
    if not any(groups):
        return None
    rows, ends = grouped(groups)
    return make_table(
        "hits.groups",
        "Hits by popularity group of the test item",
        [
            "K",
            "group",
            "users",
            "recall semantic",
            "recall collaborative",
            *(name(c) for c in HIT_CLASSES),
            "ratio",
        ],  # fmt: skip
        rows,
        text=(1,),
        group_ends=ends,
    )


def hits_tables(doc: Mapping[str, Any]) -> list[Table]:
    """The four tables of the hits command at every K; the split and scoring as notes."""
    cutoffs = ks(doc)
    tables = [
        _accuracy(doc, cutoffs),
        _complementarity(doc, cutoffs),
        _user_classes(doc, cutoffs),
    ]
    popularity = _popularity(doc, cutoffs)
    if popularity is not None:
        tables.append(popularity)
    tables[-1] = tables[-1].with_notes(split_line(doc.get("split")), scoring_line(doc))
    return tables + ceiling_tables(doc, "hits")
