"""Interpolation of the two views' own scores, standardised per user, ranked exactly.

Definitions (fixed; also in docs/definitions.md and the JSON under ``definitions``):

- Own scores of a view ``V``: the scores the single view ranks by
  (:func:`complement.core.ranking.user_queries`): ``s_V(u, i) = q_u · y_i`` with
  ``y_i = x_i / ‖x_i‖`` and ``q_u`` the unit mean of the history (cosine; no user embeddings)
  or ``y_i = x_i`` and ``q_u = p_u`` (inner product; user embeddings given).
- Standardised scores: ``z_V(u, i) = (s_V(u, i) − μ_V(u)) / σ_V(u)`` with the mean ``μ`` and
  the population standard deviation ``σ`` of ``s_V(u, ·)`` over **all candidate items of the
  ranking** (history items included). As the scores are linear in ``y``:
  ``μ_V(u) = q_u · mean(y)`` and ``σ_V(u)² = q_uᵀ Cov(y) q_u`` (float64); ``z_V ≡ 0`` when
  ``σ_V(u) = 0``.
- Mixture with weight ``w_u ∈ [0, 1]``: ``w_u · z_S + (1 − w_u) · z_C``. It equals
  ``[w_u q_S / σ_S | (1 − w_u) q_C / σ_C] · [y_S | y_C]`` minus a per-user constant, so its
  top K is one exact top-K inner-product search (history excluded), with no users × items
  matrix (:func:`choose_alpha` on a small catalogue ranks its inner alphas from the two
  views' score matrices instead, with the same lists: :mod:`complement.core.mixture_dense`).
  A user with ``w_u = 0`` (``1``) gets exactly the collaborative (semantic) view's own
  list: those rows are ranked by the view's own scores, so no rounding can reorder near-ties.
- ``score_interpolation``: the mixture with one ``w_u = α`` for all users; ``α`` fixed by
  ``--alpha`` or chosen per K on the grid 0.0, 0.1, ..., 1.0 as the one maximising mean
  Recall@K on the validation phase (history = train, targets = validation; ties to the smaller
  ``α``). ``α = 0`` ranks exactly as the collaborative view, ``α = 1`` as the semantic view.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.core.evaluation import EvalData, check_ks
from complement.core.metrics import evaluate_lists
from complement.core.mixture_dense import dense_mixture, mixture_query
from complement.core.ranking import user_queries
from complement.errors import UsageError
from complement.retrieval import Backend, user_topk

__all__ = [
    "ALPHA_GRID",
    "AlphaSearch",
    "ItemMoments",
    "Ranked",
    "ScoreViews",
    "ViewStats",
    "check_alpha",
    "choose_alpha",
    "item_moments",
    "mixture_ranked",
    "score_views",
    "view_ranked",
    "view_stats",
]

Ranked = tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]
ALPHA_GRID: tuple[float, ...] = tuple(round(0.1 * i, 1) for i in range(11))
_USER_BLOCK = 8192
_ITEM_VALUES = 1 << 23


@dataclass(frozen=True)
class ScoreViews:
    """Both views' own-score queries (evaluated users) and items ``[y_S | y_C]`` (float32).

    ``moments``: each view's item mean and covariance once computed, shared with the
    ScoreViews of another phase built ``like`` this one on the same items. ``scales``: each
    view's item scale from :func:`complement.core.ranking.user_queries` (None: none), so that
    a search of one view alone reuses the queries (:meth:`search`).
    """

    sem_queries: npt.NDArray[np.float32]
    cf_queries: npt.NDArray[np.float32]
    items: npt.NDArray[np.float32]
    moments: dict[str, ItemMoments] = field(default_factory=dict, compare=False, repr=False)
    scales: tuple[npt.NDArray[np.float32] | None, npt.NDArray[np.float32] | None] = field(
        default=(None, None), compare=False, repr=False
    )

    @property
    def dim_sem(self) -> int:
        return int(self.sem_queries.shape[1])

    @cached_property
    def stats(self) -> dict[str, ViewStats]:
        """Each view's per-user mean and sd of its own scores (computed once)."""
        out = {}
        for name in ("semantic", "collaborative"):
            queries, items = self.view(name)
            if name not in self.moments:
                self.moments[name] = item_moments(items)
            out[name] = view_stats(queries, items, self.moments[name])
        return out

    def search(self, name: str) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32] | None]:
        """``(queries, item scale)`` of one view, as :func:`~complement.core.ranking.user_queries`
        returned them when these ScoreViews were built."""
        if name == "semantic":
            return self.sem_queries, self.scales[0]
        return self.cf_queries, self.scales[1]

    def view(self, name: str) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """``(queries, items)`` of one view (``semantic`` or ``collaborative``)."""
        d = self.dim_sem
        if name == "semantic":
            return self.sem_queries, np.ascontiguousarray(self.items[:, :d])
        return self.cf_queries, np.ascontiguousarray(self.items[:, d:])


