"""CPU backend: exact top-k by faiss's flat search or BLAS products with a threshold selection.

Ranking order is (score descending, item index ascending): exact ties at the k-th place are
resolved towards the lower index, so the result never depends on the selection algorithm.
Excluded entries score ``-inf``; a slot that can only be filled by an excluded item is ``-1``.

Scores are inner products of (query rows × ``query_scale``) with (base rows × ``base_scale``),
each scaled in float32 before one float32 matrix product, the same on every backend; near-ties
are then settled by the canonical score of :mod:`complement.retrieval.exact`, so the lists do
not depend on the BLAS's rounding, the blocking or the device.

Each chunk of scores (r query rows × b base rows) is selected exactly without a full sort, by
a threshold (:mod:`complement.retrieval.selection`); the lists of successive base blocks are
merged by :mod:`complement.retrieval.merge`.

The chunks are spread over worker threads (as many as the BLAS would use), each with the BLAS
limited to one thread for the duration: every worker's product is followed by its own
selection while the others multiply, so the selection, which numpy runs on one core, no longer
leaves the other cores idle. Each worker writes only its own query rows, so the lists do not
depend on the number of workers.

``use_faiss=True`` searches rows with few excluded entries in a block (item k-NN excludes one;
short histories) by faiss's exact flat index instead (``faiss.knn``: BLAS blocks and heaps in
parallel) to a depth that leaves the top w after dropping the excluded entries, then orders
them by (score desc, index asc). It was the default until the threaded selection measured
faster (item k-NN and hits at n = 50k: 12-18% faster at d = 64, 3% faster at d = 1024, 3%
slower at d = 384; hits with long histories never used it); it gives the same lists.
Either way the lists then go through the same near-tie settling.

A base larger than one block (``BASE_BLOCK_BYTES``; a memory-mapped catalogue larger than
memory) is read block by block and each query's running list is merged across blocks with the
same order. ``w = k + band``: the band past k lets near-ties at the k-th place be settled.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from complement.retrieval.blocks import (
    BASE_BLOCK_BYTES,
    ExcludeCSR,
    Progress,
    base_blocks,
    block_rows_for,
    excluded_in,
    pieces,
    release,
    subset_csr,
)
from complement.retrieval.exact import BAND, finish, row_norms
from complement.retrieval.merge import RunningLists
from complement.retrieval.pool import Pool, workers
from complement.retrieval.selection import (
    GROUPS_PER_K,
    Candidates,
    chunk_candidates,
    rank_candidates,
    select_topk,
)

__all__ = ["NAME", "chunk_rows_for", "topk"]

NAME = "cpu-blas"
#: Bytes of the chunks of scores of all worker threads together (each worker also holds a
#: boolean mask of ``pool.MASK_ROWS`` rows of its chunk): large products amortise the BLAS's
#: packing of the base block (measured at n = 50k, d = 384: 335 query rows per product beat
#: 200 by 5%, 560 by another 5%, within the memory target only up to about 335); fixed, so
#: the work is the same whatever memory is free.
SCRATCH_BYTES = 128 * 1024 * 1024
#: Smallest chunk of one worker (many cores).
MIN_CHUNK_BYTES = 16 * 1024 * 1024
#: Query rows whose candidates are ranked together.
RANK_ROWS = 2048
#: Most base rows in one block (keeps at least 256 query rows per product at high dimension).
MAX_BLOCK_ROWS = 65536
#: With ``use_faiss``: rows with at most 64 excluded entries in a block are searched by faiss's
#: exact flat index to depth w + 8, 16, 32 or 64, enough to drop the excluded entries; rows
#: with more (long histories) by the product and threshold selection.
FAISS_EXTRA = (8, 16, 32, 64)
FAISS_MIN_BASE = 256
FAISS_ROWS = 16384


def chunk_rows_for(n_base: int, n_workers: int = 1) -> int:
    """Query rows per product of one worker against ``n_base`` base rows."""
    chunk_bytes = max(MIN_CHUNK_BYTES, SCRATCH_BYTES // max(n_workers, 1))
    return int(max(32, min(8192, chunk_bytes // (4 * max(n_base, 1)))))


def _block(
    base: npt.NDArray[Any], b0: int, b1: int, base_scale: npt.NDArray[np.float32] | None
) -> npt.NDArray[np.float32]:
    """Base rows ``b0:b1`` as float32 (times ``base_scale``): a view when nothing is to be
    done, else a copy made piece by piece (a memory map's pages are handed back as it goes)."""
    raw = base[b0:b1]
    if (
        base_scale is None
        and not isinstance(base, np.memmap)
        and raw.dtype == np.float32
        and raw.flags.c_contiguous
    ):
        return raw
    out = np.empty(raw.shape, dtype=np.float32)
    for s, e in pieces(b0, b1, int(raw.shape[1])):
        piece = base[s:e]
        if base_scale is None:
            out[s - b0 : e - b0] = piece
        else:
            scale = np.asarray(base_scale[s:e], dtype=np.float32)[:, None]
            np.multiply(piece, scale, out=out[s - b0 : e - b0], casting="unsafe")
        release(piece)
    return out


class _Queries:
    """The query rows, scaled to float32 on demand (never copied whole)."""

    def __init__(self, queries: npt.NDArray[Any], scale: npt.NDArray[np.float32] | None) -> None:
        self.raw = queries
        self.scale = None if scale is None else np.asarray(scale, dtype=np.float32)

    def rows(self, sel: slice | npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
        raw = self.raw[sel]
        out = np.array(raw, dtype=np.float32, order="C")  # a copy: safe to scale in place
        if self.scale is not None:
            out *= self.scale[sel][:, None]
        release(raw if isinstance(sel, slice) else self.raw)  # memory-mapped queries
        return out


def _excluded_counts(exclude: ExcludeCSR | None, q: int, b0: int, b1: int) -> Any:
    """Excluded entries of each query that fall in base rows ``b0:b1``."""
    if exclude is None:
        return np.zeros(q, dtype=np.int64)
    indptr = np.asarray(exclude[0], dtype=np.int64)
    cols = np.asarray(exclude[1], dtype=np.int64)
    inside = (cols >= b0) & (cols < b1)
    rows = np.repeat(np.arange(q, dtype=np.int64), indptr[1:] - indptr[:-1])
    return np.bincount(rows[inside], minlength=q)


def _faiss_lists(
    qs: npt.NDArray[np.float32],
    block: npt.NDArray[np.float32],
    w: int,
    depth: int,
    ex: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]] | None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    """Top-``w`` by (score desc, index asc) from faiss's exact flat search to ``depth``.

    ``depth`` is at least ``w`` plus each row's excluded entries (``ex``: rows, block columns),
    so dropping those still leaves the top ``w`` values; faiss's own order among exact ties at
    the tail may differ, which only ever concerns ranks past the band that
    :func:`complement.retrieval.exact.resolve` checks.
    """
    import faiss

    r, nb = qs.shape[0], block.shape[0]
    scores, found = faiss.knn(qs, block, depth, metric=faiss.METRIC_INNER_PRODUCT)
    drop = found < 0
    if ex is not None:
        keys = np.sort(ex[0] * nb + ex[1])
        got = np.arange(r, dtype=np.int64)[:, None] * nb + found
        at = np.minimum(np.searchsorted(keys, got), keys.size - 1)
        drop |= keys[at] == got
    found = np.where(drop, nb, found)
    scores = np.where(drop, np.float32(-np.inf), scores)
    order = np.lexsort((found, -scores), axis=-1)[:, :w]
    idx = np.take_along_axis(found, order, axis=1).astype(np.int64)
    vals = np.take_along_axis(scores, order, axis=1).astype(np.float32)
    idx[np.isneginf(vals)] = -1
    return idx, vals


def _numpy_lists(
    qsrc: _Queries,
    sel: npt.NDArray[np.int64] | None,
    block: npt.NDArray[np.float32],
    b0: int,
    exclude: ExcludeCSR | None,
    w: int,
    rows: int,
    pool: Pool,
    step: Any,
    out: tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]] | None = None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    """Top-``w`` of the query rows ``sel`` (all when None) by product + threshold selection.

    The rows go to the pool's workers in batches (each: chunks of ``rows`` query rows, then
    one ranking of the batch's candidates); every batch writes only its own rows. ``out``:
    (indices, scores) arrays of (queries, w) to write into, filled with ``-1`` / ``-inf``.
    """
    nb = block.shape[0]
    q = qsrc.raw.shape[0] if sel is None else sel.size
    ex_csr = exclude if sel is None else subset_csr(exclude, sel)
    fast = nb >= 8 * GROUPS_PER_K * w
    if out is None:
        idx_all = np.full((q, w), -1, dtype=np.int64)
        val_all = np.full((q, w), -np.inf, dtype=np.float32)
    else:
        idx_all, val_all = out

    def batch_task(s0: int, s1: int) -> Any:
        def task(scratch: tuple[npt.NDArray[np.float32], npt.NDArray[np.bool_]]) -> int:
            buf = scratch[0][: min(rows, q) * nb].reshape(-1, nb)
            found: list[Candidates] = []
            for start in range(s0, s1, rows):
                stop = min(s1, start + rows)
                qc = qsrc.rows(slice(start, stop) if sel is None else sel[start:stop])
                scores = buf[: stop - start]
                np.matmul(qc, block.T, out=scores)
                ex = excluded_in(ex_csr, start, stop, b0, b0 + nb)
                if ex is not None:
                    scores[ex] = -np.inf
                if fast:
                    r, c, v = chunk_candidates(
                        scores, w, scratch[1], idx_all[start:stop], val_all[start:stop]
                    )
                    found.append((r + (start - s0), c, v))
                else:
                    idx_all[start:stop], val_all[start:stop] = select_topk(scores, w)
            if found:
                cand = tuple(np.concatenate(parts) for parts in zip(*found, strict=True))
                have, ci, cv = rank_candidates(cand, s1 - s0, w)  # type: ignore[arg-type]
                idx_all[s0 + have], val_all[s0 + have] = ci, cv
            return s1 - s0

        return task

    # batches: at least one chunk, about RANK_ROWS rows at most, in a multiple of the worker
    # count (so no worker idles through the last round)
    tasks = pool.n * -(-q // (pool.n * RANK_ROWS))
    batch = max(rows, -(-q // tasks))
    pool.run([batch_task(s0, min(q, s0 + batch)) for s0 in range(0, q, batch)], step)
    return idx_all, val_all


def topk(
    queries: npt.NDArray[Any],
    base: npt.NDArray[Any],
    k: int,
    *,
    base_scale: npt.NDArray[np.float32] | None = None,
    query_scale: npt.NDArray[np.float32] | None = None,
    exclude: ExcludeCSR | None = None,
    chunk_rows: int | None = None,
    block_rows: int | None = None,
    progress: Progress | None = None,
    band: int = BAND,
    use_faiss: bool = False,
    threads: int | None = None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    """Top-``k`` base rows for every query by inner product (scaled rows, see module doc).

    ``exclude`` is a CSR pair (indptr over queries, base indices) of entries never returned.
    ``block_rows`` (base rows per block), ``chunk_rows`` (query rows per product), ``band``,
    ``use_faiss`` and ``threads`` (worker threads; default: the BLAS's thread count) change
    only memory and speed, never the answer.
    """
    q = int(queries.shape[0])
    n, d = int(base.shape[0]), int(base.shape[1])
    kk = min(k, n)
    if q == 0 or kk <= 0:
        return np.zeros((q, max(kk, 0)), dtype=np.int64), np.zeros((q, max(kk, 0)), np.float32)
    width = min(n, kk + band)
    rows_b = block_rows or block_rows_for(n, d, BASE_BLOCK_BYTES, MAX_BLOCK_ROWS)
    n_blocks = -(-n // rows_b)
    lists = RunningLists(q, width, n_blocks)
    qsrc = _Queries(queries, query_scale)
    qnorm = np.zeros(q, dtype=np.float64)
    for s0 in range(0, q, FAISS_ROWS):  # norms of the scaled queries, for the tie margins
        qnorm[s0 : s0 + FAISS_ROWS] = row_norms(qsrc.rows(slice(s0, s0 + FAISS_ROWS)))
    bmax = 0.0
    n_workers = max(1, threads or min(workers(), -(-q // 32)))  # >= 32 rows per worker
    chunk = min(chunk_rows or chunk_rows_for(min(n, rows_b), n_workers), q)
    pool = Pool(n_workers, chunk, min(n, rows_b))
    done = [0]

    def step(rows_done: int) -> None:
        done[0] += rows_done
        if progress is not None:
            progress(done[0] // n_blocks, q)

    try:
        for b0, b1 in base_blocks(n, rows_b):
            block = _block(base, b0, b1, base_scale)
            bmax = max(bmax, float(row_norms(block).max(initial=0.0)))
            nb = b1 - b0
            wb = min(width, nb)
            rows = min(chunk_rows or chunk_rows_for(nb, n_workers), pool.cells // nb)
            depth = np.zeros(q, dtype=np.int64)  # 0: product and threshold selection
            if use_faiss and nb >= FAISS_MIN_BASE:
                extra = _excluded_counts(exclude, q, b0, b1)
                for room in FAISS_EXTRA[::-1]:
                    depth[extra <= room] = min(wb + int(room), nb)
            by_numpy = np.flatnonzero(depth == 0)
            if by_numpy.size == q and not lists.merge:  # one block, every query: in place
                _numpy_lists(qsrc, None, block, b0, exclude, wb, rows, pool, step, lists.view(wb))
            elif by_numpy.size:
                sel = None if by_numpy.size == q else by_numpy
                idx, val = _numpy_lists(qsrc, sel, block, b0, exclude, wb, rows, pool, step)
                np.add(idx, b0, out=idx, where=idx >= 0)
                lists.put(slice(None) if sel is None else sel, idx, val)
                del idx, val
            for kq in np.unique(depth[depth > 0]):
                sel_all = np.flatnonzero(depth == kq)
                for s0 in range(0, sel_all.size, FAISS_ROWS):
                    sel = sel_all[s0 : s0 + FAISS_ROWS]
                    contiguous = sel.size == 1 + int(sel[-1]) - int(sel[0])
                    at = slice(int(sel[0]), int(sel[-1]) + 1) if contiguous else sel
                    ex = excluded_in(subset_csr(exclude, sel), 0, sel.size, b0, b1)
                    idx, val = _faiss_lists(qsrc.rows(at), block, wb, int(kq), ex)
                    np.add(idx, b0, out=idx, where=idx >= 0)
                    lists.put(at, idx, val)
                    step(sel.size)
            del block
    finally:
        pool.close()
    top_idx, top_val, again = finish(
        queries, base, kk, lists.idx, lists.val, qnorm, bmax, base_scale, query_scale
    )
    redo = np.flatnonzero(again)
    if redo.size:  # a near-tie at the k-th place ran past the band: search those rows wider
        top_idx[redo], top_val[redo] = topk(
            np.asarray(queries[redo]),
            base,
            k,
            base_scale=base_scale,
            query_scale=None if query_scale is None else np.asarray(query_scale)[redo],
            exclude=subset_csr(exclude, redo),
            chunk_rows=chunk_rows,
            block_rows=block_rows,
            band=max(8 * band, 64),
            use_faiss=use_faiss,
            threads=threads,
        )
    top_idx[np.isneginf(top_val)] = -1
    return top_idx, top_val
