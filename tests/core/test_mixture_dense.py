"""The alpha search's dense mixture lists: the same lists as the exact search, item for item."""

from __future__ import annotations

import numpy as np
import pytest

from complement.core import interpolation, mixture_dense
from complement.core.evaluation import prepare_eval
from complement.core.interpolation import choose_alpha, mixture_ranked, score_views
from complement.core.mixture_dense import dense_mixture
from complement.core.splits import TEST, TRAIN, VALID
from complement.retrieval import get_backend
from complement.retrieval.exact import BAND, canonical_scores

CPU = get_backend("cpu")


def _phase(seed, n_items=50, n_users=40, n_rows=700, ties=False, crowd=0):
    """A validation phase and its ScoreViews. ``ties``: few distinct values and duplicated
    items; ``crowd``: that many identical items (a near-tie wider than the search's band)."""
    rng = np.random.default_rng(seed)
    users = rng.integers(0, n_users, n_rows)
    idx = rng.integers(0, n_items, n_rows)
    part = rng.choice([TRAIN, VALID, TEST], n_rows, p=[0.6, 0.3, 0.1]).astype(np.int8)
    # user 0 has seen all but 5 items (fewer left than k): train rows 0..n-6, one valid row
    keep = users != 0
    users = np.concatenate([users[keep], np.zeros(n_items - 4, dtype=users.dtype)])
    idx = np.concatenate([idx[keep], np.arange(n_items - 4)])
    part = np.concatenate([part[keep], np.full(n_items - 5, TRAIN), [VALID]]).astype(np.int8)
    if ties:
        sem = rng.integers(-2, 3, (n_items, 5)).astype(np.float32)
        cf = rng.integers(-1, 2, (n_items, 3)).astype(np.float32)
        sem[1::3], cf[1::3] = sem[0::3], cf[0::3]
    else:
        sem = rng.standard_normal((n_items, 6)).astype(np.float32)
        cf = rng.standard_normal((n_items, 4)).astype(np.float32)
    if crowd:
        sem[:crowd], cf[:crowd] = sem[0], cf[0]
    sem[np.abs(sem).sum(axis=1) == 0, 0] = 1.0  # no all-zero item (no cosine)
    cf_users = rng.standard_normal((n_users, cf.shape[1])).astype(np.float32)
    cf_users[3] = 0.0  # a user whose collaborative scores are all 0: sd 0
    ev = prepare_eval(users, idx, part, n_items, n_users=n_users, phase="valid")
    return ev, score_views(ev, sem, cf, cf_users=cf_users)


def _dense(ev, sv):
    return dense_mixture(ev, sv)


def _canonical_top(ev, sv, w, k):
    """Brute force: every item's canonical score with the search's float32 query, history
    excluded, by (score desc, index asc)."""
    stats = sv.stats
    s_sd, c_sd = stats["semantic"].sd, stats["collaborative"].sd
    ws = np.full(ev.n_users, w)
    a = np.divide(ws, s_sd, out=np.zeros_like(ws), where=s_sd > 0).astype(np.float32)
    b = np.divide(1 - ws, c_sd, out=np.zeros_like(ws), where=c_sd > 0).astype(np.float32)
    q = np.hstack([sv.sem_queries * a[:, None], sv.cf_queries * b[:, None]]).astype(np.float32)
    n_items = sv.items.shape[0]
    out = np.full((ev.n_users, k), -1, dtype=np.int64)
    for u in range(ev.n_users):
        c = canonical_scores(np.repeat(q[u : u + 1], n_items, axis=0), sv.items)
        seen = ev.history_indices[ev.history_indptr[u] : ev.history_indptr[u + 1]]
        left = np.setdiff1d(np.arange(n_items), seen)
        order = left[np.lexsort((left, -c[left].astype(np.float64)))][:k]
        out[u, : order.size] = order
    return out


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("k", [1, 10, 49])
def test_dense_lists_equal_the_exact_search_and_brute_force(seed, ties, k):
    ev, sv = _phase(seed, ties=ties)
    dense = _dense(ev, sv)
    assert dense is not None
    for w in (0.1, 0.5, 0.9):
        got = dense.lists(w, k)
        np.testing.assert_array_equal(got, mixture_ranked(ev, sv, w, k, CPU)[0])
        np.testing.assert_array_equal(got, _canonical_top(ev, sv, w, k))
    assert ev.n_users == 40 and (got[0] == -1).sum() == max(0, k - 5)  # 5 items left to user 0


def test_a_tie_wider_than_the_band_is_ranked_in_full(monkeypatch):
    ev, sv = _phase(3, crowd=BAND + 20)
    dense = _dense(ev, sv)
    complete: list[bool] = []
    real = mixture_dense.resolve

    def spy(idx, vals, k, margin, whole, rescore):
        complete.append(whole)
        return real(idx, vals, k, margin, whole, rescore)

    monkeypatch.setattr(mixture_dense, "resolve", spy)
    for w in (0.2, 0.7):
        got = dense.lists(w, 5)
        np.testing.assert_array_equal(got, mixture_ranked(ev, sv, w, 5, CPU)[0])
        np.testing.assert_array_equal(got, _canonical_top(ev, sv, w, 5))
    assert complete == [False, True, False, True]  # some rows were ranked again, in full


def test_choose_alpha_is_the_same_with_and_without_the_dense_lists(monkeypatch):
    ev, sv = _phase(4, ties=True)
    with_dense = choose_alpha(ev, sv, (5, 10), CPU)
    built: list[object] = []
    real = interpolation.dense_mixture

    def refuse(*args):
        built.append(real(*args))
        return None

    monkeypatch.setattr(interpolation, "dense_mixture", refuse)
    without = choose_alpha(ev, sv, (5, 10), CPU)
    assert built and built[0] is not None  # the dense path was there to be refused
    assert with_dense.to_dict() == without.to_dict()
    for k in (5, 10):
        np.testing.assert_array_equal(with_dense.per_user[k], without.per_user[k])


def test_no_dense_matrices_past_the_size_limit(monkeypatch):
    ev, sv = _phase(5)
    assert _dense(ev, sv) is not None
    monkeypatch.setattr(mixture_dense, "DENSE_VALUES", ev.n_users * sv.items.shape[0] - 1)
    assert _dense(ev, sv) is None
