from __future__ import annotations

import math

import numpy as np
import pytest

from complement.core.evaluation import check_ks, prepare_eval, restrict_targets
from complement.core.metrics import evaluate_lists, hit_matrix, ranking_metrics, row_isin
from complement.core.ranking import rank, user_queries
from complement.core.splits import TEST, TRAIN, VALID, make_split
from complement.core.stats import bootstrap_estimates, bootstrap_mean_ci
from complement.errors import UsageError
from complement.retrieval import get_backend

CPU = get_backend("cpu")


def _log(rows):
    """rows of (user, item index or -1, part) -> parallel arrays."""
    a = np.array(rows, dtype=np.int64)
    return a[:, 0], a[:, 1], a[:, 2].astype(np.int8)


def test_prepare_hand_built_counts_and_sets():
    users, items, part = _log(
        [
            (0, 0, TRAIN),
            (0, 1, VALID),
            (0, 2, TEST),
            (0, 2, TEST),  # repeated test row
            (0, 1, TEST),  # in history (validation is history for the test phase)
            (0, -1, TEST),  # not a candidate
            (1, 3, TRAIN),  # no test rows: not evaluated
            (2, 4, TEST),  # no history: not evaluated
            (3, -1, TRAIN),  # history only on a non-candidate item
            (3, 4, TEST),
            (4, 5, TRAIN),
            (4, 5, TRAIN),
            (4, 0, TEST),
            (4, 3, TEST),
        ]
    )
    ev = prepare_eval(users, items, part, 6, n_users=6)
    assert list(ev.users) == [0, 4]
    assert ev.history_indices[ev.history_indptr[0] : ev.history_indptr[1]].tolist() == [0, 1]
    assert ev.history_indices[ev.history_indptr[1] :].tolist() == [5]
    assert ev.target_indices.tolist() == [2, 0, 3] and ev.n_targets.tolist() == [1, 2]
    c = ev.counts
    assert c["n_target_rows"] == 8
    assert c["n_target_rows_not_candidate"] == 1
    assert c["n_target_rows_in_history"] == 1
    assert c["n_target_rows_repeated"] == 1
    assert c["n_users_with_targets"] == 4
    assert c["n_users_without_history"] == 2  # users 2 and 3
    assert c["n_users"] == 2 and c["n_targets"] == 3
    assert ev.popularity.tolist() == [1, 1, 0, 1, 0, 2]  # train + valid rows
    assert ev.activity.tolist() == [2, 2]

    valid = prepare_eval(users, items, part, 6, n_users=6, phase="valid")
    assert list(valid.users) == [0]  # history = train only, targets = validation rows
    assert valid.history_indices.tolist() == [0] and valid.target_indices.tolist() == [1]
    assert valid.popularity.tolist() == [1, 0, 0, 1, 0, 2]

    ok = np.ones(6, dtype=bool)
    ok[4] = False
    ev2 = prepare_eval(users, items, part, 6, n_users=6, user_ok=ok)
    assert list(ev2.users) == [0] and ev2.counts["n_users_without_vectors"] == 1


def test_prepare_errors_when_nobody_is_evaluated():
    users, items, part = _log([(0, 0, TRAIN), (1, 1, TEST)])
    with pytest.raises(UsageError, match="no user has both a history and a test item"):
        prepare_eval(users, items, part, 3)
    with pytest.raises(UsageError, match="--valid-frac"):
        prepare_eval(users, items, part, 3, phase="valid")


