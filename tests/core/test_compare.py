"""``compare`` against brute-force numpy references: overlap matrices, CKA (biased and
debiased, the latter through n × n kernels), unique hits, N-view oracles, greedy selection."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from complement.core import cka as cka_core
from complement.core.compare import (
    compare_items,
    compare_users,
    pair_intersections,
    pairs_of,
    users_from_lists,
)
from complement.core.evaluation import prepare_eval
from complement.core.oracle_tables import oracle_from_lists
from complement.core.overlap import item_overlap, linear_cka
from complement.core.segments import MIN_ITEMS, Segments, item_segment_pairs
from complement.core.splits import TEST, TRAIN
from complement.core.stats import bootstrap_means
from complement.errors import InputError, UsageError
from complement.io.embeddings import Embeddings
from complement.io.many import join_many
from complement.io.views import join_views
from complement.retrieval import get_backend, inverse_norms

CPU = get_backend("cpu")


# ------------------------------------------------------------------------- brute force


def _unit(x):
    x = np.asarray(x, dtype=np.float64)
    return x * inverse_norms(x)[:, None].astype(np.float64)


def _knn_brute(x, k):
    """k nearest items by cosine, item excluded, ties to the lower index (n × n, exact)."""
    u = _unit(x)
    sims = u @ u.T
    np.fill_diagonal(sims, -np.inf)
    order = np.lexsort((np.tile(np.arange(len(x)), (len(x), 1)), -sims), axis=1)
    return order[:, :k]


def _hsic_u_brute(k_mat, l_mat):
    n = k_mat.shape[0]
    k_t, l_t = k_mat.copy(), l_mat.copy()
    np.fill_diagonal(k_t, 0.0)
    np.fill_diagonal(l_t, 0.0)
    one = np.ones(n)
    return (
        np.trace(k_t @ l_t)
        + (one @ k_t @ one) * (one @ l_t @ one) / ((n - 1) * (n - 2))
        - 2.0 / (n - 2) * (one @ k_t @ l_t @ one)
    ) / (n * (n - 3))


def _cka_debiased_brute(x, y, centre=True):
    a, b = _unit(x), _unit(y)
    if centre:
        a, b = a - a.mean(axis=0), b - b.mean(axis=0)
    k_mat, l_mat = a @ a.T, b @ b.T
    return _hsic_u_brute(k_mat, l_mat) / np.sqrt(
        _hsic_u_brute(k_mat, k_mat) * _hsic_u_brute(l_mat, l_mat)
    )


def _views(seed=0, n=60):
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((n, 6))
    a = (base + 0.3 * rng.standard_normal((n, 6))).astype(np.float32)
    b = np.hstack([base[:, :3], rng.standard_normal((n, 5))]).astype(np.float32) + 0.5
    c = rng.standard_normal((n, 4)).astype(np.float32)
    return [a, b, c], ["a", "b", "c"]


# ------------------------------------------------------------------------- item level


def test_pair_intersections_match_sets():
    rng = np.random.default_rng(3)
    a = np.stack([rng.permutation(30)[:8] for _ in range(40)])
    b = np.stack([rng.permutation(30)[:8] for _ in range(40)])
    a[0, 5:] = -1
    b[0, 6:] = -1
    b[1, :] = a[1, ::-1]
    got = pair_intersections(a, b, [1, 3, 8])
    for k in (1, 3, 8):
        want = [len({x for x in a[r, :k] if x >= 0} & {x for x in b[r, :k] if x >= 0})
                for r in range(40)]  # fmt: skip
        assert got[k].tolist() == want


def test_overlap_matrices_match_brute_force():
    mats, names = _views()
    res = compare_items(mats, names, [3, 7], CPU, seed=4)
    knn = {n: _knn_brute(m, 7) for n, m in zip(names, mats, strict=True)}
    assert list(res.pairs) == [("a", "b"), ("a", "c"), ("b", "c")]
    for (p, q), stats in res.pairs.items():
        np.testing.assert_array_equal(res.lists[p], knn[p])
        for k in (3, 7):
            inter = np.array([len(set(knn[p][i, :k]) & set(knn[q][i, :k])) for i in range(60)])
            row = stats.per_k[k]
            assert row.overlap == pytest.approx(np.mean(inter / k), abs=1e-15)
            assert row.jaccard == pytest.approx(np.mean(inter / (2 * k - inter)), abs=1e-15)
            assert row.zero_fraction == np.mean(inter == 0)
            assert row.chance == k / 59
            assert row.ci95[0] <= row.overlap <= row.ci95[1]
        i, j = names.index(p), names.index(q)
        assert stats.cka_linear == pytest.approx(linear_cka(mats[i], mats[j]), rel=1e-10)
        assert stats.cka_debiased == pytest.approx(_cka_debiased_brute(mats[i], mats[j]), rel=1e-9)


def test_pair_segments_match_brute_force():
    """Per item segment, every pair's table over the segment's query items, from the lists
    already found: brute-force neighbour sets, bootstrap of the segment's items; a segment of
    every item is the whole table, a small one is too small."""
    mats, names = _views(seed=2, n=90)
    res = compare_items(mats, names, [3, 7], CPU, seed=5, sample=70)
    query = res.query_index
    knn = {n: _knn_brute(m, 7)[query] for n, m in zip(names, mats, strict=True)}
    members = {
        "all": np.arange(90),
        "low": np.arange(45),
        "odd": np.arange(1, 90, 2),
        "tiny": np.array([0, 1, 2, 3]),
    }
    seg = Segments(
        "g", "items", tuple(members), tuple(m.astype(np.int64) for m in members.values())
    )
    counts = {key: np.rint(ov * key[2]).astype(np.int64) for key, ov in res.per_item.items()}
    doc = item_segment_pairs(seg, query, counts, 90, seed=5).to_dict()
    assert (doc["unit"], doc["minimum"], doc["source"]) == ("items", MIN_ITEMS, "items")
    by = doc["by_segment"]
    assert by["tiny"] == {"n_items": int(np.isin(query, members["tiny"]).sum()), "too_small": True}
    whole = {pair: stats.to_dict()["k"] for pair, stats in res.pairs.items()}
    for name in ("all", "low", "odd"):
        rows = np.flatnonzero(np.isin(query, members[name]))
        assert by[name]["n_items"] == rows.size >= MIN_ITEMS
        assert [(a, b) for a in by[name]["pairs"] for b in by[name]["pairs"][a]] == list(res.pairs)
        for p, q in res.pairs:
            got = by[name]["pairs"][p][q]["k"]
            assert list(got) == ["3", "7"]
            for k in (3, 7):
                inter = np.array([len(set(knn[p][r, :k]) & set(knn[q][r, :k])) for r in rows])
                row = got[str(k)]
                assert row["overlap"] == pytest.approx(np.mean(inter / k), abs=1e-15)
                assert row["jaccard"] == pytest.approx(np.mean(inter / (2 * k - inter)), abs=1e-15)
                assert row["overlap_median"] == np.median(inter / k)
                assert row["zero_fraction"] == np.mean(inter == 0)
                means = bootstrap_means(inter / k, 1000, seed=5)
                assert row["ci95"] == pytest.approx(np.percentile(means, [2.5, 97.5]), rel=1e-9)
                if name == "all":  # every query item: the whole table, bit for bit
                    assert row == {key: v for key, v in whole[(p, q)][str(k)].items()
                                   if key != "chance"}  # fmt: skip


def test_two_views_give_the_overlap_commands_numbers():
    mats, names = _views(seed=5, n=80)
    res = compare_items(mats[:2], names[:2], [5, 10], CPU, sample=50, seed=2)
    ref = item_overlap(mats[0], mats[1], [5, 10], CPU, sample=50, seed=2)
    pair = res.pairs[("a", "b")]
    assert pair.cka_linear == pytest.approx(ref.cka_linear, rel=1e-12)
    assert res.n_queries == ref.n_queries == 50
    for k in (5, 10):
        got, want = pair.per_k[k], ref.per_k[k]
        assert got.overlap == want.overlap and got.jaccard == want.jaccard
        assert got.overlap_median == want.overlap_median
        assert got.zero_fraction == want.zero_fraction and got.chance == want.chance
        assert got.ci95 == pytest.approx(want.ci95, abs=1e-12)  # the same resamples


def test_each_view_is_searched_once(monkeypatch):
    import complement.core.compare as mod

    calls = []
    real = mod.item_knn

    def counting(matrix, k, *args, **kwargs):
        calls.append((matrix.shape, k))
        return real(matrix, k, *args, **kwargs)

    monkeypatch.setattr(mod, "item_knn", counting)
    mats, names = _views()
    compare_items(mats, names, [2, 5, 9], CPU)
    # each view once, at the largest k, the widest first
    assert calls == sorted(((m.shape, 9) for m in mats), key=lambda c: -c[0][1])


def test_item_level_refusals():
    mats, names = _views()
    with pytest.raises(UsageError, match="not smaller"):
        compare_items(mats, names, [59], CPU)
    with pytest.raises(UsageError, match="at least two"):
        compare_items(mats[:1], names[:1], [3], CPU)
    with pytest.raises(UsageError, match="same items"):
        compare_items([mats[0], mats[1][:50]], names[:2], [3], CPU)


# ------------------------------------------------------------------------------- CKA


def test_debiased_cka_matches_the_n_by_n_estimator():
    rng = np.random.default_rng(11)
    x = rng.standard_normal((40, 5)) + 2.0
    y = x[:, :3] @ rng.standard_normal((3, 7)) + 0.5 * rng.standard_normal((40, 7))
    for cosine in (True, False):
        got = cka_core.debiased_cka(x, y, cosine=cosine)
        a, b = (_unit(x), _unit(y)) if cosine else (x, y)
        a, b = a - a.mean(axis=0), b - b.mean(axis=0)
        k_mat, l_mat = a @ a.T, b @ b.T
        want = _hsic_u_brute(k_mat, l_mat) / np.sqrt(
            _hsic_u_brute(k_mat, k_mat) * _hsic_u_brute(l_mat, l_mat)
        )
        assert got == pytest.approx(want, rel=1e-10)
    # the unbiased HSIC does not see a constant added to every row: centring changes nothing
    assert _cka_debiased_brute(x, y, centre=False) == pytest.approx(
        _cka_debiased_brute(x, y, centre=True), rel=1e-9
    )


def test_hsic_u_of_each_pair_matches_brute_force():
    mats, _ = _views(seed=2, n=30)
    stats = cka_core.gram_stats(mats, cosine=True)
    centred = [_unit(m) - _unit(m).mean(axis=0) for m in mats]
    for i, j in itertools.product(range(3), repeat=2):
        want = _hsic_u_brute(centred[i] @ centred[i].T, centred[j] @ centred[j].T)
        assert cka_core.hsic_u(stats, i, j) == pytest.approx(want, rel=1e-9, abs=1e-15)


def test_debiased_cka_is_near_zero_for_unrelated_views_unlike_the_biased_one():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((200, 100)), rng.standard_normal((200, 100))
    lin, deb = cka_core.pairwise_cka([x, y], cosine=False)
    assert lin[0, 1] > 0.3  # the biased estimator is high for few items in many dimensions
    assert abs(deb[0, 1]) < 0.05
    assert lin[0, 0] == pytest.approx(1.0) and deb[0, 0] == pytest.approx(1.0)


def test_pairwise_fallback_gives_the_same_matrices(monkeypatch):
    mats, _ = _views(seed=7)
    one_pass = cka_core.pairwise_cka(mats)
    monkeypatch.setattr(cka_core, "_GRAM_BYTES", 8)  # force one pass per pair
    per_pair = cka_core.pairwise_cka(mats)
    for a, b in zip(one_pass, per_pair, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_debiased_cka_needs_four_items():
    x = np.eye(3, 2)
    assert np.isnan(cka_core.debiased_cka(x + 1, x + 2))


# ------------------------------------------------------------------------------ user level


def _eval_data(seed=0, n_users=40, n_items=30):
    rng = np.random.default_rng(seed)
    users = rng.integers(0, n_users, 900)
    items = rng.integers(0, n_items, 900)
    part = rng.choice([TRAIN, TEST], 900, p=[0.7, 0.3]).astype(np.int8)
    return prepare_eval(users, items, part, n_items)


def _random_lists(ev, depth, seed):
    rng = np.random.default_rng(seed)
    lists = np.stack([rng.permutation(ev.n_items)[:depth] for _ in range(ev.n_users)])
    lists[0, depth - 2 :] = -1  # slots only an excluded item could fill
    return lists.astype(np.int64)


def _targets(ev):
    return [set(ev.target_indices[ev.target_indptr[u] : ev.target_indptr[u + 1]].tolist())
            for u in range(ev.n_users)]  # fmt: skip


def _brute(ev, lists, k):
    """Per user and view: the set of hits and the list set, at K."""
    tgt = _targets(ev)
    top = {v: [{x for x in row[:k] if x >= 0} for row in arr] for v, arr in lists.items()}
    return tgt, top


def test_user_level_matches_sets():
    ev = _eval_data()
    names = ["x", "y", "z", "w"]
    lists = {v: _random_lists(ev, 8, s) for s, v in enumerate(names)}
    out = users_from_lists(ev, lists, [3, 8], n_boot=200, seed=1)
    for k in (3, 8):
        tgt, top = _brute(ev, lists, k)
        row = out[k]
        size = np.array([len(t) for t in tgt], dtype=float)
        hits = {v: [top[v][u] & tgt[u] for u in range(ev.n_users)] for v in names}
        for v in names:
            others = [set().union(*(top[w][u] for w in names if w != v)) for u in range(ev.n_users)]
            unique = [hits[v][u] - others[u] for u in range(ev.n_users)]
            assert row.hits[v] == sum(len(h) for h in hits[v])
            assert row.unique_hits[v] == sum(len(h) for h in unique)
            assert row.unique_recall[v].value == pytest.approx(
                np.mean([len(h) for h in unique] / size)
            )
            assert row.recall[v].value == pytest.approx(np.mean([len(h) for h in hits[v]] / size))
        union = np.array(
            [len(set().union(*(hits[v][u] for v in names))) for u in range(ev.n_users)]
        )
        assert row.oracle["union"].value == pytest.approx(np.mean(union / size))
        assert row.oracle["budget"].value == pytest.approx(np.mean(np.minimum(k, union) / size))
        select = np.max([[len(hits[v][u]) for u in range(ev.n_users)] for v in names], axis=0)
        assert row.oracle["select"].value == pytest.approx(np.mean(select / size))
        recall = {v: np.mean([len(h) for h in hits[v]] / size) for v in names}
        best = max(names, key=lambda v: (recall[v], -names.index(v)))
        assert row.best_single == best
        assert row.gain["budget"] == pytest.approx(
            (row.oracle["budget"].value - recall[best]) / recall[best]
        )
        # greedy, by exhaustive search at each step
        chosen, prev = [best], np.array([len(hits[best][u]) for u in range(ev.n_users)]) / size
        assert row.greedy[0].view == best and row.greedy[0].gain is None
        while len(chosen) < len(names):
            scores = {}
            for v in names:
                if v in chosen:
                    continue
                cov = [len(set().union(*(hits[w][u] for w in [*chosen, v])))
                       for u in range(ev.n_users)]  # fmt: skip
                scores[v] = np.minimum(k, cov) / size
            pick = max(scores, key=lambda v: (scores[v].mean(), -names.index(v)))
            step = row.greedy[len(chosen)]
            assert step.view == pick
            assert step.budget.value == pytest.approx(scores[pick].mean())
            assert step.gain is not None
            assert step.gain.value == pytest.approx((scores[pick] - prev).mean())
            assert step.gain.ci95[0] <= step.gain.value <= step.gain.ci95[1]
            chosen.append(pick)
            prev = scores[pick]
        assert row.greedy[-1].budget.value == pytest.approx(row.oracle["budget"].value)
        # user-level pairs: list Jaccard and the pair's bounds
        assert list(row.pairs) == pairs_of(names)
        for a, b in row.pairs:
            jac = [len(top[a][u] & top[b][u]) / len(top[a][u] | top[b][u])
                   for u in range(ev.n_users)]  # fmt: skip
            both = np.array([len(hits[a][u] | hits[b][u]) for u in range(ev.n_users)])
            assert row.pairs[(a, b)]["list_jaccard"].value == pytest.approx(np.mean(jac))
            assert row.pairs[(a, b)]["union"].value == pytest.approx(np.mean(both / size))
            assert row.pairs[(a, b)]["budget"].value == pytest.approx(
                np.mean(np.minimum(k, both) / size)
            )


def test_two_views_give_the_oracles_bounds():
    ev = _eval_data(seed=4)
    lists = {"semantic": _random_lists(ev, 6, 1), "collaborative": _random_lists(ev, 6, 2)}
    mine = users_from_lists(ev, lists, [2, 6], n_boot=300, seed=3)
    ref = oracle_from_lists(ev, lists, {}, [2, 6], n_boot=300, seed=3, groups=False)
    for k in (2, 6):
        for bound in ("union", "budget", "select"):
            assert mine[k].oracle[bound].value == pytest.approx(ref[k].oracle[bound].value)
        for view in lists:
            assert mine[k].recall[view].value == pytest.approx(ref[k].recall[view].value)
            assert mine[k].ndcg[view].value == pytest.approx(ref[k].ndcg[view].value)


def test_anchor_restricts_pairs_and_ranks_what_each_view_adds():
    ev = _eval_data(seed=6)
    names = ["a", "b", "c"]
    lists = {v: _random_lists(ev, 5, 10 + s) for s, v in enumerate(names)}
    out = users_from_lists(ev, lists, [5], anchor="b", n_boot=100)[5]
    assert list(out.pairs) == [("b", "a"), ("b", "c")]
    assert out.greedy[0].view == "b"
    tgt, top = _brute(ev, lists, 5)
    size = np.array([len(t) for t in tgt], dtype=float)
    anchor = out.anchor
    assert anchor is not None and anchor.view == "b"
    for v in ("a", "c"):
        both = np.array([len((top["b"][u] | top[v][u]) & tgt[u]) for u in range(ev.n_users)])
        assert anchor.budget[v].value == pytest.approx(np.mean(np.minimum(5, both) / size))
        assert anchor.gain[v].value == pytest.approx(anchor.budget[v].value - out.recall["b"].value)
        adds = sum(len((top[v][u] & tgt[u]) - top["b"][u]) for u in range(ev.n_users))
        assert anchor.unique_hits[v] == adds
        only = sum(len((top["b"][u] & tgt[u]) - top[v][u]) for u in range(ev.n_users))
        assert anchor.anchor_only[v] == only
    gains = {v: anchor.gain[v].value for v in ("a", "c")}
    assert anchor.ranking == sorted(gains, key=lambda v: (-gains[v], v))
    doc = out.to_dict()
    assert set(doc["anchor"]["added"]) == {"a", "c"}
    with pytest.raises(UsageError, match="not one of the views"):
        users_from_lists(ev, lists, [5], anchor="nope")


def test_greedy_ties_go_to_the_earlier_view():
    ev = _eval_data(seed=8)
    same = _random_lists(ev, 4, 1)
    lists = {"p": same, "q": same.copy(), "r": same.copy()}
    row = users_from_lists(ev, lists, [4], n_boot=50)[4]
    assert [s.view for s in row.greedy] == ["p", "q", "r"]
    assert row.best_single == "p"
    assert all(s.gain is not None and s.gain.value == 0 for s in row.greedy[1:])
    assert row.unique_hits == {"p": 0, "q": 0, "r": 0}


def test_compare_users_ranks_each_view_once():
    ev = _eval_data(seed=9)
    mats, names = _views(seed=1, n=30)
    res = compare_users(ev, mats, names, [3, 5], CPU, n_boot=50)
    assert set(res.lists) == set(names)
    assert all(v.shape == (ev.n_users, 5) for v in res.lists.values())
    assert res.to_dict()["k"]["5"]["greedy"][0]["gain"] is None


# ------------------------------------------------------------------------------------ join


def _emb(name, ids, matrix, positional=False):
    return Embeddings(
        path=f"{name}.npy",
        role=f"view {name}",
        ids=np.asarray([str(i) for i in ids]),
        matrix=np.asarray(matrix, dtype=np.float32),
        ids_from_rows=positional,
    )


def test_join_many_on_two_views_is_join_views():
    rng = np.random.default_rng(0)
    a = _emb("a", [5, 3, 9, 1, 7, 11], rng.standard_normal((6, 3)))
    b = _emb("b", [9, 1, 2, 5, 3, 7, 8], rng.standard_normal((7, 2)))
    many = join_many([a, b], ["a", "b"])
    two = join_views(a, b)
    np.testing.assert_array_equal(many.ids, two.ids)
    np.testing.assert_array_equal(many.matrices[0], two.sem)
    np.testing.assert_array_equal(many.matrices[1], two.cf)
    assert many.only == {"a": 1, "b": 2}


def test_join_many_keeps_the_items_of_every_view_and_refuses_like_the_two_view_join():
    rng = np.random.default_rng(1)
    a = _emb("a", range(10), rng.standard_normal((10, 3)))
    b = _emb("b", range(1, 11), rng.standard_normal((10, 3)))
    c = _emb("c", range(2, 12), rng.standard_normal((10, 3)))
    joined = join_many([a, b, c], ["a", "b", "c"])
    assert joined.ids.tolist() == [str(i) for i in range(2, 10)]
    np.testing.assert_array_equal(joined.matrix("b"), b.matrix[1:9])
    pos = _emb("p", range(10), rng.standard_normal((10, 3)), positional=True)
    with pytest.raises(InputError, match="positional-ids"):
        join_many([a, pos], ["a", "p"])
    assert join_many([a, pos], ["a", "p"], positional_ids=True).n_items == 10
    far = _emb("f", range(6, 16), rng.standard_normal((10, 3)))
    with pytest.raises(InputError, match="min-shared"):
        join_many([a, b, far], ["a", "b", "f"])
    none = _emb("n", range(100, 110), rng.standard_normal((10, 3)))
    with pytest.raises(InputError, match="share 0 item ids"):
        join_many([a, none], ["a", "n"])
    bad = b.matrix.copy()
    bad[4] = np.nan
    nan = _emb("b", range(1, 11), bad)
    with pytest.raises(InputError, match="NaN"):
        join_many([a, nan], ["a", "b"])
    dropped = join_many([a, nan], ["a", "b"], drop_invalid=True)
    assert dropped.n_items == 8 and dropped.dropped["b_nonfinite"] == 1
    with pytest.raises(UsageError, match="at least two"):
        join_many([a], ["a"])


def test_float32_products_agree_with_float64():
    rng = np.random.default_rng(12)
    base = rng.standard_normal((3000, 20))
    x = np.hstack([base, rng.standard_normal((3000, 60))]).astype(np.float32) + 0.3
    y = (base @ rng.standard_normal((20, 40)) + rng.standard_normal((3000, 40))).astype(np.float32)
    z = rng.standard_normal((3000, 30)).astype(np.float32)
    exact = cka_core.pairwise_cka([x, y, z], precision="float64")
    fast = cka_core.pairwise_cka([x, y, z], precision="float32")
    for a, b in zip(exact, fast, strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="precision"):
        cka_core.gram_stats([x], precision="half")
