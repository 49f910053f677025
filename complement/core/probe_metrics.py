"""Probe metrics: R² (pooled and per dimension), cosine, GeoJac@k, anchor Spearman, Recall@20,
and the Jaccard of the top-20 lists with true vs mapped item vectors (Rec Jaccard).

The definitions are in :mod:`complement.core.probe` (its ``DEFINITIONS``, written into the
JSON) and docs/definitions.md; this module holds their implementations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.core.evaluation import EvalData, prepare_eval, restrict_targets
from complement.core.metrics import evaluate_lists
from complement.core.overlap import intersection_sizes
from complement.core.probe_models import one_blas_thread
from complement.core.ranking import rank, user_queries
from complement.retrieval import Backend, item_knn

__all__ = [
    "GEOJAC_K",
    "N_ANCHORS",
    "REC_K",
    "RecTask",
    "SetMetrics",
    "TrueSide",
    "anchor_spearman",
    "average_ranks",
    "geojac",
    "l2_rows",
    "list_jaccard",
    "mean_cosine",
    "r2_scores",
    "rec_lists",
    "rec_task",
    "recall_at",
    "recall_of",
    "set_metrics",
]

GEOJAC_K = 20
N_ANCHORS = 1000
REC_K = 20
_ANCHOR_BLOCK = 64
F64 = npt.NDArray[np.float64]


def l2_rows(matrix: npt.NDArray[Any]) -> F64:
    m = np.asarray(matrix, dtype=np.float64)
    norms = np.sqrt(np.einsum("ij,ij->i", m, m))
    return np.asarray(m / np.where(norms > 0, norms, 1.0)[:, None], dtype=np.float64)


def r2_scores(true: F64, pred: F64) -> tuple[float, float]:
    """(pooled R², per-dimension mean R²), SST around ``true``'s own mean."""
    resid = ((true - pred) ** 2).sum(axis=0)
    total = ((true - true.mean(axis=0)) ** 2).sum(axis=0)
    pooled = 1.0 - resid.sum() / total.sum() if total.sum() > 0 else float("nan")
    ok = total > 0
    uniform = float(np.mean(1.0 - resid[ok] / total[ok])) if ok.any() else float("nan")
    return float(pooled), uniform


def mean_cosine(a: F64, b: F64) -> float:
    return float(np.einsum("ij,ij->i", l2_rows(a), l2_rows(b)).mean())


class TrueSide:
    """What the metrics of one item set derive from its true target rows alone (the k-NN
    lists, the anchors' centred similarity ranks), kept for the next capacity scored on the
    same set. It holds them only for rows equal to the last ones seen (else starts afresh),
    and keeps the anchor ranks only up to ``KEEP_BYTES`` (larger sets recompute them)."""

    KEEP_BYTES = 64 * 1024 * 1024

    def __init__(self) -> None:
        self.true: F64 | None = None
        self.values: dict[Any, Any] = {}

    def of(self, true: F64) -> dict[Any, Any]:
        """The values kept for ``true`` (an empty dict to fill when the rows changed)."""
        if (
            self.true is None
            or self.true.shape != true.shape
            or not np.array_equal(self.true, true)
        ):
            self.true, self.values = np.array(true, copy=True), {}
        return self.values


def geojac(
    true: F64,
    mapped: F64,
    backend: Backend,
    k: int = GEOJAC_K,
    *,
    kept: dict[Any, Any] | None = None,
) -> tuple[float, int]:
    """Mean Jaccard of the k-NN lists within the set (true vs mapped), and the k used
    (``kept``: :meth:`TrueSide.of` the true rows, holding their k-NN lists once computed)."""
    k = min(k, true.shape[0] - 1)
    key = ("knn", k)
    nt = None if kept is None else kept.get(key)
    if nt is None:
        nt = item_knn(true.astype(np.float32), k, backend)
        if kept is not None:
            kept[key] = nt
    nm = item_knn(mapped.astype(np.float32), k, backend)
    inter = intersection_sizes(nt, nm).astype(np.float64)
    return float((inter / (2 * k - inter)).mean()), k


