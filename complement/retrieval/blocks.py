"""Block bookkeeping shared by the CPU and GPU backends.

The base (catalogue) is searched in blocks of rows, so a memory-mapped catalogue larger than
memory is read once, block by block, and the process holds about one block at a time: after a
block of a read-only memory map has been used, its pages are handed back to the kernel (they
stay in the page cache, but no longer count towards the process's resident memory).
"""

from __future__ import annotations

import mmap
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "BASE_BLOCK_BYTES",
    "ExcludeCSR",
    "Progress",
    "base_blocks",
    "block_rows_for",
    "excluded_in",
    "pieces",
    "release",
    "subset_csr",
]

Progress = Callable[[int, int], None]
ExcludeCSR = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]

#: Bytes of one float32 base block on the CPU; fixed, so blocking never depends on free memory.
BASE_BLOCK_BYTES = 128 * 1024 * 1024
#: Bytes of one piece when a block is copied (scaled, converted, uploaded).
PIECE_BYTES = 8 * 1024 * 1024


def block_rows_for(n_base: int, dim: int, block_bytes: int, max_rows: int) -> int:
    """Rows per base block: ``block_bytes`` of float32 rows, at most ``max_rows``."""
    return int(max(1, min(n_base, max_rows, block_bytes // (4 * max(dim, 1)))))


def base_blocks(n_base: int, rows: int) -> Iterator[tuple[int, int]]:
    for start in range(0, n_base, rows):
        yield start, min(n_base, start + rows)


def pieces(b0: int, b1: int, dim: int) -> Iterator[tuple[int, int]]:
    """Rows ``b0:b1`` in pieces of about ``PIECE_BYTES`` of float32 (copies and uploads)."""
    step = max(1, PIECE_BYTES // (4 * max(dim, 1)))
    for start in range(b0, b1, step):
        yield start, min(b1, start + step)


def excluded_in(
    exclude: ExcludeCSR | None, start: int, stop: int, b0: int, b1: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]] | None:
    """(row within the query chunk, column within the base block) of excluded entries."""
    if exclude is None:
        return None
    indptr, indices = exclude
    lo, hi = int(indptr[start]), int(indptr[stop])
    if hi <= lo:
        return None
    ptr = np.asarray(indptr[start : stop + 1], dtype=np.int64)
    counts = ptr[1:] - ptr[:-1]
    rows = np.repeat(np.arange(stop - start, dtype=np.int64), counts)
    cols = np.asarray(indices[lo:hi], dtype=np.int64)
    if b0 > 0 or b1 < int(cols.max(initial=-1)) + 1:
        keep = (cols >= b0) & (cols < b1)
        rows, cols = rows[keep], cols[keep] - b0
    if rows.size == 0:
        return None
    return rows, cols


def release(block: npt.NDArray[Any]) -> None:
    """Drop the resident pages of a block of a read-only memory map (best effort, no-op else)."""
    owner = getattr(block, "_mmap", None)
    if not isinstance(owner, mmap.mmap) or getattr(block, "mode", None) != "r" or block.size == 0:
        return
    try:
        origin = np.frombuffer(owner, dtype=np.uint8).ctypes.data
        page = mmap.PAGESIZE
        lo = block.ctypes.data - origin
        hi = lo + block.size * block.itemsize
        start = lo - lo % page
        if hi > start:
            owner.madvise(mmap.MADV_DONTNEED, start, min(hi, len(owner)) - start)
    except (AttributeError, ValueError, OSError):  # no madvise on this platform: keep pages
        return


def subset_csr(exclude: ExcludeCSR | None, rows: npt.NDArray[np.int64]) -> ExcludeCSR | None:
    """The CSR pair restricted to the query rows ``rows`` (in that order)."""
    if exclude is None:
        return None
    indptr, indices = exclude
    starts = np.asarray(indptr, dtype=np.int64)[rows]
    lens = np.asarray(indptr, dtype=np.int64)[rows + 1] - starts
    new_ptr = np.zeros(rows.size + 1, dtype=np.int64)
    np.cumsum(lens, out=new_ptr[1:])
    pos = np.repeat(starts - new_ptr[:-1], lens) + np.arange(int(new_ptr[-1]), dtype=np.int64)
    return new_ptr, np.asarray(indices, dtype=np.int64)[pos]
