"""Backend-independent ranking: near-ties settled by a canonical score.

A float32 matrix product rounds the same inner product differently depending on where a row
falls in the BLAS (or cuBLAS) tiles: two identical items can score one unit in the last place
apart, so which comes first would depend on blocking, chunking and device. The ranking is
therefore defined on the *canonical score* of a query q and a base row b (both already scaled
to float32): the float32 rounding of the sum of the exact float64 products ``q_i * b_i``, added
in a fixed pairwise order (padding to a power of two with zeros). Identical rows get identical
canonical scores on every backend, so the lower index wins, always.

The product is only used to find the candidates: its error is at most
``e = γ_d ‖q‖ max‖b‖`` with ``γ_d = d u / (1 - d u)``, ``u = 2^-24``. Two ranked entries
whose product scores differ by more than the margin ``2 e + 2 ulp`` are in canonical order;
entries closer than that form a cluster, and only clusters of two or more that reach the k-th
place are rescored canonically and reordered by (canonical score desc, index asc). The search
keeps ``band`` ranks past k so that the cluster at the k-th place is seen whole; a row whose
cluster runs past the band is searched again with a wider band.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from complement.retrieval.blocks import release

__all__ = [
    "BAND",
    "canonical_pairs",
    "canonical_scores",
    "finish",
    "margins",
    "resolve",
    "row_norms",
]

#: Ranks kept past k so that a near-tie at the k-th place can be settled.
BAND = 8
_U = 2.0**-24
_RESCORE_ROWS = 1024  # pairs between releases of a memory map's pages
_SCRATCH_BYTES = 1 << 19  # float64 products of one batch of pairs
_FINISH_ROWS = 8192


def row_norms(x: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    """Euclidean norm of each row, accumulated in float64 (buffered: no float64 copy)."""
    sq = np.einsum("ij,ij->i", x, x, dtype=np.float64)
    return np.asarray(np.sqrt(sq), dtype=np.float64)


def canonical_scores(
    q: npt.NDArray[np.float32], b: npt.NDArray[np.float32]
) -> npt.NDArray[np.float32]:
    """Row-wise canonical score of float32 rows ``q[i]`` and ``b[i]`` (see the module doc)."""
    m, d = q.shape
    out = np.empty(m, dtype=np.float32)
    step = _step(d)
    tree = _Tree(min(m, step), d)
    for s in range(0, m, step):
        tree(q[s : s + step], b[s : s + step], out[s : s + step])
    return out


def _step(d: int) -> int:
    """Rows of a batch whose float64 products fit in ``_SCRATCH_BYTES`` (cache-sized)."""
    return max(8, _SCRATCH_BYTES // (8 * max(d, 1)))


class _Tree:
    """Scratch for the canonical sums of up to ``rows`` pairs of ``d`` columns, allocated once.

    The padded pairwise sum's first level adds column ``j`` to ``j + h`` (``h`` half the
    padded width); where ``j + h`` is padding that is ``p_j + 0.0`` (which turns ``-0.0`` into
    ``+0.0``), so it is computed straight from the products, with no zero padding."""

    def __init__(self, rows: int, d: int) -> None:
        self.d = d
        self.h = (1 << max(0, (d - 1).bit_length())) // 2
        self.lo = max(d - self.h, 0)  # columns with a partner in the first level
        self.prod = np.empty((rows, d), dtype=np.float64)
        self.p = np.empty((rows, max(self.h, 1)), dtype=np.float64)

    def __call__(
        self, q: npt.NDArray[np.float32], b: npt.NDArray[np.float32], out: npt.NDArray[np.float32]
    ) -> None:
        n = q.shape[0]
        d, h, lo = self.d, self.h, self.lo
        prod = self.prod[:n]
        np.multiply(q, b, out=prod, dtype=np.float64)  # exact products
        if d <= 1:  # no sum (d = 0: the padded sum is 0.0)
            out[...] = prod[:, 0] if d == 1 else 0.0
            return
        p = self.p[:n]
        np.add(prod[:, :lo], prod[:, h:], out=p[:, :lo])
        if lo < h:
            np.add(prod[:, lo:h], 0.0, out=p[:, lo:h])
        while h > 1:  # fixed pairwise order: (p0 + p(h/2)), ... down to one column
            h //= 2
            np.add(p[:, :h], p[:, h : 2 * h], out=p[:, :h])
        out[...] = p[:, 0]


def _gather(
    src: npt.NDArray[Any], idx: npt.NDArray[np.int64], out: npt.NDArray[np.float32]
) -> npt.NDArray[np.float32]:
    """``src[idx]`` as float32 into ``out`` (no temporary for a float32 array)."""
    if isinstance(src, np.ndarray) and src.dtype == np.float32 and src.ndim == 2:
        np.take(src, idx, axis=0, out=out, mode="wrap")  # "wrap": unbuffered, as src[idx]
    else:
        out[...] = np.asarray(src[idx], dtype=np.float32)
    return out


def canonical_pairs(
    queries: npt.NDArray[Any],
    base: npt.NDArray[Any],
    rows: npt.NDArray[np.int64],
    cols: npt.NDArray[np.int64],
    query_scale: npt.NDArray[np.float32] | None,
    base_scale: npt.NDArray[np.float32] | None,
) -> npt.NDArray[np.float32]:
    """Canonical scores of (query row, base row) pairs, scaled as in the search, in small
    cache-sized batches (scratch allocated once per call)."""
    out = np.empty(rows.size, dtype=np.float32)
    qs = None if query_scale is None else np.asarray(query_scale, dtype=np.float32)
    bs = None if base_scale is None else np.asarray(base_scale, dtype=np.float32)
    d = int(base.shape[1])
    step = _step(d)
    n = min(rows.size, step)
    tree = _Tree(n, d)
    qbuf = np.empty((n, d), dtype=np.float32)
    bbuf = np.empty((n, d), dtype=np.float32)
    for s in range(0, rows.size, _RESCORE_ROWS):
        e = min(rows.size, s + _RESCORE_ROWS)
        for a in range(s, e, step):
            z = min(e, a + step)
            r, c = rows[a:z], cols[a:z]
            qv = _gather(queries, r, qbuf[: z - a])
            bv = _gather(base, c, bbuf[: z - a])
            if qs is not None:
                qv *= qs[r][:, None]
            if bs is not None:
                bv *= bs[c][:, None]
            tree(qv, bv, out[a:z])
        release(base)  # scattered rows of a memory map: do not keep their pages resident
        release(queries)
    return out


def margins(
    qnorm: npt.NDArray[np.float64], bmax: float, d: int, vals: npt.NDArray[np.float32]
) -> npt.NDArray[np.float64]:
    """Per row, a gap above which the product's order is the canonical order."""
    gamma = d * _U / (1.0 - d * _U)
    err = gamma * qnorm * bmax * (1.0 + 1e-6) + 1e-300
    finite = np.where(np.isfinite(vals), np.abs(vals.astype(np.float64)), 0.0)
    top = np.maximum(finite.max(axis=1, initial=0.0), np.finfo(np.float32).tiny)
    ulp = np.exp2(np.floor(np.log2(top)) - 23)
    return np.asarray(2.0 * err + 2.0 * ulp, dtype=np.float64)


