"""Every fast path of retrieval against a brute-force reference (full sort of the full matrix).

The reference scores every pair as a float64 product rounded to float32 (the canonical score of
``complement.retrieval.exact`` up to float64 rounding) and sorts by (score desc, index asc).
Most data are small integers with power-of-two scales, so every score is exact and exact ties
are everywhere; float data with duplicated rows check that near-ties do not depend on the
BLAS's rounding, the blocking or the backend.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from complement.retrieval import cpu, get_backend, gpu, item_knn, merge, pool, selection, user_topk
from complement.retrieval.blocks import excluded_in, subset_csr
from complement.retrieval.exact import canonical_scores, resolve


def reference(q, b, k, *, exclude=None, base_scale=None, query_scale=None):
    """Full score matrix, excluded entries -inf, full lexicographic sort (score desc, idx asc)."""
    q = np.asarray(q, dtype=np.float32)
    b = np.asarray(b, dtype=np.float32)
    if query_scale is not None:
        q = q * query_scale.astype(np.float32)[:, None]
    if base_scale is not None:
        b = b * base_scale.astype(np.float32)[:, None]
    s = (q.astype(np.float64) @ b.astype(np.float64).T).astype(np.float32)
    if exclude is not None:
        indptr, indices = exclude
        rows = np.repeat(np.arange(q.shape[0]), np.diff(indptr))
        s[rows, indices] = -np.inf
    cols = np.broadcast_to(np.arange(b.shape[0]), s.shape)
    order = np.lexsort((cols, -s), axis=1)[:, : min(k, b.shape[0])]
    idx = np.take_along_axis(cols, order, axis=1).astype(np.int64)
    vals = np.take_along_axis(s, order, axis=1)
    idx[np.isneginf(vals)] = -1
    return idx, vals


def torch_cpu(*args, **kwargs):
    return gpu.topk(*args, device="cpu", **kwargs)


def cpu_faiss(*args, **kwargs):
    return cpu.topk(*args, use_faiss=True, **kwargs)


def cpu_threads(*args, **kwargs):
    """Three worker threads whatever the machine, so batches run concurrently and out of order."""
    return cpu.topk(*args, threads=3, **kwargs)


BACKENDS = [cpu.topk, cpu_faiss, cpu_threads, torch_cpu]
IDS = ["cpu", "cpu-faiss", "cpu-threads", "torch-cpu"]


def random_csr(rng, n_rows, n_base, max_len):
    lens = rng.integers(0, max_len + 1, n_rows)
    rows = [np.sort(rng.choice(n_base, size=min(int(m), n_base), replace=False)) for m in lens]
    indptr = np.concatenate([[0], np.cumsum([len(r) for r in rows])]).astype(np.int64)
    indices = np.concatenate(rows + [np.empty(0, dtype=np.int64)]).astype(np.int64)
    return indptr, indices


def check(fn, q, b, k, **kw):
    exp_idx, exp_val = reference(
        q,
        b,
        k,
        exclude=kw.get("exclude"),
        base_scale=kw.get("base_scale"),
        query_scale=kw.get("query_scale"),
    )
    idx, val = fn(q, b, k, **kw)
    assert idx.dtype == np.int64 and val.dtype == np.float32
    np.testing.assert_array_equal(idx, exp_idx)
    np.testing.assert_allclose(val, exp_val, rtol=1e-5, atol=1e-5)  # exact on integer data
    return idx, val


# --- the block selection itself: threshold path, heavy-tie fallback, -inf rows ---


@pytest.mark.parametrize("levels", [3, 20, 1000, 10**6])  # from massive ties to almost none
@pytest.mark.parametrize("k", [1, 7, 40])
def test_select_block_equals_full_sort(levels, k):
    rng = np.random.default_rng(levels + k)
    scores = rng.integers(0, levels, (37, 4000)).astype(np.float32)
    scores[5, :] = 7.0  # a row of one value
    scores[6, rng.choice(4000, 3990, replace=False)] = -np.inf  # only 10 finite entries
    scores[7, :] = -np.inf
    cols = np.broadcast_to(np.arange(4000), scores.shape)
    order = np.lexsort((cols, -scores), axis=1)[:, :k]
    for fn in (selection.select_block, selection.select_topk):
        idx, vals = fn(scores, k)
        np.testing.assert_array_equal(idx, order)
        np.testing.assert_array_equal(vals, np.take_along_axis(scores, order, axis=1))


def test_select_block_threshold_keeps_few_candidates():
    rng = np.random.default_rng(0)
    scores = rng.standard_normal((16, 50000)).astype(np.float32)
    t = selection.thresholds(scores, 50)
    counts = (scores >= t[:, None]).sum(axis=1)
    assert np.all(counts >= 50)  # a lower bound of the k-th value: never misses an entry
    assert counts.mean() < 100  # and tight: the fast path only sorts about 1.1 k candidates


def test_merge_keeps_lower_index_on_ties():
    ia = np.array([[0, 2, 5]])
    va = np.array([[3.0, 1.0, 1.0]], dtype=np.float32)
    ib = np.array([[9, 7, 8]])
    vb = np.array([[3.0, 1.0, 1.0]], dtype=np.float32)
    idx, vals = merge.merge_topk(ia, va, ib, vb, 4)
    np.testing.assert_array_equal(idx, [[0, 9, 2, 5]])
    np.testing.assert_array_equal(vals, [[3, 3, 1, 1]])


# --- topk: blocks, chunks, exclusions, k edge cases, on both backends ---


@pytest.mark.parametrize("fn", BACKENDS, ids=IDS)
@pytest.mark.parametrize("block_rows", [None, 1, 7, 64, 150])
@pytest.mark.parametrize("k", [1, 5, 33, 200])
def test_blocked_base_with_ties_and_exclusions(fn, block_rows, k):
    rng = np.random.default_rng(k * 1000 + (block_rows or 0))
    n = 40 if block_rows == 1 else 200  # one row per block: keep the number of blocks small
    base = rng.integers(-2, 3, (n, 4)).astype(np.float32)
    q = rng.integers(-2, 3, (45, 4)).astype(np.float32)
    exclude = random_csr(rng, 45, n, 30)
    check(fn, q, base, k, exclude=exclude, block_rows=block_rows, chunk_rows=23)


@pytest.mark.parametrize("fn", BACKENDS, ids=IDS)
def test_k_equals_n_and_k_above_n(fn):
    rng = np.random.default_rng(1)
    base = rng.integers(0, 3, (30, 3)).astype(np.float32)
    q = rng.integers(0, 3, (6, 3)).astype(np.float32)
    exclude = random_csr(rng, 6, 30, 10)
    for k in (30, 45):
        for block_rows in (None, 8):
            check(fn, q, base, k, exclude=exclude, block_rows=block_rows)


@pytest.mark.parametrize("fn", BACKENDS, ids=IDS)
def test_everything_excluded_gives_minus_one(fn):
    base = np.ones((12, 2), dtype=np.float32)
    q = np.ones((2, 2), dtype=np.float32)
    exclude = (np.array([0, 12, 14]), np.concatenate([np.arange(12), [3, 4]]))
    idx, vals = fn(q, base, 5, exclude=exclude, block_rows=5)
    assert np.all(idx[0] == -1) and np.all(np.isneginf(vals[0]))
    np.testing.assert_array_equal(idx[1], [0, 1, 2, 5, 6])


@pytest.mark.parametrize("fn", BACKENDS, ids=IDS)
def test_scales_and_threshold_path(fn):
    rng = np.random.default_rng(2)
    base = rng.integers(-50, 51, (3000, 8)).astype(np.float32)  # the threshold path, few ties
    q = rng.integers(-50, 51, (70, 8)).astype(np.float32)
    bs = (2.0 ** rng.integers(-3, 4, 3000)).astype(np.float32)
    qs = (2.0 ** rng.integers(-3, 4, 70)).astype(np.float32)
    exclude = random_csr(rng, 70, 3000, 200)
    for block_rows in (None, 1000):
        check(
            fn, q, base, 20, exclude=exclude, base_scale=bs, query_scale=qs, block_rows=block_rows
        )


def test_duplicate_items_in_different_blocks_tie_exactly():
    rng = np.random.default_rng(3)
    base = rng.integers(-100, 101, (2500, 16)).astype(np.float32)
    base[1000:1100] = base[:100]  # exact duplicates far apart: ties across blocks
    q = rng.integers(-100, 101, (40, 16)).astype(np.float32)
    bs = (2.0 ** rng.integers(-2, 3, 2500)).astype(np.float32)
    bs[1000:1100] = bs[:100]
    for fn in BACKENDS:
        for block_rows in (None, 700):
            check(fn, q, base, 60, base_scale=bs, block_rows=block_rows)


def test_cpu_and_torch_cpu_agree_on_float_data():
    rng = np.random.default_rng(3)
    base = rng.standard_normal((2500, 16)).astype(np.float32)
    q = rng.standard_normal((40, 16)).astype(np.float32)
    bs = (1 / np.linalg.norm(base, axis=1)).astype(np.float32)
    a = check(cpu.topk, q, base, 60, base_scale=bs, block_rows=700)
    b = check(torch_cpu, q, base, 60, base_scale=bs, block_rows=700)
    c = check(cpu.topk, q, base, 60, base_scale=bs)
    np.testing.assert_array_equal(a[0], c[0])
    np.testing.assert_array_equal(a[0], b[0])


@pytest.mark.parametrize("fn", BACKENDS, ids=IDS)
@pytest.mark.parametrize("block_rows", [None, 700, 333])
def test_duplicate_float_items_tie_and_lower_index_wins(fn, block_rows):
    """Identical rows at different places in the BLAS tiles may score an ulp apart in the
    product; the canonical score makes them tie exactly, on every backend and blocking."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2500, 48)).astype(np.float32)
    x[2000:2300] = x[:300]  # 300 duplicated items, far apart
    x[1201] = x[17]
    scale = (1 / np.linalg.norm(x.astype(np.float64), axis=1)).astype(np.float32)
    qi = np.arange(0, 2500, 7, dtype=np.int64)
    q = x[qi]
    exclude = (np.arange(qi.size + 1, dtype=np.int64), qi)
    idx, _ = check(
        fn,
        q,
        x,
        40,
        base_scale=scale,
        query_scale=scale[qi],
        exclude=exclude,
        block_rows=block_rows,
    )
    pos = {int(j): p for p, j in enumerate(idx[0])}
    for lo, hi in ((17, 1201), *((i, 2000 + i) for i in range(300))):
        if lo in pos and hi in pos:
            assert pos[lo] < pos[hi]


