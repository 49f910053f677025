"""Standardised interpolation (exact endpoints), the tree gate and the union re-ranker."""

from __future__ import annotations

import numpy as np
import pytest

from complement.core.evaluation import prepare_eval
from complement.core.fusion import choose_alpha, gated_ranked, interpolation_lists, score_views
from complement.core.gated import Gate, fit_gate, gate_features, grow_tree
from complement.core.interpolation import mixture_ranked, view_stats
from complement.core.ranking import rank, user_queries
from complement.core.rerank import FEATURE_NAMES, PENALTY, candidates, fit_reranker
from complement.core.splits import TEST, TRAIN, VALID
from complement.retrieval import get_backend

CPU = get_backend("cpu")
N_ITEMS = 40


def _log(seed, n_users=60, n_rows=900, ties=False):
    rng = np.random.default_rng(seed)
    users = rng.integers(0, n_users, n_rows)
    idx = rng.integers(0, N_ITEMS, n_rows)
    part = rng.choice([TRAIN, VALID, TEST], n_rows, p=[0.6, 0.15, 0.25]).astype(np.int8)
    if ties:  # few distinct values, duplicated items: many exact and near ties
        sem = rng.integers(-2, 3, (N_ITEMS, 5)).astype(np.float32)
        cf = rng.integers(-1, 2, (N_ITEMS, 3)).astype(np.float32)
        sem[1::4], cf[1::4] = sem[0::4], cf[0::4]
        sem[sem.sum(axis=1) == 0, 0] = 1.0  # no all-zero item (no cosine)
        cf[np.abs(cf).sum(axis=1) == 0, 0] = 1.0
    else:
        sem = rng.standard_normal((N_ITEMS, 6)).astype(np.float32)
        cf = rng.standard_normal((N_ITEMS, 4)).astype(np.float32)
    ev = prepare_eval(users, idx, part, N_ITEMS)
    ev_valid = prepare_eval(users, idx, part, N_ITEMS, phase="valid")
    return ev, ev_valid, sem, cf, rng


def _view_lists(ev, sem, cf, k, sem_users=None, cf_users=None):
    out = {}
    for name, items, uv in (("semantic", sem, sem_users), ("collaborative", cf, cf_users)):
        q, scale = user_queries(ev, items, user_vectors=uv)
        out[name] = rank(ev, q, items, k, CPU, item_scale=scale)
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("user_vectors", [False, True])
def test_endpoints_rank_exactly_as_the_views_with_ties(seed, user_vectors):
    ev, _, sem, cf, rng = _log(seed, ties=True)
    su = cu = None
    if user_vectors:
        su = rng.integers(-2, 3, (60, 5)).astype(np.float32)
        cu = rng.integers(-1, 2, (60, 3)).astype(np.float32)
        su[1::2], cu[1::2] = su[0::2], cu[0::2]  # duplicate users too
    sv = score_views(ev, sem, cf, sem_users=su, cf_users=cu)
    views = _view_lists(ev, sem, cf, 12, su, cu)
    assert np.array_equal(interpolation_lists(ev, sv, 0.0, 12, CPU), views["collaborative"])
    assert np.array_equal(interpolation_lists(ev, sv, 1.0, 12, CPU), views["semantic"])
    # per-user weights: each user at 0 or 1 gets that view's list, the others the mixture
    w = rng.choice([0.0, 0.4, 1.0], ev.n_users)
    got, scores = mixture_ranked(ev, sv, w, 12, CPU)
    assert np.array_equal(got[w == 0], views["collaborative"][w == 0])
    assert np.array_equal(got[w == 1], views["semantic"][w == 1])
    mid = interpolation_lists(ev, sv, 0.4, 12, CPU)
    assert np.array_equal(got[w == 0.4], mid[w == 0.4])
    assert (np.diff(scores, axis=1) <= 0).all()


def _z_brute(q, y):
    s = np.asarray(q, dtype=np.float64) @ np.asarray(y, dtype=np.float64).T
    sd = s.std(axis=1, keepdims=True)
    return np.where(sd > 0, (s - s.mean(axis=1, keepdims=True)) / np.where(sd > 0, sd, 1), 0.0)


def _brute_top(ev, scores, k):
    out = np.full((ev.n_users, k), -1)
    for r in range(ev.n_users):
        hist = set(ev.history_indices[ev.history_indptr[r] : ev.history_indptr[r + 1]].tolist())
        order = [i for i in sorted(range(ev.n_items), key=lambda i: (-scores[r, i], i))]
        order = [i for i in order if i not in hist][:k]
        out[r, : len(order)] = order
    return out


