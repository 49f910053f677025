"""CPU self-search: every item's top-k among the other items, each product computed once.

When the queries are the catalogue itself (item k-NN over every item), the score matrix
``X Xᵀ`` is symmetric: the tile of rows I and columns J is the transpose of the tile of rows
J and columns I. The catalogue is cut into ``B`` tiles of rows; only the ``B (B + 1) / 2``
tiles with ``J >= I`` are multiplied (about half the floating-point work of the full product),
and each off-diagonal tile is selected twice: along its rows (the lists of the items of I) and
along its columns (the lists of the items of J). Each pair's score is therefore one float32
product, the same for both items' lists; it is a float32 product of the scaled rows like every
other backend's, within the error bound that :mod:`complement.retrieval.exact` settles
near-ties with, so the lists after that settling are the canonical lists of every other path.

Selection keeps each item's running top ``w = k + band`` (as one ``uint64`` key per entry,
score descending then index ascending, so the order is exact and a merge is one partition):

- a diagonal tile (the items of I against each other, the item itself excluded) is selected
  by the threshold of :mod:`complement.retrieval.selection` (group maxima);
- an off-diagonal tile keeps only entries ``>=`` the item's running w-th best score, which
  the diagonal tile set; entries below it can never enter the list, so the answer does not
  depend on the order in which worker threads finish tiles. Rows or columns with too many
  such entries (massive ties) are selected exactly from the tile instead.

The tiles run on the CPU backend's worker threads (:mod:`complement.retrieval.pool`), each
with the BLAS on one thread; merges into one tile of items are serialised by a lock.

The search is three steps, so that an engine can spread the middle one: :func:`plan` (the
tiles), :func:`tile_keys` (the running keys of every row over some of the tiles: all of them
here, a run of them in each Ray task) and :func:`merge_keys` + :func:`finish_keys` (the top
keys over the runs, then the near-tie settling of :mod:`complement.retrieval.exact`).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.retrieval.blocks import Progress, pieces, release
from complement.retrieval.exact import BAND, finish, row_norms
from complement.retrieval.pool import Pool, workers
from complement.retrieval.selection import GROUPS_PER_K, select_topk, thresholds

__all__ = [
    "MAX_TILE_ROWS",
    "SELF_BYTES",
    "Plan",
    "applies",
    "diagonal",
    "finish_keys",
    "merge_keys",
    "plan",
    "self_topk",
    "tile_keys",
]

#: Most rows in one tile: a tile of scores is MAX_TILE_ROWS² float32 (64 MB) per worker.
MAX_TILE_ROWS = 4096
#: Bytes of the tiles of scores of all worker threads together (as the block path's
#: ``cpu.SCRATCH_BYTES``), at least 16 MB per worker: many cores get smaller tiles.
TILE_BYTES = 128 * 1024 * 1024
MIN_TILE_BYTES = 16 * 1024 * 1024
#: Fewest items for the symmetric path (at least two tiles of a useful size).
MIN_ROWS = 4096
#: Largest float32 copy of the scaled catalogue the symmetric path makes (larger catalogues,
#: memory-mapped ones among them, are searched block by block by :mod:`~.cpu`).
SELF_BYTES = 256 * 1024 * 1024
#: Rows of a tile compared against their thresholds at once (the rows stay in cache for the
#: second comparison; a mask of 256 x 4096 booleans is 1 MB).
MASK_ROWS = 256
#: An item with more entries than this many times ``w`` at or above its running threshold in
#: one tile (massive ties) is selected exactly from the tile instead.
HEAVY = 16

_EMPTY = np.uint64(0xFFFFFFFFFFFFFFFF)
_LOW = np.uint64(0xFFFFFFFF)


def diagonal(n: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The exclusion CSR of a self-search: row ``i`` excludes base row ``i``."""
    return np.arange(n + 1, dtype=np.int64), np.arange(n, dtype=np.int64)


def applies(n: int, d: int, w: int, n_workers: int | None = None) -> bool:
    """Whether :func:`self_topk` takes an ``n`` × ``d`` catalogue with lists of ``w``."""
    tile = _tile_rows(n, max(1, n_workers or workers()))
    return n >= MIN_ROWS and n * d * 4 <= SELF_BYTES and 8 * GROUPS_PER_K * w <= tile - 1


