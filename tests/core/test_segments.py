"""Segments: user and item cuts of the evaluation data, the activity partition, too-small
segments, per-segment overlap."""

from __future__ import annotations

import numpy as np
import pytest

from complement.core.compare_users import users_from_lists
from complement.core.evaluation import prepare_eval, restrict_targets
from complement.core.hits import hits_from_lists
from complement.core.oracle_tables import oracle_from_lists
from complement.core.segments import (
    MIN_USERS,
    Segments,
    activity_segments,
    item_segment_overlap,
    select_users,
    user_cuts,
    user_segments,
)
from complement.core.splits import TEST, TRAIN

N_ITEMS = 60


def _data(n_users=90, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(n_users):
        n = int(rng.integers(3, 25))  # varied activity
        items = rng.choice(N_ITEMS, n, replace=False)
        for j, i in enumerate(items):
            rows.append((u, i, TEST if j >= n - 2 else TRAIN))
    a = np.array(rows)
    ev = prepare_eval(a[:, 0], a[:, 1], a[:, 2].astype(np.int8), N_ITEMS, n_users=n_users)
    lists = {
        name: np.stack([rng.permutation(N_ITEMS)[:10] for _ in range(ev.n_users)]).astype(np.int64)
        for name in ("semantic", "collaborative", "third")
    }
    return a, ev, lists


def test_select_users_equals_preparing_only_those_users():
    a, ev, _ = _data()
    rows = np.array([0, 3, 4, 10, 11, 40], dtype=np.int64)
    sub = select_users(ev, rows)
    keep = np.isin(a[:, 0], ev.users[rows])
    ref = prepare_eval(a[keep, 0], a[keep, 1], a[keep, 2].astype(np.int8), N_ITEMS, n_users=90)
    assert sub.users.tolist() == ref.users.tolist()
    for field in ("history_indptr", "history_indices", "target_indptr", "target_indices"):
        assert getattr(sub, field).tolist() == getattr(ref, field).tolist(), field
    assert sub.activity.tolist() == ref.activity.tolist()
    assert sub.popularity.tolist() == ev.popularity.tolist()  # item popularity of the whole


def test_activity_segments_partition_users_by_the_60_20_20_rule():
    _, ev, _ = _data()
    cuts = user_cuts(activity_segments(), ev, 90)
    assert [name for name, _, _ in cuts] == ["cold", "mid", "hot"]
    rows = np.concatenate([r for _, r, _ in cuts])
    assert sorted(rows.tolist()) == list(range(ev.n_users))  # a partition
    n = ev.n_users
    assert [r.size for _, r, _ in cuts] == [int(0.6 * n), int(0.8 * n) - int(0.6 * n),
                                            n - int(0.8 * n)]  # fmt: skip
    cold, hot = cuts[0][1], cuts[2][1]
    assert ev.activity[cold].max() <= ev.activity[hot].min()


def _weighted(parts, pick):
    total = sum(n for n, _ in parts)
    return sum(n * pick(row) for n, row in parts) / total


def test_activity_user_weighted_means_equal_the_whole():
    _, ev, lists = _data()
    seg = activity_segments()
    ks = [5, 10]
    whole_h = hits_from_lists(ev, lists["semantic"], lists["collaborative"], ks, n_boot=20)
    res = user_segments(
        seg,
        ev,
        90,
        lambda rows, sub: hits_from_lists(
            sub, lists["semantic"][rows], lists["collaborative"][rows], ks, n_boot=20,
            groups=False,
        ),
        minimum=1,
    )  # fmt: skip
    parts = [(r.n, r.table) for r in res.rows]
    assert sum(n for n, _ in parts) == ev.n_users
    for k in ks:
        for metric in ("recall", "ndcg", "hit_rate"):
            for v in ("semantic", "collaborative"):
                want = getattr(whole_h.per_k[k], metric)[v].value
                got = _weighted(
                    parts, lambda t, m=metric, v=v, k=k: getattr(t.per_k[k], m)[v].value
                )
                assert got == pytest.approx(want, rel=1e-12)
        want = whole_h.per_k[k].list_jaccard.value
        assert _weighted(parts, lambda t, k=k: t.per_k[k].list_jaccard.value) == pytest.approx(want)
    views = {v: lists[v] for v in ("semantic", "collaborative")}
    whole_o = oracle_from_lists(ev, views, {}, ks, n_boot=20)
    res_o = user_segments(
        seg, ev, 90,
        lambda rows, sub: oracle_from_lists(
            sub, {v: x[rows] for v, x in views.items()}, {}, ks, n_boot=20, groups=False
        ),
        minimum=1,
    )  # fmt: skip
    parts_o = [(r.n, r.table) for r in res_o.rows]
    for bound in ("union", "budget", "select"):
        want = whole_o[10].oracle[bound].value
        assert _weighted(parts_o, lambda t, b=bound: t[10].oracle[b].value) == pytest.approx(want)
    whole_c = users_from_lists(ev, lists, ks, n_boot=20)
    res_c = user_segments(
        seg, ev, 90,
        lambda rows, sub: users_from_lists(
            sub, {v: x[rows] for v, x in lists.items()}, ks, n_boot=20
        ),
        minimum=1,
    )  # fmt: skip
    parts_c = [(r.n, r.table) for r in res_c.rows]
    for v in lists:
        want = whole_c[5].recall[v].value
        assert _weighted(parts_c, lambda t, v=v: t[5].recall[v].value) == pytest.approx(want)


def test_item_segment_restricts_targets_and_user_segment_keeps_them():
    _, ev, _ = _data()
    items = np.arange(0, 20, dtype=np.int64)
    users = np.array([0, 5, 7, 30, 31, 88], dtype=np.int64)  # log user codes
    seg_i = Segments("genre", "items", ("a",), (items,))
    ((_, rows, sub),) = user_cuts(seg_i, ev, 90)
    ref_rows, ref = restrict_targets(ev, np.isin(np.arange(N_ITEMS), items))
    assert rows.tolist() == ref_rows.tolist()
    assert sub.target_indices.tolist() == ref.target_indices.tolist()
    assert np.isin(sub.target_indices, items).all()
    seg_u = Segments("country", "users", ("x",), (users,))
    ((_, rows_u, sub_u),) = user_cuts(seg_u, ev, 90)
    assert set(ev.users[rows_u].tolist()) == set(users.tolist()) & set(ev.users.tolist())
    assert sub_u.n_targets.sum() == ev.n_targets[rows_u].sum()


def test_too_small_segments_have_no_numbers():
    _, ev, lists = _data()
    small = np.array([ev.users[0], ev.users[1]], dtype=np.int64)
    big = ev.users[: MIN_USERS + 5]
    seg = Segments("c", "users", ("big", "small"), (big, small), n_unassigned=3)
    res = user_segments(seg, ev, 90, lambda rows, sub: {"n": int(rows.size)})
    doc = res.to_dict()
    assert doc["minimum"] == MIN_USERS and doc["unit"] == "users" and doc["n_unassigned"] == 3
    assert doc["by_segment"]["small"] == {"n_users": 2, "too_small": True}
    assert doc["by_segment"]["big"]["n_users"] == MIN_USERS + 5
    assert doc["by_segment"]["big"]["n"] == MIN_USERS + 5


def test_item_segment_overlap_matches_brute_force():
    rng = np.random.default_rng(4)
    n = 100
    query = np.sort(rng.choice(n, 70, replace=False)).astype(np.int64)
    per_item = {5: rng.integers(0, 6, query.size) / 5, 10: rng.integers(0, 11, query.size) / 10}
    members = (np.arange(0, 50, dtype=np.int64), np.array([1, 2, 3], dtype=np.int64))
    seg = Segments("g", "items", ("half", "tiny"), members)
    doc = item_segment_overlap(seg, query, per_item, n, minimum=10).to_dict()
    assert doc["unit"] == "items" and doc["by_segment"]["tiny"]["too_small"]
    mask = query < 50
    half = doc["by_segment"]["half"]
    assert half["n_items"] == int(mask.sum())
    for k, ov in per_item.items():
        inter = ov[mask] * k
        assert half["k"][str(k)]["overlap"] == pytest.approx(ov[mask].mean())
        assert half["k"][str(k)]["jaccard"] == pytest.approx((inter / (2 * k - inter)).mean())
        lo, hi = half["k"][str(k)]["ci95"]
        assert lo <= half["k"][str(k)]["overlap"] <= hi