def resolve(
    idx: npt.NDArray[np.int64],
    vals: npt.NDArray[np.float32],
    k: int,
    margin: npt.NDArray[np.float64],
    complete: bool,
    rescore: Any,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32], npt.NDArray[np.bool_]]:
    """First ``k`` of each ranked list (``w >= k`` columns, (score desc, index asc)) in
    canonical order.

    ``complete``: the lists hold every base row. ``rescore(rows, cols)`` returns canonical
    scores of (query row, base index) pairs. Returns the top ``k`` indices and scores and a
    mask of rows whose near-tie at the k-th place ran past the list (search them again wider).
    """
    q, w = idx.shape
    s = vals.astype(np.float64)
    fin = np.isfinite(s)
    near = np.zeros((q, max(w - 1, 0)), dtype=np.bool_)
    if w > 1:
        with np.errstate(invalid="ignore"):
            near = (s[:, :-1] - s[:, 1:] <= margin[:, None]) & fin[:, :-1] & fin[:, 1:]
    cid = np.zeros((q, w), dtype=np.int64)
    if w > 1:
        np.cumsum(~near, axis=1, out=cid[:, 1:])
    kth = cid[:, k - 1]
    if complete:
        unresolved = np.zeros(q, dtype=np.bool_)
    else:
        breaks = ~near[:, k - 1 :] if w > k else np.zeros((q, 0), dtype=np.bool_)
        unresolved = np.asarray(~breaks.any(axis=1), dtype=np.bool_)
    include = cid <= kth[:, None]
    run = np.zeros((q, w), dtype=np.bool_)  # member of a cluster of two or more
    if w > 1:
        run[:, :-1] |= near
        run[:, 1:] |= near
    amb = include & run & ~unresolved[:, None]
    out_idx = idx[:, :k].copy()
    out_val = vals[:, :k].astype(np.float32)
    redo = np.flatnonzero(amb.any(axis=1))  # elsewhere the product's order is canonical
    if redo.size:
        rows, cols = np.nonzero(amb[redo])  # row-major: each cluster's slots in a run
        at = redo[rows]
        cand = idx[at, cols]
        value = np.asarray(rescore(at, cand), dtype=np.float64)
        # the clusters are runs of slots (cid never decreases along a row): sorting their
        # members by (row, cluster, canonical score desc, index asc) and writing them back
        # to the same slots, in order, reorders each cluster within its own slots
        order = np.lexsort((cand, -value, at * w + cid[at, cols]))
        head = cols < k
        out_idx[at[head], cols[head]] = cand[order][head]
        out_val[at[head], cols[head]] = value[order][head]
    return out_idx, out_val, unresolved


