"""Tables of a document's ``ceiling`` part (overlap, hits, structure with a replicate).

One table per replicate: each S–C figure, the same figure between the view and its replicate
(with its interval where it has one) and S–C over it; with both replicates, one more table of
S–C over the geometric mean of the two.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from complement.report.model.common import get
from complement.report.model.fmt import count, fmt, fmt_ci
from complement.report.model.table import Table, make_table

__all__ = ["ceiling_tables", "figure_label"]

_LABELS = {
    "overlap": "overlap",
    "jaccard": "jaccard",
    "cka_linear": "linear CKA",
    "cka_debiased": "debiased CKA",
    "list_jaccard": "list Jaccard",
    "complementary_ratio": "complementary ratio",
    "shared_dim": "shared dimension",
    "canonical_correlation_1": "first canonical correlation",
    "variance_shared": "variance in the shared subspace (the view)",
    "private_energy_mean": "private energy (mean)",
}
_COUNTS = ("shared_dim",)
_VIEWS = (("collaborative", "C", "collaborative view"), ("semantic", "S", "semantic view"))


def figure_label(name: str) -> str:
    """``overlap@20`` -> ``overlap@20``; ``cka_linear`` -> ``linear CKA``."""
    base, at, k = name.partition("@")
    return _LABELS.get(base, base) + (f"@{k}" if at else "")


def _value(name: str, value: Any) -> str:
    return count(value) if name.partition("@")[0] in _COUNTS else fmt(value)


def ceiling_tables(doc: Mapping[str, Any], what: str) -> list[Table]:
    """The ``ceiling`` tables of a document (none without a replicate); ``what`` names the
    document kind in the table keys (``overlap.ceiling.collaborative``)."""
    ceiling = doc.get("ceiling")
    if not isinstance(ceiling, Mapping):
        return []
    tables: list[Table] = []
    for view, letter, label in _VIEWS:
        block = ceiling.get(view)
        if not isinstance(block, Mapping):
            continue
        raw = block.get("figures")
        figures: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
        pair = f"{letter}–{letter}′"
        rows = [
            [
                figure_label(name),
                _value(name, get(block, "observed", name)),
                _value(name, value),
                fmt_ci(get(block, "ci95", name)),
                fmt(get(block, "normalised", name)),
            ]
            for name, value in figures.items()
        ]
        tables.append(
            make_table(
                f"{what}.ceiling.{view}",
                f"Noise ceiling: the {label} against its replicate ({block.get('replicate')})",
                ["figure", "S–C", pair, "95% CI", f"S–C ÷ {pair}"],
                rows,
                notes=[
                    f"{pair}: the same figure between the {label} and the same model trained "
                    f"again; S–C ÷ {pair} reads S–C against the view's own reproducibility",
                    f"{pair} lists scored by {block['scoring']}" if block.get("scoring") else None,
                ],
            )
        )
    combined = get(ceiling, "combined", "normalised")
    if isinstance(combined, Mapping) and combined:
        first = ceiling.get("collaborative") or {}
        tables.append(
            make_table(
                f"{what}.ceiling.combined",
                "Noise ceiling of both views: S–C ÷ √(S–S′ × C–C′)",
                ["figure", "S–C", "S–C ÷ √(S–S′ × C–C′)"],
                [
                    [figure_label(n), _value(n, get(first, "observed", n)), fmt(v)]
                    for n, v in combined.items()
                ],
                notes=["the correction for attenuation by the reliabilities of both views"],
            )
        )
    return tables
