"""The one expensive operation, exact top-k retrieval, behind one interface.

The backend is chosen once from ``--device auto|cpu|cuda``: ``auto`` takes CUDA when torch sees
a usable GPU, else the CPU; ``cuda`` without one is a :class:`~complement.errors.DeviceError`.

Every backend returns the same lists: scores come from float32 matrix products searched block
by block (``cpu``: BLAS plus an exact threshold selection; ``gpu``: torch on CUDA), and
near-ties are settled by a canonical score that does not depend on the BLAS, the blocking or
the device (:mod:`complement.retrieval.exact`), so identical items tie and the lower index wins.
Memory-mapped catalogues are read block by block without staying resident
(:mod:`complement.retrieval.blocks`); docs/scaling.md has the figures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.errors import DeviceError, UsageError
from complement.retrieval import cpu, gpu, symmetric
from complement.retrieval.blocks import release
from complement.retrieval.exact import BAND

__all__ = ["Backend", "get_backend", "inverse_norms", "item_knn", "user_topk"]

Progress = Callable[[int, int], None]
_NORM_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class Backend:
    """A retrieval backend: ``name`` says which ran (reported in every JSON)."""

    device: str
    name: str

    def join(self) -> None:
        """Join the engine's cluster now, on the calling thread (the local engine has none)."""

    def topk(
        self,
        queries: npt.NDArray[Any],
        base: npt.NDArray[Any],
        k: int,
        *,
        base_scale: npt.NDArray[np.float32] | None = None,
        exclude: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]] | None = None,
        progress: Progress | None = None,
        query_scale: npt.NDArray[np.float32] | None = None,
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """Exact top-``k`` base rows per query by inner product (see the backend modules).

        Scores are (query row × ``query_scale``) · (base row × ``base_scale``); ``exclude`` is
        a CSR pair (indptr over queries, base indices) of entries never returned. Returns
        (indices int64, scores float32), each (queries, min(k, base rows)), ordered by (score
        desc, index asc); ``-1`` (score ``-inf``) where only excluded items were left.
        """
        fn = gpu.topk if self.device == "cuda" else cpu.topk
        return fn(
            queries,
            base,
            k,
            base_scale=base_scale,
            query_scale=query_scale,
            exclude=exclude,
            progress=progress,
        )

    def self_topk(
        self,
        matrix: npt.NDArray[Any],
        k: int,
        *,
        scale: npt.NDArray[np.float32] | None = None,
        progress: Progress | None = None,
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """Top-``k`` other rows of every row of ``matrix`` (each row excluded from its own
        list): the lists of ``topk(matrix, matrix, k, base_scale=scale, query_scale=scale,
        exclude=<each row itself>)``.

        On the CPU, a catalogue that :func:`complement.retrieval.symmetric.applies` to is
        searched by symmetric tiles, each product computed once (about half the work).
        """
        n, d = int(matrix.shape[0]), int(matrix.shape[1])
        w = min(k, n - 1) + BAND
        if self.device == "cpu" and symmetric.applies(n, d, w):
            return symmetric.self_topk(matrix, k, scale=scale, progress=progress)
        return self.self_by_rows(matrix, k, scale=scale, progress=progress)

    def self_by_rows(
        self,
        matrix: npt.NDArray[Any],
        k: int,
        *,
        scale: npt.NDArray[np.float32] | None = None,
        progress: Progress | None = None,
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """:meth:`self_topk` as a search of every row against the matrix (:meth:`topk`), each
        row excluded from its own list."""
        return self.topk(
            matrix,
            matrix,
            k,
            base_scale=scale,
            query_scale=scale,
            exclude=symmetric.diagonal(int(matrix.shape[0])),
            progress=progress,
        )

    def to_dict(self) -> dict[str, str]:
        return {"device": self.device, "backend": self.name}


def get_backend(device: str = "auto") -> Backend:
    """The retrieval backend of ``device``: ``"cpu"``, ``"cuda"`` or ``"auto"``.

    ``auto`` takes CUDA when torch sees a usable GPU, else the CPU; ``cuda`` without one is a
    :class:`~complement.errors.DeviceError`. The backend carries the device that every
    diagnostic run with it uses (retrieval, probe MLPs and alignment training alike).
    """
    if device not in ("auto", "cpu", "cuda"):
        raise UsageError(f"unknown --device {device!r}: choose auto, cpu or cuda")
    if device == "cpu":
        return Backend("cpu", cpu.NAME)
    if gpu.available():
        return Backend("cuda", gpu.NAME)
    if device == "cuda":
        raise DeviceError(
            "--device cuda: no usable CUDA GPU here (torch.cuda.is_available() is False); "
            "use --device cpu or --device auto"
        )
    return Backend("cpu", cpu.NAME)


def inverse_norms(matrix: npt.NDArray[Any]) -> npt.NDArray[np.float32]:
    """1/‖row‖ per row, block-wise (rows are validated non-zero before this).

    A memory-mapped matrix is read once, block by block, without staying resident.
    """
    n, d = matrix.shape[0], max(1, int(matrix.shape[1]))
    out = np.empty(n, dtype=np.float32)
    rows = max(1, _NORM_BYTES // (8 * d))  # float64 copies of a few MB, never of the matrix
    for start in range(0, n, rows):
        raw = matrix[start : start + rows]
        block = np.asarray(raw, dtype=np.float64)
        out[start : start + block.shape[0]] = 1.0 / np.sqrt(np.einsum("ij,ij->i", block, block))
        release(raw)
    return out


def item_knn(
    matrix: npt.NDArray[Any],
    k: int,
    backend: Backend,
    *,
    query_index: npt.NDArray[np.int64] | None = None,
    cosine: bool = True,
    progress: Progress | None = None,
) -> npt.NDArray[np.int64]:
    """The ``k`` nearest items of each query item, the item itself excluded."""
    n = matrix.shape[0]
    if k >= n:
        raise UsageError(f"k={k} is not smaller than the number of items ({n}); lower --k")
    if k < 1:
        raise UsageError(f"k={k}: every k must be a positive integer")
    scale = inverse_norms(matrix) if cosine else None
    every = query_index is None or (
        len(query_index) == n and np.array_equal(query_index, np.arange(n))
    )
    if every:  # every item in order: the matrix itself is the query set, never copied
        idx, _ = backend.self_topk(matrix, k, scale=scale, progress=progress)
        return idx
    qi = np.asarray(query_index, dtype=np.int64)
    queries = np.asarray(matrix[qi], dtype=np.float32)
    release(matrix)  # sampled rows of a memory map: do not keep their pages resident
    qscale = scale[qi] if scale is not None else None
    exclude = (np.arange(qi.shape[0] + 1, dtype=np.int64), qi)
    idx, _ = backend.topk(
        queries,
        matrix,
        k,
        base_scale=scale,
        query_scale=qscale,
        exclude=exclude,
        progress=progress,
    )
    return idx


def user_topk(
    user_vectors: npt.NDArray[Any],
    items: npt.NDArray[Any],
    k: int,
    backend: Backend,
    *,
    history: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]],
    item_scale: npt.NDArray[np.float32] | None = None,
    progress: Progress | None = None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    """Top-``k`` items per user with each user's history (CSR indptr, indices) excluded."""
    return backend.topk(
        user_vectors, items, k, base_scale=item_scale, exclude=history, progress=progress
    )
