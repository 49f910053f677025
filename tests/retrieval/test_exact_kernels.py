"""The canonical-score kernels, the top-k selection and the BLAS thread limit, against plain
references: the padded pairwise sum as defined (bit for bit, signed zeros and overflow
included), a full lexicographic sort, and threadpoolctl's own view of the thread counts."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from complement.retrieval import exact, pool, selection


def padded_sum(q, b):
    """The definition: float64 products padded with zeros to a power of two, summed pairwise."""
    m, d = q.shape
    width = 1 << max(0, (d - 1).bit_length())
    p = np.zeros((m, width), dtype=np.float64)
    p[:, :d] = q.astype(np.float64) * b.astype(np.float64)
    h = width
    while h > 1:
        h //= 2
        p[:, :h] = p[:, :h] + p[:, h : 2 * h]
    return p[:, 0].astype(np.float32)


def hard_pairs(rng, m, d):
    """Random, signed-zero, overflowing, subnormal, identical and non-finite rows."""
    normal = rng.standard_normal((m, d)).astype(np.float32)
    zeros = np.zeros((m, d), np.float32)
    signed = normal.copy()
    signed[rng.random((m, d)) < 0.5] = -0.0
    choice = rng.choice(np.array([0.0, -0.0, 1.0, -1.0], np.float32), (m, d))
    scale = np.exp2(rng.integers(-140, 127, (m, d)))
    wide = (rng.standard_normal((m, d)) * scale).astype(np.float32)
    odd = normal.copy()
    odd.flat[:1] = np.inf
    odd.flat[-1:] = np.nan
    yield normal, rng.standard_normal((m, d)).astype(np.float32)
    yield zeros, -zeros
    yield -zeros, normal
    yield signed, choice
    yield wide, wide[::-1].copy()
    yield np.full((m, d), 3e38, np.float32), np.full((m, d), -3e38, np.float32)
    yield np.full((m, d), 1e-45, np.float32), np.full((m, d), -1e-45, np.float32)
    yield normal, normal
    yield odd, normal


@pytest.mark.parametrize("d", [1, 2, 3, 4, 5, 63, 64, 65, 384, 385, 448, 512])
def test_canonical_scores_are_the_padded_pairwise_sum_bit_for_bit(d, monkeypatch):
    rng = np.random.default_rng(d)
    for scratch in (1 << 19, 64):  # 64 bytes: batches of the fewest rows
        monkeypatch.setattr(exact, "_SCRATCH_BYTES", scratch)
        for q, b in hard_pairs(rng, 37, d):
            with np.errstate(all="ignore"):
                want = padded_sum(q, b)
                got = exact.canonical_scores(q, b)
            np.testing.assert_array_equal(got.view(np.int32), want.view(np.int32))


@pytest.mark.parametrize("d", [1, 3, 64, 65, 448])
def test_canonical_pairs_gather_and_scale_as_the_search(d, monkeypatch):
    rng = np.random.default_rng(100 + d)
    q = rng.standard_normal((30, d)).astype(np.float32)
    q[3] = -0.0
    b = rng.standard_normal((50, d)).astype(np.float32)
    rows, cols = rng.integers(0, 30, 700), rng.integers(0, 50, 700)
    qs, bs = rng.standard_normal(30).astype(np.float32), rng.standard_normal(50).astype(np.float32)
    monkeypatch.setattr(exact, "_RESCORE_ROWS", 5)
    monkeypatch.setattr(exact, "_SCRATCH_BYTES", 8 * d * 3)  # batches of 8 pairs
    for query_scale, base_scale in ((None, None), (qs, None), (None, bs), (qs, bs)):
        qv, bv = q[rows], b[cols]
        if query_scale is not None:
            qv = qv * query_scale[rows][:, None]
        if base_scale is not None:
            bv = bv * base_scale[cols][:, None]
        want = padded_sum(qv, bv)
        got = exact.canonical_pairs(q, b, rows, cols, query_scale, base_scale)
        np.testing.assert_array_equal(got.view(np.int32), want.view(np.int32))
        # other dtypes are converted to float32 first, as the search does
        got = exact.canonical_pairs(q.astype(np.float64), b, rows, cols, query_scale, base_scale)
        np.testing.assert_array_equal(got.view(np.int32), want.view(np.int32))
    assert exact.canonical_pairs(q, b, rows[:0], cols[:0], None, None).shape == (0,)


def full_sort(scores, k):
    cols = np.broadcast_to(np.arange(scores.shape[1]), scores.shape)
    order = np.lexsort((cols, -scores), axis=-1)[:, :k]
    return np.take_along_axis(cols, order, axis=1), np.take_along_axis(scores, order, axis=1)


def test_select_topk_is_the_full_sort_with_ties_signed_zeros_and_infinities():
    rng = np.random.default_rng(5)
    pool_values = np.array([0.0, -0.0, 1.0, 2.0, -np.inf, np.inf], np.float32)
    for trial in range(400):
        r, n = int(rng.integers(1, 7)), int(rng.integers(1, 60))
        k = int(rng.integers(1, n + 3))
        if trial % 3 == 0:
            s = rng.standard_normal((r, n)).astype(np.float32)
        elif trial % 3 == 1:
            s = rng.integers(-2, 3, (r, n)).astype(np.float32)
        else:
            s = rng.choice(pool_values, (r, n))
        if trial % 5 == 0:
            s = np.asfortranarray(s)
        idx, val = selection.select_topk(s, k)
        want_idx, want_val = full_sort(s, min(k, n))
        np.testing.assert_array_equal(idx, want_idx)
        np.testing.assert_array_equal(val.view(np.int32), want_val.view(np.int32))
        assert idx.dtype == np.int64 and val.dtype == np.float32


def test_select_topk_rows_with_nan_keep_the_index_partition_answer():
    rng = np.random.default_rng(6)
    s = rng.standard_normal((6, 40)).astype(np.float32)
    s[1, 3] = np.nan
    s[4, :5] = np.nan
    idx, val = selection.select_topk(s, 7)
    ref_idx, ref_val = selection._select_ties(s, 7)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_array_equal(val.view(np.int32), ref_val.view(np.int32))


def blas_threads():
    from threadpoolctl import threadpool_info

    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]


def test_one_blas_thread_nested_and_concurrent_blocks_share_one_limit():
    before = blas_threads()
    with pool.one_blas_thread():
        assert set(blas_threads()) == {1}
        with pool.one_blas_thread():
            assert set(blas_threads()) == {1}
        assert set(blas_threads()) == {1}  # the inner block does not restore
    assert blas_threads() == before
    # a worker enters first and leaves first, the main thread leaves last (and the reverse)
    for worker_leaves_first in (True, False):
        entered, release = threading.Event(), threading.Event()
        seen = []

        def worker(entered=entered, release=release, seen=seen):
            with pool.one_blas_thread():
                entered.set()
                release.wait(10)
                seen.append(set(blas_threads()))

        thread = threading.Thread(target=worker)
        thread.start()
        entered.wait(10)
        block = pool.one_blas_thread()
        block.__enter__()
        if worker_leaves_first:
            release.set()
            thread.join()
            assert set(blas_threads()) == {1}  # still held by this thread
            block.__exit__(None, None, None)
        else:
            block.__exit__(None, None, None)
            assert set(blas_threads()) == {1}  # still held by the worker
            release.set()
            thread.join()
        assert seen == [{1}]
        assert blas_threads() == before


def test_workers_reads_the_live_thread_count():
    from threadpoolctl import threadpool_limits

    before = pool.workers()
    with threadpool_limits(1, user_api="blas"):
        assert pool.workers() == 1
    assert pool.workers() == before
