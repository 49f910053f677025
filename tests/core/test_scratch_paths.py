"""Kernels that fill scratch in place (no new array per block) against the direct computation
on freshly gathered rows: the same bits, whatever the sub-block size and the dtype."""

from __future__ import annotations

import numpy as np

from complement.core import diversity, rerank
from complement.core.interpolation import ViewStats


def direct_list_sums(rows, valid, unit):
    vecs = np.asarray(unit[np.maximum(rows, 0)], dtype=np.float64)
    vecs *= valid[:, :, None]
    summed = vecs.sum(axis=1)
    return np.einsum("ij,ij->i", summed, summed), np.einsum("ijk,ijk->i", vecs, vecs)


def test_list_sums_equal_the_direct_computation(monkeypatch):
    rng = np.random.default_rng(21)
    for trial in range(120):
        n_items, d = int(rng.integers(1, 40)), int(rng.integers(1, 30))
        n, k = int(rng.integers(1, 25)), int(rng.integers(1, 9))
        dtype = (np.float32, np.float64, np.float16)[trial % 3]
        unit = rng.standard_normal((n_items, d)).astype(dtype)
        if trial % 4 == 0:
            unit[: n_items // 2] = -0.0  # empty slots times a negative zero row
        low = -1 if trial % 2 else 0  # with and without empty slots
        rows = rng.integers(low, n_items, (n, k))
        valid = rows >= 0
        # sub-blocks of two lists (sub-block by sub-block, a fresh array each) or all at once
        for cache_values in (1, 1 << 16):
            monkeypatch.setattr(diversity, "_CACHE_VALUES", cache_values)
            got = diversity._list_sums(rows, valid, unit)
            step = max(2, cache_values // (k * d))
            bounds = list(range(0, n, step))
            if len(bounds) > 1 and n - bounds[-1] == 1:
                bounds.pop()
            bounds.append(n)
            for part, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
                want = direct_list_sums(rows[a:b], valid[a:b], unit)
                for g, w in zip(got, want, strict=True):
                    assert np.array_equal(g[a:b].view(np.int64), w.view(np.int64)), (trial, part)


def test_standardised_scores_with_scratch_equal_fresh_rows():
    rng = np.random.default_rng(22)
    for trial in range(60):
        u, d, n, w = (int(rng.integers(1, m)) for m in (20, 40, 30, 9))
        q = rng.standard_normal((u, d))
        y = rng.standard_normal((n, d))
        stats = ViewStats(
            mean=rng.standard_normal(u), sd=np.where(rng.random(u) < 0.2, 0.0, rng.random(u))
        )
        items = rng.integers(0, n, (u, w))
        want = rerank._z(q, y, stats, items)
        got = rerank._z(q, y, stats, items, np.full(u * w * d + 5, np.nan))
        assert np.array_equal(got.view(np.int64), want.view(np.int64)), trial