@pytest.mark.parametrize("fn", BACKENDS, ids=IDS)
def test_ties_longer_than_the_band_are_searched_again(fn):
    rng = np.random.default_rng(12)
    v = rng.standard_normal(24).astype(np.float32)
    base = np.tile(v, (600, 1))  # every item identical: one cluster covering whole rows
    base[::50] *= 0.5
    q = rng.standard_normal((5, 24)).astype(np.float32)
    q[0] = -q[0]
    exclude = (np.array([0, 2, 2, 2, 2, 2]), np.array([1, 3]))
    idx, _ = check(fn, q, base, 30, exclude=exclude, band=2)
    assert len(set(idx[1].tolist())) == 30


def test_canonical_score_is_position_free_and_near_exact():
    rng = np.random.default_rng(13)
    a = rng.standard_normal((200, 384)).astype(np.float32)
    b = rng.standard_normal((200, 384)).astype(np.float32)
    c = canonical_scores(a, b)
    exact = np.array(
        [math.fsum((x.astype(np.float64) * y).tolist()) for x, y in zip(a, b, strict=True)]
    )
    np.testing.assert_array_equal(c, exact.astype(np.float32))
    perm = rng.permutation(200)
    np.testing.assert_array_equal(canonical_scores(a[perm], b[perm]), c[perm])
    np.testing.assert_array_equal(canonical_scores(a[:1], b[:1]), c[:1])


