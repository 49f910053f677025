"""Invariants that must hold on any input, checked with hypothesis on small random views.

Views are drawn from a seeded numpy generator (hypothesis picks sizes and seeds), so every
failure shrinks to a few integers that reproduce it.
"""

from __future__ import annotations

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from complement.core.overlap import intersection_sizes, item_overlap, linear_cka
from complement.io import Embeddings, join_views
from complement.retrieval import Backend, cpu, item_knn

CPU = Backend("cpu", cpu.NAME)
FAST = settings(max_examples=30, deadline=None)

sizes = st.integers(min_value=6, max_value=24)
dims = st.integers(min_value=2, max_value=6)
seeds = st.integers(min_value=0, max_value=2**32 - 1)


def draw_views(n: int, ds: int, dc: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    sem = rng.standard_normal((n, ds)).astype(np.float32)
    cf = rng.standard_normal((n, dc)).astype(np.float32)
    return sem, cf


def ks_for(n: int, seed: int) -> list[int]:
    rng = np.random.default_rng(seed + 1)
    return sorted({int(k) for k in rng.integers(1, n - 1, size=3)})


def clear_boundaries(x: np.ndarray, ks: list[int], tol: float = 1e-4) -> bool:
    """True when no k-th and (k+1)-th cosine neighbour are within ``tol`` (float64), so float32
    rounding cannot reorder the lists that a transformation must leave unchanged."""
    u = x.astype(np.float64)
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    sims = u @ u.T
    np.fill_diagonal(sims, -np.inf)
    ordered = -np.sort(-sims, axis=1)[:, :-1]  # the item itself (-inf) dropped
    return all(np.all(ordered[:, k - 1] - ordered[:, k] > tol) for k in ks if k < x.shape[0] - 1)


def overlap_of(sem: np.ndarray, cf: np.ndarray, ks: list[int], metric: str = "cosine"):
    return item_overlap(sem, cf, ks, CPU, metric=metric, seed=0)


def per_item(result) -> dict[int, np.ndarray]:
    return {k: v.copy() for k, v in result.per_item.items()}


@FAST
@given(n=sizes, ds=dims, dc=dims, seed=seeds, metric=st.sampled_from(["cosine", "ip"]))
def test_overlap_and_jaccard_in_unit_interval_and_symmetric(n, ds, dc, seed, metric):
    sem, cf = draw_views(n, ds, dc, seed)
    ks = ks_for(n, seed)
    ab = overlap_of(sem, cf, ks, metric)
    ba = overlap_of(cf, sem, ks, metric)
    for k in ks:
        row, rev = ab.per_k[k], ba.per_k[k]
        assert 0.0 <= row.overlap <= 1.0 and 0.0 <= row.jaccard <= 1.0
        assert row.jaccard <= row.overlap + 1e-12  # |A∩B|/|A∪B| <= |A∩B|/k
        assert 0.0 <= row.zero_fraction <= 1.0
        np.testing.assert_array_equal(ab.per_item[k], ba.per_item[k])
        assert (row.overlap, row.jaccard, row.overlap_median) == (
            rev.overlap,
            rev.jaccard,
            rev.overlap_median,
        )
    assert np.isclose(ab.cka_linear, ba.cka_linear, rtol=1e-9, atol=1e-12)
    assert -1e-9 <= ab.cka_linear <= 1 + 1e-9


@FAST
@given(n=sizes, d=dims, seed=seeds, metric=st.sampled_from(["cosine", "ip"]))
def test_identical_views_agree_completely(n, d, seed, metric):
    sem, _ = draw_views(n, d, d, seed)
    ks = ks_for(n, seed)
    result = overlap_of(sem, sem.copy(), ks, metric)
    for k in ks:
        row = result.per_k[k]
        assert (row.overlap, row.jaccard, row.overlap_median, row.zero_fraction) == (1, 1, 1, 0)
    assert np.isclose(result.cka_linear, 1.0)


@FAST
@given(
    n=sizes,
    ds=dims,
    dc=dims,
    seed=seeds,
    transform=st.sampled_from(["rotation", "scale", "row-scale", "rotation+row-scale"]),
)
def test_cosine_overlap_ignores_rotation_and_positive_scaling(n, ds, dc, seed, transform):
    sem, cf = draw_views(n, ds, dc, seed)
    ks = ks_for(n, seed)
    assume(clear_boundaries(sem, ks) and clear_boundaries(cf, ks))
    rng = np.random.default_rng(seed + 2)
    moved = sem.astype(np.float64)
    if "rotation" in transform:
        q, r = np.linalg.qr(rng.standard_normal((ds, ds)))
        moved = moved @ (q * np.sign(np.diag(r)))  # a uniformly random orthogonal matrix
    if transform == "scale":
        moved = moved * rng.uniform(0.01, 100.0)
    if "row-scale" in transform:
        moved = moved * rng.uniform(0.01, 100.0, size=(n, 1))
    moved32 = moved.astype(np.float32)
    base = overlap_of(sem, cf, ks)
    after = overlap_of(moved32, cf, ks)
    for k in ks:
        np.testing.assert_array_equal(base.per_item[k], after.per_item[k])
        assert base.per_k[k].overlap == after.per_k[k].overlap
    assert np.isclose(base.cka_linear, after.cka_linear, rtol=1e-4, atol=1e-6)


def embeddings(ids: np.ndarray, matrix: np.ndarray, role: str) -> Embeddings:
    return Embeddings(
        path=f"{role}.npy",
        role=role,
        ids=np.asarray(ids).astype(str),
        matrix=matrix,
        ids_from_rows=False,
    )


@FAST
@given(n=sizes, ds=dims, dc=dims, seed=seeds, extra=st.integers(0, 4))
def test_permuting_items_with_their_ids_changes_nothing(n, ds, dc, seed, extra):
    sem, cf = draw_views(n + extra, ds, dc, seed)
    rng = np.random.default_rng(seed + 3)
    ids = rng.choice(10_000, size=n + extra, replace=False)
    # the collaborative view lacks the last `extra` items: they must be left out either way
    sem_e = embeddings(ids, sem, "semantic")
    cf_e = embeddings(ids[:n], cf[:n], "collaborative")
    ps = rng.permutation(n + extra)
    pc = rng.permutation(n)
    joined = join_views(sem_e, cf_e)
    shuffled = join_views(
        embeddings(ids[ps], sem[ps], "semantic"),
        embeddings(ids[:n][pc], cf[:n][pc], "collaborative"),
    )
    np.testing.assert_array_equal(joined.ids, shuffled.ids)
    np.testing.assert_array_equal(joined.sem, shuffled.sem)
    np.testing.assert_array_equal(joined.cf, shuffled.cf)
    assert joined.to_dict() == shuffled.to_dict()
    assert joined.only_semantic == extra
    ks = ks_for(n, seed)
    a = overlap_of(joined.sem, joined.cf, ks)
    b = overlap_of(shuffled.sem, shuffled.cf, ks)
    assert a.to_dict() == b.to_dict()


def brute_topk(q, base, k, exclude, scale):
    scores = q.astype(np.float64) @ base.astype(np.float64).T * scale[None, :]
    out = np.full((q.shape[0], k), -1, dtype=np.int64)
    for r in range(q.shape[0]):
        cands = [j for j in range(base.shape[0]) if j not in exclude[r]]
        order = sorted(cands, key=lambda j: (-scores[r, j], j))[:k]
        out[r, : len(order)] = order
    return out


@FAST
@given(
    n_base=st.integers(2, 30),
    n_q=st.integers(1, 12),
    d=st.integers(1, 4),
    k=st.integers(1, 30),
    chunk=st.integers(1, 8),
    seed=seeds,
)
def test_vectorised_topk_equals_brute_force(n_base, n_q, d, k, chunk, seed):
    """Small integer vectors and power-of-two scales: every score is exact, ties are common."""
    rng = np.random.default_rng(seed)
    base = rng.integers(-2, 3, (n_base, d)).astype(np.float32)
    q = rng.integers(-2, 3, (n_q, d)).astype(np.float32)
    scale = (2.0 ** rng.integers(-1, 2, n_base)).astype(np.float32)
    exclude = [set(rng.choice(n_base, size=rng.integers(0, n_base + 1), replace=False).tolist())]
    exclude += [
        set(rng.choice(n_base, size=rng.integers(0, n_base // 2 + 1), replace=False).tolist())
        for _ in range(n_q - 1)
    ]
    indptr = np.cumsum([0] + [len(e) for e in exclude]).astype(np.int64)
    indices = np.array([j for e in exclude for j in sorted(e)], dtype=np.int64)
    k = min(k, n_base)
    idx, scores = cpu.topk(
        q, base, k, base_scale=scale, exclude=(indptr, indices), chunk_rows=chunk
    )
    np.testing.assert_array_equal(idx, brute_topk(q, base, k, exclude, scale))
    assert np.all((idx >= 0) | np.isneginf(scores))


@FAST
@given(n=st.integers(3, 25), d=st.integers(1, 3), seed=seeds)
def test_item_knn_equals_brute_force(n, d, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(-2, 3, (n, d)).astype(np.float32)
    x[np.all(x == 0, axis=1), 0] = 1  # no zero rows (they have no cosine)
    k = int(rng.integers(1, n))
    got = item_knn(x, k, CPU, cosine=False)
    ref = brute_topk(x, x, k, [{i} for i in range(n)], np.ones(n))
    np.testing.assert_array_equal(got, ref)
    sub = np.sort(rng.choice(n, size=int(rng.integers(1, n + 1)), replace=False))
    np.testing.assert_array_equal(item_knn(x, k, CPU, query_index=sub, cosine=False), ref[sub])


@FAST
@given(rows=st.integers(1, 10), width=st.integers(1, 8), universe=st.integers(8, 20), seed=seeds)
def test_intersection_sizes_equal_set_sizes(rows, width, universe, seed):
    rng = np.random.default_rng(seed)

    def lists() -> np.ndarray:
        out = np.stack([rng.permutation(universe)[:width] for _ in range(rows)])
        out[rng.random(out.shape) < 0.2] = -1  # empty slots never match
        return out.astype(np.int64)

    a, b = lists(), lists()
    ref = [len((set(x) & set(y)) - {-1}) for x, y in zip(a.tolist(), b.tolist(), strict=True)]
    np.testing.assert_array_equal(intersection_sizes(a, b), ref)


@FAST
@given(n=st.integers(4, 30), seed=seeds)
def test_cka_invariant_to_rotation_and_bounded(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3))
    y = rng.standard_normal((n, 4))
    q, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    a = linear_cka(x, y, cosine=False)
    assert -1e-12 <= a <= 1 + 1e-12
    assert np.isclose(a, linear_cka(x @ q * 3.0, y, cosine=False), rtol=1e-9)


@FAST
@given(
    n_users=st.integers(3, 15),
    n_items=st.integers(8, 30),
    seed=seeds,
    k=st.integers(1, 6),
)
def test_recall_select_budget_union_are_ordered(n_users, n_items, seed, k):
    from complement.core.evaluation import prepare_eval
    from complement.core.oracle_tables import oracle_from_lists
    from complement.core.splits import TEST, TRAIN

    rng = np.random.default_rng(seed)
    k = min(k, n_items - 1)
    rows = int(n_users * 6)
    users = np.r_[np.arange(n_users), np.arange(n_users), rng.integers(0, n_users, rows)]
    items = rng.integers(0, n_items, users.shape[0])
    items[rng.random(items.shape[0]) < 0.05] = -1  # rows without embeddings
    part = np.where(rng.random(users.shape[0]) < 0.5, TEST, TRAIN).astype(np.int8)
    part[:n_users], part[n_users : 2 * n_users] = TRAIN, TEST
    items[: 2 * n_users] = rng.integers(0, n_items, 2 * n_users)
    ev = prepare_eval(users, items, part, n_items, n_users=n_users)
    kmax = k + int(rng.integers(0, 3))
    kmax = min(kmax, n_items - 1)

    def lists() -> np.ndarray:
        out = np.stack([rng.permutation(n_items)[:kmax] for _ in range(ev.n_users)])
        out[rng.random(out.shape) < 0.1] = -1
        return out.astype(np.int64)

    views = {"semantic": lists(), "collaborative": lists()}
    at = oracle_from_lists(ev, views, {}, [k], n_boot=20, seed=seed, groups=False)[k]
    union = at.oracle["union"].value
    budget = at.oracle["budget"].value
    select = at.oracle["select"].value
    for view in ("semantic", "collaborative"):
        assert at.recall[view].value <= select + 1e-12
    assert select <= budget + 1e-12
    assert budget <= union + 1e-12
    assert union <= 1 + 1e-12


@FAST
@given(
    n_users=st.integers(1, 12),
    n_items=st.integers(3, 20),
    rows=st.integers(1, 80),
    seed=seeds,
    phase=st.sampled_from(["test", "valid"]),
)
def test_prepare_eval_equals_per_user_sets(n_users, n_items, rows, seed, phase):
    from complement.core.evaluation import prepare_eval
    from complement.core.splits import TEST, TRAIN, VALID
    from complement.errors import UsageError

    rng = np.random.default_rng(seed)
    users = rng.integers(0, n_users, rows)
    items = rng.integers(-1, n_items, rows)  # -1: no embedding
    part = rng.choice(np.array([TRAIN, VALID, TEST], dtype=np.int8), rows)
    hist_parts = {TRAIN, VALID} if phase == "test" else {TRAIN}
    tgt_part = TEST if phase == "test" else VALID
    ref = {}
    for u in range(n_users):
        mine = [(int(i), int(p)) for uu, i, p in zip(users, items, part, strict=True) if uu == u]
        hist = {i for i, p in mine if p in hist_parts and i >= 0}
        tgt = {i for i, p in mine if p == tgt_part and i >= 0} - hist
        if hist and tgt:
            ref[u] = (sorted(hist), sorted(tgt))
    if not ref:
        try:
            prepare_eval(users, items, part, n_items, n_users=n_users, phase=phase)
        except UsageError:
            return
        raise AssertionError("no evaluable user, yet no error")
    ev = prepare_eval(users, items, part, n_items, n_users=n_users, phase=phase)
    assert ev.users.tolist() == sorted(ref)
    for r, u in enumerate(ev.users.tolist()):
        h = ev.history_indices[ev.history_indptr[r] : ev.history_indptr[r + 1]].tolist()
        t = ev.target_indices[ev.target_indptr[r] : ev.target_indptr[r + 1]].tolist()
        assert (h, t) == ref[u]


@FAST
@given(n_users=st.integers(1, 10), n_items=st.integers(4, 25), seed=seeds)
def test_hit_matrix_and_ranking_metrics_equal_per_user_loops(n_users, n_items, seed):
    import math

    from complement.core.evaluation import prepare_eval
    from complement.core.metrics import hit_matrix, ranking_metrics, row_isin
    from complement.core.splits import TEST, TRAIN

    rng = np.random.default_rng(seed)
    # every user: one history item and 1..3 distinct target items (never in history)
    users, items, part = [], [], []
    for u in range(n_users):
        chosen = rng.choice(n_items, size=int(rng.integers(2, 5)), replace=False)
        users += [u] * len(chosen)
        items += chosen.tolist()
        part += [TRAIN] + [TEST] * (len(chosen) - 1)
    ev = prepare_eval(
        np.array(users), np.array(items), np.array(part, dtype=np.int8), n_items, n_users=n_users
    )
    kmax = int(rng.integers(1, n_items))
    lists = np.stack([rng.permutation(n_items)[:kmax] for _ in range(ev.n_users)])
    lists[rng.random(lists.shape) < 0.15] = -1
    other = np.stack([rng.permutation(n_items)[:kmax] for _ in range(ev.n_users)])
    hits = hit_matrix(lists, ev)
    ks = sorted({int(k) for k in rng.integers(1, kmax + 1, size=3)})
    metrics = ranking_metrics(hits, ev.n_targets, ks)
    member = row_isin(lists, other)
    for r in range(ev.n_users):
        tgt = set(ev.target_indices[ev.target_indptr[r] : ev.target_indptr[r + 1]].tolist())
        row = lists[r].tolist()
        assert hits[r].tolist() == [i in tgt for i in row]
        assert member[r].tolist() == [i >= 0 and i in set(other[r].tolist()) for i in row]
        for k in ks:
            got = [j for j, i in enumerate(row[:k]) if i in tgt]
            dcg = sum(1 / math.log2(j + 2) for j in got)
            idcg = sum(1 / math.log2(j + 2) for j in range(min(k, len(tgt))))
            m = metrics[k]
            assert m.n_hits[r] == len(got)
            assert math.isclose(m.recall[r], len(got) / len(tgt))
            assert math.isclose(m.ndcg[r], dcg / idcg)
            assert m.hit_rate[r] == (1.0 if got else 0.0)