def test_masking_ties_and_short_lists():
    # 5 items on a line; user vector points along +x
    items = np.array([[1.0, 0], [2.0, 0], [2.0, 0], [-1.0, 0], [0.5, 0]], dtype=np.float32)
    users, idx, part = _log([(0, 1, TRAIN), (0, 3, TEST), (1, 0, TRAIN), (1, 1, TRAIN)])
    users = np.r_[users, 1, 1, 1]
    idx = np.r_[idx, 2, 4, 3]
    part = np.r_[part, TRAIN, TRAIN, TEST].astype(np.int8)
    ev = prepare_eval(users, idx, part, 5)
    uv = np.array([[1.0, 0.0], [1.0, 0.0]], dtype=np.float32)
    q, scale = user_queries(ev, items, user_vectors=uv)
    assert scale is None
    lists = rank(ev, q, items, 4, CPU)
    # user 0: item 1 (score 2) is history -> masked; item 2 ties item 1 but is free
    assert lists[0].tolist() == [2, 0, 4, 3]
    # user 1: history {0,1,2,4}: one candidate left, other slots -1
    assert lists[1].tolist() == [3, -1, -1, -1]
    hits = hit_matrix(lists, ev)
    assert hits.tolist() == [[False, False, False, True], [True, False, False, False]]
    # a tie between two free items: lower index first
    items2 = np.array([[1.0, 0], [1.0, 0], [1.0, 0], [0.0, 1]], dtype=np.float32)
    ev2 = prepare_eval(*_log([(0, 3, TRAIN), (0, 2, TEST)]), 4)
    q2, s2 = user_queries(ev2, items2, user_vectors=np.array([[1.0, 0.0]]), cosine=True)
    assert rank(ev2, q2, items2, 3, CPU, item_scale=s2)[0].tolist() == [0, 1, 2]


def test_mean_query_is_normalised_mean_of_history():
    rng = np.random.default_rng(1)
    items = rng.standard_normal((6, 3)).astype(np.float32)
    ev = prepare_eval(*_log([(0, 0, TRAIN), (0, 2, TRAIN), (0, 2, VALID), (0, 5, TEST)]), 6)
    q, scale = user_queries(ev, items)
    unit = items / np.linalg.norm(items, axis=1, keepdims=True)
    expect = (unit[0] + unit[2]) / 2
    assert np.allclose(q[0], expect / np.linalg.norm(expect), atol=1e-6)
    assert np.allclose(scale, 1 / np.linalg.norm(items, axis=1), rtol=1e-6)


def test_zero_item_vector_is_refused_for_cosine():
    items = np.array([[1.0, 0], [0.0, 0], [0.0, 1]], dtype=np.float32)
    ev = prepare_eval(*_log([(0, 0, TRAIN), (0, 2, TEST)]), 3)
    with pytest.raises(UsageError, match="all zeros"):
        user_queries(ev, items)
    q, _ = user_queries(ev, items, user_vectors=np.array([[1.0, 1.0]]))  # inner product: fine
    assert q.shape == (1, 2)


def test_ranking_metrics_by_hand():
    hits = np.array([[True, False, True, False], [False, False, False, False]])
    m = ranking_metrics(hits, np.array([4, 1]), [1, 3])
    assert m[3].recall.tolist() == [0.5, 0.0]
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert m[3].ndcg[0] == pytest.approx((1 + 1 / math.log2(4)) / ideal)
    assert m[1].ndcg[0] == 1.0 and m[1].recall[0] == 0.25
    assert m[3].hit_rate.tolist() == [1.0, 0.0] and m[3].n_hits.tolist() == [2, 0]
    one = ranking_metrics(np.array([[False, True]]), np.array([1]), [2])[2]
    assert one.ndcg[0] == pytest.approx(1 / math.log2(3))  # ideal DCG over min(K, |T|) = 1


def test_check_ks():
    assert check_ks([20, 10, 10], 50) == (10, 20)
    with pytest.raises(UsageError, match="not smaller than the number of candidate items"):
        check_ks([10, 50], 50)
    with pytest.raises(UsageError, match="positive"):
        check_ks([0], 50)


