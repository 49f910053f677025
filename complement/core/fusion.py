"""Practical fusion of the two views, each method producing ranked lists like a single view.

Definitions (fixed; also in docs/definitions.md and the JSON under ``definitions``):

- ``concat_fixed``: each view's user query and item vectors L2-normalised, concatenated, and
  scored by cosine. As both halves have unit length it ranks exactly like ``(cos_S + cos_C) / 2``,
  i.e. interpolation at ``α = 0.5`` on cosine scores. It fuses the two *fixed* views: it is not
  the paper's naive fusion, which is trained end to end (``complement align --method ncn``).
- ``score_interpolation``: ``α z_S + (1 − α) z_C`` on each view's own scores standardised per
  user (:mod:`complement.core.interpolation`).
- ``gated``: a learned re-ranking of the union of both views' top-K lists whose score is a
  per-user mixture of ``z_S`` and ``z_C`` with weights linear in user features
  (:mod:`complement.core.rerank`; the per-user tree weight of :mod:`complement.core.gated`
  was the other design, documented and compared in docs/definitions.md).
- ``rrf`` (reciprocal rank fusion): ``Σ_views 1 / (60 + rank)`` over each view's own top
  ``depth`` list (rank 1-based; items outside a list contribute nothing); top K by (fused score
  descending, item index ascending).
- Every list excludes the user's history exactly, as a single view does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.core.evaluation import EvalData, check_ks
from complement.core.interpolation import (
    ALPHA_GRID,
    AlphaSearch,
    Ranked,
    ScoreViews,
    choose_alpha,
    mixture_ranked,
    score_views,
)
from complement.core.ranking import unit_rows
from complement.core.rerank import CandidateZ, Reranker
from complement.retrieval import Backend, user_topk

__all__ = [
    "ALPHA_GRID",
    "DEFINITIONS",
    "RRF_CONSTANT",
    "AlphaSearch",
    "CosineViews",
    "ScoreViews",
    "choose_alpha",
    "concat_fixed_lists",
    "concat_fixed_ranked",
    "cosine_views",
    "fused_lists",
    "gated_ranked",
    "interpolation_lists",
    "interpolation_ranked",
    "rrf_lists",
    "rrf_ranked",
    "score_views",
]

RRF_CONSTANT = 60
_BLOCK = 65536

#: former names, kept for callers that build them directly
CosineViews = ScoreViews
cosine_views = score_views

DEFINITIONS = {
    "concat_fixed": "cosine between the concatenated L2-normalised user queries [q_S | q_C] "
    "and item vectors [x_S | x_C] of the two fixed views; ranks exactly like "
    "(cos_S + cos_C) / 2, i.e. interpolation at alpha = 0.5 on cosine scores. Not the paper's "
    "naive fusion, which is trained (complement align --method ncn)",
    "standardised_scores": "z_V(u, i) = (s_V(u, i) - mean) / sd, with s_V the view's own score "
    "(cosine, or inner product with user embeddings) and the mean and population sd of "
    "s_V(u, .) over all candidate items of the ranking (history items included); z = 0 when "
    "sd = 0",
    "score_interpolation": "alpha * z_S + (1 - alpha) * z_C on standardised own scores; alpha "
    "fixed by --alpha, else the grid value 0.0, 0.1, ..., 1.0 maximising mean Recall@K on the "
    "validation phase (history = train, targets = validation items), per K, ties to the "
    "smaller alpha; never tuned on test. alpha = 0 (1) ranks exactly as the collaborative "
    "(semantic) view",
    "gated": "learned re-ranking of the union of both views' own top-K lists: logistic "
    "regression (L2 penalty 1, Newton, float64) of 'is a validation target' on z_S, z_C, each "
    "times the user's activity and agreement percentiles (activity = log(1 + history rows), "
    "agreement = Jaccard of the two top-K lists), standardised log popularity, its product "
    "with activity, and 'in both lists'; fitted per K on the validation phase only; top K of "
    "the union by (score desc, item index asc), so never above the budget oracle",
    "rrf": "reciprocal rank fusion: sum over views of 1 / (60 + rank) over each view's own top "
    "--rrf-depth list (rank 1-based); top K by (score desc, item index asc)",
}


def interpolation_ranked(
    ev: EvalData, sv: ScoreViews, alpha: float, k: int, backend: Backend
) -> Ranked:
    """Top-k of ``alpha z_S + (1 - alpha) z_C`` with the mixture score of each slot."""
    return mixture_ranked(ev, sv, float(alpha), k, backend)


def interpolation_lists(
    ev: EvalData, sv: ScoreViews, alpha: float, k: int, backend: Backend
) -> npt.NDArray[np.int64]:
    """:func:`interpolation_ranked` without the scores."""
    return interpolation_ranked(ev, sv, alpha, k, backend)[0]


def gated_ranked(
    ev: EvalData,
    sv: ScoreViews,
    model: Reranker,
    view_lists: Mapping[str, npt.NDArray[np.int64]],
    *,
    cand_z: CandidateZ | None = None,
) -> Ranked:
    """Top ``model.k`` of the gated fusion (``view_lists``: the views' own lists of ``ev``'s
    users, at least ``model.k`` long: the candidates and the agreement feature; ``cand_z``:
    their :func:`complement.core.rerank.candidate_z`, shared by several models)."""
    return model.ranked(ev, sv, view_lists, cand_z=cand_z)


def concat_fixed_ranked(ev: EvalData, sv: ScoreViews, k: int, backend: Backend) -> Ranked:
    """Top-k by cosine of the concatenated unit queries and unit items, with the scores."""
    check_ks([k], ev.n_items)
    d = sv.dim_sem
    q = unit_rows(np.hstack([unit_rows(sv.sem_queries), unit_rows(sv.cf_queries)]))
    items = unit_rows(np.hstack([unit_rows(sv.items[:, :d]), unit_rows(sv.items[:, d:])]))
    idx, scores = user_topk(q, items, k, backend, history=ev.history)
    return idx, np.asarray(scores, dtype=np.float64)


def concat_fixed_lists(
    ev: EvalData, sv: ScoreViews, k: int, backend: Backend
) -> npt.NDArray[np.int64]:
    """:func:`concat_fixed_ranked` without the scores."""
    return concat_fixed_ranked(ev, sv, k, backend)[0]


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


def fused_lists(
    ev: EvalData,
    sv: ScoreViews,
    view_lists: Mapping[str, npt.NDArray[np.int64]],
    k: int,
    backend: Backend,
    *,
    alpha: float,
    gate: Reranker | None = None,
) -> dict[str, npt.NDArray[np.int64]]:
    """Every practical fusion's top-k lists for the users of ``ev`` (``view_lists``: the views'
    own lists, as deep as RRF should look); ``gated`` only when a gate is given."""
    out: dict[str, Any] = {
        "concat_fixed": concat_fixed_lists(ev, sv, k, backend),
        "score_interpolation": interpolation_lists(ev, sv, alpha, k, backend),
    }
    if gate is not None:
        out["gated"] = gated_ranked(ev, sv, gate, view_lists)[0][:, :k]
    out["rrf"] = rrf_lists(view_lists["semantic"], view_lists["collaborative"], k)
    return out
