"""N ≥ 2 named views of the same items: pairwise agreement, and what each view adds.

Definitions (fixed; also in docs/definitions.md and the JSON under ``definitions``), on top of
those of :mod:`complement.core.overlap` (item-level) and :mod:`complement.core.evaluation`,
:mod:`complement.core.hits` and :mod:`complement.core.oracle` (user-level):

- Item level, for every pair (a, b) of views (a before b in the order given):
  ``overlap@k``, ``jaccard@k`` and their companions exactly as ``complement overlap`` defines
  them for (S, C), ``ci95`` from 1000 bootstrap resamples of the query items (seeded); linear
  CKA and debiased linear CKA (:mod:`complement.core.cka`). Each view is searched once, at the
  largest k, and every pair and every k is read from those lists.
- User level (with a log and a split), each view scored as ``hits`` scores a view without user
  embeddings (cosine between the unit mean of the L2-normalised history items and each item),
  history excluded exactly. ``R_v``: view v's top-K list, ``H_v = R_v ∩ T_u``.
- ``recall``, ``ndcg`` per view; ``hits.<v> = Σ_u |H_v|``;
  ``unique_hits.<v> = Σ_u |H_v \\ ∪_{w≠v} R_w|`` (test hits no other view has in its top K);
  ``unique_recall.<v>`` = mean over users of ``|H_v \\ ∪_{w≠v} R_w| / |T_u|`` (what the union
  oracle loses without v).
- Oracles over all N views: ``union = |(∪_v R_v) ∩ T_u| / |T_u|``,
  ``budget = min(K, |(∪_v R_v) ∩ T_u|) / |T_u|``, ``select = max_v Recall_v(u)``; means over
  users. ``best_single``: the view with the highest mean Recall@K (ties: the earlier view);
  ``gain.<bound> = (bound − best_single) / best_single``.
- ``greedy``: forward selection on the budget oracle. Step 1 is the best single view (the
  anchor with ``--anchor``), ``budget`` = its Recall@K, ``gain`` null; each later step adds the
  view whose addition gives the highest mean budget oracle of the selected set (ties: the
  earlier view); ``gain`` = the budget of the new set minus that of the previous one. The
  selection uses the point estimates; the intervals resample users with the order fixed.
- ``pairs.<a>.<b>`` (user level): ``list_jaccard = |R_a ∩ R_b| / |R_a ∪ R_b|``, and the union
  and budget oracles of the two views; every pair, or with ``--anchor`` only the pairs with the
  anchor.
- ``anchor`` (``--anchor A``): for every other view v, ``budget`` = the budget oracle of
  {A, v}, ``gain = budget − Recall_A`` (per user, then the mean), ``unique_hits =
  Σ|H_v \\ R_A|`` (v's hits A misses), ``anchor_only = Σ|H_A \\ R_v|``; ``ranking`` lists the
  views by gain, largest first (ties: the earlier view).
- Intervals: 95% percentile bootstrap over users (``n_boot``, seeded), every figure of every K
  from the same resamples.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.core.cka import DEFINITIONS as CKA_DEFINITIONS
from complement.core.cka import pairwise_cka
from complement.core.compare_users import (
    AnchorAtK,
    GreedyStep,
    UserCompare,
    UsersAtK,
    compare_users,
    greedy_budget,
    pairs_of,
    users_from_lists,
)
from complement.core.stats import N_BOOT, bootstrap_estimates
from complement.errors import UsageError
from complement.retrieval import Backend, get_backend, item_knn

__all__ = [
    "DEFINITIONS",
    "AnchorAtK",
    "GreedyStep",
    "ItemCompare",
    "PairAtK",
    "PairStats",
    "UserCompare",
    "UsersAtK",
    "compare_items",
    "compare_users",
    "greedy_budget",
    "knn_lists",
    "intersections",
    "pair_intersections",
    "pairs_of",
    "query_items",
    "users_from_lists",
]

DEFINITIONS = {
    "views": "the views compared, in the order given; a pair (a, b) has a before b",
    "overlap": "per pair: |N_a(i) ∩ N_b(i)| / k, averaged over query items (as complement "
    "overlap for S and C); each view searched once at the largest k",
    "jaccard": "per pair: |N_a(i) ∩ N_b(i)| / |N_a(i) ∪ N_b(i)|, averaged over query items",
    "chance": "k / (n_items - 1)",
    "ci95_overlap": "95% percentile bootstrap interval of the mean overlap, query items "
    "resampled 1000 times (seeded)",
    **CKA_DEFINITIONS,
    "scoring": "each view scored as hits scores a view without user embeddings: cosine between "
    "the unit mean of the L2-normalised history items and each item; history excluded",
    "hits": "Σ_u |H_v|, H_v = R_v ∩ T_u (pooled test hits of view v in its top K)",
    "unique_hits": "Σ_u |H_v \\ ∪_{w≠v} R_w|: test hits of v that no other view has in its top K",
    "unique_recall": "mean over users of |H_v \\ ∪_{w≠v} R_w| / |T_u|: what the union oracle "
    "loses without v",
    "union": "|(∪_v R_v) ∩ T_u| / |T_u| over all views, mean over users",
    "budget": "min(K, |(∪_v R_v) ∩ T_u|) / |T_u| over all views, mean over users",
    "select": "max_v Recall_v(u), mean over users",
    "best_single": "the view with the highest mean Recall@K (ties: the earlier view)",
    "gain": "(bound - best_single) / best_single, on mean Recall@K",
    "greedy": "forward selection on the budget oracle: step 1 = the best single view (the "
    "anchor with --anchor; gain null), each later step adds the view giving the highest mean "
    "budget of the selected set (ties: the earlier view); gain = budget of the new set minus "
    "budget of the previous one; selection on point estimates, intervals over user resamples "
    "with the order fixed",
    "pairs": "user level, per pair: list_jaccard = |R_a ∩ R_b| / |R_a ∪ R_b|, union and budget "
    "oracles of the two views; every pair, or with --anchor only the pairs with the anchor",
    "anchor": "per other view v: budget = budget oracle of {anchor, v}; gain = budget - "
    "Recall_anchor; unique_hits = Σ|H_v \\ R_anchor|; anchor_only = Σ|H_anchor \\ R_v|; "
    "ranking = views by gain, largest first (ties: the earlier view)",
    "ci95": "2.5 and 97.5 percentiles over n_boot bootstrap resamples of the evaluated users "
    "(seeded by --seed), every figure of every K from the same resamples",
}

Progress = Callable[[int, int], None]
Lists = npt.NDArray[np.int64]


# ------------------------------------------------------------------------------ item level


@dataclass(frozen=True)
class PairAtK:
    overlap: float
    jaccard: float
    overlap_median: float
    zero_fraction: float
    chance: float
    ci95: tuple[float, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "overlap": self.overlap,
            "jaccard": self.jaccard,
            "overlap_median": self.overlap_median,
            "zero_fraction": self.zero_fraction,
            "chance": self.chance,
            "ci95": list(self.ci95),
        }


@dataclass(frozen=True)
class PairStats:
    per_k: dict[int, PairAtK]
    cka_linear: float
    cka_debiased: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "k": {str(k): v.to_dict() for k, v in sorted(self.per_k.items())},
            "cka_linear": self.cka_linear,
            "cka_debiased": self.cka_debiased,
        }


@dataclass(frozen=True)
class ItemCompare:
    names: tuple[str, ...]
    n_items: int
    n_queries: int
    metric: str
    seed: int
    sample: int | None
    pairs: dict[tuple[str, str], PairStats]
    #: per view: the k-NN lists of the query items at the largest k
    lists: dict[str, Lists] = field(repr=False, default_factory=dict)
    query_index: npt.NDArray[np.int64] = field(
        repr=False, default_factory=lambda: np.zeros(0, np.int64)
    )
    #: per pair and k: overlap@k of each query item
    per_item: dict[tuple[str, str, int], npt.NDArray[np.float64]] = field(
        repr=False, default_factory=dict
    )

    def to_dict(self) -> dict[str, Any]:
        nested: dict[str, dict[str, Any]] = {}
        for (a, b), stats in self.pairs.items():
            nested.setdefault(a, {})[b] = stats.to_dict()
        return {
            "n_items": self.n_items,
            "n_queries": self.n_queries,
            "metric": self.metric,
            "seed": self.seed,
            "sample": self.sample,
            "pairs": nested,
        }


def _check_item_ks(ks: Sequence[int], n: int) -> tuple[int, ...]:
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
    return tuple(sorted(set(int(k) for k in ks)))


def query_items(n: int, sample: int | None, seed: int) -> npt.NDArray[np.int64]:
    """All items, or ``sample`` of them drawn without replacement (seeded), ascending."""
    if sample is not None and sample < 1:
        raise UsageError(f"--sample {sample}: give a positive number of query items")
    if sample is None or sample >= n:
        return np.arange(n, dtype=np.int64)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n, size=sample, replace=False)).astype(np.int64)


def knn_lists(
    matrices: Sequence[npt.NDArray[Any]],
    kmax: int,
    backend: Backend,
    *,
    query: npt.NDArray[np.int64],
    cosine: bool,
    progress: Progress | None = None,
) -> list[Lists]:
    """Each view's ``kmax`` nearest items of every query item: one search per view.

    The widest view is searched first and the memory each search freed is handed back to the
    system before the next one, so the peak is that of the widest search alone (a search of
    another shape does not reuse what the allocator kept of the previous one).
    """
    q = int(query.shape[0])
    total = q * len(matrices)
    n = int(matrices[0].shape[0]) if matrices else 0
    # every item queried: no query_index, so the view itself is the query set (never copied)
    every = q == n and bool(np.array_equal(query, np.arange(n)))
    out: list[Lists | None] = [None] * len(matrices)
    order = sorted(range(len(matrices)), key=lambda j: -int(matrices[j].shape[1]))
    release_freed_memory()  # what loading freed (read buffers), before the widest search
    for step, j in enumerate(order):

        def stage(done: int, _total: int, offset: int = step * q) -> None:
            if progress is not None:
                progress(offset + done, total)

        out[j] = item_knn(
            matrices[j],
            kmax,
            backend,
            query_index=None if every else query,
            cosine=cosine,
            progress=stage,
        )
        release_freed_memory()
    return [lists for lists in out if lists is not None]


def release_freed_memory() -> None:
    """Return the heap memory freed so far to the system (glibc's ``malloc_trim``; a no-op
    elsewhere). The retrieval's worker threads free their scratch in their own arenas, which
    glibc keeps for reuse; a later allocation of another shape may not fit them."""
    global _TRIM
    if _TRIM is None:
        try:
            _TRIM = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _TRIM = False
    if _TRIM:
        _TRIM(0)


_TRIM: Any = None


#: bytes of the rank table of a chunk of query rows (rows × items)
_RANK_BYTES = 4 * 1024 * 1024


def intersections(
    lists: Sequence[Lists], pairs: Sequence[tuple[int, int]], ks: Sequence[int]
) -> list[dict[int, npt.NDArray[np.int64]]]:
    """``|a[r, :k] ∩ b[r, :k]|`` per row, for every pair ``(a, b)`` of lists and every k.

    Rows hold distinct entries; ``-1`` entries never match. For a chunk of rows, each second
    member ``b`` writes the rank of its entries into a (rows × items) table, every ``a`` paired
    with it reads the ranks of its own entries there (``width`` where absent), and the table is
    reset entry by entry: O(rows × width) per pair, nothing sorted, memory bounded by the
    chunk. The intersection at k counts the entries among a's first k whose rank is below k.
    """
    ks = sorted(set(int(k) for k in ks))
    n, width = (int(s) for s in lists[0].shape)
    out = [{k: np.zeros(n, dtype=np.int64) for k in ks} for _ in pairs]
    if n == 0 or width == 0 or not pairs:
        return out
    n_cols = max(int(m.max(initial=-1)) for m in lists) + 1
    if n_cols <= 0:
        return out
    dtype = np.int16 if width < 2**15 else np.int32
    chunk = max(1, min(n, _RANK_BYTES // (n_cols * np.dtype(dtype).itemsize)))
    table = np.full((chunk, n_cols), width, dtype=dtype)
    ranks = np.arange(width, dtype=dtype)
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        rows = np.arange(stop - start)[:, None]
        for b in sorted({second for _, second in pairs}):
            block = lists[b][start:stop]
            valid = block >= 0
            where = (np.broadcast_to(rows, block.shape)[valid], block[valid])
            table[where] = np.broadcast_to(ranks, block.shape)[valid]
            for p, (a, second) in enumerate(pairs):
                if second != b:
                    continue
                mine = lists[a][start:stop]
                rank = np.where(mine >= 0, table[rows, np.maximum(mine, 0)], width)
                for k in ks:
                    out[p][k][start:stop] = (rank[:, :k] < k).sum(axis=1)
            table[where] = width
    return out


def pair_intersections(a: Lists, b: Lists, ks: Sequence[int]) -> dict[int, npt.NDArray[np.int64]]:
    """``|a[r, :k] ∩ b[r, :k]|`` per row for every k (see :func:`intersections`)."""
    return intersections([a, b], [(0, 1)], ks)[0]


def compare_items(
    matrices: Sequence[npt.NDArray[Any]],
    names: Sequence[str],
    ks: Sequence[int] = (10, 20, 50),
    backend: Backend | None = None,
    *,
    metric: str = "cosine",
    sample: int | None = None,
    seed: int = 0,
    progress: Progress | None = None,
) -> ItemCompare:
    """Neighbour overlap@k, jaccard@k and CKA (linear, debiased) of every pair of views."""
    backend = backend if backend is not None else get_backend()
    if len(matrices) < 2 or len(matrices) != len(names):
        raise UsageError("compare needs at least two named views of the same items")
    n = int(matrices[0].shape[0])
    if any(int(m.shape[0]) != n for m in matrices):
        raise UsageError("the views must have the same items (join them first)")
    ks = _check_item_ks(ks, n)
    query = query_items(n, sample, seed)
    cosine = metric == "cosine"
    lists = knn_lists(matrices, max(ks), backend, query=query, cosine=cosine, progress=progress)
    by_name = dict(zip(names, lists, strict=True))
    linear, debiased = pairwise_cka(matrices, cosine=cosine)
    pairs = pairs_of(names)
    index = {name: j for j, name in enumerate(names)}
    counted = intersections(lists, [(index[a], index[b]) for a, b in pairs], ks)
    inters = dict(zip(pairs, counted, strict=True))
    per_item: dict[tuple[str, str, int], npt.NDArray[np.float64]] = {}
    columns: dict[str, Any] = {}
    for (a, b), per_k in inters.items():
        for k, inter in per_k.items():
            per_item[(a, b, k)] = inter.astype(np.float64) / k
            # integer counts resample exactly (one slice in count_products); / k afterwards
            columns[f"{a}|{b}|{k}"] = inter.astype(np.float64)
    est = bootstrap_estimates(columns, n_boot=N_BOOT, seed=seed)
    out: dict[tuple[str, str], PairStats] = {}
    for a, b in pairs:
        rows: dict[int, PairAtK] = {}
        for k in ks:
            inter = inters[(a, b)][k].astype(np.float64)
            ov = per_item[(a, b, k)]
            rows[k] = PairAtK(
                overlap=float(ov.mean()),
                jaccard=float((inter / (2 * k - inter)).mean()),
                overlap_median=float(np.median(ov)),
                zero_fraction=float(np.mean(inter == 0)),
                chance=k / (n - 1),
                ci95=(est[f"{a}|{b}|{k}"].ci95[0] / k, est[f"{a}|{b}|{k}"].ci95[1] / k),
            )
        out[(a, b)] = PairStats(
            per_k=rows,
            cka_linear=float(linear[index[a], index[b]]),
            cka_debiased=float(debiased[index[a], index[b]]),
        )
    return ItemCompare(
        names=tuple(names),
        n_items=n,
        n_queries=int(query.shape[0]),
        metric=metric,
        seed=seed,
        sample=sample,
        pairs=out,
        lists=by_name,
        query_index=query,
        per_item=per_item,
    )
