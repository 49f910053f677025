from __future__ import annotations

import math

import numpy as np
import pytest

from complement.core.evaluation import prepare_eval
from complement.core.fusion import (
    ALPHA_GRID,
    choose_alpha,
    concat_fixed_lists,
    cosine_views,
    interpolation_lists,
    rrf_lists,
)
from complement.core.metrics import evaluate_lists
from complement.core.oracle import complement_oracle
from complement.core.oracle_tables import oracle_from_lists
from complement.core.ranking import rank, user_queries
from complement.core.splits import TEST, TRAIN, VALID
from complement.core.stats import paired_bootstrap
from complement.errors import UsageError
from complement.retrieval import get_backend

CPU = get_backend("cpu")


def _random_log(seed, n_users=50, n_items=40, n_rows=1000):
    rng = np.random.default_rng(seed)
    users = rng.integers(0, n_users, n_rows)
    idx = rng.integers(0, n_items, n_rows)
    part = rng.choice([TRAIN, VALID, TEST], n_rows, p=[0.6, 0.15, 0.25]).astype(np.int8)
    sem = rng.standard_normal((n_items, 6)).astype(np.float32)
    cf = rng.standard_normal((n_items, 4)).astype(np.float32)
    return users, idx, part, sem, cf


def test_hand_built_bounds():
    # identity items: a user vector is the score of every item
    rows = np.array([(0, 0, TRAIN), (0, 1, TEST), (0, 2, TEST), (1, 0, TRAIN), (1, 3, TEST)])
    ev = prepare_eval(rows[:, 0], rows[:, 1], rows[:, 2].astype(np.int8), 4)
    items = np.eye(4, dtype=np.float32)
    su = np.array([[9, 0, 5, 1], [9, 0, 1, 5]], dtype=np.float32)  # history item 0 masked
    cu = np.array([[9, 5, 0, 1], [9, 5, 1, 0]], dtype=np.float32)
    views = {}
    for name, uv in (("semantic", su), ("collaborative", cu)):
        q, scale = user_queries(ev, items, user_vectors=uv)
        views[name] = rank(ev, q, items, 2, CPU, item_scale=scale)
    assert views["semantic"][:, 0].tolist() == [2, 3]
    assert views["collaborative"][:, 0].tolist() == [1, 1]
    row = oracle_from_lists(ev, views, {}, [1], n_boot=100)[1]
    assert row.recall["semantic"].value == 0.75 and row.recall["collaborative"].value == 0.25
    assert row.best_single == "semantic"
    assert row.oracle["union"].value == 1.0  # user 0: each view finds one of two items
    assert row.oracle["budget"].value == 0.75  # ... but a list of K = 1 holds only one
    assert row.oracle["select"].value == 0.75
    assert row.gain["union"] == pytest.approx(1 / 3) and row.gain["budget"] == 0.0
    doc = row.to_dict()
    assert doc["best_single"]["view"] == "semantic" and "ci95" in doc["oracle"]


def test_bounds_match_per_user_sets():
    users, idx, part, sem, cf = _random_log(1)
    ev = prepare_eval(users, idx, part, 40)
    views = {}
    for name, emb in (("semantic", sem), ("collaborative", cf)):
        q, scale = user_queries(ev, emb)
        views[name] = rank(ev, q, emb, 10, CPU, item_scale=scale)
    per_k = oracle_from_lists(ev, views, {}, [3, 10], n_boot=50)
    for k, row in per_k.items():
        union, budget, select = [], [], []
        for r in range(ev.n_users):
            t = set(ev.target_indices[ev.target_indptr[r] : ev.target_indptr[r + 1]].tolist())
            s = set(views["semantic"][r, :k].tolist()) - {-1}
            c = set(views["collaborative"][r, :k].tolist()) - {-1}
            found = len((s | c) & t)
            union.append(found / len(t))
            budget.append(min(k, found) / len(t))
            select.append(max(len(s & t), len(c & t)) / len(t))
        assert row.oracle["union"].value == pytest.approx(np.mean(union))
        assert row.oracle["budget"].value == pytest.approx(np.mean(budget))
        assert row.oracle["select"].value == pytest.approx(np.mean(select))
        best = row.recall[row.best_single].value
        assert best == max(v.value for v in row.recall.values())
        assert best <= row.oracle["select"].value <= row.oracle["budget"].value
        assert row.oracle["budget"].value <= row.oracle["union"].value


