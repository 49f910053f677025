"""Merging ranked lists: two lists per row, and each query's running list across base blocks.

A base larger than one block is searched block by block; every block's top-``w`` lists are
merged into the running lists with the same order (score descending, item index ascending):
the blocks come in index order, so a stable sort by score keeps lower indices first on ties.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["MERGE_ROWS", "RunningLists", "merge_topk"]

#: Query rows whose running lists are merged with a block's lists at once.
MERGE_ROWS = 8192


def merge_topk(
    idx_a: npt.NDArray[np.int64],
    val_a: npt.NDArray[np.float32],
    idx_b: npt.NDArray[np.int64],
    val_b: npt.NDArray[np.float32],
    k: int,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    """Merge two ranked lists per row; every index in ``a`` is below every index in ``b``."""
    vals = np.concatenate([val_a, val_b], axis=1)
    idx = np.concatenate([idx_a, idx_b], axis=1)
    order = np.argsort(-vals, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(idx, order, axis=1), np.take_along_axis(vals, order, axis=1)


class RunningLists:
    """The running top-``w`` lists of every query, merged block after block."""

    def __init__(self, q: int, w: int, n_blocks: int) -> None:
        self.idx = np.full((q, w), -1, dtype=np.int64)
        self.val = np.full((q, w), -np.inf, dtype=np.float32)
        self.merge = n_blocks > 1

    def view(self, wb: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """The first ``wb`` columns of every list, to be written in place (one block only)."""
        return self.idx[:, :wb], self.val[:, :wb]

    def put(
        self, rows: slice | npt.NDArray[np.int64], idx: npt.NDArray[np.int64], val: Any
    ) -> None:
        wb = idx.shape[1]
        if not self.merge:
            self.idx[rows, :wb], self.val[rows, :wb] = idx, val
            return
        w = self.idx.shape[1]
        at = np.arange(self.idx.shape[0])[rows] if isinstance(rows, slice) else rows
        for s in range(0, at.size, MERGE_ROWS):  # in batches: the merge's temporaries stay small
            r, e = at[s : s + MERGE_ROWS], s + MERGE_ROWS
            self.idx[r], self.val[r] = merge_topk(self.idx[r], self.val[r], idx[s:e], val[s:e], w)