def _brute(users, items_idx, part, n_items, emb, user_vecs, k, phase="test"):
    """Per-user reference in float64 with Python sets."""
    hist_parts = {TRAIN, VALID} if phase == "test" else {TRAIN}
    tgt_part = TEST if phase == "test" else VALID
    out = {}
    for u in np.unique(users):
        rows = users == u
        pairs = list(zip(items_idx[rows].tolist(), part[rows].tolist(), strict=True))
        hist = {i for i, p in pairs if p in hist_parts and i >= 0}
        tgt = {i for i, p in pairs if p == tgt_part and i >= 0}
        tgt -= hist
        if not hist or not tgt:
            continue
        x = emb.astype(np.float64)
        if user_vecs is None:
            unit = x / np.linalg.norm(x, axis=1, keepdims=True)
            q = unit[sorted(hist)].mean(axis=0)
            scores = unit @ q
        else:
            scores = x @ user_vecs[u].astype(np.float64)
        order = [i for i in sorted(range(n_items), key=lambda i: (-scores[i], i)) if i not in hist]
        top = order[:k] + [-1] * max(0, k - len(order))
        got = [i in tgt for i in top]
        dcg = sum(1 / math.log2(j + 2) for j, g in enumerate(got) if g)
        idcg = sum(1 / math.log2(j + 2) for j in range(min(k, len(tgt))))
        out[int(u)] = (top, sum(got) / len(tgt), dcg / idcg, float(any(got)))
    return out


@pytest.mark.parametrize("with_users", [False, True])
@pytest.mark.parametrize("phase", ["test", "valid"])
def test_vectorised_matches_brute_force(with_users, phase):
    rng = np.random.default_rng(7)
    n_users, n_items, n_rows, k = 40, 30, 600, 8
    users = rng.integers(0, n_users, n_rows)
    items_idx = rng.integers(-1, n_items, n_rows)
    part = rng.choice([TRAIN, VALID, TEST], n_rows, p=[0.6, 0.15, 0.25]).astype(np.int8)
    emb = rng.standard_normal((n_items, 5)).astype(np.float32)
    user_vecs = rng.standard_normal((n_users, 5)).astype(np.float32) if with_users else None
    ev = prepare_eval(users, items_idx, part, n_items, n_users=n_users, phase=phase)
    q, scale = user_queries(ev, emb, user_vectors=user_vecs)
    lists = rank(ev, q, emb, k, CPU, item_scale=scale)
    m = evaluate_lists(lists, ev, [k])[k]
    ref = _brute(users, items_idx, part, n_items, emb, user_vecs, k, phase)
    assert sorted(ref) == ev.users.tolist()
    for r, u in enumerate(ev.users.tolist()):
        top, rec, ndcg, hr = ref[u]
        assert lists[r].tolist() == top
        assert m.recall[r] == pytest.approx(rec)
        assert m.ndcg[r] == pytest.approx(ndcg)
        assert m.hit_rate[r] == hr


def test_restrict_targets_and_row_isin():
    rng = np.random.default_rng(3)
    users = rng.integers(0, 20, 300)
    idx = rng.integers(0, 15, 300)
    part = rng.choice([TRAIN, TEST], 300).astype(np.int8)
    ev = prepare_eval(users, idx, part, 15)
    keep = np.arange(15) % 3 == 0
    rows, sub = restrict_targets(ev, keep)
    for r_sub, r in enumerate(rows):
        t = ev.target_indices[ev.target_indptr[r] : ev.target_indptr[r + 1]]
        t_sub = sub.target_indices[sub.target_indptr[r_sub] : sub.target_indptr[r_sub + 1]]
        assert t_sub.tolist() == [i for i in t if keep[i]] and len(t_sub) > 0
        h = ev.history_indices[ev.history_indptr[r] : ev.history_indptr[r + 1]]
        h_sub = sub.history_indices[sub.history_indptr[r_sub] : sub.history_indptr[r_sub + 1]]
        assert h.tolist() == h_sub.tolist()
    missing = set(range(ev.n_users)) - set(rows.tolist())
    for r in missing:
        t = ev.target_indices[ev.target_indptr[r] : ev.target_indptr[r + 1]]
        assert not keep[t].any()
    a = rng.integers(-1, 10, (50, 6))
    b = rng.integers(-1, 10, (50, 4))
    expect = np.array([[x >= 0 and x in set(b[i]) for x in a[i]] for i in range(50)])
    assert np.array_equal(row_isin(a, b), expect)


