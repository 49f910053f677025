"""Tables of a ``complement.structure/1`` document: summary, canonical correlations, and the
items most private to and most shared by the two views.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from complement.report.model.ceiling import ceiling_tables
from complement.report.model.common import get, name, text_or_missing
from complement.report.model.fmt import count, fmt, sig
from complement.report.model.table import Table, make_table

__all__ = ["structure_tables"]


def _pair(node: Any) -> str:
    """``semantic / collaborative`` values of a mapping keyed by view."""
    return f"{fmt(get(node, 'semantic'))} / {fmt(get(node, 'collaborative'))}"


def _summary(doc: Mapping[str, Any]) -> Table:
    energy = doc.get("private_energy") or {}
    null_max = doc.get("null_max")
    pca = doc.get("pca") or {}
    rows = [
        ["shared dimension", count(doc.get("shared_dim"))],
        ["null's 95th percentile of the largest correlation", fmt(doc.get("null_p95"))],
        ["permutations", count(len(null_max) if isinstance(null_max, list) else None)],
        ["PCA dimensions (semantic / collaborative)",
         f"{count(get(pca, 'semantic', 'dims'))} / {count(get(pca, 'collaborative', 'dims'))}"],
        ["variance kept by PCA (semantic / collaborative)",
         _pair({v: get(pca, v, "explained") for v in ("semantic", "collaborative")})],
        ["variance in the shared subspace (semantic / collaborative)",
         _pair(doc.get("variance_shared"))],
        [f"private energy ({name(energy.get('direction'))}, cross-fitted ridge α "
         f"{sig(energy.get('alpha'), 3)}): mean / median",
         f"{fmt(energy.get('mean'))} / {fmt(energy.get('median'))}"],
        ["items fit / held out", f"{count(doc.get('n_fit'))} / {count(doc.get('n_heldout'))}"],
    ]  # fmt: skip
    return make_table(
        "structure.summary",
        "Shared and private structure",
        ["figure", "value"],
        rows,
        notes=[
            "shared dimension: leading canonical correlations above the permutation null's "
            "95th percentile"
        ],
    )


def _correlations(doc: Mapping[str, Any]) -> Table:
    rho = doc.get("canonical_correlations") or []
    held = doc.get("canonical_correlations_heldout") or []
    shared = doc.get("shared_dim") or 0
    shown = min(len(rho), max(shared + 3, 5))
    rows = [
        [
            str(j + 1),
            fmt(rho[j]),
            fmt(held[j]) if j < len(held) else fmt(None),
            "yes" if j < shared else "",
        ]
        for j in range(shown)
    ]
    return make_table(
        "structure.correlations",
        "Canonical correlations (regularised CCA)",
        [
            "#",
            f"fit ({count(doc.get('n_fit'))})",
            f"held-out ({count(doc.get('n_heldout'))})",
            "shared",
        ],  # fmt: skip
        rows,
        notes=[f"the first {shown} of {len(rho)} pairs"] if shown < len(rho) else [],
        text=(3,),
    )


def _items(doc: Mapping[str, Any], key: str, title: str) -> Table | None:
    items = doc.get(key)
    if not isinstance(items, list) or not items:
        return None
    return make_table(
        f"structure.{key}",
        title,
        ["id", "title", "private energy"],
        [
            [
                text_or_missing(get(i, "id")),
                text_or_missing(get(i, "title")),
                fmt(get(i, "private_energy")),
            ]
            for i in items
        ],  # fmt: skip
        text=(0, 1),
    )


def structure_tables(doc: Mapping[str, Any]) -> list[Table]:
    """Summary, correlations, most private and most shared items."""
    tables = [_summary(doc), _correlations(doc)]
    for key, title in (
        ("most_private", "Most private items"),
        ("most_shared", "Most shared items"),
    ):
        table = _items(doc, key, title)
        if table is not None:
            tables.append(table)
    return tables + ceiling_tables(doc, "structure")
