"""Ranked lists against the targets: hit matrices, list membership, per-user ranking metrics.

Definitions (fixed; see :mod:`complement.core.evaluation` and docs/definitions.md):

- ``Recall@K = |R_K(u) ∩ T_u| / |T_u|``; ``NDCG@K = DCG / IDCG`` with binary gains,
  ``DCG = Σ_{j<K, R_j ∈ T_u} 1 / log2(j + 2)`` and ``IDCG`` over ``min(K, |T_u|)`` hits;
  ``HitRate@K = 1`` if ``R_K(u) ∩ T_u`` is non-empty.
- A ``-1`` slot (no item could fill it) is never a hit nor a member of another list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from complement.core.evaluation import EvalData, sorted_isin

__all__ = ["ViewMetrics", "evaluate_lists", "hit_matrix", "ranking_metrics", "row_isin"]


def row_isin(a: npt.NDArray[np.int64], b: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """``a[u, j] ∈ b[u, :]`` for every entry (``-1`` entries are never members)."""
    n = a.shape[0]
    if n == 0 or b.shape[1] == 0:
        return np.zeros(a.shape, dtype=bool)
    stride = int(max(int(a.max(initial=0)), int(b.max(initial=0)))) + 2
    off = np.arange(n, dtype=np.int64)[:, None] * stride
    bk = np.sort(np.where(b >= 0, b + off, -1), axis=None)
    return np.asarray(sorted_isin(a + off, bk) & (a >= 0))


def hit_matrix(lists: npt.NDArray[np.int64], ev: EvalData) -> npt.NDArray[np.bool_]:
    """``lists[u, j] ∈ T_u`` for each slot of each evaluated user's ranked list."""
    n = lists.shape[0]
    if n != ev.n_users:
        raise ValueError(f"{n} ranked lists for {ev.n_users} evaluated users")
    owner = np.repeat(np.arange(n, dtype=np.int64), ev.n_targets)
    tkeys = owner * ev.n_items + ev.target_indices  # sorted: rows in order, items sorted
    qkeys = np.arange(n, dtype=np.int64)[:, None] * ev.n_items + lists
    return np.asarray(sorted_isin(qkeys, tkeys) & (lists >= 0))


@dataclass(frozen=True)
class ViewMetrics:
    """Per-user metrics at one cut-off (arrays over evaluated users)."""

    k: int
    recall: npt.NDArray[np.float64]
    ndcg: npt.NDArray[np.float64]
    hit_rate: npt.NDArray[np.float64]
    n_hits: npt.NDArray[np.int64]


def ranking_metrics(
    hits: npt.NDArray[np.bool_], n_targets: npt.NDArray[np.int64], ks: Sequence[int]
) -> dict[int, ViewMetrics]:
    """Recall, NDCG and HitRate at each K from a hit matrix (columns = ranks, at least max K)."""
    kmax = max(ks)
    if hits.shape[1] < kmax:
        raise ValueError(f"hit matrix has {hits.shape[1]} columns, fewer than K={kmax}")
    h = hits[:, :kmax]
    disc = 1.0 / np.log2(np.arange(2, kmax + 2, dtype=np.float64))
    dcg = np.cumsum(h * disc, axis=1)
    ideal = np.cumsum(disc)
    n_hits = np.cumsum(h, axis=1, dtype=np.int64)
    size = np.asarray(n_targets, dtype=np.int64)
    out: dict[int, ViewMetrics] = {}
    for k in sorted(set(ks)):
        got = n_hits[:, k - 1]
        idcg = ideal[np.minimum(k, size) - 1]
        out[k] = ViewMetrics(
            k=k,
            recall=got / size,
            ndcg=dcg[:, k - 1] / idcg,
            hit_rate=(got > 0).astype(np.float64),
            n_hits=got,
        )
    return out


def evaluate_lists(
    lists: npt.NDArray[np.int64], ev: EvalData, ks: Sequence[int]
) -> dict[int, ViewMetrics]:
    """Per-user metrics of ranked lists (one row per evaluated user) at each K."""
    return ranking_metrics(hit_matrix(lists, ev), ev.n_targets, ks)
