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
