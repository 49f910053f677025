"""Tables of a ``complement.overlap/1`` document: neighbour agreement by k and by popularity."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from complement.report.model.ceiling import ceiling_tables
from complement.report.model.common import coverage_line, get, ks, views_line
from complement.report.model.fmt import MISSING, count, fmt, fmt_ci
from complement.report.model.table import Table, make_table

__all__ = ["overlap_tables"]


def _times_chance(row: Mapping[str, Any]) -> str:
    overlap, chance = row.get("overlap"), row.get("chance")
    if not isinstance(overlap, (int, float)) or not isinstance(chance, (int, float)):
        return MISSING
    return fmt(overlap / chance, 1) if chance > 0 else MISSING


def overlap_tables(doc: Mapping[str, Any]) -> list[Table]:
    """Mean overlap@k with its interval and chance level; then by popularity of the query item."""
    cutoffs = ks(doc)
    rows = []
    for k in cutoffs:
        row = get(doc, "k", k) or {}
        rows.append(
            [
                k,
                fmt(row.get("overlap")),
                fmt_ci(row.get("ci95")),
                fmt(row.get("jaccard")),
                fmt(row.get("overlap_median")),
                fmt(row.get("zero_fraction")),
                fmt(row.get("chance"), 4),
                _times_chance(row),
            ]
        )
    facts = (
        f"{count(doc.get('n_queries'))} query items of {count(doc.get('n_items'))}; metric "
        f"{doc.get('metric')}; linear CKA {fmt(doc.get('cka_linear'))}"
    )
    tables = [
        make_table(
            "overlap.k",
            "Item-level neighbour agreement (semantic vs collaborative)",
            ["k", "overlap", "95% CI", "jaccard", "median", "zero", "chance", "× chance"],
            rows,
            notes=[views_line(doc.get("views")), facts, coverage_line(doc.get("interactions"))],
            text=(),
        )
    ]
    groups = get(doc, "k", cutoffs[0], "groups") if cutoffs else None
    if isinstance(groups, Mapping) and groups:
        names = list(groups)
        tables.append(
            make_table(
                "overlap.groups",
                "Mean overlap@k by popularity of the query item",
                ["k", *(f"{g} (n={count(get(groups, g, 'n'))})" for g in names)],
                [
                    [k, *(fmt(get(doc, "k", k, "groups", g, "overlap")) for g in names)]
                    for k in cutoffs
                ],
                notes=[get(doc, "definitions", "groups")],
                text=(),
            )
        )
    return tables + ceiling_tables(doc, "overlap")
