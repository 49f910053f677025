"""GPU backend: torch matrix products and top-k on CUDA; same functions as ``cpu.py``.

Importing this module never fails without a GPU: torch is imported lazily and the device is
only touched when a function runs. The functions also run on a torch CPU device, which is how
the test-suite checks them against the numpy reference on machines without CUDA.

Same contract and the same answer as the CPU backend: scores are (query rows × ``query_scale``)
· (base rows × ``base_scale``), scaled in float32 before one float32 product (TF32 is switched
off for the call); near-ties are settled by the canonical score of :mod:`.exact` on the host,
so the neighbour lists do not depend on cuBLAS's rounding; order (score desc, index asc); ``-1``
for slots only excluded items could fill. The base is uploaded block by block
(``BASE_BLOCK_BYTES``), so catalogues larger than GPU memory work, and running lists are merged
across blocks with the CPU backend's exact merge. ``torch.topk`` has no limit on k (faiss-gpu's
stops at 2048), so any k works.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.retrieval.blocks import (
    ExcludeCSR,
    Progress,
    base_blocks,
    block_rows_for,
    excluded_in,
    pieces,
    release,
    subset_csr,
)
from complement.retrieval.exact import BAND, finish
from complement.retrieval.merge import merge_topk

__all__ = ["NAME", "available", "chunk_rows_for", "select_topk", "topk"]

NAME = "cuda-torch"
#: Bytes of one chunk of the score matrix on the device.
CHUNK_BYTES = 512 * 1024 * 1024
#: Bytes of one float32 base block on the device.
BASE_BLOCK_BYTES = 1024 * 1024 * 1024
MAX_BLOCK_ROWS = 1 << 20


def available() -> bool:
    """A usable CUDA GPU for torch.

    False at once, without importing torch (about a second), when no GPU driver shows itself:
    NVIDIA's kernel module or device files, WSL's GPU paravirtualisation, or AMD's compute
    device (ROCm builds of torch answer ``torch.cuda`` too); torch could not see a GPU then.
    """
    import os.path

    drivers = (
        "/proc/driver/nvidia/version",
        "/dev/nvidiactl",
        "/dev/nvidia0",
        "/dev/dxg",
        "/dev/kfd",
    )
    if not any(os.path.exists(p) for p in drivers):
        return False
    try:
        import torch
    except ImportError:
        return False
    try:
        return bool(torch.cuda.is_available()) and torch.cuda.device_count() > 0
    except Exception:  # a broken driver must not break the CPU path
        return False


def chunk_rows_for(n_base: int, chunk_bytes: int = CHUNK_BYTES) -> int:
    return int(max(1, min(16384, chunk_bytes // (4 * max(n_base, 1)))))


def select_topk(scores: Any, k: int) -> tuple[Any, Any]:
    """Exact top-``k`` of each row of a torch tensor, ordered by (score desc, index asc)."""
    import torch

    r, n = scores.shape
    k = min(k, n)
    top = torch.topk(scores, k, dim=1, largest=True, sorted=False)
    cols, vals = top.indices, top.values
    kth = vals.min(dim=1).values
    tied = torch.nonzero((scores >= kth[:, None]).sum(dim=1) > k).flatten()
    if tied.numel():  # exact ties at the k-th place: keep the lowest indices among them
        sub = scores[tied]
        t = kth[tied][:, None]
        gt = sub > t
        eq = sub == t
        need = k - gt.sum(dim=1, keepdim=True)
        sel = gt | (eq & (torch.cumsum(eq.to(torch.int32), dim=1) <= need))
        c = torch.nonzero(sel, as_tuple=False)[:, 1].reshape(-1, k)
        cols[tied] = c
        vals[tied] = torch.gather(sub, 1, c)
    cols, by_index = torch.sort(cols, dim=1)
    vals = torch.gather(vals, 1, by_index)
    vals, order = torch.sort(vals, dim=1, descending=True, stable=True)
    return torch.gather(cols, 1, order), vals


@contextmanager
def _full_precision() -> Iterator[None]:
    """No TF32, no autograd; read-only (memory-mapped) inputs are only ever read."""
    import torch

    before = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision("highest")
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
            yield
    finally:
        torch.set_float32_matmul_precision(before)


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
    device: str = "cuda",
    band: int = BAND,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    """Same contract (and the same answer) as :func:`complement.retrieval.cpu.topk`."""
    import torch

    dev = torch.device(device)
    q = int(queries.shape[0])
    n, d = int(base.shape[0]), int(base.shape[1])
    kk = min(k, n)
    if q == 0 or kk <= 0:
        return np.zeros((q, max(kk, 0)), dtype=np.int64), np.zeros((q, max(kk, 0)), np.float32)
    width = min(n, kk + band)
    rows_b = block_rows or block_rows_for(n, d, BASE_BLOCK_BYTES, MAX_BLOCK_ROWS)
    n_blocks = -(-n // rows_b)
    idx_out = np.full((q, width), -1, dtype=np.int64)
    val_out = np.full((q, width), -np.inf, dtype=np.float32)
    qnorm = np.zeros(q, dtype=np.float64)
    bmax = 0.0
    with _full_precision():
        for bi, (b0, b1) in enumerate(base_blocks(n, rows_b)):
            block = torch.empty((b1 - b0, d), dtype=torch.float32, device=dev)
            for s, e in pieces(b0, b1, d):  # upload piece by piece; hand mapped pages back
                piece = base[s:e]
                block[s - b0 : e - b0] = torch.as_tensor(
                    np.ascontiguousarray(piece, dtype=np.float32), device=dev
                )
                release(piece)
            if base_scale is not None:
                scale = np.asarray(base_scale[b0:b1], dtype=np.float32)
                block = block * torch.as_tensor(scale, device=dev)[:, None]
            norms = torch.linalg.vector_norm(block.to(torch.float64), dim=1)
            bmax = max(bmax, float(norms.max()) if norms.numel() else 0.0)
            wb = min(width, b1 - b0)
            rows = chunk_rows or chunk_rows_for(b1 - b0)
            for start in range(0, q, rows):
                stop = min(q, start + rows)
                qc = torch.as_tensor(
                    np.ascontiguousarray(queries[start:stop], dtype=np.float32), device=dev
                )
                if query_scale is not None:
                    qs = np.asarray(query_scale[start:stop], dtype=np.float32)
                    qc = qc * torch.as_tensor(qs, device=dev)[:, None]
                if bi == 0:
                    qnorm[start:stop] = (
                        torch.linalg.vector_norm(qc.to(torch.float64), dim=1).cpu().numpy()
                    )
                scores = qc @ block.T
                ex = excluded_in(exclude, start, stop, b0, b1)
                if ex is not None:
                    r_ex = torch.as_tensor(ex[0], device=dev)
                    c_ex = torch.as_tensor(ex[1], device=dev)
                    scores[r_ex, c_ex] = float("-inf")
                idx_t, vals_t = select_topk(scores, wb)
                idx = idx_t.cpu().numpy().astype(np.int64) + b0
                vals = vals_t.cpu().numpy().astype(np.float32)
                if n_blocks == 1:
                    idx_out[start:stop], val_out[start:stop] = idx, vals
                else:
                    idx_out[start:stop], val_out[start:stop] = merge_topk(
                        idx_out[start:stop], val_out[start:stop], idx, vals, width
                    )
                if progress is not None:
                    progress((bi * q + stop) // n_blocks, q)
            del block
    top_idx, top_val, again = finish(
        queries, base, kk, idx_out, val_out, qnorm, bmax, base_scale, query_scale
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
            device=device,
            band=max(8 * band, 64),
        )
    top_idx[np.isneginf(top_val)] = -1
    return top_idx, top_val