def test_resolve_reorders_only_near_ties():
    idx = np.array([[4, 2, 9, 7, 1]])
    vals = np.array([[5.0, 3.0, 3.0, 1.0, 0.5]], dtype=np.float32)
    canon = {2: 3.0, 9: 3.0}
    calls = []

    def rescore(rows, cols):
        calls.append(cols.tolist())
        return np.array([canon[int(c)] for c in cols])

    out, val, again = resolve(idx, vals, 3, np.array([0.1]), False, rescore)
    np.testing.assert_array_equal(out, [[4, 2, 9]])
    assert calls == [[2, 9]] and not again.any()
    canon = {2: 2.9, 9: 3.0}
    out, _, _ = resolve(idx, vals, 3, np.array([0.1]), False, rescore)
    np.testing.assert_array_equal(out, [[4, 9, 2]])
    out, _, again = resolve(idx, vals, 2, np.array([2.5]), False, rescore)
    assert again.all()  # the cluster at the 2nd place runs to the end of the list


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 120),
    nq=st.integers(1, 20),
    d=st.integers(1, 4),
    k=st.integers(1, 130),
    levels=st.integers(1, 6),
    block_rows=st.one_of(st.none(), st.integers(1, 50)),
    chunk_rows=st.one_of(st.none(), st.integers(1, 9)),
    max_excl=st.integers(0, 40),
    seed=st.integers(0, 2**16),
)
def test_property_equals_reference(n, nq, d, k, levels, block_rows, chunk_rows, max_excl, seed):
    rng = np.random.default_rng(seed)
    base = rng.integers(0, levels, (n, d)).astype(np.float32)
    q = rng.integers(-levels, levels, (nq, d)).astype(np.float32)
    exclude = random_csr(rng, nq, n, max_excl) if max_excl else None
    for fn in BACKENDS:
        check(fn, q, base, k, exclude=exclude, block_rows=block_rows, chunk_rows=chunk_rows)
    saved = cpu.FAISS_MIN_BASE
    cpu.FAISS_MIN_BASE = 1  # faiss's flat search on every block, however small
    try:
        check(cpu.topk, q, base, k, exclude=exclude, block_rows=block_rows)
    finally:
        cpu.FAISS_MIN_BASE = saved