def test_rrf_by_hand_and_brute_force():
    s = np.array([[3, 1, 2]])
    c = np.array([[1, 4, 3]])
    assert rrf_lists(s, c, 4).tolist() == [[1, 3, 4, 2]]
    assert rrf_lists(np.array([[2, -1]]), np.array([[-1, -1]]), 2).tolist() == [[2, -1]]
    rng = np.random.default_rng(0)
    n, depth, n_items = 30, 12, 25
    a = np.array([rng.permutation(n_items)[:depth] for _ in range(n)])
    b = np.array([rng.permutation(n_items)[:depth] for _ in range(n)])
    a[:3, -4:] = -1  # short lists
    got = rrf_lists(a, b, 8)
    for r in range(n):
        score: dict[int, float] = {}
        for lst in (a[r], b[r]):
            for rank_, item in enumerate(lst.tolist(), start=1):
                if item >= 0:
                    score[item] = score.get(item, 0.0) + 1 / (60 + rank_)
        expect = sorted(score, key=lambda i: (-score[i], i))[:8]
        assert got[r].tolist() == expect


def _brute_lists(ev, score_fn, k):
    out = []
    for r in range(ev.n_users):
        hist = set(ev.history_indices[ev.history_indptr[r] : ev.history_indptr[r + 1]].tolist())
        scores = score_fn(r)
        order = [i for i in sorted(range(ev.n_items), key=lambda i: (-scores[i], i))]
        out.append([i for i in order if i not in hist][:k])
    return np.array(out)


def test_fusion_lists_match_brute_force():
    users, idx, part, sem, cf = _random_log(2)
    ev = prepare_eval(users, idx, part, 40)
    cv = cosine_views(ev, sem, cf)

    def unit(x):
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    def cos(emb, r):
        hist = ev.history_indices[ev.history_indptr[r] : ev.history_indptr[r + 1]]
        u = unit(emb.astype(np.float64))
        q = u[hist].mean(axis=0)
        return u @ (q / np.linalg.norm(q))

    def z(emb, r):  # standardised over every candidate item, history included
        s = cos(emb, r)
        return (s - s.mean()) / s.std()

    for alpha in (0.0, 0.3, 0.7, 1.0):
        got = interpolation_lists(ev, cv, alpha, 7, CPU)
        ref = _brute_lists(ev, lambda r, a=alpha: a * z(sem, r) + (1 - a) * z(cf, r), 7)
        assert np.array_equal(got, ref), alpha
    # concat_fixed ranks exactly like interpolation at 0.5 on (unstandardised) cosine scores
    got = concat_fixed_lists(ev, cv, 7, CPU)
    ref = _brute_lists(ev, lambda r: (cos(sem, r) + cos(cf, r)) / 2, 7)
    assert np.array_equal(got, ref)


def test_choose_alpha_takes_best_validation_recall():
    users, idx, part, sem, cf = _random_log(3)
    ev_valid = prepare_eval(users, idx, part, 40, phase="valid")
    cv = cosine_views(ev_valid, sem, cf)
    search = choose_alpha(ev_valid, cv, [5, 10], CPU)
    assert search.grid == ALPHA_GRID and len(search.grid) == 11
    for k in (5, 10):
        curve = search.recall[k]
        assert search.alpha[k] == ALPHA_GRID[int(np.argmax(curve))]
        a = search.alpha[k]
        lists = interpolation_lists(ev_valid, cv, a, k, CPU)
        assert evaluate_lists(lists, ev_valid, [k])[k].recall.mean() == pytest.approx(max(curve))