def test_inner_product_mixture_matches_brute_force():
    ev, _, sem, cf, rng = _log(3)
    su = rng.standard_normal((60, 6)).astype(np.float32)
    cu = rng.standard_normal((60, 4)).astype(np.float32)
    sv = score_views(ev, sem, cf, sem_users=su, cf_users=cu)
    zs, zc = _z_brute(su[ev.users], sem), _z_brute(cu[ev.users], cf)
    for name, q, y in (("semantic", su, sem), ("collaborative", cu, cf)):
        st = view_stats(*sv.view(name))
        s = q[ev.users].astype(np.float64) @ y.astype(np.float64).T
        np.testing.assert_allclose(st.mean, s.mean(axis=1), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(st.sd, s.std(axis=1), rtol=1e-5)
    w = rng.uniform(0.05, 0.95, ev.n_users)
    got, scores = mixture_ranked(ev, sv, w, 8, CPU)
    mix = w[:, None] * zs + (1 - w[:, None]) * zc
    assert np.array_equal(got, _brute_top(ev, mix, 8))
    np.testing.assert_allclose(scores, np.take_along_axis(mix, got, axis=1), atol=1e-4)


def test_fixed_alpha_and_the_validation_curve():
    _, ev_valid, sem, cf, _ = _log(4)
    sv = score_views(ev_valid, sem, cf)
    tuned = choose_alpha(ev_valid, sv, [5, 10], CPU)
    fixed = choose_alpha(ev_valid, sv, [5, 10], CPU, fixed=0.3)
    assert fixed.alpha == {5: 0.3, 10: 0.3} and fixed.fixed == 0.3 and tuned.fixed is None
    assert fixed.recall == tuned.recall  # the curve is the same either way
    for k in (5, 10):
        assert tuned.per_user[k].mean(axis=0).tolist() == pytest.approx(tuned.recall[k])
    views = _view_lists(ev_valid, sem, cf, 10)
    assert all(np.array_equal(tuned.view_lists[v], views[v]) for v in views)
    assert fixed.to_dict()["fixed"] == 0.3


def test_tree_is_the_exhaustive_best_split():
    rng = np.random.default_rng(5)
    n, grid = 200, (0.0, 0.5, 1.0)
    feats = rng.uniform(size=(n, 3))
    recall = rng.uniform(size=(n, 3))
    recall[feats[:, 1] < 0.5, 2] += 0.6  # users low on feature 1 prefer weight 1 ...
    recall[feats[:, 1] >= 0.5, 0] += 0.6  # ... the others weight 0
    tree, total = grow_tree(feats, recall, grid, 1, 25)
    best = (recall.sum(axis=0).max(), None)
    for f in range(3):
        for t in (0.25, 0.5, 0.75):
            low = feats[:, f] < t
            if min(low.sum(), (~low).sum()) < 25:
                continue
            v = recall[low].sum(axis=0).max() + recall[~low].sum(axis=0).max()
            if v > best[0]:
                best = (v, (f, t))
    assert best[1] == (1, 0.5)
    assert total == pytest.approx(best[0]) and (tree.feature, tree.threshold) == best[1]
    assert tree.below is not None and tree.below.alpha == 1.0
    assert tree.above is not None and tree.above.alpha == 0.0
    w = tree.predict(feats)
    assert set(np.unique(w)) <= set(grid)


def test_tree_gate_is_seeded_and_features_are_percentiles():
    ev, ev_valid, sem, cf, _ = _log(6, n_users=120, n_rows=2400)
    search = choose_alpha(ev_valid, score_views(ev_valid, sem, cf), [10], CPU)
    a, b = fit_gate(search, ev_valid, 10, seed=1), fit_gate(search, ev_valid, 10, seed=1)
    assert isinstance(a, Gate) and a == b and a.depth in (0, 1, 2)
    if a.depth == 0:
        assert a.tree.alpha == search.alpha[10]
    views = _view_lists(ev, sem, cf, 10)
    f = gate_features(ev, views["semantic"], views["collaborative"], 10)
    assert f.shape == (ev.n_users, 3) and (f > 0).all() and (f < 1).all()
    jac = [
        len(set(s) & set(c)) / len(set(s) | set(c))
        for s, c in zip(views["semantic"].tolist(), views["collaborative"].tolist(), strict=True)
    ]
    order = np.argsort(np.argsort(jac, kind="stable"), kind="stable")
    assert np.all(np.diff(f[np.argsort(order), 2]) >= 0)


def test_union_candidates_by_hand():
    s = np.array([[3, 1, 2], [5, -1, -1]])
    c = np.array([[1, 4, 3], [5, 6, -1]])
    items, both = candidates({"semantic": s, "collaborative": c}, 3)
    assert items.tolist() == [[3, 1, 2, -1, 4, -1], [5, -1, -1, -1, 6, -1]]
    assert both.tolist() == [[True, True, False] + [False] * 3, [True] + [False] * 5]


def test_reranker_fit_is_the_penalised_optimum_and_ranks_like_brute_force():
    ev, ev_valid, sem, cf, _ = _log(7, n_users=120, n_rows=2400)
    sv_valid = score_views(ev_valid, sem, cf)
    valid_views = _view_lists(ev_valid, sem, cf, 10)
    model = fit_reranker(ev_valid, sv_valid, valid_views, 10)
    assert model == fit_reranker(ev_valid, sv_valid, valid_views, 10)  # deterministic
    assert len(model.weights) == len(FEATURE_NAMES) and model.n_positive > 0
    # stationarity of the penalised log-likelihood, from features built by hand
    su, cu = user_queries(ev_valid, sem)[0], user_queries(ev_valid, cf)[0]
    zs = _z_brute(su, sem / np.linalg.norm(sem, axis=1, keepdims=True))
    zc = _z_brute(cu, cf / np.linalg.norm(cf, axis=1, keepdims=True))
    f = gate_features(ev_valid, valid_views["semantic"], valid_views["collaborative"], 10)
    logpop = np.log1p(ev_valid.popularity.astype(float))
    pz = (logpop - logpop.mean()) / logpop.std()
    rows, labels = [], []
    for r in range(ev_valid.n_users):
        s, c = valid_views["semantic"][r].tolist(), valid_views["collaborative"][r].tolist()
        targets = set(
            ev_valid.target_indices[ev_valid.target_indptr[r] : ev_valid.target_indptr[r + 1]]
        )
        a, g = f[r, 0], f[r, 2]
        for i in dict.fromkeys(s + c):
            x = [zs[r, i], zc[r, i], zs[r, i] * a, zc[r, i] * a, zs[r, i] * g, zc[r, i] * g]
            rows.append([1.0, *x, pz[i], pz[i] * a, float(i in s and i in c)])
            labels.append(float(i in targets))
    x, y = np.array(rows), np.array(labels)
    beta = np.array([model.intercept, *model.weights])
    p = 1 / (1 + np.exp(-(x @ beta)))
    reg = np.full(beta.shape, PENALTY)
    reg[0] = 0
    grad = x.T @ (p - y) + reg * beta
    assert np.abs(grad).max() < 1e-6
    # test-phase lists: the union ranked by (score desc, index asc), brute force
    sv = score_views(ev, sem, cf)
    views = _view_lists(ev, sem, cf, 10)
    got, scores = gated_ranked(ev, sv, model, views)
    tzs = _z_brute(user_queries(ev, sem)[0], sem / np.linalg.norm(sem, axis=1, keepdims=True))
    tzc = _z_brute(user_queries(ev, cf)[0], cf / np.linalg.norm(cf, axis=1, keepdims=True))
    tf = gate_features(ev, views["semantic"], views["collaborative"], 10)
    tlog = np.log1p(ev.popularity.astype(float))
    tpz = (tlog - tlog.mean()) / tlog.std()
    for r in range(ev.n_users):
        s, c = views["semantic"][r].tolist(), views["collaborative"][r].tolist()
        a, g = tf[r, 0], tf[r, 2]
        score = {}
        for i in dict.fromkeys(s + c):
            feats = [tzs[r, i], tzc[r, i], tzs[r, i] * a, tzc[r, i] * a, tzs[r, i] * g]
            feats += [tzc[r, i] * g, tpz[i], tpz[i] * a, float(i in s and i in c)]
            score[i] = model.intercept + float(np.dot(model.weights, feats))
        expect = sorted(score, key=lambda i: (-score[i], i))[:10]
        assert got[r].tolist() == expect, r
        np.testing.assert_allclose(scores[r], [score[i] for i in expect], atol=1e-6)


def test_gate_feature_ranks_equal_scipy_rankdata_with_ties():
    from scipy.stats import rankdata

    from complement.core.gated import _average_ranks

    rng = np.random.default_rng(3)
    for _ in range(100):
        values = rng.integers(0, 5, size=int(rng.integers(1, 40))).astype(np.float64)
        assert np.array_equal(_average_ranks(values), rankdata(values, method="average"))


def _plain_newton(x, y):
    """fit_reranker's Newton iteration written plainly (every product recomputed)."""
    from scipy.special import expit

    from complement.core.rerank import _loss

    reg = np.full(x.shape[1], PENALTY)
    reg[0] = 0.0
    beta = np.zeros(x.shape[1])
    for _ in range(100):
        p = expit(np.einsum("ni,i->n", x, beta))
        grad = np.einsum("ni,n->i", x, p - y) + reg * beta
        hess = np.einsum("ni,n,nj->ij", x, p * (1.0 - p), x) + np.diag(reg)
        hess += 1e-12 * np.eye(x.shape[1])
        delta = np.linalg.solve(hess, grad)
        step, before = 1.0, _loss(x, y, reg, beta)
        while step > 1e-6 and _loss(x, y, reg, beta - step * delta) > before:
            step /= 2
        beta = beta - step * delta
        if float(np.abs(step * delta).max()) < 1e-12:
            break
    return beta


@pytest.mark.parametrize("ties", [False, True])
def test_shared_candidate_scores_give_every_k_the_same_features_and_fit(ties):
    """candidate_z at the largest K serves every K: the features of every candidate are those
    of a gather at that K alone (bit for bit), and so is the fit (the plain Newton loop)."""
    from complement.core.metrics import hit_matrix
    from complement.core.rerank import candidate_z, rerank_features

    _, ev_valid, sem, cf, _ = _log(11, n_users=90, n_rows=2000, ties=ties)
    sv = score_views(ev_valid, sem, cf)
    views = _view_lists(ev_valid, sem, cf, 9)
    shared = candidate_z(sv, views, 9)
    for k in (3, 5, 9):
        items, feats = rerank_features(ev_valid, sv, views, k, cand_z=shared)
        alone_items, alone = rerank_features(ev_valid, sv, views, k)
        assert np.array_equal(items, alone_items)
        keep = items >= 0
        assert np.array_equal(feats[keep], alone[keep])
        # the z columns: one float64 einsum over all the candidates at once (no blocks)
        for v, name in enumerate(("semantic", "collaborative")):
            q, y = sv.view(name)
            st = sv.stats[name]
            s = np.einsum(
                "ud,ujd->uj", q.astype(np.float64), y[np.maximum(items, 0)].astype(np.float64)
            )
            sd = st.sd[:, None]
            z = np.where(sd > 0, (s - st.mean[:, None]) / np.where(sd > 0, sd, 1.0), 0.0)
            assert np.array_equal(feats[..., v][keep], z[keep])
        model = fit_reranker(ev_valid, sv, views, k, cand_z=shared)
        assert model == fit_reranker(ev_valid, sv, views, k)
        x = np.hstack([np.ones((int(keep.sum()), 1)), feats[keep]])
        y = hit_matrix(items, ev_valid)[keep].astype(np.float64)
        beta = _plain_newton(x, y)
        assert (model.intercept, *model.weights) == tuple(float(b) for b in beta)


@pytest.mark.parametrize("with_users", [False, True])
def test_score_views_search_gives_user_queries_own_queries_and_scale(with_users):
    """The oracle searches each view with ``ScoreViews.search``: what ``user_queries`` gives."""
    ev, _, sem, cf, _ = _log(13)
    rng = np.random.default_rng(13)
    users = rng.standard_normal((int(ev.users.max()) + 1, 5)) if with_users else None
    sv = score_views(ev, sem, cf, sem_users=users, cf_users=users)
    for name, items in (("semantic", sem), ("collaborative", cf)):
        q, scale = sv.search(name)
        want_q, want_scale = user_queries(ev, items, user_vectors=users)
        assert q.dtype == np.float32 and np.array_equal(q.view(np.int32), want_q.view(np.int32))
        if want_scale is None:
            assert scale is None
        else:
            assert np.array_equal(scale.view(np.int32), want_scale.view(np.int32))


def test_score_views_like_shares_the_items_and_their_moments():
    ev, ev_valid, sem, cf, _ = _log(12)
    sv = score_views(ev, sem, cf)
    _ = sv.stats
    shared = score_views(ev_valid, sem, cf, like=sv)
    fresh = score_views(ev_valid, sem, cf)
    assert shared.items is sv.items and shared.moments is sv.moments
    for name in ("semantic", "collaborative"):
        got, want = shared.stats[name], view_stats(*fresh.view(name))
        assert np.array_equal(got.mean, want.mean) and np.array_equal(got.sd, want.sd)
    other = score_views(ev_valid, sem[::-1].copy(), cf, like=sv)  # other items: not shared
    assert other.moments is not sv.moments and not np.array_equal(other.items, sv.items)
