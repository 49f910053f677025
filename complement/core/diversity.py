"""Informational diversity of ranked lists and of embedding matrices.

Definitions (fixed; also in docs/definitions.md and the JSON under ``definitions``):

- ``coverage@K``: the share of the candidate items that appear in the top-K list of at least
  one evaluated user (``-1`` slots are not items).
- ``intra_list_diversity@K``: per user, the mean over the pairs of distinct listed items of the
  cosine distance ``1 − cos(x_i, x_j)`` in the diversity view; then the mean over the users
  whose list holds at least two items. With unit rows ``v`` the sum of a list's pairwise
  cosines is ``(‖Σ v‖² − Σ‖v‖²) / 2``, so no K×K (or n×n) matrix is formed.
- ``effective_rank`` of a matrix X (rows = items, as given): ``exp(−Σ p_i log p_i)`` with
  ``p_i = s_i / Σ s_j`` over the singular values ``s_i`` of X (zero terms left out; Roy and
  Vetterli 2007). The singular values come from the eigenvalues of the d×d Gram matrix XᵀX
  summed in float64 blocks (an SVD when X has fewer rows than columns), on one BLAS thread so
  that the result does not depend on the thread count.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "DEFINITIONS",
    "Diversity",
    "DiversityMemo",
    "coverage",
    "diversity_of",
    "effective_rank",
    "intra_list_diversity",
    "singular_values",
]

DEFINITIONS = {
    "coverage": "share of the candidate items recommended (in the top K) to at least one "
    "evaluated user",
    "intra_list_diversity": "mean over evaluated users (lists of >= 2 items) of the mean "
    "pairwise cosine distance 1 - cos(x_i, x_j) among their top-K items, in the diversity view",
    "effective_rank": "exp(-sum p_i log p_i), p_i = s_i / sum_j s_j over the singular values "
    "of the item embedding matrix as given (Roy & Vetterli 2007); a d-dimensional matrix has "
    "effective rank between 1 and d",
    "diversity_view": "the view whose cosine distance measures intra-list diversity "
    "(--diversity-view)",
}

#: bytes of one float64 block of gathered list vectors (memory stays flat in the users)
_BLOCK_BYTES = 32 * 1024 * 1024
#: float64 values of one sub-block of gathered list vectors (512 KB: stays in cache)
_CACHE_VALUES = 1 << 16


def coverage(lists: npt.NDArray[np.int64], n_items: int) -> float:
    """Share of the ``n_items`` candidates that appear in at least one list."""
    if n_items <= 0:
        return float("nan")
    valid = np.asarray(lists)
    valid = valid[valid >= 0]
    return float(np.count_nonzero(np.bincount(valid, minlength=n_items)) / n_items)


def intra_list_diversity(lists: npt.NDArray[np.int64], unit_vectors: npt.NDArray[Any]) -> float:
    """Mean over lists of >= 2 items of the mean pairwise ``1 - cos`` (rows of ``unit_vectors``
    L2-normalised by the caller); NaN when no list has two items.

    The users' ``1 - mean cos`` are summed per block of ``_BLOCK_BYTES`` of list vectors; each
    block's per-user sums are computed in cache-sized sub-blocks (``_CACHE_VALUES``), gathered
    and converted to float64 there (exactly). A user's numbers depend on its own list only,
    whatever the sub-block (see :func:`_list_sums`), so ``_CACHE_VALUES`` changes no bit.
    """
    lists = np.asarray(lists, dtype=np.int64)
    n_users, k = lists.shape if lists.ndim == 2 else (0, 0)
    d = int(unit_vectors.shape[1])
    block = max(1, _BLOCK_BYTES // (8 * max(1, k) * max(1, d)))
    total, n_lists = 0.0, 0
    for start in range(0, n_users, block):
        rows = lists[start : start + block]
        valid = rows >= 0
        sq_of_sum, sum_of_sq = _list_sums(rows, valid, unit_vectors)
        m = valid.sum(axis=1).astype(np.float64)
        pairs = m * (m - 1) / 2
        keep = pairs > 0
        mean_cos = (sq_of_sum[keep] - sum_of_sq[keep]) / 2 / pairs[keep]
        total += float((1.0 - mean_cos).sum())
        n_lists += int(keep.sum())
    return total / n_lists if n_lists else float("nan")


def _list_sums(
    rows: npt.NDArray[np.int64], valid: npt.NDArray[np.bool_], unit: npt.NDArray[Any]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Per list: ``‖Σ v‖²`` and ``Σ‖v‖²`` over its listed unit rows ``v`` (empty slots: zero).

    Sub-blocks hold at least two lists (unless ``rows`` is one list): numpy's ``einsum`` sums
    a lone row of more than 8192 values in buffer-sized pieces, other bits than the same row
    among others, which the one-pass computation of the block gave.
    """
    n, k = rows.shape
    step = max(2, _CACHE_VALUES // (max(1, k) * max(1, int(unit.shape[1]))))
    bounds = list(range(0, n, step))
    if len(bounds) > 1 and n - bounds[-1] == 1:
        bounds.pop()  # a lone last list joins the sub-block before it
    bounds.append(n)
    index = np.maximum(rows, 0)
    sq_of_sum = np.empty(n, dtype=np.float64)
    sum_of_sq = np.empty(n, dtype=np.float64)
    # one scratch block, filled in place (no allocation per sub-block); float64 rows taken
    # from a float64 copy of the rows when that is smaller than the gathered rows (exact)
    widest = max((b - a for a, b in zip(bounds[:-1], bounds[1:], strict=True)), default=0)
    scratch = np.empty((widest, k, int(unit.shape[1])), dtype=np.float64)
    src = _float64_rows(unit, index.size)
    for start, stop in zip(bounds[:-1], bounds[1:], strict=True):
        part = slice(start, stop)
        vecs = scratch[: stop - start]
        if src is not None:
            np.take(src, index[part], axis=0, out=vecs, mode="wrap")
        else:
            vecs[...] = unit[index[part]]
        if not valid[part].all():  # times 1.0 changes no bit: only lists with empty slots
            vecs *= valid[part, :, None]
        summed = vecs.sum(axis=1)  # over the list, slot after slot
        sq_of_sum[part] = np.einsum("ij,ij->i", summed, summed)
        sum_of_sq[part] = np.einsum("ijk,ijk->i", vecs, vecs)
    return sq_of_sum, sum_of_sq


def _float64_rows(unit: npt.NDArray[Any], gathered: int) -> npt.NDArray[np.float64] | None:
    """``unit`` as a float64 array to take rows from, or None (gather and convert instead)
    when converting every row would cost more than the ``gathered`` rows."""
    if isinstance(unit, np.ndarray) and unit.dtype == np.float64 and unit.ndim == 2:
        return unit
    if int(unit.shape[0]) > gathered:
        return None
    return np.asarray(unit, dtype=np.float64)


class DiversityMemo:
    """Intra-list diversities already computed in one run, found again by content.

    A value is kept under the identity of the unit rows (the memo holds them) and the lists'
    shape and BLAKE2b digest of their int64 entries, so equal lists in the same rows are
    measured once (a report's hits lists are prefixes of the oracle's, a fusion may return a
    view's own list). The value is what :func:`intra_list_diversity` returns for them.
    """

    def __init__(self) -> None:
        self._units: list[npt.NDArray[Any]] = []
        self._values: dict[tuple[int, tuple[int, ...], bytes], float] = {}

    def intra_list_diversity(
        self, lists: npt.NDArray[np.int64], unit_vectors: npt.NDArray[Any]
    ) -> float:
        arr = np.ascontiguousarray(lists, dtype=np.int64)
        view = next((i for i, u in enumerate(self._units) if u is unit_vectors), None)
        if view is None:
            self._units.append(unit_vectors)
            view = len(self._units) - 1
        key = (view, arr.shape, hashlib.blake2b(arr.data).digest())
        if key not in self._values:
            self._values[key] = intra_list_diversity(arr, unit_vectors)
        return self._values[key]


def singular_values(x: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    """Singular values of ``x`` (descending), via the float64 Gram matrix when ``n >= d``.

    Computed on one BLAS thread: a threaded product or eigensolver may sum in another order,
    and the JSON must not depend on the thread count.
    """
    from complement.retrieval.pool import one_blas_thread

    n, d = int(x.shape[0]), int(x.shape[1])
    with one_blas_thread():
        if n < d:
            values = np.linalg.svd(np.asarray(x, dtype=np.float64), compute_uv=False)
            return np.asarray(values, dtype=np.float64)
        block = max(1, _BLOCK_BYTES // (8 * max(1, d)))
        gram = np.zeros((d, d))
        for start in range(0, n, block):
            part = np.asarray(x[start : start + block], dtype=np.float64)
            gram += part.T @ part
        eig = np.asarray(np.linalg.eigvalsh(gram)[::-1], dtype=np.float64)
    return np.asarray(np.sqrt(np.clip(eig, 0.0, None)), dtype=np.float64)


def effective_rank(x: npt.NDArray[Any]) -> float:
    """``exp`` of the entropy of the normalised singular values (NaN for an all-zero matrix)."""
    s = singular_values(x)
    total = float(s.sum())
    if total <= 0 or not np.isfinite(total):
        return float("nan")
    p = s[s > 0] / total
    return float(np.exp(-(p * np.log(p)).sum()))


@dataclass(frozen=True)
class Diversity:
    """Coverage and intra-list diversity per K and list, effective rank per view."""

    view: str
    n_items: int
    effective_rank: dict[str, float]
    #: K -> list name -> {"coverage", "intra_list_diversity"}
    per_k: dict[int, dict[str, dict[str, float]]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "view": self.view,
            "n_items": self.n_items,
            "effective_rank": dict(self.effective_rank),
            "k": {
                str(k): {
                    "coverage": {name: v["coverage"] for name, v in row.items()},
                    "intra_list_diversity": {
                        name: v["intra_list_diversity"] for name, v in row.items()
                    },
                }
                for k, row in sorted(self.per_k.items())
            },
        }


def diversity_of(
    lists: Mapping[int, Mapping[str, npt.NDArray[np.int64]]],
    unit_vectors: npt.NDArray[Any],
    effective_ranks: Mapping[str, float],
    *,
    view: str,
    ks: Sequence[int] | None = None,
    memo: DiversityMemo | None = None,
) -> Diversity:
    """Every figure: ``lists[K][name]`` are ranked lists (at least K long, cut here at K),
    ``unit_vectors`` the diversity view's unit rows, ``effective_ranks`` each item matrix's
    :func:`effective_rank` (computed once by the caller, shared by every list); ``memo``
    keeps the intra-list diversities for the rest of the run (same values)."""
    n_items = int(unit_vectors.shape[0])
    ild = intra_list_diversity if memo is None else memo.intra_list_diversity
    per_k: dict[int, dict[str, dict[str, float]]] = {}
    for k in sorted(lists if ks is None else ks):
        per_k[k] = {
            name: {
                "coverage": coverage(np.asarray(arr)[:, :k], n_items),
                "intra_list_diversity": ild(np.asarray(arr)[:, :k], unit_vectors),
            }
            for name, arr in lists[k].items()
        }
    return Diversity(
        view=view,
        n_items=n_items,
        effective_rank=dict(effective_ranks),
        per_k=per_k,
    )
