"""Coverage, intra-list diversity and effective rank against brute-force references."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from complement.core.diversity import (
    DEFINITIONS,
    coverage,
    diversity_of,
    effective_rank,
    intra_list_diversity,
    singular_values,
)
from complement.core.ranking import unit_rows


def _brute_ild(lists, x):
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    per_user = []
    for row in lists:
        items = [i for i in row if i >= 0]
        if len(items) < 2:
            continue
        dists = [1 - float(unit[a] @ unit[b]) for a, b in itertools.combinations(items, 2)]
        per_user.append(np.mean(dists))
    return float(np.mean(per_user))


def _brute_erank(x):
    s = np.linalg.svd(np.asarray(x, dtype=np.float64), compute_uv=False)
    p = s[s > 0] / s.sum()
    return float(np.exp(-(p * np.log(p)).sum()))


def test_coverage_counts_distinct_items_and_skips_empty_slots():
    lists = np.array([[0, 3, -1], [3, 4, 0], [7, -1, -1]])
    assert coverage(lists, 10) == pytest.approx(4 / 10)
    assert coverage(np.full((2, 3), -1), 10) == 0.0


def test_intra_list_diversity_matches_pairwise_cosines():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((50, 7)).astype(np.float32)
    lists = np.stack([rng.choice(50, 6, replace=False) for _ in range(30)]).astype(np.int64)
    lists[3, 4:] = -1  # a short list
    lists[5, 1:] = -1  # one item: left out
    got = intra_list_diversity(lists, unit_rows(x))
    assert got == pytest.approx(_brute_ild(lists, x), rel=1e-6)
    # identical items: distance 0; orthogonal items: distance 1
    eye = np.eye(4, dtype=np.float32)
    assert intra_list_diversity(np.array([[0, 1, 2, 3]]), eye) == pytest.approx(1.0)
    same = np.ones((3, 2), dtype=np.float32) / np.sqrt(2)
    assert intra_list_diversity(np.array([[0, 1, 2]]), same) == pytest.approx(0.0, abs=1e-7)
    assert np.isnan(intra_list_diversity(np.array([[0, -1]]), eye))


def test_intra_list_diversity_in_blocks(monkeypatch):
    import complement.core.diversity as div

    rng = np.random.default_rng(1)
    x = unit_rows(rng.standard_normal((40, 5)))
    lists = np.stack([rng.choice(40, 5, replace=False) for _ in range(23)]).astype(np.int64)
    whole = intra_list_diversity(lists, x)
    monkeypatch.setattr(div, "_BLOCK_BYTES", 8 * 5 * 5 * 2)  # two users per block
    assert intra_list_diversity(lists, x) == pytest.approx(whole, rel=1e-12)


@pytest.mark.parametrize("shape", [(200, 12), (5, 9)])
def test_effective_rank_matches_svd(shape):
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape) * np.linspace(0.1, 3, shape[1])
    assert effective_rank(x) == pytest.approx(_brute_erank(x), rel=1e-8)
    s_ref = np.linalg.svd(x, compute_uv=False)
    assert singular_values(x)[: s_ref.size] == pytest.approx(s_ref, rel=1e-6, abs=1e-9)


def test_effective_rank_extremes():
    assert effective_rank(np.eye(6)) == pytest.approx(6.0)
    rank_one = np.outer(np.arange(1, 11), np.arange(1, 5)).astype(np.float64)
    assert effective_rank(rank_one) == pytest.approx(1.0, abs=1e-6)
    assert np.isnan(effective_rank(np.zeros((4, 3))))


def test_diversity_of_cuts_lists_at_each_k():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((30, 4))
    b = rng.standard_normal((30, 6))
    lists = np.stack([rng.choice(30, 8, replace=False) for _ in range(12)]).astype(np.int64)
    ranks = {"a": effective_rank(a), "b": effective_rank(b)}
    res = diversity_of({3: {"a": lists}, 8: {"a": lists}}, unit_rows(a), ranks, view="a")
    doc = res.to_dict()
    assert doc["view"] == "a" and set(doc["effective_rank"]) == {"a", "b"}
    assert doc["k"]["3"]["coverage"]["a"] == pytest.approx(coverage(lists[:, :3], 30))
    assert doc["k"]["8"]["intra_list_diversity"]["a"] == pytest.approx(_brute_ild(lists, a))
    assert doc["effective_rank"]["b"] == pytest.approx(_brute_erank(b))
    assert {"coverage", "intra_list_diversity", "effective_rank"} <= set(DEFINITIONS)


def _ild_one_pass(lists, unit_vectors, block_bytes=32 * 1024 * 1024):
    """The former implementation: blocks of ``block_bytes`` gathered and converted at once."""
    lists = np.asarray(lists, dtype=np.int64)
    n_users, k = lists.shape
    d = int(unit_vectors.shape[1])
    block = max(1, block_bytes // (8 * max(1, k) * max(1, d)))
    total, n_lists = 0.0, 0
    for start in range(0, n_users, block):
        rows = lists[start : start + block]
        valid = rows >= 0
        vecs = np.asarray(unit_vectors[np.maximum(rows, 0)], dtype=np.float64)
        vecs *= valid[:, :, None]
        summed = vecs.sum(axis=1)
        sq_of_sum = np.einsum("ij,ij->i", summed, summed)
        sum_of_sq = np.einsum("ijk,ijk->i", vecs, vecs)
        m = valid.sum(axis=1).astype(np.float64)
        pairs = m * (m - 1) / 2
        keep = pairs > 0
        mean_cos = (sq_of_sum[keep] - sum_of_sq[keep]) / 2 / pairs[keep]
        total += float((1.0 - mean_cos).sum())
        n_lists += int(keep.sum())
    return total / n_lists if n_lists else float("nan")


@pytest.mark.parametrize(
    ("n_items", "d", "k"), [(60, 7, 9), (300, 48, 20), (40, 1, 12), (90, 400, 25)]
)
@pytest.mark.parametrize("cache_values", [1, 3 * 7 * 48, 1 << 16])
def test_intra_list_diversity_in_cache_blocks_is_the_one_pass_bits(
    monkeypatch, n_items, d, k, cache_values
):
    """Sub-blocks of any size give every bit of the former one-pass computation (users summed
    over the same 32 MB-style blocks). With k·d = 10,000 numpy sums a lone list in pieces:
    sub-blocks of 2 and 3 lists, never 1, and the lone user of the last block, give the
    one-pass bits."""
    import complement.core.diversity as div

    rng = np.random.default_rng(n_items + d)
    unit = unit_rows(rng.standard_normal((n_items, d)).astype(np.float32))
    lists = rng.integers(0, n_items, (161, k))  # 10 blocks of 16 users and a lone one
    lists[rng.random(lists.shape) < 0.15] = -1  # empty slots, short and one-item lists
    lists[4, 1:] = -1
    block_bytes = 8 * k * d * 16
    expect = _ild_one_pass(lists, unit, block_bytes)
    monkeypatch.setattr(div, "_BLOCK_BYTES", block_bytes)
    monkeypatch.setattr(div, "_CACHE_VALUES", cache_values)
    assert intra_list_diversity(lists, unit) == expect
    monkeypatch.setattr(div, "_BLOCK_BYTES", 32 * 1024 * 1024)  # one outer block
    assert intra_list_diversity(lists, unit) == _ild_one_pass(lists, unit)
    assert np.isnan(intra_list_diversity(np.full((3, k), -1), unit))


def test_diversity_memo_measures_equal_lists_once(monkeypatch):
    import complement.core.diversity as div

    rng = np.random.default_rng(5)
    unit = unit_rows(rng.standard_normal((50, 6)).astype(np.float32))
    other = unit_rows(rng.standard_normal((50, 6)).astype(np.float32))
    deep = rng.integers(0, 50, (20, 10))
    measured = []

    def counted(lists, unit_vectors):
        measured.append(lists.shape)
        return intra_list_diversity(lists, unit_vectors)

    monkeypatch.setattr(div, "intra_list_diversity", counted)
    memo = div.DiversityMemo()
    first = memo.intra_list_diversity(deep[:, :5], unit)  # a strided prefix
    assert first == intra_list_diversity(deep[:, :5], unit)
    assert memo.intra_list_diversity(deep[:, :5].copy(), unit) == first  # equal content
    assert measured == [(20, 5)]
    memo.intra_list_diversity(deep[:, :6], unit)  # a longer prefix
    memo.intra_list_diversity(deep[:, :5], other)  # other unit rows
    changed = deep[:, :5].copy()
    changed[3, 2] = -1
    memo.intra_list_diversity(changed, unit)
    assert len(measured) == 4
    ranks = {"a": 1.0}
    lists = {5: {"x": deep, "y": deep.copy()}, 10: {"x": deep}}
    with_memo = diversity_of(lists, unit, ranks, view="a", memo=memo).to_dict()
    monkeypatch.setattr(div, "intra_list_diversity", intra_list_diversity)
    assert with_memo == diversity_of(lists, unit, ranks, view="a").to_dict()
    assert len(measured) == 5  # only deep[:, :10] was new