def average_ranks(m: F64) -> F64:
    """Ranks (1-based) within each column, ties averaged; NaN entries left out, ranked NaN.

    ``scipy.stats.rankdata(m, axis=0, nan_policy="omit")`` exactly (ranks are half-integers),
    without importing scipy.stats (half a second).
    """
    n, c = m.shape
    # NaN sorts last; the order among equal values is irrelevant (their ranks are averaged)
    order = _nan_last_order(m)
    ordered = np.take_along_axis(m, order, axis=0)
    ranks_sorted = np.broadcast_to(np.arange(1.0, n + 1.0)[:, None], (n, c)).copy()
    # entries equal to the one before them (NaN equals nothing), column by column: a run of
    # such rows r_a..r_b holds the tie of rows r_a - 1 .. r_b, each ranked their mean + 1
    cols, rows = np.nonzero((ordered[1:] == ordered[:-1]).T)
    if rows.size:
        rows = rows + 1
        new = np.ones(rows.size, dtype=bool)
        new[1:] = (cols[1:] != cols[:-1]) | (rows[1:] != rows[:-1] + 1)
        heads = np.flatnonzero(new)
        start = rows[heads] - 1
        end = rows[np.append(heads[1:] - 1, rows.size - 1)]
        mean = (start + end) / 2.0 + 1.0
        run = np.cumsum(new) - 1
        ranks_sorted[rows, cols] = mean[run]
        ranks_sorted[start, cols[heads]] = mean
    ranks_sorted[np.isnan(ordered)] = np.nan
    ranks = np.empty((n, c), dtype=np.float64)
    np.put_along_axis(ranks, order, ranks_sorted, axis=0)
    return ranks


def _nan_last_order(m: F64) -> npt.NDArray[np.intp]:
    """A sorting permutation of each column, NaN last (``np.argsort(m, axis=0)`` up to the
    order among equal values). numpy's vectorised sort leaves out arrays holding a NaN, so
    NaN is sorted as ``+inf``; columns with both a NaN and a real ``+inf`` are sorted again
    as they are."""
    nan = np.isnan(m)
    if not nan.any():
        return np.argsort(m, axis=0)
    order = np.argsort(np.where(nan, np.inf, m), axis=0)
    mixed = nan.any(axis=0) & np.isposinf(m).any(axis=0)
    if mixed.any():
        order[:, mixed] = np.argsort(m[:, mixed], axis=0)
    return order


def anchor_spearman(
    true: F64,
    mapped: F64,
    seed: int,
    n_anchors: int = N_ANCHORS,
    *,
    kept: dict[Any, Any] | None = None,
) -> float:
    """Mean over seeded anchors of the Spearman correlation of similarities (see DEFINITIONS).

    ``kept``: :meth:`TrueSide.of` the true rows: the true side's centred ranks are taken from
    it, or kept there (when small enough) for the next mapped rows of the same set.
    """
    n = true.shape[0]
    anchors = np.sort(np.random.default_rng([seed, 404]).choice(n, min(n_anchors, n), False))
    key = ("ranks", seed, n_anchors)
    true_ranks: list[tuple[F64, F64]] | None = None if kept is None else kept.get(key)
    keep = kept is not None and true_ranks is None and n * anchors.size * 8 <= TrueSide.KEEP_BYTES
    m = l2_rows(mapped)
    # products n × 64 wide: a second BLAS thread only synchronises (~2.5× slower on 2 busy cores)
    with one_blas_thread():
        t = l2_rows(true) if true_ranks is None else None
        rhos = _anchor_rhos(t, m, anchors, true_ranks, keep)
    if keep and kept is not None:
        kept[key] = [(rt, sq) for rt, sq, _ in rhos]
    values = np.concatenate([rho for _, _, rho in rhos])
    return float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")


def _centred_ranks(s: F64) -> F64:
    r = average_ranks(s)
    r -= np.nanmean(r, axis=0)
    return r


def _anchor_rhos(
    t: F64 | None,
    m: F64,
    anchors: npt.NDArray[np.int64],
    true_ranks: list[tuple[F64, F64]] | None,
    keep: bool,
) -> list[tuple[F64 | None, F64 | None, F64]]:
    """Per block of anchors: (the true side's centred ranks and their column sums of squares
    when ``keep``, the block's Spearman correlations). The true side comes from ``true_ranks``
    when given (``t`` then unused), else from the unit rows ``t``."""
    rhos: list[tuple[F64 | None, F64 | None, F64]] = []
    for b, s in enumerate(range(0, anchors.shape[0], _ANCHOR_BLOCK)):
        block = anchors[s : s + _ANCHOR_BLOCK]
        cols = np.arange(block.shape[0])
        if true_ranks is not None:
            rt, sq_t = true_ranks[b]
        else:
            assert t is not None
            st = t @ t[block].T
            st[block, cols] = np.nan
            rt = _centred_ranks(st)
            sq_t = np.nansum(rt**2, axis=0)
        sm = m @ m[block].T
        sm[block, cols] = np.nan
        rm = _centred_ranks(sm)
        num = np.nansum(rt * rm, axis=0)
        den = np.sqrt(sq_t * np.nansum(rm**2, axis=0))
        with np.errstate(invalid="ignore", divide="ignore"):
            rhos.append((rt if keep else None, sq_t if keep else None, num / den))
    return rhos


