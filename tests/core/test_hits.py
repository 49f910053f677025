from __future__ import annotations

import math

import numpy as np
import pytest

from complement.core.evaluation import prepare_eval
from complement.core.hits import complement_hits, hits_from_lists
from complement.core.ranking import rank, user_queries
from complement.core.splits import TEST, TRAIN
from complement.io.jsonio import dumps
from complement.retrieval import get_backend

CPU = get_backend("cpu")


def _hand_built():
    """Identity item vectors, so a user vector *is* that user's score for every item."""
    rows = [
        (0, 0, TRAIN), (0, 3, TEST),  # only semantic ranks the test item
        (1, 1, TRAIN), (1, 4, TEST),  # both rank it
        (2, 2, TRAIN), (2, 5, TEST),  # only collaborative ranks it
        (3, 0, TRAIN),                # empty test set: not evaluated
        (4, 0, TRAIN), (4, 5, TEST),  # neither; collaborative list decided by ties
    ]  # fmt: skip
    a = np.array(rows)
    ev = prepare_eval(a[:, 0], a[:, 1], a[:, 2].astype(np.int8), 6)
    items = np.eye(6, dtype=np.float32)
    sem_users = np.array(
        [
            [9, 0, 0, 5, 4, 1],  # history item 0 scores highest but is masked
            [0, 9, 0, 1, 5, 4],
            [0, 0, 9, 5, 4, 1],
            [0, 0, 0, 0, 0, 0],
            [9, 0, 3, 2, 1, 0],
        ],
        dtype=np.float32,
    )
    cf_users = np.array(
        [
            [0, 0, 0, 0, 5, 4],
            [0, 9, 0, 0, 5, 1],
            [0, 0, 9, 0, 0, 5],  # item 5 first, then a tie at 0 -> item 0
            [0, 0, 0, 0, 0, 0],
            [9, 0, 0, 0, 0, 0],  # all free items tie -> items 1, 2
        ],
        dtype=np.float32,
    )
    return ev, items, sem_users, cf_users


def test_hand_built_log():
    ev, items, su, cu = _hand_built()
    assert ev.users.tolist() == [0, 1, 2, 4]
    res = complement_hits(ev, items, items, [2], CPU, sem_users=su, cf_users=cu, n_boot=200)
    assert res.sem_lists[:, :2].tolist() == [[3, 4], [4, 5], [3, 4], [2, 3]]
    assert res.cf_lists[:, :2].tolist() == [[4, 5], [4, 5], [5, 0], [1, 2]]
    row = res.per_k[2]
    assert row.list_jaccard.value == pytest.approx((1 / 3 + 1 + 0 + 1 / 3) / 4)
    assert row.hits == {"common": 1, "semantic_only": 1, "collaborative_only": 1}
    assert row.complementary_ratio.value == pytest.approx(2 / 3)
    assert row.recall["semantic"].value == 0.5 and row.recall["collaborative"].value == 0.5
    assert row.hit_rate["semantic"].value == 0.5
    assert {n: c["count"] for n, c in row.user_classes.items()} == {
        "both": 1,
        "semantic_only": 1,
        "collaborative_only": 1,
        "no_hit": 1,
    }
    assert row.user_classes["both"]["share"] == 0.25
    assert row.user_classes["both"]["mean_log_activity"] == pytest.approx(math.log(2))
    assert row.hit_item_popularity["common"]["n"] == 1
    doc = res.to_dict()["k"]["2"]
    assert set(doc["recall"]) == {"semantic", "collaborative", "ci95"}
    lo, hi = doc["ci95"]["list_jaccard"]
    assert lo <= doc["list_jaccard"] <= hi
    assert "groups" in doc