def test_excluded_in_maps_to_block_coordinates():
    exclude = (np.array([0, 3, 3, 5]), np.array([1, 10, 12, 11, 2]))
    rows, cols = excluded_in(exclude, 0, 3, 10, 20)
    np.testing.assert_array_equal(rows, [0, 0, 2])
    np.testing.assert_array_equal(cols, [0, 2, 1])
    assert excluded_in(exclude, 1, 2, 0, 20) is None
    assert excluded_in(None, 0, 3, 0, 20) is None


def test_subset_csr():
    exclude = (np.array([0, 3, 3, 5]), np.array([1, 10, 12, 11, 2]))
    ptr, ind = subset_csr(exclude, np.array([2, 0, 1]))
    np.testing.assert_array_equal(ptr, [0, 2, 5, 5])
    np.testing.assert_array_equal(ind, [11, 2, 1, 10, 12])


def test_progress_reaches_total_once_per_block():
    rng = np.random.default_rng(4)
    base = rng.standard_normal((100, 4)).astype(np.float32)
    seen: list[tuple[int, int]] = []
    cpu.topk(
        base[:10], base, 3, block_rows=30, chunk_rows=4, progress=lambda d, t: seen.append((d, t))
    )
    done = [d for d, _ in seen]
    assert done == sorted(done) and done[-1] == 10 and all(t == 10 for _, t in seen)


# --- memory-mapped catalogues, item_knn and user_topk on top ---


def test_memory_mapped_base_blocked(tmp_path: Path):
    rng = np.random.default_rng(5)
    base = rng.integers(-3, 4, (5000, 8)).astype(np.float32)
    np.save(tmp_path / "base.npy", base)
    mm = np.load(tmp_path / "base.npy", mmap_mode="r")
    q = rng.integers(-3, 4, (50, 8)).astype(np.float32)
    exclude = random_csr(rng, 50, 5000, 100)
    for fn in BACKENDS:
        check(fn, q, mm, 25, exclude=exclude, block_rows=512)
    np.testing.assert_array_equal(np.asarray(mm), base)  # the map is still readable


@pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="needs Linux /proc")
def test_memory_mapped_pages_are_released(tmp_path: Path):
    path = tmp_path / "big.npy"
    np.save(path, np.ones((16384, 256), dtype=np.float32))  # 16 MiB
    mm = np.load(path, mmap_mode="r")
    q = np.ones((4, 256), dtype=np.float32)
    cpu.topk(q, mm, 3, block_rows=2048)

    def resident_kb() -> int:
        lines = Path("/proc/self/smaps").read_text().splitlines()
        for i, line in enumerate(lines):
            if line.endswith(str(path)):
                for rest in lines[i + 1 : i + 30]:
                    if rest.startswith("Rss:"):
                        return int(rest.split()[1])
        return 0

    assert resident_kb() < 4 * 1024  # the whole map was read; at most about one block stays