def _own_items(items: npt.NDArray[Any], scale: npt.NDArray[np.float32] | None) -> Any:
    """``x_i × scale_i`` rounded to float32 exactly as the retrieval backends scale base rows."""
    if scale is None:
        return np.ascontiguousarray(items, dtype=np.float32)
    out = np.empty(np.shape(items), dtype=np.float32)
    np.multiply(items, np.asarray(scale, dtype=np.float32)[:, None], out=out, casting="unsafe")
    return out


def score_views(
    ev: EvalData,
    sem: npt.NDArray[Any],
    cf: npt.NDArray[Any],
    *,
    sem_users: npt.NDArray[Any] | None = None,
    cf_users: npt.NDArray[Any] | None = None,
    like: ScoreViews | None = None,
) -> ScoreViews:
    """Each view's own scores as one query and one item block (see the module definitions).

    ``like``: the ScoreViews of another phase of the same views; when its item block is the
    same (it is unless the scaling differs), it is shared with its item moments.
    """
    qs, scale_s = user_queries(ev, sem, user_vectors=sem_users)
    qc, scale_c = user_queries(ev, cf, user_vectors=cf_users)
    items = np.ascontiguousarray(
        np.hstack([_own_items(sem, scale_s), _own_items(cf, scale_c)]), dtype=np.float32
    )
    moments: dict[str, ItemMoments] = {}
    if like is not None and like.items.shape == items.shape and np.array_equal(like.items, items):
        items, moments = like.items, like.moments
    return ScoreViews(
        sem_queries=np.ascontiguousarray(qs, dtype=np.float32),
        cf_queries=np.ascontiguousarray(qc, dtype=np.float32),
        items=items,
        moments=moments,
        scales=(scale_s, scale_c),
    )


@dataclass(frozen=True)
class ViewStats:
    """Per-user mean and standard deviation of one view's own scores over the candidates."""

    mean: npt.NDArray[np.float64]
    sd: npt.NDArray[np.float64]


@dataclass(frozen=True)
class ItemMoments:
    """Mean and population covariance of one view's item rows (float64)."""

    mean: npt.NDArray[np.float64]
    cov: npt.NDArray[np.float64]


