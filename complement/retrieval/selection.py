"""Exact top-``k`` selection of one chunk of scores, by threshold rather than a full sort.

Ranking order is (score descending, item index ascending): exact ties at the k-th place are
resolved towards the lower index, so the result never depends on the selection algorithm.

Selection of one chunk of scores (r query rows × b base rows), exact and without a full sort:

1. a lower bound ``t`` of each row's w-th largest score: split the columns into ``4w`` strided
   groups and take the w-th largest of the group maxima (w distinct entries are ``>= t``);
2. the candidates ``>= t`` (about 1.1 w per row) are found through one boolean mask; rows with
   too many (massive exact ties, rows mostly excluded) take the full-row selection
   :func:`select_topk` at once, with the same answer;
3. the candidates of several chunks are ranked together (a stable sort by score of each row's
   candidates in index order keeps lower indices first), which spreads the fixed cost of the
   small sorts over many rows while each chunk of scores stays small.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = [
    "GROUPS_PER_K",
    "MIN_GROUPS",
    "Candidates",
    "chunk_candidates",
    "rank_candidates",
    "select_block",
    "select_topk",
    "thresholds",
]

#: Strided groups per k in the threshold pass.
GROUPS_PER_K = 4
#: Fewest strided groups in the threshold pass (rows of at least 8 times as many entries).
MIN_GROUPS = 256

Candidates = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float32]]


def select_topk(
    scores: npt.NDArray[np.float32], k: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    """Exact top-``k`` of each row by full-row partition, ordered by (score desc, index asc).

    The k-th largest value ``t`` of a row comes from a partition of the values; where exactly
    ``k`` entries are ``>= t`` they are the top k (found in index order, so a stable sort by
    score keeps lower indices first). Rows with ties at the k-th place or NaN take
    :func:`_select_ties` (an index partition), with the same answer.
    """
    r, n = scores.shape
    k = min(k, n)
    if k == n or r == 0:
        return _select_ties(scores, k)
    top = np.partition(scores, n - k, axis=1)[:, n - k :]
    ge = scores >= top[:, :1]
    odd = np.isnan(top).any(axis=1) | (np.count_nonzero(ge, axis=1) != k)
    if not odd.any():
        return _select_clear(scores, ge, k)
    idx = np.empty((r, k), dtype=np.int64)
    vals = np.empty((r, k), dtype=np.float32)
    rest = np.flatnonzero(odd)
    idx[rest], vals[rest] = _select_ties(scores[rest], k)
    clear = np.flatnonzero(~odd)
    if clear.size:
        idx[clear], vals[clear] = _select_clear(scores[clear], ge[clear], k)
    return idx, vals


def _select_clear(
    scores: npt.NDArray[np.float32], ge: npt.NDArray[np.bool_], k: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    """Rows whose mask ``ge`` holds exactly their top ``k`` entries, ranked."""
    r, n = scores.shape
    flat = np.flatnonzero(ge).reshape(r, k)  # row-major: each row's columns ascending
    vals = scores.reshape(-1)[flat]
    order = np.argsort(-vals, axis=1, kind="stable")  # equal scores: lower index first
    cols = flat - (np.arange(r, dtype=np.int64) * n)[:, None]
    return np.take_along_axis(cols, order, axis=1), np.take_along_axis(vals, order, axis=1)


def _select_ties(
    scores: npt.NDArray[np.float32], k: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    """:func:`select_topk` by an index partition, any row (ties at the k-th place, NaN)."""
    r, n = scores.shape
    k = min(k, n)
    if k == n:
        part = np.broadcast_to(np.arange(n), (r, n)).copy()
    else:
        part = np.argpartition(scores, n - k, axis=1)[:, n - k :]
    vals = np.take_along_axis(scores, part, axis=1)
    kth = vals.min(axis=1)
    n_ge = np.count_nonzero(scores >= kth[:, None], axis=1)
    tied = np.flatnonzero(n_ge > k)
    if tied.size:
        sub = scores[tied]
        t = kth[tied][:, None]
        gt = sub > t
        eq = sub == t
        need = k - gt.sum(axis=1)
        sel = gt | (eq & (np.cumsum(eq, axis=1) <= need[:, None]))
        cols = np.nonzero(sel)[1].reshape(tied.size, k)
        part[tied] = cols
        vals[tied] = np.take_along_axis(sub, cols, axis=1)
    order = np.lexsort((part, -vals), axis=-1)
    idx = np.take_along_axis(part, order, axis=1).astype(np.int64)
    out = np.take_along_axis(vals, order, axis=1)
    return idx, out


def thresholds(scores: npt.NDArray[np.float32], k: int) -> npt.NDArray[np.float32]:
    """Per row, a value with at least ``k`` entries of the row ``>=`` it."""
    r, n = scores.shape
    # at least MIN_GROUPS groups where the row allows: a small k otherwise reduces over short
    # vectors of group maxima (measured: 256 groups instead of 72 take a third less time at
    # k + band = 18, n = 30k), and more groups only tighten the bound
    g = max(GROUPS_PER_K * k, min(MIN_GROUPS, n // 8))
    length = n // g
    # group j holds columns j, j + g, j + 2g, ... of the first g * length columns: a strided
    # view (a reshape of the sliced rows would copy the whole chunk)
    row, item = scores.strides
    groups = np.lib.stride_tricks.as_strided(
        scores, shape=(r, length, g), strides=(row, g * item, item), writeable=False
    )
    gmax = groups.max(axis=1)
    return np.partition(gmax, g - k, axis=1)[:, g - k]


def chunk_candidates(
    scores: npt.NDArray[np.float32],
    k: int,
    mask: npt.NDArray[np.bool_],
    idx_out: npt.NDArray[np.int64],
    val_out: npt.NDArray[np.float32],
) -> Candidates:
    """Stage 1 on one chunk: (row, column, score) of each row's candidates, in row-major order.

    ``mask`` is scratch of at least one row (``n`` booleans); rows are compared as many at a
    time as it holds. Rows with too many candidates are settled here, into ``idx_out`` /
    ``val_out``; they get no candidates.
    """
    r, n = scores.shape
    t = thresholds(scores, k)
    # the comparison goes through the mask a few rows at a time (as many as it holds)
    step = max(1, min(r, mask.size // max(n, 1)))
    parts = []
    for s in range(0, r, step):
        e = min(r, s + step)
        m = mask[: (e - s) * n].reshape(e - s, n)
        np.greater_equal(scores[s:e], t[s:e, None], out=m)
        found = np.flatnonzero(m)  # candidates are rare: about 1.1 k per row
        if s:
            found += s * n
        parts.append(found)
    flat = parts[0] if len(parts) == 1 else np.concatenate(parts)
    rows = flat // n
    cols = flat - rows * n
    counts = np.bincount(rows, minlength=r)
    heavy = np.flatnonzero(counts > max(16 * k, 256))
    if heavy.size:
        idx_out[heavy], val_out[heavy] = select_topk(scores[heavy], k)
        keep = counts[rows] <= max(16 * k, 256)
        rows, cols, flat = rows[keep], cols[keep], flat[keep]
    return rows, cols, scores.reshape(-1)[flat]


def rank_candidates(
    cand: Candidates, n_rows: int, k: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    """Stage 2: the first ``k`` candidates of each row by (score desc, index asc).

    ``cand`` must be in row-major, index-ascending order; returns (rows that had candidates,
    their indices, their scores).
    """
    rows, cols, vals = cand
    counts = np.bincount(rows, minlength=n_rows)
    have = np.flatnonzero(counts)
    if have.size == 0:
        return have, np.empty((0, k), np.int64), np.empty((0, k), np.float32)
    slot = np.cumsum(counts > 0) - 1
    c = counts[have]
    starts = np.cumsum(c) - c
    pos = np.arange(rows.size) - np.repeat(starts, c)
    width = max(int(c.max()), k)
    cv = np.full((have.size, width), -np.inf, dtype=np.float32)
    ci = np.full((have.size, width), -1, dtype=np.int64)
    cv[slot[rows], pos] = vals
    ci[slot[rows], pos] = cols
    order = np.argsort(-cv, axis=1, kind="stable")[:, :k]
    return have, np.take_along_axis(ci, order, axis=1), np.take_along_axis(cv, order, axis=1)


def select_block(
    scores: npt.NDArray[np.float32], k: int, mask: npt.NDArray[np.bool_] | None = None
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    """Exact top-``k`` of each row (same answer as :func:`select_topk`), by threshold."""
    r, n = scores.shape
    k = min(k, n)
    if n < 8 * GROUPS_PER_K * k or r == 0:
        return select_topk(scores, k)
    if mask is None or mask.size < r * n:
        mask = np.empty(r * n, dtype=np.bool_)
    idx = np.empty((r, k), dtype=np.int64)
    vals = np.empty((r, k), dtype=np.float32)
    have, ci, cv = rank_candidates(chunk_candidates(scores, k, mask, idx, vals), r, k)
    idx[have], vals[have] = ci, cv
    return idx, vals
