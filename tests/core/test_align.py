"""The alignment protocol and its evaluation helpers against brute-force references."""

from __future__ import annotations

import numpy as np

from complement.core.align_eval import impute_cold
from complement.core.align_hits import strategy_hits
from complement.core.align_protocol import candidate_subset, cold_items, make_protocol
from complement.core.align_training import validator
from complement.core.evaluation import prepare_eval
from complement.core.splits import TEST, TRAIN, VALID, make_split
from complement.core.strategies.common import ridge_map
from complement.retrieval import get_backend


def random_log(seed: int = 0, n_users: int = 30, n_items: int = 80, per_user: int = 15):
    rng = np.random.default_rng(seed)
    users = np.repeat(np.arange(n_users), per_user)
    items = np.concatenate([rng.choice(n_items, per_user, replace=False) for _ in range(n_users)])
    times = np.arange(users.shape[0], dtype=np.float64)
    split = make_split("user-temporal", users, times, test_frac=0.3, valid_frac=0.2)
    return users.astype(np.int64), items.astype(np.int64), split


def sets(indptr, indices):
    return [set(indices[indptr[r] : indptr[r + 1]].tolist()) for r in range(len(indptr) - 1)]


def test_cold_items_are_seeded():
    a = cold_items(200, 3)
    assert a.sum() == 10 and np.array_equal(a, cold_items(200, 3))
    assert not np.array_equal(a, cold_items(200, 4))
    assert cold_items(5, 0).sum() == 0


def test_protocol_removes_cold_items_from_training_and_history():
    users, items, split = random_log()
    proto = make_protocol(users, items, split, 80, 30, seed=1)
    cold = proto.cold
    assert cold.sum() == 4
    assert not cold[proto.train_items].any()
    train = split.part == TRAIN
    want = {(u, i) for u, i in zip(users[train], items[train], strict=True) if not cold[i]}
    assert set(zip(proto.train_users.tolist(), proto.train_items.tolist(), strict=True)) == want
    for h in sets(proto.test.history_indptr, proto.test.history_indices):
        assert not any(cold[i] for i in h)
    test_cold = {
        (u, i) for u, i, p in zip(users, items, split.part, strict=True) if p == TEST and cold[i]
    }
    per_user = sets(proto.test.target_indptr, proto.test.target_indices)
    targets = {(int(u), i) for u, t in zip(proto.test.users, per_user, strict=True) for i in t}
    assert test_cold <= targets
    removed = ((split.part == TRAIN) | (split.part == VALID)) & cold[items]
    assert proto.to_dict()["n_cold_rows_removed"] == int(removed.sum())


def test_candidate_subset_matches_brute_force():
    users, items, split = random_log(1)
    ev = prepare_eval(users, items, split.part, 80, n_users=30)
    cand = np.random.default_rng(5).random(80) < 0.4
    rows, sub, index = candidate_subset(ev, cand)
    assert np.array_equal(index, np.flatnonzero(cand)) and sub.n_items == cand.sum()
    hist, tgt = sets(*ev.history), sets(*ev.targets)
    kept = [r for r in range(ev.n_users) if any(cand[i] for i in tgt[r])]
    assert rows.tolist() == kept and np.array_equal(sub.users, ev.users[kept])
    sub_hist, sub_tgt = sets(*sub.history), sets(*sub.targets)
    for j, r in enumerate(kept):
        assert {int(index[i]) for i in sub_hist[j]} == {i for i in hist[r] if cand[i]}
        assert {int(index[i]) for i in sub_tgt[j]} == {i for i in tgt[r] if cand[i]}
    assert np.array_equal(sub.popularity, ev.popularity[index])


def test_strategy_hits_match_sets():
    users, items, split = random_log(2)
    ev = prepare_eval(users, items, split.part, 80, n_users=30)
    rng = np.random.default_rng(0)

    def lists():
        return np.stack([rng.choice(80, 10, replace=False) for _ in range(ev.n_users)])

    a, s, c = lists(), lists(), lists()
    out = strategy_hits(ev, a, {"semantic": s, "collaborative": c}, 10, n_boot=20)
    tgt = sets(*ev.targets)
    for v, b, w in (("semantic", s, c), ("collaborative", c, s)):
        common = a_only = b_only = private = survived = 0
        jac = []
        for r in range(ev.n_users):
            ha, hb, hw = (set(x[r].tolist()) & tgt[r] for x in (a, b, w))
            common += len(ha & hb)
            a_only += len(ha - hb)
            b_only += len(hb - ha)
            private += len(hb - hw)
            survived += len((hb - hw) & ha)
            la, lb = set(a[r].tolist()), set(b[r].tolist())
            jac.append(len(la & lb) / len(la | lb))
        h = out[v]
        assert h.hits == {"common": common, "strategy_only": a_only, "view_only": b_only}
        assert (h.private_hits, h.private_survived) == (private, survived)
        if private:
            assert np.isclose(h.private_survival.value, survived / private)
        assert np.isclose(h.list_jaccard.value, np.mean(jac))
        assert np.isclose(
            h.complementary_ratio.value, (a_only + b_only) / (common + a_only + b_only)
        )