def test_item_knn_sampled_queries_and_memmap(tmp_path: Path):
    rng = np.random.default_rng(6)
    x = rng.integers(-4, 5, (600, 6)).astype(np.float32)
    x[x.sum(axis=1) == 0, 0] = 1  # no all-zero rows
    x[np.all(x == 0, axis=1)] = 1
    np.save(tmp_path / "x.npy", x)
    mm = np.load(tmp_path / "x.npy", mmap_mode="r")
    backend = get_backend("cpu")
    full = item_knn(x, 9, backend)
    qi = np.sort(rng.choice(600, 50, replace=False)).astype(np.int64)
    np.testing.assert_array_equal(item_knn(x, 9, backend, query_index=qi), full[qi])
    np.testing.assert_array_equal(item_knn(mm, 9, backend, query_index=qi), full[qi])
    inner = item_knn(x, 9, backend, cosine=False)
    ref, _ = reference(x, x, 9, exclude=(np.arange(601), np.arange(600)))
    np.testing.assert_array_equal(inner, ref)


def test_user_topk_with_item_scale_on_both_backends():
    rng = np.random.default_rng(7)
    items = rng.integers(-3, 4, (400, 5)).astype(np.float32)
    users = rng.integers(-3, 4, (30, 5)).astype(np.float32)
    scale = (2.0 ** rng.integers(-2, 3, 400)).astype(np.float32)
    hist = random_csr(rng, 30, 400, 60)
    exp, _ = reference(users, items, 12, exclude=hist, base_scale=scale)
    got, _ = user_topk(users, items, 12, get_backend("cpu"), history=hist, item_scale=scale)
    np.testing.assert_array_equal(got, exp)
    got_t, _ = torch_cpu(users, items, 12, exclude=hist, base_scale=scale)
    np.testing.assert_array_equal(got_t, exp)


# --- CUDA: only where a GPU is present ---

needs_cuda = pytest.mark.skipif(not gpu.available(), reason="needs a CUDA GPU")


@needs_cuda
@pytest.mark.parametrize("k", [1, 50, 3000])
def test_cuda_equals_reference_with_ties(k):
    rng = np.random.default_rng(8)
    base = rng.integers(-3, 4, (6000, 8)).astype(np.float32)
    q = rng.integers(-3, 4, (300, 8)).astype(np.float32)
    exclude = random_csr(rng, 300, 6000, 100)
    for block_rows in (None, 1000):
        check(gpu.topk, q, base, k, exclude=exclude, block_rows=block_rows)


@needs_cuda
def test_cuda_backend_equals_cpu_on_float_data():
    rng = np.random.default_rng(9)
    x = rng.integers(-20, 21, (5000, 32)).astype(np.float32)
    x[np.all(x == 0, axis=1)] = 1
    a = item_knn(x, 100, get_backend("cpu"), cosine=False)
    b = item_knn(x, 100, get_backend("cuda"), cosine=False)
    np.testing.assert_array_equal(a, b)


def test_chunking_and_ranking_batches_do_not_change_the_answer(monkeypatch):
    rng = np.random.default_rng(10)
    base = rng.integers(-30, 31, (15000, 4)).astype(np.float32)
    q = rng.integers(-30, 31, (300, 4)).astype(np.float32)
    exclude = random_csr(rng, 300, 15000, 50)
    exp = reference(q, base, 40, exclude=exclude)
    for rows in (None, 7, 64):
        for threads in (1, 4):
            got = cpu.topk(q, base, 40, exclude=exclude, chunk_rows=rows, threads=threads)
            np.testing.assert_array_equal(got[0], exp[0])
            np.testing.assert_array_equal(got[1], exp[1])
    monkeypatch.setattr(cpu, "RANK_ROWS", 50)  # candidates ranked in batches of 50 rows
    for threads in (1, 4):
        got = cpu.topk(
            q, base, 40, exclude=exclude, chunk_rows=20, block_rows=6000, threads=threads
        )
        np.testing.assert_array_equal(got[0], exp[0])


@pytest.mark.parametrize("mask_rows", [1, 3, 1000])
def test_candidate_mask_of_a_few_rows_gives_the_same_lists(monkeypatch, mask_rows):
    """The threshold comparison goes through a mask of ``MASK_ROWS`` rows at a time."""
    rng = np.random.default_rng(11)
    base = rng.integers(-30, 31, (6000, 4)).astype(np.float32)
    q = rng.integers(-30, 31, (250, 4)).astype(np.float32)
    exclude = random_csr(rng, 250, 6000, 40)
    exp = reference(q, base, 30, exclude=exclude)
    monkeypatch.setattr(pool, "MASK_ROWS", mask_rows)
    for threads in (1, 3):
        got = cpu.topk(q, base, 30, exclude=exclude, chunk_rows=100, threads=threads)
        np.testing.assert_array_equal(got[0], exp[0])
        np.testing.assert_array_equal(got[1], exp[1])
    scores = (q @ base.T).astype(np.float32)
    for size in (6000, 6000 * 7, scores.size):
        idx = np.empty((250, 30), np.int64)
        val = np.empty((250, 30), np.float32)
        mask = np.empty(size, dtype=bool)
        got = selection.chunk_candidates(scores, 30, mask, idx, val)
        want = selection.chunk_candidates(scores, 30, np.empty(scores.size, bool), idx, val)
        for a, b in zip(got, want, strict=True):
            np.testing.assert_array_equal(a, b)