def test_complement_oracle_end_to_end():
    users, idx, part, sem, cf = _random_log(4, n_users=80)
    ev = prepare_eval(users, idx, part, 40)
    ev_valid = prepare_eval(users, idx, part, 40, phase="valid")
    res = complement_oracle(ev, ev_valid, sem, cf, [5, 10], CPU, rrf_depth=20, n_boot=100, seed=2)
    assert res.rrf_depth == 20 and res.alpha_search is not None
    for k, row in res.per_k.items():
        assert set(row.fusion) == {"concat_fixed", "score_interpolation", "gated", "rrf"}
        best = row.recall[row.best_single].value
        budget, select = row.oracle["budget"].value, row.oracle["select"].value
        for f in row.fusion.values():
            if budget > best:
                assert f.headroom == pytest.approx((f.recall.value - best) / (budget - best))
            if select > best:
                assert f.headroom_select == pytest.approx((f.recall.value - best) / (select - best))
            above = tuple(
                b for b in ("union", "budget", "select") if f.recall.value > row.oracle[b].value
            )
            assert f.exceeds_oracle == above
        # gated re-ranks the union of both top-K lists: never above the budget oracle
        assert row.fusion["gated"].recall.value <= budget + 1e-12
        gated = evaluate_lists(res.fused_per_k[k]["gated"], ev, [k])[k].recall
        assert paired_bootstrap(gated, single_recall(res, ev, row, k), n_boot=100, seed=2) == (
            row.fusion["gated"].test
        )
        # the paired test is the stats module's, on per-user recall
        fused = evaluate_lists(res.lists["rrf"], ev, [k])[k].recall
        single = evaluate_lists(res.lists[row.best_single], ev, [k])[k].recall
        expect = paired_bootstrap(fused, single, n_boot=100, seed=2)
        assert row.fusion["rrf"].test == expect
        assert row.fusion["score_interpolation"].alpha == res.alpha_search.alpha[k]
        assert row.groups is not None
    doc = res.to_dict()
    f = doc["k"]["10"]["fusion"]["rrf"]
    assert set(f) >= {"recall", "ndcg", "headroom", "headroom_select", "exceeds_oracle", "p_value"}
    assert set(doc["gated"]) == {"5", "10"} and doc["gated"]["5"]["design"] == "union_rerank"
    # the RRF depth is capped at n_items - 1 (every user has a masked item: still exact)
    res2 = complement_oracle(ev, ev_valid, sem, cf, [5], CPU, rrf_depth=500, n_boot=20)
    assert res2.rrf_depth == 39
    assert math.isfinite(res2.per_k[5].fusion["rrf"].recall.value)


def single_recall(res, ev, row, k):
    return evaluate_lists(res.lists[row.best_single], ev, [k])[k].recall


def test_fixed_alpha_endpoints_are_the_views():
    users, idx, part, sem, cf = _random_log(6, n_users=80)
    ev = prepare_eval(users, idx, part, 40)
    ev_valid = prepare_eval(users, idx, part, 40, phase="valid")
    for alpha, view in ((0.0, "collaborative"), (1.0, "semantic")):
        res = complement_oracle(
            ev, ev_valid, sem, cf, [5, 10], CPU, rrf_depth=20, n_boot=20, alpha=alpha
        )
        assert res.alpha_search is not None and res.alpha_search.fixed == alpha
        for k, row in res.per_k.items():
            assert row.fusion["score_interpolation"].alpha == alpha
            assert row.fusion["score_interpolation"].recall == row.recall[view]
            lists = res.fused_per_k[k]["score_interpolation"][:, :k]
            assert np.array_equal(lists, res.lists[view][:, :k])
    with pytest.raises(UsageError, match="--alpha 1.5 is outside"):
        complement_oracle(ev, ev_valid, sem, cf, [5], CPU, rrf_depth=20, alpha=1.5)


def test_oracle_errors():
    users, idx, part, sem, cf = _random_log(5)
    ev = prepare_eval(users, idx, part, 40)
    ev_valid = prepare_eval(users, idx, part, 40, phase="valid")
    with pytest.raises(UsageError, match="--rrf-depth 5 is smaller than the largest k"):
        complement_oracle(ev, ev_valid, sem, cf, [10], CPU, rrf_depth=5)
    with pytest.raises(UsageError, match="not smaller than the number of candidate items"):
        complement_oracle(ev, ev_valid, sem, cf, [40], CPU)
