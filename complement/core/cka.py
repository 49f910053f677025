"""Linear CKA between several views of the same items, biased and debiased, in feature space.

Definitions (fixed; also in docs/definitions.md and the JSON under ``definitions``). Each view
``X`` (n × d) is column-centred (its rows L2-normalised first under cosine); ``K = XXᵀ`` and
``L = YYᵀ`` are the linear kernels of two views, ``K̃``, ``L̃`` the same with a zero diagonal.

- ``cka_linear = ‖YᵀX‖²_F / (‖XᵀX‖_F ‖YᵀY‖_F)`` (as ``complement overlap``).
- ``hsic_u(K, L) = [tr(K̃L̃) + (1ᵀK̃1)(1ᵀL̃1) / ((n−1)(n−2)) − 2 · 1ᵀK̃L̃1 / (n−2)] / (n(n−3))``:
  the unbiased HSIC estimator of Song et al. (2012), n ≥ 4. It does not change when a constant
  is added to every row of a view, so centring does not change it (it only helps rounding).
- ``cka_debiased = hsic_u(K, L) / √(hsic_u(K, K) · hsic_u(L, L))``: debiased linear CKA (NaN
  when a denominator term is not positive or n < 4).

Feature-space form, never an n × n matrix. With ``k_i = ‖x_i‖²``, ``l_i = ‖y_i‖²``,
``s_x = Xᵀ1``, ``s_y = Yᵀ1``::

    tr(K̃L̃)   = ‖XᵀY‖²_F − Σ k_i l_i
    1ᵀK̃1     = ‖s_x‖² − Σ k_i
    1ᵀK̃L̃1   = Σ_i (x_i·s_x − k_i)(y_i·s_y − l_i)
             = s_xᵀ(XᵀY)s_y − s_xᵀ(Xᵀl) − s_yᵀ(Yᵀk) + Σ k_i l_i

All of it comes from one pass over row blocks of the concatenation ``Z = [X_1 … X_N]`` of
every view (after a first pass for the column means): ``ZᵀZ`` (D × D, D = Σ d_v), ``ZᵀR``
and ``RᵀR`` with ``R`` the n × N matrix of squared row norms per view, and the column sums,
all accumulated in float64. Cost O(n·D²) time, O(D²) memory, for every pair at once. The
products ``ZᵀZ`` of each block of rows run in float64 up to 2·10¹⁰ multiply-adds (n·D²) and
in float32 above (each block's product summed into float64: a relative error of about 1e-6 on
the CKA, for half the time of the largest part of the work once n·D² is that large).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.retrieval import inverse_norms
from complement.retrieval.pool import in_order, one_blas_thread

__all__ = [
    "DEFINITIONS",
    "GramStats",
    "cka_matrices",
    "debiased_cka",
    "gram_stats",
    "hsic_u",
    "pairwise_cka",
]

DEFINITIONS = {
    "cka_linear": "||Y^T X||_F^2 / (||X^T X||_F ||Y^T Y||_F) on column-centred X, Y (rows "
    "L2-normalised first under cosine), from d x d Gram matrices",
    "cka_debiased": "hsic_u(K, L) / sqrt(hsic_u(K, K) hsic_u(L, L)) with linear kernels "
    "K = X X^T, L = Y Y^T of the same X, Y and hsic_u the unbiased HSIC estimator of Song et al. "
    "(2012): [tr(K~ L~) + (1^T K~ 1)(1^T L~ 1)/((n-1)(n-2)) - 2 (1^T K~ L~ 1)/(n-2)] / (n(n-3)), "
    "K~ and L~ with zero diagonals; computed in feature space (never an n x n matrix); null when "
    "n < 4 or a denominator term is not positive",
    "cka_precision": "Gram products in float64; when n_items x (sum of the dimensions)^2 exceeds "
    "2e10, in float32 per block of rows summed in float64 (relative error about 1e-6)",
}

#: bytes of one float64 block of rows of the concatenated views
_BLOCK_BYTES = 16 * 1024 * 1024
#: largest D × D Gram matrix of all views together; beyond it each pair is computed alone
_GRAM_BYTES = 256 * 1024 * 1024
#: above this many multiply-adds (n × D²) the block products ZᵀZ run in float32
_F64_MACS = 2e10
PRECISIONS = ("auto", "float64", "float32")


@dataclass(frozen=True)
class GramStats:
    """Sufficient statistics of N centred views over the same n rows (float64).

    ``offsets[v]:offsets[v + 1]`` are view v's columns in ``gram`` (``ZᵀZ``) and ``sums``
    (``Zᵀ1``); ``norms_cross`` is ``ZᵀR`` (D × N), ``norms_gram`` is ``RᵀR`` (N × N) and
    ``norms_sum`` is ``Rᵀ1`` (N), ``R[i, v] = ‖x_i‖²`` of view v's centred row.
    """

    n: int
    offsets: tuple[int, ...]
    gram: npt.NDArray[np.float64]
    sums: npt.NDArray[np.float64]
    norms_cross: npt.NDArray[np.float64]
    norms_gram: npt.NDArray[np.float64]
    norms_sum: npt.NDArray[np.float64]

    def cols(self, v: int) -> slice:
        return slice(self.offsets[v], self.offsets[v + 1])


def _block(
    views: Sequence[npt.NDArray[Any]],
    scales: Sequence[npt.NDArray[np.float32] | None],
    start: int,
    stop: int,
    width: int,
    offsets: Sequence[int],
) -> npt.NDArray[np.float64]:
    z = np.empty((stop - start, width), dtype=np.float64)
    for v, (view, scale) in enumerate(zip(views, scales, strict=True)):
        part = z[:, offsets[v] : offsets[v + 1]]
        part[...] = view[start:stop]
        if scale is not None:
            part *= scale[start:stop, None]
    return z


def gram_stats(
    views: Sequence[npt.NDArray[Any]], *, cosine: bool = True, precision: str = "auto"
) -> GramStats:
    """Two passes over row blocks: the column means, then the centred statistics.

    ``precision``: the block products ``ZᵀZ`` in ``float64``, in ``float32`` (summed in
    float64), or ``auto`` (float64 up to 2·10¹⁰ multiply-adds, float32 above).
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision {precision!r}: choose one of {', '.join(PRECISIONS)}")
    n = int(views[0].shape[0])
    if any(int(v.shape[0]) != n for v in views):
        raise ValueError("every view must have the same rows (join them first)")
    dims = [int(v.shape[1]) for v in views]
    offsets = tuple(int(o) for o in np.concatenate([[0], np.cumsum(dims)]))
    width = offsets[-1]
    scales = [inverse_norms(v) if cosine else None for v in views]
    rows = max(1, _BLOCK_BYTES // (8 * max(width, 1)))
    single = precision == "float32" or (precision == "auto" and n * width * width > _F64_MACS)
    total = np.zeros(width)
    for start in range(0, n, rows):
        stop = min(n, start + rows)
        total += _block(views, scales, start, stop, width, offsets).sum(axis=0)
    mean = total / n
    m = len(views)
    gram = np.zeros((width, width))
    sums = np.zeros(width)
    cross = np.zeros((width, m))
    ngram = np.zeros((m, m))
    nsum = np.zeros(m)

    def part(start: int) -> Any:
        def task() -> tuple[Any, ...]:
            stop = min(n, start + rows)
            z = _block(views, scales, start, stop, width, offsets)
            z -= mean
            r = np.stack(
                [
                    np.einsum("ij,ij->i", z[:, a:b], z[:, a:b])
                    for a, b in zip(offsets, offsets[1:], strict=False)
                ],
                axis=1,
            )
            if single:
                z32 = z.astype(np.float32)
                zz = z32.T @ z32
            else:
                zz = z.T @ z
            return zz, z.sum(axis=0), z.T @ r, r.T @ r, r.sum(axis=0)

        return task

    # blocks on one BLAS thread each, summed in block order: the same bits on any machine
    for zz, zs, zr, rr, rs in in_order(part(s) for s in range(0, n, rows)):
        gram += zz
        sums += zs
        cross += zr
        ngram += rr
        nsum += rs
    return GramStats(n, offsets, gram, sums, cross, ngram, nsum)


def hsic_u(stats: GramStats, a: int, b: int) -> float:
    """The unbiased HSIC of views ``a`` and ``b`` (linear kernels) from the statistics."""
    n = stats.n
    if n < 4:
        return float("nan")
    ca, cb = stats.cols(a), stats.cols(b)
    xy = stats.gram[ca, cb]  # XᵀY
    sx, sy = stats.sums[ca], stats.sums[cb]
    kl = stats.norms_gram[a, b]  # Σ k_i l_i
    trace = float(np.sum(xy * xy)) - kl
    k1 = float(sx @ sx) - stats.norms_sum[a]
    l1 = float(sy @ sy) - stats.norms_sum[b]
    kl1 = float(sx @ xy @ sy) - float(sx @ stats.norms_cross[ca, b])
    kl1 += -float(sy @ stats.norms_cross[cb, a]) + kl
    value = trace + k1 * l1 / ((n - 1) * (n - 2)) - 2.0 * kl1 / (n - 2)
    return float(value / (n * (n - 3)))


def _linear(stats: GramStats, a: int, b: int) -> float:
    ca, cb = stats.cols(a), stats.cols(b)
    denom = float(np.linalg.norm(stats.gram[ca, ca]) * np.linalg.norm(stats.gram[cb, cb]))
    if denom <= 0:
        return float("nan")
    return float(np.linalg.norm(stats.gram[cb, ca]) ** 2 / denom)


def _debiased(stats: GramStats, a: int, b: int) -> float:
    ha, hb = hsic_u(stats, a, a), hsic_u(stats, b, b)
    if not (ha > 0 and hb > 0):
        return float("nan")
    return float(hsic_u(stats, a, b) / np.sqrt(ha * hb))


def cka_matrices(
    stats: GramStats,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(linear CKA, debiased linear CKA) of every pair of views, as symmetric N × N matrices."""
    m = len(stats.offsets) - 1
    linear = np.full((m, m), np.nan)
    debiased = np.full((m, m), np.nan)
    with one_blas_thread():  # norms and dot products: the same bits on any machine
        for a in range(m):
            for b in range(a, m):
                linear[a, b] = linear[b, a] = _linear(stats, a, b)
                debiased[a, b] = debiased[b, a] = _debiased(stats, a, b)
    return linear, debiased


def debiased_cka(
    x: npt.NDArray[Any], y: npt.NDArray[Any], *, cosine: bool = True, precision: str = "auto"
) -> float:
    """Debiased linear CKA of two views over the same rows (feature space)."""
    stats = gram_stats([x, y], cosine=cosine, precision=precision)
    with one_blas_thread():
        return _debiased(stats, 0, 1)


def pairwise_cka(
    views: Sequence[npt.NDArray[Any]], *, cosine: bool = True, precision: str = "auto"
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(linear, debiased) CKA matrices of every pair of views.

    One pass over all views together while their joint D × D Gram matrix stays under
    256 MB (D = the sum of the dimensions); otherwise one pass per pair (the same figures,
    more reading, memory bounded by the largest pair).
    """
    width = sum(int(v.shape[1]) for v in views)
    if 8 * width * width <= _GRAM_BYTES:
        return cka_matrices(gram_stats(views, cosine=cosine, precision=precision))
    m = len(views)
    linear = np.full((m, m), np.nan)
    debiased = np.full((m, m), np.nan)
    for a in range(m):
        for b in range(a + 1, m):
            lin, deb = cka_matrices(
                gram_stats([views[a], views[b]], cosine=cosine, precision=precision)
            )
            linear[a, b] = linear[b, a] = lin[0, 1]
            debiased[a, b] = debiased[b, a] = deb[0, 1]
        single_lin, single_deb = cka_matrices(
            gram_stats([views[a]], cosine=cosine, precision=precision)
        )
        linear[a, a], debiased[a, a] = single_lin[0, 0], single_deb[0, 0]
    return linear, debiased