@dataclass(frozen=True)
class RecTask:
    """The Recall@k check: evaluation data restricted to the shift's test items, user vectors."""

    data: EvalData
    user_vectors: npt.NDArray[Any]
    counts: dict[str, int]
    k: int = REC_K

    def to_dict(self) -> dict[str, Any]:
        return {"k": self.k, **self.counts}


def rec_task(
    users: npt.NDArray[np.int64],
    item_index: npt.NDArray[np.int64],
    part: npt.NDArray[np.int8],
    user_vectors: npt.NDArray[Any],
    have_vector: npt.NDArray[np.bool_],
    test_items: npt.NDArray[np.int64],
    n_items: int,
    k: int = REC_K,
) -> RecTask | None:
    """Test phase of the split (complement.core.evaluation), targets kept on ``test_items``.

    None when no evaluated user has a test interaction on a shift-test item.
    """
    ev = prepare_eval(
        users,
        item_index,
        part,
        n_items,
        n_users=int(user_vectors.shape[0]),
        phase="test",
        user_ok=have_vector,
    )
    keep = np.zeros(n_items, dtype=bool)
    keep[test_items] = True
    _, sub = restrict_targets(ev, keep)
    if sub.n_users == 0:
        return None
    counts = {
        "n_users": sub.n_users,
        "n_targets": int(sub.target_indices.size),
        "n_users_without_vectors": int(ev.counts.get("n_users_without_vectors", 0)),
    }
    return RecTask(data=sub, user_vectors=user_vectors, counts=counts, k=k)


def rec_lists(task: RecTask, items: F64, backend: Backend) -> npt.NDArray[np.int64]:
    """Top-k item indices per task user, all ``items`` ranked by ``p_u · v_i``, history masked."""
    vectors = np.ascontiguousarray(items, dtype=np.float32)
    queries, scale = user_queries(task.data, vectors, user_vectors=task.user_vectors)
    return rank(task.data, queries, vectors, task.k, backend, item_scale=scale)


def recall_of(task: RecTask, lists: npt.NDArray[np.int64]) -> float:
    """Mean Recall@k over the task's users of their ranked ``lists``."""
    return float(evaluate_lists(lists, task.data, [task.k])[task.k].recall.mean())


def recall_at(task: RecTask, items: F64, backend: Backend) -> float:
    """Mean Recall@k over the task's users, ranking all ``items`` by ``p_u · v_i``."""
    return recall_of(task, rec_lists(task, items, backend))


def list_jaccard(a: npt.NDArray[np.int64], b: npt.NDArray[np.int64]) -> float | None:
    """Mean over rows of ``|A ∩ B| / |A ∪ B|`` (``-1`` entries are no item).

    Rows where both lists are empty are left out; None when every row is.
    """
    inter = intersection_sizes(a, b).astype(np.float64)
    union = (a >= 0).sum(axis=1) + (b >= 0).sum(axis=1) - inter
    ok = union > 0
    return float((inter[ok] / union[ok]).mean()) if ok.any() else None


@dataclass(frozen=True)
class SetMetrics:
    n: int
    r2: float
    r2_uniform: float
    cosine: float
    geojac: float
    geojac_k: int
    spearman: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "r2": self.r2,
            "r2_uniform": self.r2_uniform,
            "cosine": self.cosine,
            "geojac": self.geojac,
            "geojac_k": self.geojac_k,
            "spearman": self.spearman,
        }


def set_metrics(
    true: F64, mapped: F64, backend: Backend, seed: int, *, side: TrueSide | None = None
) -> SetMetrics:
    """Every metric of one item set (``side``: what the true rows alone give, kept across the
    capacities scored on the same set; the numbers are the same with or without it)."""
    kept = None if side is None else side.of(true)
    r2, r2u = r2_scores(true, mapped)
    gj, k = geojac(true, mapped, backend, kept=kept)
    return SetMetrics(
        n=int(true.shape[0]),
        r2=r2,
        r2_uniform=r2u,
        cosine=mean_cosine(mapped, true),
        geojac=gj,
        geojac_k=k,
        spearman=anchor_spearman(true, mapped, seed, kept=kept),
    )
