"""The symmetric self-search (each product once) against the brute-force reference and the
general CPU path: ties, massive ties, scales, near-ties across tiles, worker threads."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_fast_paths import reference

from complement.retrieval import cpu, get_backend, inverse_norms, item_knn, symmetric
from complement.retrieval.exact import BAND


def diagonal(n):
    return np.arange(n + 1, dtype=np.int64), np.arange(n, dtype=np.int64)


def check(x, k, **kw):
    scale = kw.get("scale")
    want_idx, want_val = reference(
        x, x, k, exclude=diagonal(x.shape[0]), base_scale=scale, query_scale=scale
    )
    idx, val = symmetric.self_topk(x, k, **kw)
    assert idx.dtype == np.int64 and val.dtype == np.float32
    np.testing.assert_array_equal(idx, want_idx)
    np.testing.assert_allclose(val, want_val, rtol=1e-5, atol=1e-5)
    return idx


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(200, 700),
    d=st.integers(1, 12),
    k=st.integers(1, 4),
    levels=st.sampled_from([2, 5, 50, 10**6]),
    tile=st.integers(60, 260),
    threads=st.sampled_from([1, 3]),
    seed=st.integers(0, 10**6),
)
def test_property_equals_reference(n, d, k, levels, tile, threads, seed):
    """Small integers: every score is exact, so exact ties are everywhere (and, with few
    levels, rows and columns with more candidates than the heavy limit)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(-levels, levels + 1, size=(n, d)).astype(np.float32)
    band = 2
    tile = max(tile, 4 * (k + band) + 1)
    tile = max(tile, n - (n - 1) // tile * tile + 0)  # the last tile too must hold 4w + 1 rows
    if n - (n - 1) // tile * tile <= 4 * (k + band):
        tile = n
    check(x, k, band=band, tile_rows=tile, threads=threads)


def test_all_rows_identical_gives_the_lowest_other_indices():
    x = np.ones((300, 4), dtype=np.float32)
    idx = check(x, 5, band=2, tile_rows=64, threads=2)
    assert idx[0].tolist() == [1, 2, 3, 4, 5] and idx[7].tolist() == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("mask_rows", [7, 256])
def test_scaled_float_data_with_duplicates_across_tiles_equal_the_general_path(
    monkeypatch, mask_rows
):
    """Float data: the products round differently in different tiles, and duplicated rows far
    apart must still tie exactly with the lower index first, as on every other path (also
    when a tile's rows are compared a few at a time)."""
    monkeypatch.setattr(symmetric, "MASK_ROWS", mask_rows)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1200, 16)).astype(np.float32)
    x[900] = x[5]
    x[1100] = x[5]
    x[640] = x[20] * 3.0  # the same direction: a tie under cosine only
    scale = inverse_norms(x)
    want = cpu.topk(x, x, 6, base_scale=scale, query_scale=scale, exclude=diagonal(1200))
    for threads in (1, 2, 3):
        got = symmetric.self_topk(x, 6, scale=scale, tile_rows=256, threads=threads)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_allclose(got[1], want[1], rtol=1e-6)
    assert got[0][5][0] == 900 and got[0][900][0] == 5 and got[0][20][0] == 640


def test_keys_order_scores_descending_then_index_ascending():
    vals = np.array([1.0, -0.0, 0.0, -1.5, np.inf, -np.inf, 1e-42, -1e-42, 3.5, 1.0], np.float32)
    idx = np.arange(vals.size, dtype=np.int64)
    keys = symmetric._keys(vals, idx)
    order = np.argsort(keys)
    want = np.lexsort((idx, -vals + 0.0))
    assert order.tolist() == want.tolist()
    back = symmetric._values(keys)
    np.testing.assert_array_equal(back, vals + np.float32(0.0))


def test_tiles_too_small_for_the_lists_are_refused():
    with pytest.raises(ValueError, match="too small"):
        symmetric.self_topk(np.ones((100, 3), np.float32), 5, tile_rows=20)


def test_backend_takes_the_symmetric_path_only_where_it_applies(monkeypatch):
    calls = []
    real = symmetric.self_topk
    monkeypatch.setattr(symmetric, "self_topk", lambda *a, **kw: calls.append(1) or real(*a, **kw))
    rng = np.random.default_rng(0)
    n = symmetric.MIN_ROWS
    x = rng.standard_normal((n, 8)).astype(np.float32)
    assert symmetric.applies(n, 8, 10 + BAND) and not symmetric.applies(n - 1, 8, 10 + BAND)
    seen = []
    got = item_knn(x, 10, get_backend("cpu"), progress=lambda d, t: seen.append((d, t)))
    assert calls == [1] and seen[-1] == (n, n)
    every = item_knn(x, 10, get_backend("cpu"), query_index=np.arange(n))  # all, in order
    assert calls == [1, 1]
    np.testing.assert_array_equal(every, got)
    scale = inverse_norms(x)
    want, _ = cpu.topk(x, x, 10, base_scale=scale, query_scale=scale, exclude=diagonal(n))
    np.testing.assert_array_equal(got, want)
    small = item_knn(x[:500], 10, get_backend("cpu"))  # below MIN_ROWS: the general path
    some = item_knn(x, 10, get_backend("cpu"), query_index=np.arange(1, n))  # a sample
    assert calls == [1, 1] and small.shape == (500, 10)
    np.testing.assert_array_equal(some, got[1:])


@pytest.mark.parametrize("parts", [1, 2, 3, 7])
def test_runs_of_tiles_merged_give_the_same_lists(parts):
    """What the Ray engine does with the tiles: runs of about equal work, each searched alone
    (its own running thresholds), merged and settled, equal the search of all tiles at once."""
    rng = np.random.default_rng(11)
    x = rng.integers(-3, 4, size=(900, 5)).astype(np.float32)  # exact ties everywhere
    scale = inverse_norms(x)
    tiles = symmetric.plan(900, 4, 2, 1, tile_rows=150)
    runs = tiles.shares(parts)
    assert sorted(j for run in runs for j in run) == sorted(tiles.jobs) and len(runs) <= parts
    for run in runs:  # a run's diagonal tiles come first (they set its thresholds)
        diagonal = [a == b for a, b in run]
        assert diagonal == sorted(diagonal, reverse=True)
    keys = symmetric.merge_keys(
        [symmetric.tile_keys(x, scale, tiles, run, 1) for run in runs], tiles.w
    )
    got = symmetric.finish_keys(x, scale, keys, 4, tiles, band=2)
    want = symmetric.self_topk(x, 4, scale=scale, band=2, tile_rows=150, threads=1)
    np.testing.assert_array_equal(got[0], want[0])
    check(x, 4, scale=scale, band=2, tile_rows=150, threads=2)
