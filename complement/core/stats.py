"""Bootstrap intervals and paired tests, seeded and chunked so memory stays bounded.

- ``bootstrap_mean_ci``: percentile interval (2.5%, 97.5%) of the mean over ``n_boot``
  resamples of the units (items or users) with replacement.
- ``paired_bootstrap``: the same for the per-unit difference ``a - b``, plus a two-sided
  p-value ``min(1, 2 * min(P*(mean <= 0), P*(mean >= 0)))`` from the bootstrap distribution of
  the mean difference (with the +1 correction of Davison & Hinkley); ``paired_bootstraps``
  runs many such tests on the same units from one draw of the resamples.
- ``bootstrap_estimates`` / ``bootstrap_tables``: many per-user means and ratios of sums of one
  table, each with its interval, all from the same resamples of the evaluated users (drawn as
  in ``bootstrap_means``); ``estimates_dict`` is their JSON form. The resample sums are exact
  (``count_products``), so the intervals do not depend on the BLAS's thread count.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.retrieval.pool import one_blas_thread

__all__ = [
    "N_BOOT",
    "Column",
    "Estimate",
    "PairedTest",
    "bootstrap_estimates",
    "bootstrap_mean_ci",
    "bootstrap_means",
    "bootstrap_tables",
    "count_products",
    "estimates_dict",
    "paired_bootstrap",
    "paired_bootstraps",
]

N_BOOT = 1000
_CELLS = 4_000_000  # resample indices generated per step (32 MB of int64)
_MAX_SLICES = 8  # slices of a column in count_products (typically 2 suffice: exact)
#: per-user values (estimate: their mean) or (numerator, denominator) (estimate: Σ num / Σ den)
Column = npt.NDArray[Any] | tuple[npt.NDArray[Any], npt.NDArray[Any]]


def bootstrap_means(
    values: npt.NDArray[np.float64], n_boot: int = N_BOOT, seed: int = 0
) -> npt.NDArray[np.float64]:
    """Means of ``n_boot`` resamples (rows of a 2-D ``values`` are resampled together)."""
    vals = np.asarray(values, dtype=np.float64)
    n = vals.shape[0]
    rng = np.random.default_rng(seed)
    step = max(1, _CELLS // max(n, 1))
    out = np.empty((n_boot,) + vals.shape[1:], dtype=np.float64)
    for start in range(0, n_boot, step):
        stop = min(n_boot, start + step)
        idx = rng.integers(0, n, size=(stop - start, n))
        out[start:stop] = vals[idx].mean(axis=1)
    return out


def bootstrap_mean_ci(
    values: npt.NDArray[np.float64], n_boot: int = N_BOOT, seed: int = 0
) -> tuple[float, float]:
    vals = np.asarray(values, dtype=np.float64)
    if vals.shape[0] == 0:
        return (float("nan"), float("nan"))
    means = bootstrap_means(vals, n_boot, seed)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return (float(lo), float(hi))


@dataclass(frozen=True)
class PairedTest:
    mean_diff: float
    ci95_diff: tuple[float, float]
    p_value: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "mean_diff": self.mean_diff,
            "ci95_diff": list(self.ci95_diff),
            "p_value": self.p_value,
        }


def paired_bootstrap(
    a: npt.NDArray[np.float64], b: npt.NDArray[np.float64], n_boot: int = N_BOOT, seed: int = 0
) -> PairedTest:
    return paired_bootstraps([(a, b)], n_boot, seed)[0]


def paired_bootstraps(
    pairs: Sequence[tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]],
    n_boot: int = N_BOOT,
    seed: int = 0,
) -> list[PairedTest]:
    """:func:`paired_bootstrap` of every pair ``(a, b)`` (all of one length n), each from the
    same resamples: they are drawn once, as :func:`bootstrap_means` draws them, and every
    difference is averaged over them as there (the same numbers as one test at a time)."""
    diffs = [np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64) for a, b in pairs]
    if not diffs:
        return []
    n = diffs[0].shape[0]
    if any(diff.shape != diffs[0].shape for diff in diffs):
        raise ValueError("paired_bootstraps: every pair must have the same shape")
    rng = np.random.default_rng(seed)
    step = max(1, _CELLS // max(n, 1))
    means = np.empty((len(diffs), n_boot) + diffs[0].shape[1:], dtype=np.float64)
    for start in range(0, n_boot, step):
        stop = min(n_boot, start + step)
        idx = rng.integers(0, n, size=(stop - start, n))
        for j, diff in enumerate(diffs):
            means[j, start:stop] = diff[idx].mean(axis=1)
    tests = []
    for diff, boot in zip(diffs, means, strict=True):
        lo, hi = np.percentile(boot, [2.5, 97.5])
        le = (np.count_nonzero(boot <= 0) + 1) / (n_boot + 1)
        ge = (np.count_nonzero(boot >= 0) + 1) / (n_boot + 1)
        p = min(1.0, 2.0 * min(le, ge))
        tests.append(PairedTest(float(diff.mean()), (float(lo), float(hi)), float(p)))
    return tests


@dataclass(frozen=True)
class Estimate:
    """A mean (or a ratio of sums) over users with its 95% bootstrap interval."""

    value: float
    ci95: tuple[float, float]


#: bytes of one block of columns in :func:`count_products` (its temporaries scale with it)
_COLUMN_BLOCK_BYTES = 8 * 1024 * 1024


def count_products(
    counts: npt.NDArray[np.float64], values: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """``counts @ values`` in blocks of columns of ``values`` (each column is summed on its
    own, so blocking changes no bit; see :func:`_count_products`)."""
    vals = np.asarray(values, dtype=np.float64)
    width = max(1, _COLUMN_BLOCK_BYTES // (8 * max(1, vals.shape[0])))
    if vals.shape[1] <= width:
        return _count_products(counts, vals)
    return np.concatenate(
        [_count_products(counts, vals[:, j : j + width]) for j in range(0, vals.shape[1], width)],
        axis=1,
    )


def _count_products(
    counts: npt.NDArray[np.float64], values: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """``counts @ values`` for counts that are non-negative integers, the same bits whatever
    the BLAS's thread count or blocking (a float64 matrix product sums in an order that
    depends on both).

    Each finite column of ``values`` is cut into slices on grids fixed by its largest
    magnitude, ``53 - bit_length(R)`` bits a slice (R: the largest row sum of ``counts``), as in
    Ozaki's error-free splitting: every product and every partial sum of one slice's product
    is then an integer multiple of the slice's grid step, below 2**53 of them, hence exact in
    float64 in any order. The slices' products are added in a fixed order (smallest first).
    Parts of a value below ``2**-(_MAX_SLICES * bits)`` of its column's largest magnitude are
    dropped. Columns with a non-finite entry are summed without the BLAS (``einsum``).
    """
    c = np.asarray(counts, dtype=np.float64)
    vals = np.asarray(values, dtype=np.float64)
    out = np.empty((c.shape[0], vals.shape[1]), dtype=np.float64)
    if vals.shape[1] == 0 or c.shape[0] == 0:
        return out
    finite = np.isfinite(vals).all(axis=0)
    if not finite.all():
        out[:, ~finite] = np.einsum("bi,ij->bj", c, vals[:, ~finite])
    rest = vals[:, finite]
    if rest.shape[1] == 0:
        return out
    bits = 53 - int(c.sum(axis=1).max()).bit_length()
    _, top = np.frexp(np.abs(rest).max(axis=0, initial=0.0))  # |value| < 2**top per column
    parts = []
    with one_blas_thread():  # a few columns: nothing for a second thread, which would spin
        for s in range(1, _MAX_SLICES + 1):
            shift = top - s * bits  # grid step of slice s: 2**shift
            piece = np.ldexp(np.trunc(np.ldexp(rest, -shift)), shift)  # < 2**bits steps
            rest = rest - piece  # exact: the low bits of rest
            parts.append(c @ piece)
            if not rest.any():
                break
    total = parts.pop()
    while parts:
        total = parts.pop() + total
    out[:, finite] = total
    return out


def _resample_counts(
    n: int, n_boot: int, seed: int
) -> Iterator[tuple[int, int, npt.NDArray[np.float64]]]:
    """Yield (rows, count matrix) blocks: how often each user is drawn in each resample."""
    rng = np.random.default_rng(seed)
    step = max(1, _CELLS // max(n, 1))
    for start in range(0, n_boot, step):
        stop = min(n_boot, start + step)
        idx = rng.integers(0, n, size=(stop - start, n))
        idx += np.arange(stop - start)[:, None] * n  # one bin per (resample, user)
        drawn = np.bincount(idx.reshape(-1), minlength=(stop - start) * n)
        del idx  # nothing of a step outlives it while the caller works on its counts
        counts = drawn.reshape(stop - start, n).astype(np.float64)
        del drawn
        yield start, stop, counts
        del counts


def bootstrap_estimates(
    columns: Mapping[str, Column],
    *,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[str, Estimate]:
    """Estimates with intervals for many per-user columns, all from the same resamples.

    A column is either per-user values (estimate: their mean) or a pair ``(num, den)`` of
    per-user values (estimate: ``Σ num / Σ den``, NaN when ``Σ den = 0``). The resamples are
    drawn as in :func:`bootstrap_means` (same seed, same users).
    """
    names = list(columns)
    if not names:
        return {}
    plain = [name for name in names if not isinstance(columns[name], tuple)]
    ratio = [name for name in names if isinstance(columns[name], tuple)]

    first = columns[names[0]]
    n = int(np.shape(first[0] if isinstance(first, tuple) else first)[0])
    p, r = len(plain), len(ratio)
    # one table (users x [means | numerators | denominators]), filled column by column
    table = np.empty((n, p + 2 * r), dtype=np.float64)
    for j, col in enumerate(
        [columns[m] for m in plain]
        + [columns[m][0] for m in ratio]
        + [columns[m][1] for m in ratio]
    ):
        table[:, j] = col
    mean, num, den = table[:, :p], table[:, p : p + r], table[:, p + r :]
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.concatenate([mean.sum(axis=0) / n, num.sum(axis=0) / den.sum(axis=0)])
    lo = np.full(len(names), np.nan)
    hi = np.full(len(names), np.nan)
    if n > 0 and n_boot > 0:
        stats = np.empty((n_boot, len(names)))
        for start, stop, counts in _resample_counts(n, n_boot, seed):
            sums = count_products(counts, table)  # exact sums: no BLAS-order rounding
            del counts
            with np.errstate(invalid="ignore", divide="ignore"):
                stats[start:stop, :p] = sums[:, :p] / n
                stats[start:stop, p:] = sums[:, p : p + r] / sums[:, p + r :]
        finite = np.isfinite(stats).any(axis=0)
        if finite.any():
            with np.errstate(invalid="ignore"):
                q = np.nanpercentile(stats[:, finite], [2.5, 97.5], axis=0)
            lo[finite], hi[finite] = q[0], q[1]
    pos = {name: j for j, name in enumerate(plain + ratio)}
    return {
        name: Estimate(float(value[pos[name]]), (float(lo[pos[name]]), float(hi[pos[name]])))
        for name in names
    }


def bootstrap_tables(
    tables: Mapping[
        int, Mapping[str, npt.NDArray[Any] | tuple[npt.NDArray[Any], npt.NDArray[Any]]]
    ],
    *,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[int, dict[str, Estimate]]:
    """:func:`bootstrap_estimates` for several tables (e.g. one per K) over the same users."""
    flat = {f"{key}|{name}": col for key, cols in tables.items() for name, col in cols.items()}
    est = bootstrap_estimates(flat, n_boot=n_boot, seed=seed)
    return {key: {name: est[f"{key}|{name}"] for name in cols} for key, cols in tables.items()}


def estimates_dict(estimates: Mapping[str, Estimate]) -> dict[str, Any]:
    """``{name: value, ..., "ci95": {name: [lo, hi], ...}}``: the JSON form of estimates."""
    out: dict[str, Any] = {name: e.value for name, e in estimates.items()}
    out["ci95"] = {name: list(e.ci95) for name, e in estimates.items()}
    return out