def finish(
    queries: npt.NDArray[Any],
    base: npt.NDArray[Any],
    k: int,
    idx: npt.NDArray[np.int64],
    vals: npt.NDArray[np.float32],
    qnorm: npt.NDArray[np.float64],
    bmax: float,
    base_scale: npt.NDArray[np.float32] | None,
    query_scale: npt.NDArray[np.float32] | None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32], npt.NDArray[np.bool_]]:
    """:func:`resolve` for lists found by a backend, in batches of rows (rescoring reads the
    inputs again) spread over worker threads: each batch writes only its own rows, so the
    answer does not depend on the number of threads."""
    from concurrent.futures import ThreadPoolExecutor

    from complement.retrieval.pool import workers

    q = idx.shape[0]
    d = int(base.shape[1])
    complete = idx.shape[1] >= int(base.shape[0])
    out_idx = np.empty((q, k), dtype=np.int64)
    out_val = np.empty((q, k), dtype=np.float32)
    again = np.zeros(q, dtype=np.bool_)

    def batch(s: int) -> None:
        e = min(q, s + _FINISH_ROWS)

        def rescore(rows: npt.NDArray[np.int64], cols: npt.NDArray[np.int64]) -> Any:
            return canonical_pairs(queries, base, rows + s, cols, query_scale, base_scale)

        margin = margins(qnorm[s:e], bmax, d, vals[s:e])
        out_idx[s:e], out_val[s:e], again[s:e] = resolve(
            idx[s:e], vals[s:e], k, margin, complete, rescore
        )

    starts = range(0, q, _FINISH_ROWS)
    n_threads = min(len(starts), workers())
    if n_threads <= 1:
        for s in starts:
            batch(s)
    else:
        with ThreadPoolExecutor(n_threads) as threads:
            list(threads.map(batch, starts))  # list(): a batch's error reaches the caller
    return out_idx, out_val, again