def test_worker_count_follows_the_blas_and_is_restored():
    from threadpoolctl import threadpool_info, threadpool_limits

    def blas_threads():
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]

    before = blas_threads()
    with threadpool_limits(1, user_api="blas"):
        assert pool.workers() == 1
    assert blas_threads() == before
    rng = np.random.default_rng(17)
    base = rng.standard_normal((3000, 16)).astype(np.float32)
    cpu.topk(base[:500], base, 10, threads=3, chunk_rows=16)  # limits BLAS to 1 inside
    assert blas_threads() == before


def test_an_error_in_a_worker_reaches_the_caller(monkeypatch):
    def boom(*args, **kwargs):
        raise MemoryError("worker failed")

    monkeypatch.setattr(cpu, "chunk_candidates", boom)
    rng = np.random.default_rng(18)
    base = rng.standard_normal((3000, 16)).astype(np.float32)
    with pytest.raises(MemoryError, match="worker failed"):
        cpu.topk(base[:300], base, 5, threads=3, chunk_rows=16)


@pytest.mark.parametrize("block_rows", [None, 700])
def test_faiss_depth_buckets_with_ties_and_exclusions(block_rows):
    """With use_faiss: rows with no, few (<= 8), some (<= 64) and many excluded items in one
    call: faiss's flat search for the first three, the product and threshold selection for the
    last."""
    rng = np.random.default_rng(16)
    base = rng.integers(-3, 4, (2000, 6)).astype(np.float32)  # heavy exact ties
    q = rng.integers(-3, 4, (40, 6)).astype(np.float32)
    hist = [[], list(range(5)), list(range(0, 1200, 20)), list(range(0, 2000, 3))] * 10
    indptr = np.concatenate([[0], np.cumsum([len(h) for h in hist])]).astype(np.int64)
    indices = np.array([i for h in hist for i in h], dtype=np.int64)
    for k in (1, 30, 300):
        check(cpu_faiss, q, base, k, exclude=(indptr, indices), block_rows=block_rows)


def test_near_ties_settled_in_row_batches(monkeypatch):
    import complement.retrieval.exact as exact

    monkeypatch.setattr(exact, "_FINISH_ROWS", 7)
    monkeypatch.setattr(exact, "_RESCORE_ROWS", 5)
    rng = np.random.default_rng(14)
    x = rng.standard_normal((900, 40)).astype(np.float32)
    x[600:700] = x[:100]
    q = x[::9]
    for fn in BACKENDS:
        check(fn, q, x, 25, block_rows=400)


def test_sharding_users_gives_the_same_lists():
    """What a distributed run relies on: each user's list depends only on that user's vector,
    history and the catalogue, not on which shard, chunk or block it was searched in."""
    rng = np.random.default_rng(15)
    items = rng.standard_normal((3000, 32)).astype(np.float32)
    items[2000:2400] = items[:400]  # duplicates: ties that BLAS rounding would split
    users = rng.standard_normal((500, 32)).astype(np.float32)
    hist = random_csr(rng, 500, 3000, 40)
    scale = (1 / np.linalg.norm(items, axis=1)).astype(np.float32)
    backend = get_backend("cpu")
    whole, _ = user_topk(users, items, 30, backend, history=hist, item_scale=scale)
    parts = []
    for a, b in ((0, 123), (123, 124), (124, 500)):
        rows = np.arange(a, b, dtype=np.int64)
        part, _ = user_topk(
            users[a:b], items, 30, backend, history=subset_csr(hist, rows), item_scale=scale
        )
        parts.append(part)
    np.testing.assert_array_equal(np.concatenate(parts), whole)
    shards_t = torch_cpu(
        users[:250],
        items,
        30,
        exclude=subset_csr(hist, np.arange(250)),
        base_scale=scale,
        block_rows=1000,
    )[0]
    np.testing.assert_array_equal(shards_t, whole[:250])