def _tile_rows(n: int, n_workers: int) -> int:
    """Rows per tile: at most MAX_TILE_ROWS and the workers' share of TILE_BYTES, balanced."""
    share = max(MIN_TILE_BYTES, TILE_BYTES // n_workers)
    most = min(MAX_TILE_ROWS, int((share // 4) ** 0.5))
    tiles = -(-n // most)
    return -(-n // tiles)


def _keys(vals: npt.NDArray[np.float32], idx: npt.NDArray[np.int64]) -> npt.NDArray[np.uint64]:
    """One sortable key per entry: ascending key = (score descending, index ascending)."""
    bits = (vals + np.float32(0.0)).view(np.int32).astype(np.int64)  # -0.0 -> +0.0
    order = np.where(bits >= 0, bits, bits ^ 0x7FFFFFFF)  # ascending with the score
    hi = (np.int64(0x7FFFFFFF) - order).astype(np.uint64)  # descending score, 0 .. 2^32 - 1
    return (hi << np.uint64(32)) | idx.astype(np.uint64)


def _values(keys: npt.NDArray[np.uint64]) -> npt.NDArray[np.float32]:
    """The scores of keys (``-inf`` for empty slots)."""
    order = np.int64(0x7FFFFFFF) - (keys >> np.uint64(32)).astype(np.int64)
    bits = np.where(order >= 0, order, order ^ 0x7FFFFFFF).astype(np.int32)
    out = bits.view(np.float32).copy()
    out[keys == _EMPTY] = -np.inf
    return out


class _Lists:
    """Running top-``w`` keys of every item, with the w-th best score as a threshold."""

    def __init__(self, n: int, w: int, tile: int) -> None:
        self.keys = np.full((n, w), _EMPTY, dtype=np.uint64)
        self.kth = np.full(n, -np.inf, dtype=np.float32)
        self.w = w
        self.tile = tile
        self.locks = [threading.Lock() for _ in range(-(-n // tile))]

    def merge(self, rows: npt.NDArray[np.int64], keys: npt.NDArray[np.uint64], t0: int) -> None:
        """Merge candidate ``keys`` of items ``rows`` (sorted by row) of the tile at ``t0``."""
        if rows.size == 0:
            return
        have, start, counts = np.unique(rows, return_index=True, return_counts=True)
        width = int(counts.max())
        pos = np.arange(rows.size) - np.repeat(start, counts)
        pad = np.full((have.size, width), _EMPTY, dtype=np.uint64)
        pad[np.repeat(np.arange(have.size), counts), pos] = keys
        w = self.w
        with self.locks[t0 // self.tile]:
            both = np.concatenate([self.keys[have], pad], axis=1)
            top = np.partition(both, w - 1, axis=1)[:, :w]
            self.keys[have] = top
            self.kth[have] = _values(top[:, w - 1])


def _heavy_rows_settled(
    s: npt.NDArray[np.float32], flat: npt.NDArray[np.int64], a: int, b: int, w: int
) -> npt.NDArray[np.int64]:
    """Flat indices into ``s`` (row-major) of the candidates of rows ``a:b`` (``flat``: in
    those rows' mask), rows with more than ``HEAVY * w`` of them replaced by their exact top
    ``w`` of the row, so a tile of massive ties holds no more than that per row."""
    c = s.shape[1]
    rows = flat // c
    counts = np.bincount(rows, minlength=b - a)
    heavy = np.flatnonzero(counts > HEAVY * w)
    if heavy.size:
        top, _ = select_topk(s[a + heavy], w)
        extra = heavy[:, None] * c + top
        flat = np.sort(np.concatenate([flat[counts[rows] <= HEAVY * w], extra.reshape(-1)]))
    return flat + a * c if a else flat


def _candidates(
    s: npt.NDArray[np.float32],
    t_rows: npt.NDArray[np.float32],
    t_cols: npt.NDArray[np.float32] | None,
    w: int,
    mask: npt.NDArray[np.bool_],
) -> tuple[tuple[Any, Any], tuple[Any, Any] | None]:
    """Entries of the tile at or above their row's threshold ``t_rows`` as (row, column) in
    row-major order, and (with ``t_cols``) at or above their column's threshold as (column,
    row) ordered by column then row. Both comparisons go through the same few rows at a time,
    so the second reads them from cache. Rows or columns with more than ``HEAVY * w``
    candidates get their exact top ``w`` from the tile instead."""
    r, c = s.shape
    step = max(1, min(r, mask.size // max(c, 1)))
    row_found: list[Any] = []
    col_found: list[Any] = []
    t_cols = None if t_cols is None else t_cols.copy()
    col_counts = np.zeros(c, dtype=np.int64)
    for a in range(0, r, step):
        b = min(r, a + step)
        m = mask[: (b - a) * c].reshape(b - a, c)
        np.greater_equal(s[a:b], t_rows[a:b, None], out=m)
        row_found.append(_heavy_rows_settled(s, np.flatnonzero(m), a, b, w))
        if t_cols is not None:
            np.greater_equal(s[a:b], t_cols[None, :], out=m)
            flat = np.flatnonzero(m)
            if a:
                flat += a * c
            col_found.append(flat)
            col_counts += np.bincount(flat % c, minlength=c)
            over = col_counts > HEAVY * w
            if over.any():
                t_cols[over] = np.inf  # settled exactly below; no more candidates here
    flat = np.concatenate(row_found)
    by_row = (flat // c, flat % c)
    if t_cols is None:
        return by_row, None
    flat = np.concatenate(col_found)
    rows, cols = flat // c, flat % c
    heavy = np.flatnonzero(col_counts > HEAVY * w)
    if heavy.size:
        keep = col_counts[cols] <= HEAVY * w
        top, _ = select_topk(np.ascontiguousarray(s[:, heavy].T), w)
        cols = np.concatenate([cols[keep], np.repeat(heavy, w)])
        rows = np.concatenate([rows[keep], top.reshape(-1)])
    order = np.lexsort((rows, cols))
    return by_row, (cols[order], rows[order])


def _thresholds_for(
    s: npt.NDArray[np.float32], kth: npt.NDArray[np.float32], w: int, axis: int
) -> npt.NDArray[np.float32]:
    """Per row (axis 1) or column (axis 0) of ``s``: the running threshold, or where the item
    has no full list yet, a value with at least ``w`` entries of the tile ``>=`` it."""
    t = kth.copy()
    cold = np.flatnonzero(~np.isfinite(t))
    if cold.size == t.size and axis == 1:  # a diagonal tile: every row, no copy
        t[:] = thresholds(s, w)
    elif cold.size:
        sub = s[cold] if axis == 1 else np.ascontiguousarray(s[:, cold].T)
        t[cold] = thresholds(sub, w)
    return t


def _scaled(matrix: npt.NDArray[Any], scale: npt.NDArray[np.float32] | None) -> Any:
    """The catalogue as one C-contiguous float32 copy, each row times ``scale`` in float32
    (the rounding of every backend's query rows), read piece by piece."""
    n, d = matrix.shape
    out = np.empty((n, d), dtype=np.float32)
    sc = None if scale is None else np.asarray(scale, dtype=np.float32)
    for a, b in pieces(0, n, d):
        raw = matrix[a:b]
        out[a:b] = raw
        if sc is not None:
            out[a:b] *= sc[a:b, None]
        release(raw)
    return out


def plan(n: int, k: int, band: int, n_workers: int, tile_rows: int | None = None) -> Plan:
    """The tiles of an ``n``-row self-search with lists of ``k + band``."""
    kk = min(k, n - 1)
    w = min(n - 1, kk + band)
    tile = tile_rows or _tile_rows(n, n_workers)
    last = n - (n - 1) // tile * tile
    if min(tile, last) <= GROUPS_PER_K * w:
        raise ValueError(f"tiles of {min(tile, last)} rows are too small for lists of {w}")
    starts = list(range(0, n, tile))
    jobs = [(a, a) for a in starts] + [(a, b) for a in starts for b in starts if b > a]
    return Plan(n, kk, w, tile, tuple(jobs))


@dataclass(frozen=True)
class Plan:
    """A self-search cut into tiles: ``jobs`` are (first row of I, first row of J), J >= I,
    diagonal tiles first."""

    n: int
    k: int
    w: int
    tile: int
    jobs: tuple[tuple[int, int], ...]

    def cells(self, job: tuple[int, int]) -> int:
        a, b = job
        return (min(self.n, a + self.tile) - a) * (min(self.n, b + self.tile) - b)

    def shares(self, parts: int) -> list[tuple[tuple[int, int], ...]]:
        """The jobs in at most ``parts`` runs of about equal work, each run's diagonal tiles
        first (they set the thresholds its other tiles use). Tiles go in column-major order,
        so a run holds the diagonal tiles of every column stripe it touches (a column without
        its diagonal would need its threshold from the tile, through a transposed copy)."""
        ordered = sorted(self.jobs, key=lambda j: (j[1], j[0]))  # column-major
        total = sum(self.cells(j) for j in ordered)
        out: list[list[tuple[int, int]]] = [[]]
        done = 0
        for job in ordered:
            if out[-1] and done >= total * len(out) / parts:
                out.append([])
            out[-1].append(job)
            done += self.cells(job)
        return [tuple(sorted(run, key=lambda j: (j[0] != j[1], j))) for run in out]


def tile_keys(
    matrix: npt.NDArray[Any],
    scale: npt.NDArray[np.float32] | None,
    plan: Plan,
    jobs: Sequence[tuple[int, int]],
    n_workers: int,
    progress: Progress | None = None,
) -> npt.NDArray[np.uint64]:
    """The running top-``w`` keys of every row over the tiles ``jobs`` (rows that no tile
    touches keep empty keys): the part of a self-search that one process or task runs."""
    n, w, tile = plan.n, plan.w, plan.tile
    x = _scaled(matrix, scale)
    lists = _Lists(n, w, tile)
    pool = Pool(n_workers, tile, tile, mask_rows=MASK_ROWS)
    total = max(1, sum(plan.cells(j) for j in jobs))
    done = [0]

    def job(a: int, b: int) -> Any:
        def task(scratch: tuple[npt.NDArray[np.float32], npt.NDArray[np.bool_]]) -> int:
            ra, rb = min(n, a + tile) - a, min(n, b + tile) - b
            s = scratch[0][: ra * rb].reshape(ra, rb)
            np.matmul(x[a : a + ra], x[b : b + rb].T, out=s)
            mask = scratch[1]
            if a == b:
                np.fill_diagonal(s, -np.inf)
            t_rows = _thresholds_for(s, lists.kth[a : a + ra], w, 1)
            t_cols = None if a == b else _thresholds_for(s, lists.kth[b : b + rb], w, 0)
            (rows, cols), by_col = _candidates(s, t_rows, t_cols, w, mask)
            lists.merge(rows + a, _keys(s[rows, cols], cols + b), a)
            if by_col is not None:
                cols, rows = by_col
                lists.merge(cols + b, _keys(s[rows, cols], rows + a), b)
            return ra * rb

        return task

    def step(cells: int) -> None:
        done[0] += cells
        if progress is not None:
            progress(done[0] * n // total, n)

    try:
        pool.run([job(a, b) for a, b in jobs], step)
    finally:
        pool.close()
    return lists.keys


def merge_keys(parts: Sequence[npt.NDArray[np.uint64]], w: int) -> npt.NDArray[np.uint64]:
    """The top ``w`` keys of every row over several parts' keys (any order of parts)."""
    if len(parts) == 1:
        return parts[0]
    both = np.concatenate(parts, axis=1)
    return np.partition(both, w - 1, axis=1)[:, :w]


def finish_keys(
    matrix: npt.NDArray[Any],
    scale: npt.NDArray[np.float32] | None,
    keys: npt.NDArray[np.uint64],
    k: int,
    plan: Plan,
    band: int = BAND,
    threads: int | None = None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    """The lists from every row's top-``w`` keys: near-ties settled canonically, rows whose
    near-tie ran past the band searched again wider (:mod:`complement.retrieval.exact`)."""
    from complement.retrieval import cpu

    keys = np.sort(keys, axis=1)
    idx = (keys & _LOW).astype(np.int64)
    vals = _values(keys)
    idx[np.isneginf(vals)] = -1
    qnorm = np.empty(plan.n, dtype=np.float64)
    for a, b in pieces(0, plan.n, int(matrix.shape[1])):  # norms of the scaled rows
        qnorm[a:b] = row_norms(_scaled(matrix[a:b], None if scale is None else scale[a:b]))
    bmax = float(qnorm.max(initial=0.0))
    top_idx, top_val, again = finish(matrix, matrix, plan.k, idx, vals, qnorm, bmax, scale, scale)
    redo = np.flatnonzero(again)
    if redo.size:  # a near-tie at the k-th place ran past the band: search those rows wider
        top_idx[redo], top_val[redo] = cpu.topk(
            np.asarray(matrix[redo]),
            matrix,
            k,
            base_scale=scale,
            query_scale=None if scale is None else np.asarray(scale)[redo],
            exclude=(np.arange(redo.size + 1, dtype=np.int64), redo.astype(np.int64)),
            band=max(8 * band, 64),
            threads=threads,
        )
    top_idx[np.isneginf(top_val)] = -1
    return top_idx, top_val


def self_topk(
    matrix: npt.NDArray[Any],
    k: int,
    *,
    scale: npt.NDArray[np.float32] | None = None,
    progress: Progress | None = None,
    band: int = BAND,
    threads: int | None = None,
    tile_rows: int | None = None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    """Top-``k`` other rows of every row of ``matrix`` by inner product of the scaled rows.

    Same contract and lists as :func:`complement.retrieval.cpu.topk` with the matrix as both
    queries and base, ``scale`` as both scales and each row excluded from its own list
    (check :func:`applies` first). ``threads`` and ``tile_rows`` change only speed.
    """
    n_workers = max(1, threads or workers())
    tiles = plan(int(matrix.shape[0]), k, band, n_workers, tile_rows)
    keys = tile_keys(matrix, scale, tiles, tiles.jobs, n_workers, progress)
    return finish_keys(matrix, scale, keys, k, tiles, band, threads)