def item_moments(items: npt.NDArray[Any]) -> ItemMoments:
    """``mean(y)`` and ``Cov(y)`` (population), summed in float64 blocks."""
    n, d = int(items.shape[0]), int(items.shape[1])
    step = max(1, _ITEM_VALUES // max(1, d))
    total = np.zeros(d, dtype=np.float64)
    for s in range(0, n, step):
        total += np.asarray(items[s : s + step], dtype=np.float64).sum(axis=0)
    m = total / max(1, n)
    cov = np.zeros((d, d), dtype=np.float64)
    for s in range(0, n, step):  # centred in blocks: no float64 copy of the whole matrix
        centred = np.asarray(items[s : s + step], dtype=np.float64) - m
        cov += centred.T @ centred
    cov /= max(1, n)
    return ItemMoments(mean=m, cov=cov)


def view_stats(
    queries: npt.NDArray[Any], items: npt.NDArray[Any], moments: ItemMoments | None = None
) -> ViewStats:
    """``μ(u) = q_u · mean(y)``, ``σ(u) = sqrt(q_uᵀ Cov(y) q_u)`` (population, float64).

    ``moments``: :func:`item_moments` of ``items`` when already known.
    """
    mo = moments if moments is not None else item_moments(items)
    m, cov = mo.mean, mo.cov
    q = np.asarray(queries, dtype=np.float64)
    var = np.empty(q.shape[0], dtype=np.float64)
    for s in range(0, q.shape[0], _USER_BLOCK):
        block = q[s : s + _USER_BLOCK]
        var[s : s + _USER_BLOCK] = np.einsum("ij,ij->i", block @ cov, block)
    return ViewStats(mean=q @ m, sd=np.sqrt(np.maximum(var, 0.0)))


def _sub_history(ev: EvalData, rows: npt.NDArray[np.int64]) -> Any:
    counts = np.diff(ev.history_indptr)[rows]
    starts = ev.history_indptr[rows]
    pos = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return indptr, ev.history_indices[pos].astype(np.int64)


def view_ranked(
    ev: EvalData,
    sv: ScoreViews,
    name: str,
    k: int,
    backend: Backend,
    rows: npt.NDArray[np.int64] | None = None,
) -> Ranked:
    """One view's own top-k (exactly the single view's list) with its own scores."""
    q, y = sv.view(name)
    history = ev.history if rows is None else _sub_history(ev, rows)
    if rows is not None:
        q = np.ascontiguousarray(q[rows])
    idx, scores = user_topk(q, y, k, backend, history=history)
    return idx, np.asarray(scores, dtype=np.float64)


def _z(scores: npt.NDArray[np.float64], stats: ViewStats, rows: Any) -> Any:
    sd = stats.sd[rows][:, None]
    ok = sd > 0
    safe = np.where(ok, sd, 1.0)
    z = np.where(ok, (scores - stats.mean[rows][:, None]) / safe, 0.0)
    return np.where(np.isneginf(scores), -np.inf, z)


def mixture_ranked(
    ev: EvalData,
    sv: ScoreViews,
    weights: npt.NDArray[np.float64] | float,
    k: int,
    backend: Backend,
) -> Ranked:
    """Top-k of ``w_u z_S + (1 − w_u) z_C`` per user, with the mixture score of each slot.

    ``weights`` is one semantic weight per evaluated user (or one for all), each in [0, 1].
    Rows with weight 0 or 1 are the collaborative or semantic view's own lists, exactly.
    """
    check_ks([k], ev.n_items)
    n = ev.n_users
    w = np.broadcast_to(np.asarray(weights, dtype=np.float64), (n,)).copy()
    if not (np.isfinite(w).all() and (w >= 0).all() and (w <= 1).all()):
        raise ValueError("mixture weights must lie in [0, 1]")
    stats = sv.stats
    idx = np.full((n, k), -1, dtype=np.int64)
    out = np.full((n, k), -np.inf, dtype=np.float64)
    inner = np.flatnonzero((w > 0) & (w < 1))
    if inner.size:
        q, a, b = mixture_query(
            sv.sem_queries[inner],
            sv.cf_queries[inner],
            w[inner],
            stats["semantic"].sd[inner],
            stats["collaborative"].sd[inner],
        )
        offset = a * stats["semantic"].mean[inner] + b * stats["collaborative"].mean[inner]
        history = ev.history if inner.size == n else _sub_history(ev, inner)
        got, scores = user_topk(q, sv.items, k, backend, history=history)
        idx[inner] = got
        out[inner] = np.asarray(scores, dtype=np.float64) - offset[:, None]
    for name, at in (("collaborative", 0.0), ("semantic", 1.0)):
        rows = np.flatnonzero(w == at)
        if rows.size:
            got, own = view_ranked(ev, sv, name, k, backend, None if rows.size == n else rows)
            idx[rows] = got
            out[rows] = _z(own, stats[name], rows)
    out[idx < 0] = -np.inf
    return idx, out


@dataclass(frozen=True)
class AlphaSearch:
    """Mean validation Recall@K for each alpha of the grid, and the alpha used per K.

    ``fixed`` is the ``--alpha`` given (then ``alpha`` is that value at every K; the curve is
    still computed, for the gated fusion). ``per_user`` (rows: validation users, columns: the
    grid) and ``view_lists`` (each view's own top max-K validation lists) are kept for
    :mod:`complement.core.gated`; neither is in the JSON.
    """

    grid: tuple[float, ...]
    recall: dict[int, list[float]]
    alpha: dict[int, float]
    validation: dict[str, Any]
    fixed: float | None = None
    per_user: dict[int, npt.NDArray[np.float64]] = field(repr=False, default_factory=dict)
    view_lists: dict[str, npt.NDArray[np.int64]] = field(repr=False, default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "grid": list(self.grid),
            "fixed": self.fixed,
            "alpha": {str(k): a for k, a in sorted(self.alpha.items())},
            "valid_recall": {str(k): v for k, v in sorted(self.recall.items())},
            "validation": dict(self.validation),
        }


def check_alpha(alpha: float | None) -> float | None:
    """``None`` (tune on validation) or a float in [0, 1]."""
    if alpha is None:
        return None
    a = float(alpha)
    if not (0.0 <= a <= 1.0):
        raise UsageError(f"--alpha {alpha} is outside [0, 1]; give a weight between 0 and 1")
    return a


def choose_alpha(
    ev_valid: EvalData,
    sv_valid: ScoreViews,
    ks: Sequence[int],
    backend: Backend,
    grid: Sequence[float] = ALPHA_GRID,
    *,
    fixed: float | None = None,
) -> AlphaSearch:
    """Pick, per K, the alpha with the best mean validation Recall@K (or use ``fixed``)."""
    fixed = check_alpha(fixed)
    ks = check_ks(ks, ev_valid.n_items)
    kmax = max(ks)
    per_user = {k: np.empty((ev_valid.n_users, len(grid))) for k in ks}
    view_lists: dict[str, npt.NDArray[np.int64]] = {}
    # small catalogues: every inner alpha's lists from the two views' scores computed once
    # (the same lists; see complement.core.mixture_dense)
    dense = dense_mixture(ev_valid, sv_valid) if any(0.0 < a < 1.0 for a in grid) else None
    for a, alpha in enumerate(grid):
        if dense is not None and 0.0 < alpha < 1.0:
            lists = dense.lists(float(alpha), kmax)
        else:
            lists = mixture_ranked(ev_valid, sv_valid, float(alpha), kmax, backend)[0]
        if alpha in (0.0, 1.0):
            view_lists["semantic" if alpha == 1.0 else "collaborative"] = lists
        metrics = evaluate_lists(lists, ev_valid, ks)
        for k in ks:
            per_user[k][:, a] = metrics[k].recall
    for name in ("semantic", "collaborative"):
        if name not in view_lists:
            view_lists[name] = view_ranked(ev_valid, sv_valid, name, kmax, backend)[0]
    table = {k: per_user[k].mean(axis=0) for k in ks}
    # the first maximum: the smaller alpha on ties
    best = {k: float(grid[int(np.argmax(table[k]))]) for k in ks}
    return AlphaSearch(
        grid=tuple(float(a) for a in grid),
        recall={k: [float(v) for v in table[k]] for k in ks},
        alpha={k: (best[k] if fixed is None else fixed) for k in ks},
        validation=ev_valid.to_dict(),
        fixed=fixed,
        per_user=per_user,
        view_lists=view_lists,
    )
