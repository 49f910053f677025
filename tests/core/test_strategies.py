"""The alignment strategies: each loss against a hand-computed value, short training runs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from complement.core.strategies import METHODS, STRATEGIES, StrategyData, fit_strategy
from complement.core.strategies.carec import carec_loss
from complement.core.strategies.common import (
    TrainParams,
    alignment,
    bpr_loss,
    lightgcn,
    normalized_adjacency,
    pair_keys,
    ridge_map,
    sample_negatives,
    uniformity,
    user_means,
)
from complement.core.strategies.darec import (
    global_structure,
    kmeans,
    local_structure,
    orthogonality,
)
from complement.core.strategies.directau import directau_loss
from complement.core.strategies.ncn import hard_negatives, info_nce_hard
from complement.core.strategies.sella import bce_pairs, info_nce
from complement.errors import DeviceError, UsageError

T = torch.tensor


def close(a: torch.Tensor | float, b: float) -> None:
    assert float(a) == pytest.approx(b, rel=1e-5, abs=1e-6)


# --- losses against hand-computed values -----------------------------------------------------


def test_alignment_and_uniformity_by_hand():
    close(alignment(T([[1.0, 0.0], [0.0, 1.0]]), T([[0.0, 1.0], [0.0, 1.0]])), 1.0)
    x = T([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])  # squared distances 2, 4, 2
    close(uniformity(x), math.log((2 * math.exp(-4) + math.exp(-8)) / 3))
    close(uniformity(x, t=1.0), math.log((2 * math.exp(-2) + math.exp(-4)) / 3))
    close(uniformity(x[:1]), 0.0)  # fewer than two rows: no pair


def test_directau_and_carec_losses_by_hand():
    u = T([[1.0, 0.0], [0.0, 1.0]])
    i = T([[1.0, 0.0], [1.0, 0.0]])
    align = (0 + 2) / 2
    unif_u = math.log(math.exp(-4))  # one pair at squared distance 2
    unif_i = math.log(math.exp(0))  # identical rows
    close(directau_loss(u, i, gamma=1.0), align + (unif_u + unif_i) / 2)
    close(directau_loss(u, i, gamma=0.5), align + 0.5 * (unif_u + unif_i) / 2)
    close(carec_loss(u, i, u, gamma=2.0), align + 2.0 * unif_u)


def test_bpr_bce_and_infonce_by_hand():
    close(bpr_loss(T([2.0]), T([0.0])), math.log(1 + math.exp(-2)))
    close(bce_pairs(T([0.0]), T([0.0])), math.log(2))
    close(
        bce_pairs(T([3.0]), T([-1.0])),
        (math.log(1 + math.exp(-3)) + math.log(1 + math.exp(-1))) / 2,
    )
    eye = torch.eye(2)
    # logits diag 1/0.2 = 5, off-diagonal 0: each row's cross-entropy is log(1 + e^-5)
    close(info_nce(eye, eye, 0.2), math.log(1 + math.exp(-5)))
    a = T([[1.0, 0.0], [1.0, 0.0]])
    # identical rows: every logit 5, each cross-entropy is log 2, both directions
    close(info_nce(a, a, 0.2), math.log(2))


def test_darec_terms_by_hand():
    close(orthogonality(T([[1.0, 0.0]]), T([[1.0, 1.0]])), 0.5)
    close(orthogonality(T([[1.0, 0.0], [0.0, 2.0]]), T([[0.0, 3.0], [1.0, 0.0]])), 0.0)
    # cosine matrices [[1,0],[0,1]] and [[1,1],[1,1]] differ by 1 in two of four cells
    close(global_structure(T([[1.0, 0.0], [0.0, 1.0]]), T([[1.0, 0.0], [2.0, 0.0]])), 0.5)
    zc = T([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    zs = T([[0.0, 1.0], [0.0, 1.0], [0.6, 0.8], [0.6, 0.8]])
    assign = (torch.tensor([0, 0, 1, 1]), torch.tensor([0, 0, 1, 1]))
    gen = torch.Generator().manual_seed(0)
    # centres (1,0),(0,1) vs (0,1),(0.6,0.8): best matching costs 0 + 0.8, mean 0.4
    close(local_structure(zc, zs, 2, 5, gen, assign=assign), 0.4)
    swapped = T([[0.0, 1.0], [0.0, 1.0], [1.0, 0.0], [1.0, 0.0]])
    close(local_structure(zc, swapped, 2, 5, gen, assign=assign), 0.0)


def test_kmeans_finds_separated_clusters():
    rng = np.random.default_rng(0)
    pts = np.vstack([rng.normal(0, 0.05, (20, 2)) + c for c in ((0, 0), (5, 5), (0, 5))])
    assign = kmeans(torch.from_numpy(pts).float(), 3, 10, torch.Generator().manual_seed(1))
    labels = assign.numpy()
    for block in range(3):
        assert len(set(labels[block * 20 : (block + 1) * 20])) == 1
    assert len(set(labels)) == 3


def test_local_structure_gradient_moves_rows():
    zc = torch.randn(12, 3, generator=torch.Generator().manual_seed(0), requires_grad=True)
    zs = torch.randn(12, 3, generator=torch.Generator().manual_seed(1))
    loss = local_structure(zc, zs, 3, 5, torch.Generator().manual_seed(2))
    loss.backward()
    assert zc.grad is not None and torch.isfinite(zc.grad).all() and zc.grad.abs().sum() > 0


# --- shared helpers against brute force --------------------------------------------------------


def test_lightgcn_matches_dense_propagation():
    users = np.array([0, 0, 1, 2])
    items = np.array([0, 1, 1, 2])
    adj = normalized_adjacency(users, items, 3, 4, torch.device("cpu"))
    a = np.zeros((7, 7))
    for u, i in zip(users, items, strict=True):
        a[u, 3 + i] = a[3 + i, u] = 1.0
    deg = np.maximum(a.sum(1), 1.0)
    norm = a / np.sqrt(np.outer(deg, deg))
    np.testing.assert_allclose(adj.to_dense().numpy(), norm, rtol=1e-6, atol=1e-7)
    ego = np.random.default_rng(0).standard_normal((7, 5))
    want = (ego + norm @ ego + norm @ norm @ ego) / 3
    got = lightgcn(adj, torch.from_numpy(ego).float(), 2).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert np.allclose(got[6], ego[6] / 3)  # item 3 has no edge: only its own layer-0 vector


def test_user_means_ridge_and_negatives():
    sem = np.arange(12, dtype=np.float32).reshape(4, 3)
    means = user_means(sem, np.array([0, 0, 2]), np.array([1, 3, 2]), 3)
    np.testing.assert_allclose(means, [(sem[1] + sem[3]) / 2, np.zeros(3), sem[2]])
    rng = np.random.default_rng(0)
    x, y, z = (
        rng.standard_normal((30, 4)),
        rng.standard_normal((30, 2)),
        rng.standard_normal((5, 4)),
    )
    coef = np.linalg.solve(x.T @ x + 2.0 * np.eye(4), x.T @ y)
    np.testing.assert_allclose(ridge_map(x, y, z, alpha=2.0), z @ coef, rtol=1e-5, atol=1e-6)
    users = np.repeat(np.arange(5), 6)
    items = np.tile(np.arange(6), 5) * 2  # every user saw the even items 0..10
    known = pair_keys(users, items, 13)
    gen = torch.Generator().manual_seed(0)
    neg = sample_negatives(torch.from_numpy(users), torch.arange(13), known, 13, gen)
    assert not np.isin(neg.numpy(), np.arange(0, 11, 2)).any()


# --- training runs -------------------------------------------------------------------------------


def tiny_data(seed: int = 0) -> StrategyData:
    """Two user groups, each liking one half of the items; S and C both carry the halves."""
    rng = np.random.default_rng(seed)
    n_users, n_items = 40, 48
    half = (np.arange(n_items) >= n_items // 2).astype(np.float32)
    sem = rng.standard_normal((n_items, 12)).astype(np.float32)
    sem[:, 0] += 3 * (2 * half - 1)
    cf = rng.standard_normal((n_items, 6)).astype(np.float32)
    cf[:, 0] += 3 * (2 * half - 1)
    warm = np.ones(n_items, dtype=bool)
    warm[[3, 30]] = False
    pairs = set()
    for u in range(n_users):
        side = u % 2
        pool = [i for i in range(n_items) if half[i] == side and warm[i]]
        for i in rng.choice(pool, size=8, replace=False):
            pairs.add((u, int(i)))
    arr = np.array(sorted(pairs), dtype=np.int64)
    return StrategyData(sem, cf, arr[:, 0], arr[:, 1], n_users, warm)


@pytest.mark.parametrize("method", METHODS)
def test_short_training_lowers_the_loss_and_is_deterministic(method):
    data = tiny_data()
    kwargs = {"epochs": 8, "lr": 1e-2, "dim": 8, "seed": 3, "device": "cpu"}
    first = fit_strategy(method, data, **kwargs)
    for phase, losses in first.loss.items():
        if phase in first.epochs_run:  # the training loss of each phase (not a sub-term)
            assert losses[-1] < losses[0], (method, phase, losses)
    assert first.users.shape[0] == data.n_users and first.items.shape[0] == data.n_items
    assert first.users.shape[1] == first.items.shape[1]
    assert np.isfinite(first.users).all() and np.isfinite(first.items).all()
    again = fit_strategy(method, data, **kwargs)
    np.testing.assert_array_equal(first.users, again.users)
    np.testing.assert_array_equal(first.items, again.items)
    other = fit_strategy(method, data, **{**kwargs, "seed": 4})
    assert not np.array_equal(first.items, other.items)
    # the two user groups prefer their own half of the items
    scores = first.users @ first.items.T
    half = np.arange(data.n_items) >= data.n_items // 2
    side = np.arange(data.n_users) % 2 == 1
    own = np.where(side[:, None] == half[None, :], scores, np.nan)
    other_side = np.where(side[:, None] != half[None, :], scores, np.nan)
    assert np.nanmean(own) > np.nanmean(other_side), method
    assert first.to_dict()["method"] == method and first.notes


def test_early_stopping_keeps_the_best_epoch():
    data = tiny_data()
    calls: list[float] = []

    def validate(users: np.ndarray, items: np.ndarray) -> float:
        calls.append(0.0)
        return [0.1, 0.5, 0.2, 0.3, 0.1, 0.0, 0.0, 0.9][len(calls) - 1]

    t = fit_strategy("directau", data, epochs=8, dim=8, validate=validate)
    # best at epoch 2, then 5 epochs without improvement: stop after epoch 7
    assert t.best_epoch == {"train": 2} and t.epochs_run == {"train": 7}
    assert t.best_valid_ndcg10 == {"train": 0.5}


def test_carec_scores_cold_items_with_raw_semantics():
    data = tiny_data()
    t = fit_strategy("carec", data, epochs=2, dim=8)
    sem = data.sem / np.linalg.norm(data.sem, axis=1, keepdims=True)
    np.testing.assert_allclose(t.items[~data.warm], sem[~data.warm], rtol=1e-5, atol=1e-6)
    assert t.users.shape[1] == data.sem.shape[1]


def test_bad_parameters_and_data():
    data = tiny_data()
    with pytest.raises(UsageError, match="epochs"):
        fit_strategy("sella", data, epochs=0)
    with pytest.raises(UsageError, match="lr"):
        fit_strategy("sella", data, epochs=1, lr=-1.0)
    cold_pair = StrategyData(data.sem, data.cf, np.array([0]), np.array([3]), 2, data.warm)
    with pytest.raises(UsageError, match="cold item"):
        fit_strategy("darec", cold_pair, epochs=1)
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError, match="cuda"):
            fit_strategy("directau", data, epochs=1, device="cuda")
    assert set(STRATEGIES) == {
        "directau", "carec", "darec", "sella", "ncn", "semproj", "lightgcn"
    }  # fmt: skip
    with pytest.raises(UsageError, match="ablate"):
        fit_strategy("ncn", data, epochs=1, ablated=True)
    with pytest.raises(UsageError, match="weight"):
        fit_strategy("semproj", data, epochs=1, weight=0.5)
    assert TrainParams(epochs=1, lr=0.1, dim=2).batch_size > 0


# --- the paper's trained fusion and the ablations ---------------------------------------------


def test_info_nce_hard_by_hand():
    pos, neg = T([1.0, 0.0]), T([[0.0, 0.0], [1.0, -1.0]])
    # row 0: logits (1, 0, 0) / 0.5 -> -log(e^2 / (e^2 + 2)); row 1: (0, 1, -1) / 0.5
    row0 = -math.log(math.exp(2) / (math.exp(2) + 2))
    row1 = -math.log(1 / (1 + math.exp(2) + math.exp(-2)))
    close(info_nce_hard(pos, neg, 0.5), (row0 + row1) / 2)


def test_hard_negatives_are_the_top_scoring_candidates():
    gen = torch.Generator().manual_seed(0)
    scores = torch.arange(40, dtype=torch.float32).repeat(3, 1)  # item j scores j
    scores[1] = -scores[1]
    pool = torch.arange(0, 40, 2)  # the even items
    positives = torch.tensor([38, 0, 10])
    neg = hard_negatives(scores, positives, pool, 8, 3, gen)
    assert neg.shape == (3, 3)
    # the same draws again: the kept ones are the highest-scoring of the 8 candidates
    gen2 = torch.Generator().manual_seed(0)
    draw = torch.randint(0, pool.shape[0], (3, 8), generator=gen2)
    cand = pool[draw]
    cand = torch.where(cand == positives[:, None], pool[(draw + 1) % pool.shape[0]], cand)
    for r in range(3):
        ranked = sorted(cand[r].tolist(), key=lambda j: -float(scores[r, j]))
        assert sorted(neg[r].tolist(), key=lambda j: -float(scores[r, j])) == ranked[:3]
        assert positives[r].item() not in neg[r].tolist()
        assert all(j % 2 == 0 for j in neg[r].tolist())


def test_ncn_branches_and_cold_items():
    data = tiny_data()
    kw = {"epochs": 2, "dim": 4, "seed": 1}
    both = fit_strategy("ncn", data, **kw)
    sem = fit_strategy("semproj", data, **kw)
    gcn = fit_strategy("lightgcn", data, **kw)
    assert both.items.shape[1] == 8 and sem.items.shape[1] == 4 and gcn.items.shape[1] == 4
    for t in (both, sem):
        np.testing.assert_allclose(np.linalg.norm(t.items, axis=1), 1.0, rtol=1e-5)
    cold = ~data.warm
    assert np.all(gcn.items[cold] == 0)  # no edge: no collaborative vector
    # ncn's cold rows are its semantic half alone (the collaborative half is zero)
    assert np.all(both.items[cold][:, :4] == 0)
    assert both.hyper["optimizer"] == "AdamW" and both.hyper["temperature"] == 0.15
    assert both.hyper["negatives"] == 256 and both.hyper["candidates"] == 512


def test_ablations_switch_the_alignment_terms_off():
    data = tiny_data()
    kw = {"epochs": 2, "dim": 4, "seed": 2}
    for method in ("darec", "sella"):
        off = fit_strategy(method, data, ablated=True, **kw)
        zero = fit_strategy(method, data, weight=0.0, **kw)
        np.testing.assert_array_equal(off.items, zero.items)  # ablated = weight 0, all else equal
        assert off.hyper["weight"] == 0.0
        on = fit_strategy(method, data, **kw)
        assert not np.array_equal(on.items, off.items)
    carec = fit_strategy("carec", data, ablated=True, **kw)
    assert carec.epochs_run["adapter"] == 0 and carec.hyper["adapter_phase"] is False
    # directau without the semantic input: S does not change the result (warm items; a cold
    # item's C row is still predicted from S)
    plain = fit_strategy("directau", data, ablated=True, **kw)
    other = StrategyData(data.sem[::-1].copy(), data.cf, data.users, data.items, data.n_users,
                         data.warm)  # fmt: skip
    again = fit_strategy("directau", other, ablated=True, **kw)
    np.testing.assert_array_equal(plain.items[data.warm], again.items[data.warm])
    np.testing.assert_array_equal(plain.users, again.users)
