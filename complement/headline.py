"""The one "headline k" rule shared by the report's tables and figures and the gate's defaults.

When a document holds several cut-offs, the figures quoted on their own (the report's cards
and plots, the gate's default rules) are those at k = 20, else at the k nearest to 20 (the
smaller one on a tie).
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["HEADLINE_K", "headline_k"]

HEADLINE_K = 20


def headline_k(ks: Iterable[int | str]) -> int | None:
    """The headline cut-off among ``ks`` (ints or digit strings); None when there is none."""
    values = sorted({int(k) for k in ks if str(k).isdigit()})
    if not values:
        return None
    if HEADLINE_K in values:
        return HEADLINE_K
    return min(values, key=lambda k: (abs(k - HEADLINE_K), k))
