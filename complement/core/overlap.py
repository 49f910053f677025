"""Item-level neighbour agreement between the two views, and linear CKA.

Definitions (fixed; also in docs/definitions.md and the JSON under ``definitions``):

- Similarity is cosine on L2-normalised rows (``metric="ip"``: raw inner product).
  ``N_S(i)``, ``N_C(i)``: the k nearest neighbours of item i in each view, i itself excluded,
  ties broken by lower item index.
- ``overlap@k(i) = |N_S(i) ∩ N_C(i)| / k``; ``jaccard@k(i) = |N_S ∩ N_C| / |N_S ∪ N_C|``.
- Per k: mean of both over query items, median overlap, fraction of items with zero overlap,
  chance level ``k / (n - 1)``, and a 95% percentile-bootstrap interval of the mean overlap
  (query items resampled, seeded).
- Linear CKA in feature space: ``‖YᵀX‖²_F / (‖XᵀX‖_F ‖YᵀY‖_F)`` on column-centred X, Y (rows
  L2-normalised first under cosine); never through an n×n matrix.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.core.popularity import GROUPS
from complement.core.stats import bootstrap_mean_ci
from complement.core.validate import as_ks, check_views
from complement.errors import UsageError
from complement.retrieval import Backend, get_backend, inverse_norms, item_knn
from complement.retrieval.pool import in_order, one_blas_thread

__all__ = [
    "DEFINITIONS",
    "OverlapAtK",
    "OverlapResult",
    "intersection_sizes",
    "item_overlap",
    "linear_cka",
]

DEFINITIONS = {
    "similarity": "cosine on L2-normalised rows (metric=ip: raw inner product); "
    "item i itself excluded; ties broken by lower item index",
    "overlap": "|N_S(i) ∩ N_C(i)| / k, averaged over query items",
    "jaccard": "|N_S(i) ∩ N_C(i)| / |N_S(i) ∪ N_C(i)|, averaged over query items",
    "overlap_median": "median over query items of overlap@k(i)",
    "zero_fraction": "fraction of query items with overlap@k(i) = 0",
    "chance": "k / (n_items - 1): expected overlap of two independent random neighbour lists",
    "ci95": "95% percentile bootstrap interval of the mean overlap, query items resampled "
    "1000 times (seeded)",
    "cka_linear": "||Y^T X||_F^2 / (||X^T X||_F ||Y^T Y||_F) on column-centred X, Y "
    "(rows L2-normalised first under cosine)",
    "groups": "popularity group of the query item by interaction count in the log: "
    "cold = bottom 60% of items, mid = next 20%, hot = top 20%",
}

#: Bytes of one float64 block of rows in the CKA's Gram sums (memory stays flat in n).
_BLOCK_BYTES = 16 * 1024 * 1024
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class OverlapAtK:
    k: int
    overlap: float
    jaccard: float
    overlap_median: float
    zero_fraction: float
    chance: float
    ci95: tuple[float, float]
    groups: dict[str, dict[str, float | int]] | None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "overlap": self.overlap,
            "jaccard": self.jaccard,
            "overlap_median": self.overlap_median,
            "zero_fraction": self.zero_fraction,
            "chance": self.chance,
            "ci95": list(self.ci95),
        }
        if self.groups is not None:
            out["groups"] = self.groups
        return out


@dataclass(frozen=True)
class OverlapResult:
    n_items: int
    n_queries: int
    metric: str
    cka_linear: float
    seed: int
    sample: int | None
    per_k: dict[int, OverlapAtK]
    per_item: dict[int, npt.NDArray[np.float64]]
    query_index: npt.NDArray[np.int64]

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_items": self.n_items,
            "n_queries": self.n_queries,
            "metric": self.metric,
            "cka_linear": self.cka_linear,
            "seed": self.seed,
            "sample": self.sample,
            "k": {str(k): v.to_dict() for k, v in sorted(self.per_k.items())},
        }


def intersection_sizes(a: npt.NDArray[np.int64], b: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """``|a_r ∩ b_r|`` per row for rows of distinct entries (``-1`` entries never match)."""
    both = np.sort(np.concatenate([a, b], axis=1), axis=1)
    same = (both[:, 1:] == both[:, :-1]) & (both[:, 1:] >= 0)
    return np.asarray(same.sum(axis=1), dtype=np.int64)


def _gram_stats(
    matrix: npt.NDArray[Any],
    scale: npt.NDArray[np.float32] | None,
    other: npt.NDArray[Any],
    oscale: npt.NDArray[np.float32] | None,
) -> tuple[
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
]:
    n = matrix.shape[0]
    dx, dy = matrix.shape[1], other.shape[1]
    block = max(1, _BLOCK_BYTES // (8 * max(dx, dy, 1)))
    xtx = np.zeros((dx, dx))
    yty = np.zeros((dy, dy))
    ytx = np.zeros((dy, dx))
    sx = np.zeros(dx)
    sy = np.zeros(dy)

    def part(start: int) -> Any:
        def task() -> tuple[Any, ...]:
            x = np.array(matrix[start : start + block], dtype=np.float64)
            y = np.array(other[start : start + block], dtype=np.float64)
            if scale is not None and oscale is not None:
                x *= scale[start : start + block, None]
                y *= oscale[start : start + block, None]
            return x.T @ x, y.T @ y, y.T @ x, x.sum(axis=0), y.sum(axis=0)

        return task

    # blocks on one BLAS thread each, summed in block order: the same bits on any machine
    for bxx, byy, byx, bsx, bsy in in_order(part(s) for s in range(0, n, block)):
        xtx += bxx
        yty += byy
        ytx += byx
        sx += bsx
        sy += bsy
    return xtx, yty, ytx, sx, sy


def linear_cka(x: npt.NDArray[Any], y: npt.NDArray[Any], *, cosine: bool = True) -> float:
    """Linear CKA of two views over the same rows, in feature space (float64, block-wise)."""
    x, y = check_views(x, y, "linear_cka", ("x", "y"))
    return _linear_cka(x, y, cosine=cosine)


def _linear_cka(x: npt.NDArray[Any], y: npt.NDArray[Any], *, cosine: bool) -> float:
    n = x.shape[0]
    sx_scale = inverse_norms(x) if cosine else None
    sy_scale = inverse_norms(y) if cosine else None
    xtx, yty, ytx, sx, sy = _gram_stats(x, sx_scale, y, sy_scale)
    mx, my = sx / n, sy / n
    cxx = xtx - n * np.outer(mx, mx)
    cyy = yty - n * np.outer(my, my)
    cyx = ytx - n * np.outer(my, mx)
    with one_blas_thread():  # the norms are BLAS dot products: the same bits on any machine
        denom = np.linalg.norm(cxx) * np.linalg.norm(cyy)
        if denom <= 0:
            return float("nan")
        return float(np.linalg.norm(cyx) ** 2 / denom)


def item_overlap(
    sem: npt.NDArray[Any],
    cf: npt.NDArray[Any],
    ks: Sequence[int] = (10, 20, 50),
    backend: Backend | None = None,
    *,
    metric: str = "cosine",
    sample: int | None = None,
    seed: int = 0,
    groups: npt.NDArray[np.int8] | None = None,
    progress: Progress | None = None,
) -> OverlapResult:
    """Neighbour agreement of the two views for every k in ``ks`` (one search at max k)."""
    sem, cf = check_views(sem, cf, "item_overlap")
    ks = as_ks(ks, "item_overlap")
    backend = backend if backend is not None else get_backend()
    n = int(sem.shape[0])
    if not ks:
        raise UsageError("--k is empty: give at least one k, for example --k 10,20,50")
    for k in ks:
        if k < 1:
            raise UsageError(f"--k {k}: every k must be a positive integer")
        if k >= n - 1:
            raise UsageError(
                f"--k {k} is not smaller than the number of items minus one ({n} items; each has "
                f"{n - 1} others, so every list would hold all of them and agree trivially); "
                "lower it"
            )
    kmax = max(ks)
    if sample is not None and sample < 1:
        raise UsageError(f"--sample {sample}: give a positive number of query items")
    if sample is None or sample >= n:
        query = np.arange(n, dtype=np.int64)
    else:
        rng = np.random.default_rng(seed)
        query = np.sort(rng.choice(n, size=sample, replace=False)).astype(np.int64)
    cosine = metric == "cosine"
    q = query.shape[0]

    def stage(offset: int) -> Progress | None:
        if progress is None:
            return None
        return lambda done, _total: progress(offset + done, 2 * q)

    ns = item_knn(sem, kmax, backend, query_index=query, cosine=cosine, progress=stage(0))
    nc = item_knn(cf, kmax, backend, query_index=query, cosine=cosine, progress=stage(q))
    per_k: dict[int, OverlapAtK] = {}
    per_item: dict[int, npt.NDArray[np.float64]] = {}
    qgroups = groups[query] if groups is not None else None
    for k in sorted(set(ks)):
        inter = intersection_sizes(ns[:, :k], nc[:, :k]).astype(np.float64)
        ov = inter / k
        jac = inter / (2 * k - inter)
        per_item[k] = ov
        group_stats: dict[str, dict[str, float | int]] | None = None
        if qgroups is not None:
            group_stats = {}
            for g, name in enumerate(GROUPS):
                m = qgroups == g
                group_stats[name] = {
                    "n": int(m.sum()),
                    "overlap": float(ov[m].mean()) if m.any() else float("nan"),
                    "jaccard": float(jac[m].mean()) if m.any() else float("nan"),
                }
        per_k[k] = OverlapAtK(
            k=k,
            overlap=float(ov.mean()),
            jaccard=float(jac.mean()),
            overlap_median=float(np.median(ov)),
            zero_fraction=float(np.mean(inter == 0)),
            chance=k / (n - 1),
            ci95=bootstrap_mean_ci(ov, seed=seed),
            groups=group_stats,
        )
    return OverlapResult(
        n_items=n,
        n_queries=q,
        metric=metric,
        cka_linear=_linear_cka(sem, cf, cosine=cosine),
        seed=seed,
        sample=sample,
        per_k=per_k,
        per_item=per_item,
        query_index=query,
    )