def _random_case(seed=5, n_users=60, n_items=40, n_rows=900):
    rng = np.random.default_rng(seed)
    users = rng.integers(0, n_users, n_rows)
    idx = rng.integers(0, n_items, n_rows)
    part = rng.choice([TRAIN, TEST], n_rows, p=[0.7, 0.3]).astype(np.int8)
    ev = prepare_eval(users, idx, part, n_items)
    lists = []
    for d in (6, 4):
        emb = rng.standard_normal((n_items, d)).astype(np.float32)
        q, scale = user_queries(ev, emb)
        lists.append(rank(ev, q, emb, 10, CPU, item_scale=scale))
    return ev, lists[0], lists[1]


def test_matches_per_user_sets():
    ev, s_lists, c_lists = _random_case()
    res = hits_from_lists(ev, s_lists, c_lists, [5, 10], n_boot=100)
    for k in (5, 10):
        jac, pooled = [], {"common": 0, "semantic_only": 0, "collaborative_only": 0}
        classes = {"both": 0, "semantic_only": 0, "collaborative_only": 0, "no_hit": 0}
        pops = {"common": [], "semantic_only": [], "collaborative_only": []}
        for r in range(ev.n_users):
            t = set(ev.target_indices[ev.target_indptr[r] : ev.target_indptr[r + 1]].tolist())
            rs = {i for i in s_lists[r, :k].tolist() if i >= 0}
            rc = {i for i in c_lists[r, :k].tolist() if i >= 0}
            jac.append(len(rs & rc) / len(rs | rc))
            hs, hc = rs & t, rc & t
            for name, part in (
                ("common", hs & hc),
                ("semantic_only", hs - hc),
                ("collaborative_only", hc - hs),
            ):
                pooled[name] += len(part)
                pops[name] += [math.log1p(ev.popularity[i]) for i in part]
            cls = (
                "both"
                if hs and hc
                else "semantic_only"
                if hs
                else "collaborative_only"
                if hc
                else "no_hit"
            )
            classes[cls] += 1
        row = res.per_k[k]
        assert row.list_jaccard.value == pytest.approx(np.mean(jac))
        assert row.hits == pooled
        assert {n: c["count"] for n, c in row.user_classes.items()} == classes
        for name, values in pops.items():
            got = row.hit_item_popularity[name]["mean_log_popularity"]
            assert got == pytest.approx(np.mean(values)) if values else math.isnan(got)
        # the popularity groups partition the targets, hence the pooled hits
        assert row.groups is not None and set(row.groups) <= {"cold", "mid", "hot"}
        for name in pooled:
            assert sum(g.hits[name] for g in row.groups.values()) == pooled[name]


def test_identical_views_share_everything():
    ev, s_lists, _ = _random_case(seed=2)
    row = hits_from_lists(ev, s_lists, s_lists, [10], n_boot=50).per_k[10]
    assert row.list_jaccard.value == 1.0
    assert row.hits["semantic_only"] == 0 and row.hits["collaborative_only"] == 0
    assert row.complementary_ratio.value == 0.0
    assert row.user_classes["semantic_only"]["count"] == 0


def test_same_seed_same_result():
    ev, s_lists, c_lists = _random_case(seed=9)
    a, b, c = (
        dumps(hits_from_lists(ev, s_lists, c_lists, [5], n_boot=80, seed=seed).to_dict())
        for seed in (3, 3, 4)
    )
    assert a == b and a != c


def test_blocks_of_users_change_no_bit(monkeypatch):
    """Per-user temporaries are built block of users by block and membership in chunks of
    keys; a block of 7 users and chunks of 5 keys give the default's JSON byte for byte."""
    import complement.core.evaluation as evaluation
    import complement.core.hits as hits

    ev, s_lists, c_lists = _random_case(seed=11)
    want = dumps(hits_from_lists(ev, s_lists, c_lists, [5, 10], n_boot=60).to_dict())
    monkeypatch.setattr(hits, "_ROWS", 7)
    monkeypatch.setattr(evaluation, "_ISIN_CHUNK", 5)
    got = dumps(hits_from_lists(ev, s_lists, c_lists, [5, 10], n_boot=60).to_dict())
    assert got == want
