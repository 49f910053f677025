"""Practical fusion of the two views, each method producing ranked lists like a single view.

Definitions (fixed; also in docs/definitions.md and the JSON under ``definitions``):

- Cosine scores of a view: ``s(u, i) = cos(q_u, x_i)`` with ``q_u`` the user vector (when user
  embeddings are given) or the mean of the L2-normalised history items.
- ``norm_concat_norm`` (the paper's naive fusion): L2-normalise each view's user and item
  vectors, concatenate them, and score by cosine. (As both halves have unit length this ranks
  like ``(s_S + s_C) / 2``.)
- ``score_interpolation``: ``α · s_S + (1 − α) · s_C`` with ``α`` on the grid 0.0, 0.1, …, 1.0
  chosen, separately for each K, to maximise mean Recall@K on the validation phase (history =
  train, targets = validation items); ties go to the smaller ``α``.
- ``rrf`` (reciprocal rank fusion): ``Σ_views 1 / (60 + rank)`` over each view's own top
  ``depth`` list (rank 1-based; items outside a list contribute nothing); top K by (fused score
  descending, item index ascending).
- Every list excludes the user's history exactly, as a single view does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.core.evaluation import EvalData, check_ks
from complement.core.metrics import evaluate_lists
from complement.core.ranking import rank, unit_rows, user_queries
from complement.retrieval import Backend, inverse_norms, user_topk

__all__ = [
    "ALPHA_GRID",
    "DEFINITIONS",
    "RRF_CONSTANT",
    "AlphaSearch",
    "CosineViews",
    "choose_alpha",
    "cosine_views",
    "interpolation_lists",
    "interpolation_ranked",
    "norm_concat_norm_lists",
    "norm_concat_norm_ranked",
    "rrf_lists",
    "rrf_ranked",
]

RRF_CONSTANT = 60
ALPHA_GRID: tuple[float, ...] = tuple(round(0.1 * i, 1) for i in range(11))
_BLOCK = 65536

DEFINITIONS = {
    "norm_concat_norm": "L2-normalise each view's user and item vectors, concatenate, score by "
    "cosine (ranks like (s_S + s_C) / 2 on cosine scores)",
    "score_interpolation": "alpha * s_S + (1 - alpha) * s_C on cosine scores; alpha on the grid "
    "0.0, 0.1, ..., 1.0 maximising mean Recall@K on the validation phase (history = train, "
    "targets = validation items), per K, ties to the smaller alpha; never tuned on test",
    "rrf": "reciprocal rank fusion: sum over views of 1 / (60 + rank) over each view's own top "
    "--rrf-depth list (rank 1-based); top K by (score desc, item index asc)",
}


@dataclass(frozen=True)
class CosineViews:
    """Both views ready for cosine fusion: unit user queries and ``[unit sem | unit cf]`` items."""

    sem_queries: npt.NDArray[np.float32]
    cf_queries: npt.NDArray[np.float32]
    items: npt.NDArray[np.float32]


def cosine_views(
    ev: EvalData,
    sem: npt.NDArray[Any],
    cf: npt.NDArray[Any],
    *,
    sem_users: npt.NDArray[Any] | None = None,
    cf_users: npt.NDArray[Any] | None = None,
) -> CosineViews:
    qs, _ = user_queries(ev, sem, user_vectors=sem_users, cosine=True)
    qc, _ = user_queries(ev, cf, user_vectors=cf_users, cosine=True)
    items = np.ascontiguousarray(np.hstack([unit_rows(sem), unit_rows(cf)]), dtype=np.float32)
    return CosineViews(sem_queries=qs, cf_queries=qc, items=items)


Ranked = tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]


def interpolation_lists(
    ev: EvalData, cv: CosineViews, alpha: float, k: int, backend: Backend
) -> npt.NDArray[np.int64]:
    """Top-k of ``alpha * s_S + (1 - alpha) * s_C`` (one matrix product on concatenations)."""
    q = np.hstack([np.float32(alpha) * cv.sem_queries, np.float32(1.0 - alpha) * cv.cf_queries])
    return rank(ev, np.ascontiguousarray(q, dtype=np.float32), cv.items, k, backend)


def interpolation_ranked(
    ev: EvalData, cv: CosineViews, alpha: float, k: int, backend: Backend
) -> Ranked:
    """:func:`interpolation_lists` with the fused score of each slot (``-inf``: empty slot)."""
    q = np.hstack([np.float32(alpha) * cv.sem_queries, np.float32(1.0 - alpha) * cv.cf_queries])
    check_ks([k], ev.n_items)
    idx, scores = user_topk(
        np.ascontiguousarray(q, dtype=np.float32), cv.items, k, backend, history=ev.history
    )
    return idx, np.asarray(scores, dtype=np.float64)


def norm_concat_norm_lists(
    ev: EvalData, cv: CosineViews, k: int, backend: Backend
) -> npt.NDArray[np.int64]:
    """Top-k by cosine between concatenated unit user vectors and concatenated unit items."""
    q = unit_rows(np.hstack([cv.sem_queries, cv.cf_queries]))
    return rank(ev, q, cv.items, k, backend, item_scale=inverse_norms(cv.items))


def norm_concat_norm_ranked(ev: EvalData, cv: CosineViews, k: int, backend: Backend) -> Ranked:
    """:func:`norm_concat_norm_lists` with the cosine score of each slot."""
    q = unit_rows(np.hstack([cv.sem_queries, cv.cf_queries]))
    check_ks([k], ev.n_items)
    idx, scores = user_topk(
        q, cv.items, k, backend, history=ev.history, item_scale=inverse_norms(cv.items)
    )
    return idx, np.asarray(scores, dtype=np.float64)


def rrf_lists(
    sem_lists: npt.NDArray[np.int64],
    cf_lists: npt.NDArray[np.int64],
    k: int,
    constant: int = RRF_CONSTANT,
) -> npt.NDArray[np.int64]:
    """Reciprocal rank fusion of two ranked lists per user (rows distinct, ``-1`` = empty)."""
    return rrf_ranked(sem_lists, cf_lists, k, constant)[0]


def rrf_ranked(
    sem_lists: npt.NDArray[np.int64],
    cf_lists: npt.NDArray[np.int64],
    k: int,
    constant: int = RRF_CONSTANT,
) -> Ranked:
    """:func:`rrf_lists` with the fused score of each slot (``-inf``: empty slot)."""
    n = sem_lists.shape[0]
    weights = np.concatenate(
        [
            1.0 / (constant + np.arange(1, sem_lists.shape[1] + 1, dtype=np.float64)),
            1.0 / (constant + np.arange(1, cf_lists.shape[1] + 1, dtype=np.float64)),
        ]
    )
    width = sem_lists.shape[1] + cf_lists.shape[1]
    k = min(k, width)
    out = np.empty((n, k), dtype=np.int64)
    out_scores = np.empty((n, k), dtype=np.float64)
    for start in range(0, n, _BLOCK):
        stop = min(n, start + _BLOCK)
        items = np.hstack([sem_lists[start:stop], cf_lists[start:stop]])
        order = np.argsort(items, axis=1, kind="stable")
        it = np.take_along_axis(items, order, axis=1)
        sc = weights[order]
        total = np.array(sc, dtype=np.float64)
        dup = (it[:, 1:] == it[:, :-1]) & (it[:, 1:] >= 0)
        total[:, :-1] += np.where(dup, sc[:, 1:], 0.0)
        second = total[:, 1:]
        second[dup] = -np.inf
        total[it < 0] = -np.inf
        top = np.lexsort((it, -total), axis=-1)[:, :k]
        sel = np.take_along_axis(it, top, axis=1)
        fused = np.take_along_axis(total, top, axis=1)
        sel[np.isneginf(fused)] = -1
        out[start:stop] = sel
        out_scores[start:stop] = fused
    return out, out_scores


@dataclass(frozen=True)
class AlphaSearch:
    """Mean validation Recall@K for each alpha of the grid, and the alpha chosen per K."""

    grid: tuple[float, ...]
    recall: dict[int, list[float]]
    alpha: dict[int, float]
    validation: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "grid": list(self.grid),
            "alpha": {str(k): a for k, a in sorted(self.alpha.items())},
            "valid_recall": {str(k): v for k, v in sorted(self.recall.items())},
            "validation": dict(self.validation),
        }


def choose_alpha(
    ev_valid: EvalData,
    cv_valid: CosineViews,
    ks: Sequence[int],
    backend: Backend,
    grid: Sequence[float] = ALPHA_GRID,
) -> AlphaSearch:
    """Pick, per K, the alpha with the best mean Recall@K on the validation phase."""
    ks = check_ks(ks, ev_valid.n_items)
    kmax = max(ks)
    table = np.empty((len(grid), len(ks)))
    for a, alpha in enumerate(grid):
        lists = interpolation_lists(ev_valid, cv_valid, alpha, kmax, backend)
        metrics = evaluate_lists(lists, ev_valid, ks)
        table[a] = [metrics[k].recall.mean() for k in ks]
    best = np.argmax(table, axis=0)  # first maximum: the smaller alpha on ties
    return AlphaSearch(
        grid=tuple(float(a) for a in grid),
        recall={k: [float(v) for v in table[:, j]] for j, k in enumerate(ks)},
        alpha={k: float(grid[int(best[j])]) for j, k in enumerate(ks)},
        validation=ev_valid.to_dict(),
    )