def test_bootstrap_estimates_match_stats_and_ratios():
    rng = np.random.default_rng(0)
    x = rng.random(200)
    num, den = rng.random(200), rng.random(200) + 0.5
    est = bootstrap_estimates({"x": x, "r": (num, den)}, n_boot=300, seed=4)
    assert est["x"].value == pytest.approx(x.mean())
    assert est["x"].ci95 == pytest.approx(bootstrap_mean_ci(x, 300, 4))
    assert est["r"].value == pytest.approx(num.sum() / den.sum())
    lo, hi = est["r"].ci95
    assert lo < est["r"].value < hi
    empty = bootstrap_estimates({"r": (np.zeros(5), np.zeros(5))}, n_boot=50)
    assert math.isnan(empty["r"].value) and math.isnan(empty["r"].ci95[0])


def test_split_edge_cases_as_evaluation_sees_them():
    # temporal: a user seen only after the cutoff has no history and is not evaluated
    users = np.array([0, 0, 0, 1, 1])
    ts = np.array([1.0, 2.0, 5.0, 6.0, 7.0])
    idx = np.array([0, 1, 2, 3, 0])
    s = make_split("temporal", users, ts, cutoff=5.0)
    ev = prepare_eval(users, idx, s.part, 4)
    assert ev.users.tolist() == [0] and ev.counts["n_users_without_history"] == 1
    # user-temporal: a one-interaction user is never tested
    users = np.array([0, 0, 0, 1])
    s = make_split("user-temporal", users, np.array([1.0, 2, 3, 1]), test_frac=0.3)
    ev = prepare_eval(users, np.array([0, 1, 2, 3]), s.part, 4)
    assert ev.users.tolist() == [0] and ev.target_indices.tolist() == [2]
    # random: a test row repeating a train item of the same user is removed from T_u
    users = np.zeros(6, dtype=np.int64)
    s = make_split("random", users, np.zeros(6), test_frac=0.5, seed=1)
    idx = np.zeros(6, dtype=np.int64)
    idx[s.test] = 0
    idx[np.flatnonzero(s.test)[-1]] = 1
    ev = prepare_eval(users, idx, s.part, 3)
    assert ev.target_indices.tolist() == [1]
    assert ev.counts["n_target_rows_in_history"] == int(s.test.sum()) - 1
    # files: a test item without embeddings is not a candidate and is counted
    s = make_split("files", np.array([0, 0, 0]), np.array([1.0, 2, 3]), n_train_rows=1)
    ev = prepare_eval(np.array([0, 0, 0]), np.array([0, -1, 2]), s.part, 3)
    assert ev.target_indices.tolist() == [2]
    assert ev.counts["n_target_rows_not_candidate"] == 1


def test_distinct_keys_and_membership_equal_numpy():
    """The sort-based distinct keys and the chunked membership test: numpy's answers."""
    import complement.core.evaluation as evaluation

    rng = np.random.default_rng(4)
    for size in (0, 1, 2, 1000):
        keys = rng.integers(0, 50, size)
        np.testing.assert_array_equal(evaluation._distinct(keys.copy()), np.unique(keys))
    table = np.unique(rng.integers(0, 10**6, 5000))
    query = rng.integers(-5, 10**6 + 5, (40, 30))
    query[:, :3] = rng.choice(table, (40, 3))
    want = np.isin(query, table)
    np.testing.assert_array_equal(evaluation.sorted_isin(query, table), want)
    old = evaluation._ISIN_CHUNK
    try:
        evaluation._ISIN_CHUNK = 7
        np.testing.assert_array_equal(evaluation.sorted_isin(query, table), want)
    finally:
        evaluation._ISIN_CHUNK = old
