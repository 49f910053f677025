"""Item overlap: hand-computed cases, the brute-force reference, CKA."""

from __future__ import annotations

import numpy as np
import pytest

from complement.core.overlap import intersection_sizes, item_overlap, linear_cka
from complement.core.validate import check_matrix
from complement.errors import InputError, UsageError
from complement.retrieval import get_backend

CPU = get_backend("cpu")


def test_identical_views_give_one():
    x = np.random.default_rng(0).standard_normal((80, 8)).astype(np.float32)
    r = item_overlap(x, x.copy(), [5, 10], CPU)
    for k in (5, 10):
        assert r.per_k[k].overlap == 1.0
        assert r.per_k[k].jaccard == 1.0
        assert r.per_k[k].zero_fraction == 0.0
    assert r.cka_linear == pytest.approx(1.0)


def test_random_rotation_gives_one_under_cosine():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((100, 12)).astype(np.float32)
    q, _ = np.linalg.qr(rng.standard_normal((12, 12)))
    y = (x @ q * 3.0).astype(np.float32)
    r = item_overlap(x, y, [10], CPU)
    assert r.per_k[10].overlap == 1.0
    assert r.cka_linear == pytest.approx(1.0, abs=1e-6)


def test_disjoint_neighbourhoods_give_zero():
    # 8 items on a line in view S; in view C item i's neighbour is far from its S-neighbour.
    s = np.array(
        [[np.cos(t), np.sin(t)] for t in np.linspace(0, 0.7, 4)]
        + [[np.cos(t), np.sin(t)] for t in np.linspace(3.0, 3.7, 4)],
        dtype=np.float32,
    )
    # C pairs item j of the first cluster with item j of the second
    c = np.zeros((8, 8), dtype=np.float32)
    for j in range(4):
        c[j, j] = 1
        c[j + 4, j] = 1
    c += np.eye(8, dtype=np.float32) * 0.01
    r = item_overlap(s, c, [1], CPU)
    assert r.per_k[1].overlap == 0.0
    assert r.per_k[1].zero_fraction == 1.0
    assert r.per_k[1].chance == pytest.approx(1 / 7)


def brute_overlap(x, y, k):
    def nn(m):
        m = m / np.linalg.norm(m, axis=1, keepdims=True)
        s = m @ m.T
        out = []
        for i in range(len(m)):
            out.append(
                sorted((j for j in range(len(m)) if j != i), key=lambda j: (-s[i, j], j))[:k]
            )
        return out

    a, b = nn(x), nn(y)
    return np.array([len(set(p) & set(q)) / k for p, q in zip(a, b, strict=True)])


def test_matches_brute_force_and_sample():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((90, 5)).astype(np.float32)
    y = (x[:, :3] @ rng.standard_normal((3, 4)) + 0.5 * rng.standard_normal((90, 4))).astype(
        np.float32
    )
    ref = brute_overlap(x, y, 7)
    r = item_overlap(x, y, [7], CPU, seed=3)
    assert r.per_k[7].overlap == pytest.approx(ref.mean())
    assert r.per_k[7].overlap_median == pytest.approx(np.median(ref))
    lo, hi = r.per_k[7].ci95
    assert lo <= r.per_k[7].overlap <= hi
    rs = item_overlap(x, y, [7], CPU, sample=30, seed=3)
    assert rs.n_queries == 30
    np.testing.assert_allclose(rs.per_item[7], ref[rs.query_index])
    again = item_overlap(x, y, [7], CPU, sample=30, seed=3)
    assert again.to_dict() == rs.to_dict()


def test_intersection_sizes():
    a = np.array([[1, 2, 3], [4, 5, 6]])
    b = np.array([[3, 2, 9], [7, 8, 0]])
    np.testing.assert_array_equal(intersection_sizes(a, b), [2, 0])


def test_linear_cka_matches_gram_definition():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((50, 4))
    y = x @ rng.standard_normal((4, 3)) + rng.standard_normal((50, 3))
    xc, yc = x - x.mean(0), y - y.mean(0)
    gk, gl = xc @ xc.T, yc @ yc.T  # n x n form, only in the test
    ref = np.sum(gk * gl) / (np.linalg.norm(gk) * np.linalg.norm(gl))
    assert linear_cka(x, y, cosine=False) == pytest.approx(ref, rel=1e-9)


def test_groups_and_bad_k():
    x = np.random.default_rng(4).standard_normal((30, 4)).astype(np.float32)
    groups = np.array([0] * 18 + [1] * 6 + [2] * 6, dtype=np.int8)
    r = item_overlap(x, x, [3], CPU, groups=groups)
    assert r.per_k[3].groups["cold"]["n"] == 18
    assert r.per_k[3].groups["hot"]["overlap"] == 1.0
    with pytest.raises(UsageError):
        item_overlap(x, x, [30], CPU)
    with pytest.raises(UsageError):
        item_overlap(x, x, [0], CPU)


# --- entry checks of the exported functions ------------------------------------------------


def _views(n: int = 60) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    return (
        rng.standard_normal((n, 8)).astype(np.float32),
        rng.standard_normal((n, 4)).astype(np.float32),
    )


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        (lambda s, c: (s[:, 0], c), InputError, "2-D"),
        (lambda s, c: (s[None], c), InputError, "2-D"),
        (lambda s, c: (s, c[:10]), UsageError, "same items"),
        (lambda s, c: (np.full_like(s, np.nan), c), InputError, "NaN"),
        (lambda s, c: (s, np.where(c > 2, np.inf, c)), InputError, "infinite"),
        (lambda s, c: (s.astype(str), c), InputError, "numeric"),
        (lambda s, c: (s[:0], c[:0]), InputError, "empty"),
    ],
)
def test_item_overlap_and_cka_refuse_bad_views(change, error, match):
    sem, cf = change(*_views())
    with pytest.raises(error, match=match):
        item_overlap(sem, cf, [5], CPU)
    with pytest.raises(error, match=match):
        linear_cka(sem, cf)


@pytest.mark.parametrize("ks", [10, np.int64(10), (10,), [10], np.array([10]), range(10, 11)])
def test_item_overlap_takes_an_int_or_iterable_of_ints(ks):
    sem, cf = _views()
    assert sorted(item_overlap(sem, cf, ks, CPU).per_k) == [10]


@pytest.mark.parametrize("ks", [10.0, "10", [10.5], [True], None, [[10]]])
def test_item_overlap_refuses_other_ks(ks):
    sem, cf = _views()
    with pytest.raises(UsageError, match="ks="):
        item_overlap(sem, cf, ks, CPU)


def test_finite_values_whose_sum_overflows_are_finite():
    big = np.full((70000, 2), 1e308)  # more rows than one block of the exact re-read
    assert check_matrix(big, "x", "here") is big
    big[-1, 1] = np.inf
    with pytest.raises(InputError, match="infinite"):
        check_matrix(big, "x", "here")


def test_a_memory_map_is_checked_in_place(tmp_path):
    sem, cf = _views()
    np.save(tmp_path / "s.npy", sem)
    mapped = np.load(tmp_path / "s.npy", mmap_mode="r")
    assert check_matrix(mapped, "sem", "here") is mapped
    assert item_overlap(mapped, cf, [5], CPU).to_dict() == item_overlap(sem, cf, [5], CPU).to_dict()
