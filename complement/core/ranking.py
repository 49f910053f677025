"""Per-view scoring and ranking of the evaluated users (history excluded exactly).

Definitions (fixed; see :mod:`complement.core.evaluation` and docs/definitions.md):

- Scores of a view: with user embeddings, the inner product ``p_u · x_i``; without, the cosine
  between ``q_u`` = the mean over ``H_u`` of the L2-normalised item vectors, and each item.
  (``cosine=True`` turns user embeddings into cosine scores too, as fusion needs.)
- Ranking: every item of ``H_u`` is excluded exactly; the top K by (score descending, item index
  ascending). A slot that only an excluded item could fill is ``-1`` and never a hit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.core.evaluation import EvalData, check_ks
from complement.errors import UsageError
from complement.retrieval import Backend, inverse_norms, user_topk

__all__ = ["rank", "unit_rows", "user_queries", "weighted_row_sums"]

Progress = Callable[[int, int], None]
#: rows summed together by :func:`weighted_row_sums` (two float32 blocks of this many rows:
#: 128 × d = 384 is 192 KB each, in cache; on 2 cores 1.3-1.5 times faster than 2048 rows,
#: from the fixture to 20,000 users; every row's sum is the same whatever the block)
_SUM_ROWS = 128
#: history rows × dimensions up to which the history means are summed in numpy. Past that,
#: scipy's CSR product (the same bits, about 2.5 times faster) repays its import (0.3-0.5 s)
_NUMPY_SUM_VALUES = 1 << 27


def unit_rows(matrix: npt.NDArray[Any]) -> npt.NDArray[np.float32]:
    """Rows scaled to unit L2 norm (float32; all-zero rows stay zero)."""
    return _unit_rows_in_place(np.array(matrix, dtype=np.float32))  # the one copy


def _unit_rows_in_place(m: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """:func:`unit_rows` of a float32 array of the caller's own, scaled in place."""
    norms = np.sqrt(np.einsum("ij,ij->i", m, m, dtype=np.float64))
    scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    m *= scale[:, None].astype(np.float32)
    return m


def _cosine_scale(items: npt.NDArray[Any]) -> npt.NDArray[np.float32]:
    with np.errstate(divide="ignore"):
        inv = inverse_norms(items)
    if not np.isfinite(inv).all():
        raise UsageError(
            f"{int((~np.isfinite(inv)).sum())} item vectors are all zeros and have no cosine "
            "score; leave them out with --drop-invalid (under --metric cosine)"
        )
    return inv


def user_queries(
    ev: EvalData,
    items: npt.NDArray[Any],
    *,
    user_vectors: npt.NDArray[Any] | None = None,
    cosine: bool = False,
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32] | None]:
    """Query vectors of the evaluated users and the per-item scale to score them with.

    Without ``user_vectors``: unit-length mean of the L2-normalised history items, scored by
    cosine (item scale = 1/‖x_i‖). With ``user_vectors`` (one row per log user): those rows,
    scored by inner product, or by cosine when ``cosine=True``. Zero queries score 0 everywhere.
    """
    if user_vectors is None:
        inv = _cosine_scale(items)
        counts = np.diff(ev.history_indptr)
        data = inv[ev.history_indices]
        data /= np.repeat(counts, counts).astype(np.float32)
        x = np.asarray(items, dtype=np.float32)
        if data.size * x.shape[1] <= _NUMPY_SUM_VALUES:  # no scipy import: see the function
            q = weighted_row_sums(ev.history_indptr, ev.history_indices, data, x)
        else:
            import scipy.sparse as sp  # here: its import is paid only by large logs

            mean = sp.csr_matrix(
                (data, ev.history_indices, ev.history_indptr), shape=(ev.n_users, ev.n_items)
            )
            del data
            q = np.asarray(mean @ x, dtype=np.float32)  # the same bits (weighted_row_sums)
            del mean
            if not q.flags.c_contiguous or not q.flags.owndata:
                q = np.array(q, dtype=np.float32)
        return _unit_rows_in_place(q), inv
    q = np.asarray(np.asarray(user_vectors)[ev.users], dtype=np.float32)
    if cosine:
        return unit_rows(q), _cosine_scale(items)
    return np.ascontiguousarray(q), None


def weighted_row_sums(
    indptr: npt.NDArray[np.int64],
    indices: npt.NDArray[Any],
    weights: npt.NDArray[np.float32],
    x: npt.NDArray[np.float32],
) -> npt.NDArray[np.float32]:
    """Row ``u`` of the result: the sum over ``indices[indptr[u]:indptr[u+1]]``, in that order,
    of ``weights[e] * x[indices[e]]``, in float32 (a CSR matrix times ``x``).

    Each entry is ``0 + w₁x₁ + w₂x₂ + …`` with every product and every sum rounded to float32
    in turn: the operations of scipy's CSR-times-dense product (``csr_matvecs``), so the same
    bits (tested), without importing scipy. Rows are taken by decreasing length in blocks of
    ``_SUM_ROWS``; step ``p`` adds the ``p``-th entry of every row that has one.
    """
    n, d = indptr.shape[0] - 1, int(x.shape[1])
    counts = np.diff(indptr)
    out = np.zeros((n, d), dtype=np.float32)
    order = np.argsort(-counts, kind="stable")
    acc = np.empty((min(n, _SUM_ROWS), d), dtype=np.float32)
    term = np.empty_like(acc)
    for b0 in range(0, n, _SUM_ROWS):
        rows = order[b0 : b0 + _SUM_ROWS]
        left, start = counts[rows], indptr[rows]
        live = rows.shape[0]
        acc[:live] = 0.0
        for p in range(int(left[0]) if live else 0):
            while left[live - 1] <= p:  # rows are by decreasing length: drop the ended ones
                live -= 1
            at = start[:live] + p
            np.take(x, indices[at], axis=0, out=term[:live])
            term[:live] *= weights[at][:, None]
            acc[:live] += term[:live]
        out[rows] = acc[: rows.shape[0]]
    return out


def rank(
    ev: EvalData,
    queries: npt.NDArray[Any],
    items: npt.NDArray[Any],
    k: int,
    backend: Backend,
    *,
    item_scale: npt.NDArray[np.float32] | None = None,
    progress: Progress | None = None,
) -> npt.NDArray[np.int64]:
    """Top-``k`` item indices per evaluated user, history excluded exactly (``-1``: no item)."""
    check_ks([k], ev.n_items)
    idx, _ = user_topk(
        queries, items, k, backend, history=ev.history, item_scale=item_scale, progress=progress
    )
    return idx