def test_validator_is_ndcg10_over_warm_candidates():
    users, items, split = random_log(3)
    ev = prepare_eval(users, items, split.part, 80, n_users=30, phase="valid")
    warm = ~cold_items(80, 0)
    rng = np.random.default_rng(1)
    u = rng.standard_normal((30, 4)).astype(np.float32)
    i = rng.standard_normal((80, 4)).astype(np.float32)
    validate = validator(ev, warm, get_backend("cpu"))
    assert validate is not None
    got = validate(u, i)
    hist, tgt = sets(*ev.history), sets(*ev.targets)
    scores = []
    for r, user in enumerate(ev.users):
        t = {x for x in tgt[r] if warm[x]}
        if not t:
            continue
        s = u[user] @ i.T
        order = [x for x in np.lexsort((np.arange(80), -s)) if warm[x] and x not in hist[r]][:10]
        dcg = sum(1 / np.log2(j + 2) for j, x in enumerate(order) if x in t)
        idcg = sum(1 / np.log2(j + 2) for j in range(min(10, len(t))))
        scores.append(dcg / idcg)
    assert np.isclose(got, np.mean(scores))


def test_impute_cold_replaces_only_cold_rows():
    rng = np.random.default_rng(0)
    sem = rng.standard_normal((50, 6)).astype(np.float32)
    cf = rng.standard_normal((50, 3)).astype(np.float32)
    cold = cold_items(50, 2)
    out = impute_cold(sem, cf, cold)
    assert np.array_equal(out[~cold], cf[~cold])
    np.testing.assert_allclose(out[cold], ridge_map(sem[~cold], cf[~cold], sem[cold]), rtol=1e-6)


def test_seed_summary_pools_users_over_seeds():
    from complement.core.align_seeds import seed_summary
    from complement.core.stats import paired_bootstrap

    users, items, split = random_log(4)
    ev = prepare_eval(users, items, split.part, 80, n_users=30)
    rng = np.random.default_rng(2)

    def lists():
        return np.stack([rng.choice(80, 20, replace=False) for _ in range(ev.n_users)])

    runs, best = [lists(), lists(), lists()], lists()
    out = seed_summary(ev, runs, [5, 6, 7], best, "collaborative", n_boot=50, seed=1)
    tgt = sets(*ev.targets)

    def recall(x):
        return np.array([len(set(x[r].tolist()) & tgt[r]) / len(tgt[r]) for r in range(ev.n_users)])

    per = [recall(x) for x in runs]
    assert out.seeds == [5, 6, 7]
    np.testing.assert_allclose(out.recall, [p.mean() for p in per])
    pooled = np.mean(per, axis=0)
    want = paired_bootstrap(pooled, recall(best), n_boot=50, seed=1)
    assert out.test == want
    d = out.to_dict()
    assert d["p"] == want.p_value and d["pooled"]["versus"] == "collaborative"
    assert np.isclose(d["mean"]["recall"], np.mean(out.recall))
    assert np.isclose(d["sd"]["recall"], np.std(out.recall, ddof=1))
    one = seed_summary(ev, runs[:1], [5], best, "semantic", n_boot=50, seed=1).to_dict()
    assert one["sd"] == {"recall": None, "ndcg": None}


def test_grid_points_and_system_names():
    import pytest

    from complement.core.align_training import grid_points, system_names
    from complement.errors import UsageError

    assert system_names(["ncn", "darec", "semproj"]) == ("ncn", "darec", "darec_ablated", "semproj")
    darec = grid_points("darec", "small", None)
    assert [(p["lr"], p["weight"]) for p in darec] == [
        (0.005, 0.1), (0.005, 0.3), (0.015, 0.1), (0.015, 0.3)
    ]  # fmt: skip
    assert grid_points("darec_ablated", "small", None) == [
        {"lr": 0.005, "weight": None},
        {"lr": 0.015, "weight": None},
    ]
    assert grid_points("ncn", "small", None) == [
        {"lr": 0.001, "weight": None},
        {"lr": 0.003, "weight": None},
    ]
    assert grid_points("directau", "none", None) == [{"lr": 0.01, "weight": 1.0}]
    assert [p["lr"] for p in grid_points("sella", "small", 0.02)] == [0.02] * 2
    with pytest.raises(UsageError, match="--method"):
        system_names(["nope"])
    with pytest.raises(UsageError, match="--grid"):
        grid_points("ncn", "big", None)


def test_train_strategies_keeps_the_best_grid_point_and_retrains_it_per_seed():
    from complement.core.align_training import train_strategies

    users, items, split = random_log(5, n_users=40, n_items=60, per_user=20)
    rng = np.random.default_rng(0)
    sem = rng.standard_normal((60, 8)).astype(np.float32)
    cf = rng.standard_normal((60, 4)).astype(np.float32)
    proto = make_protocol(users, items, split, 60, 40, seed=0)
    out = train_strategies(
        proto, sem, cf, ["sella"], get_backend("cpu"), epochs=1, dim=4, seeds=2, grid="small"
    )
    assert list(out) == ["sella", "sella_ablated"]
    for name, tuned in out.items():
        scores = [p["valid_ndcg10"] for p in tuned.grid]
        best = tuned.grid[int(np.argmax(scores))]
        assert (tuned.chosen["lr"], tuned.chosen["weight"]) == (best["lr"], best["weight"])
        assert [t.hyper["seed"] for t in tuned.runs] == [0, 1]
        assert all(t.hyper["lr"] == best["lr"] for t in tuned.runs)
        assert tuned.first.method == name
    assert len(out["sella"].grid) == 4 and len(out["sella_ablated"].grid) == 2
    assert all(t.hyper["weight"] == 0.0 for t in out["sella_ablated"].runs)
    d = out["sella_ablated"].to_dict()
    assert d["ablated"] and "lambda = 0" in d["ablation"] and len(d["seeds"]) == 2
