from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr

from complement.core import probe_models
from complement.core.probe import fit_capacity, run_probe
from complement.core.probe_metrics import (
    anchor_spearman,
    geojac,
    l2_rows,
    r2_scores,
    rec_task,
    recall_at,
)
from complement.core.shifts import make_item_shift
from complement.core.splits import TEST, TRAIN
from complement.errors import UsageError
from complement.retrieval import get_backend

BACKEND = get_backend("cpu")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _orth_rows(rng, k, d):
    q, _ = np.linalg.qr(rng.standard_normal((d, k)))
    return q.T


def planted(n=1000, r=3, p=8, d=20, sz=1.0, sp=0.7, noise=0.02, seed=0):
    """X = [Z, P_x] A + noise, Y = [Z, P_y] B + noise with ±1 factors and orthonormal A, B.

    Row norms are (almost) constant, so L2-normalisation keeps the relation linear; the shared
    share of Y's variance is r sz² / (r sz² + p sp² + d noise²).
    """
    rng = np.random.default_rng(seed)
    z = rng.choice([-1.0, 1.0], size=(n, r))
    px = rng.choice([-1.0, 1.0], size=(n, p))
    py = rng.choice([-1.0, 1.0], size=(n, p))
    scale = np.r_[np.full(r, sz), np.full(p, sp)]
    x = (np.c_[z, px] * scale) @ _orth_rows(rng, r + p, d) + noise * rng.standard_normal((n, d))
    y = (np.c_[z, py] * scale) @ _orth_rows(rng, r + p, d) + noise * rng.standard_normal((n, d))
    share = r * sz**2 / (r * sz**2 + p * sp**2 + d * noise**2)
    return x, y, share, py


def test_ridge_closed_form_matches_lstsq_on_augmented_system():
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((60, 12)), rng.standard_normal((60, 5))
    for alpha in (1e-3, 0.7, 25.0):
        w = probe_models.ridge_weights(x, y, alpha)
        xa = np.vstack([x, np.sqrt(alpha) * np.eye(12)])
        ya = np.vstack([y, np.zeros((12, 5))])
        ref = np.linalg.lstsq(xa, ya, rcond=None)[0]
        np.testing.assert_allclose(w, ref, rtol=1e-9, atol=1e-10)
    probe = probe_models.fit_ridge(x, y, alpha=0.7)
    np.testing.assert_allclose(probe.predict(x), x @ probe_models.ridge_weights(x, y, 0.7))
    with pytest.raises(UsageError, match="positive"):
        probe_models.fit_ridge(x, y, alpha=0.0)


def test_cv_alpha_matches_brute_force_folds():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((80, 10))
    y = x @ rng.standard_normal((10, 3)) + 2.0 * rng.standard_normal((80, 3))
    best, errors = probe_models.cv_alpha(x, y, seed=5)
    folds = np.array_split(np.random.default_rng([5, 202]).permutation(80), 5)
    brute = {}
    for alpha in probe_models.ALPHA_GRID:  # keyed like cv_alpha's errors
        total = 0.0
        for held in folds:
            fit = np.setdiff1d(np.arange(80), held)
            mx, my = x[fit].mean(0), y[fit].mean(0)
            w = np.linalg.solve(
                (x[fit] - mx).T @ (x[fit] - mx) + alpha * np.eye(10),
                (x[fit] - mx).T @ (y[fit] - my),
            )
            total += (((y[held] - my) - (x[held] - mx) @ w) ** 2).sum()
        brute[alpha] = total
    np.testing.assert_allclose(list(errors.values()), list(brute.values()), rtol=1e-8)
    assert list(errors) == [f"{a:g}" for a in brute]
    assert best == min(brute, key=lambda a: brute[a])


def test_lowrank_is_reduced_rank_ridge():
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((70, 9)), rng.standard_normal((70, 6))
    full = probe_models.fit_lowrank(x, y, 6, alpha=0.5)
    np.testing.assert_allclose(full.weights, probe_models.ridge_weights(x, y, 0.5), atol=1e-10)
    low = probe_models.fit_lowrank(x, y, 2, alpha=0.5)
    assert np.linalg.matrix_rank(low.weights) == 2

    def objective(w):  # ‖Y − XW‖² + α‖W‖²: the augmented least-squares loss
        return ((y - x @ w) ** 2).sum() + 0.5 * (w**2).sum()

    u, s, vt = np.linalg.svd(probe_models.ridge_weights(x, y, 0.5))
    naive = (u[:, :2] * s[:2]) @ vt[:2]  # truncating W itself is a worse rank-2 map
    assert objective(low.weights) <= objective(naive) + 1e-9
    with pytest.raises(UsageError, match="--rank 7"):
        probe_models.fit_lowrank(x, y, 7, alpha=0.5)


def test_r2_definitions():
    rng = np.random.default_rng(4)
    true = rng.standard_normal((50, 3)) * [1.0, 2.0, 5.0]
    pred = true + rng.standard_normal((50, 3))
    pooled, uniform = r2_scores(true, pred)
    sse, sst = ((true - pred) ** 2).sum(0), ((true - true.mean(0)) ** 2).sum(0)
    assert pooled == pytest.approx(1 - sse.sum() / sst.sum())
    assert uniform == pytest.approx(np.mean(1 - sse / sst))
    assert r2_scores(true, true) == (1.0, 1.0)
    assert r2_scores(true, np.tile(true.mean(0), (50, 1))) == pytest.approx((0.0, 0.0))


def test_geojac_and_spearman():
    rng = np.random.default_rng(5)
    true = l2_rows(rng.standard_normal((80, 6)))
    assert geojac(true, true, BACKEND) == (1.0, 20)
    assert geojac(true[:15], true[:15], BACKEND)[1] == 14
    assert anchor_spearman(true, true, seed=0) == pytest.approx(1.0)
    other = l2_rows(true + 0.5 * rng.standard_normal((80, 6)))
    value = anchor_spearman(true, other, seed=0, n_anchors=7)
    anchors = np.sort(np.random.default_rng([0, 404]).choice(80, 7, False))
    brute = []
    for a in anchors:
        keep = np.arange(80) != a
        brute.append(spearmanr(true[keep] @ true[a], other[keep] @ other[a]).statistic)
    assert value == pytest.approx(np.mean(brute), abs=1e-12)
    lists_differ = geojac(true, other, BACKEND)[0]
    assert 0 < lists_differ < 1


def test_recall_matches_brute_force():
    rng = np.random.default_rng(6)
    n_items, n_users = 40, 12
    users = rng.integers(0, n_users, size=300)
    items = rng.integers(-1, n_items, size=300)
    part = np.where(rng.random(300) < 0.3, TEST, TRAIN).astype(np.int8)
    vectors = rng.standard_normal((n_users, 4)).astype(np.float32)
    have = np.ones(n_users, dtype=bool)
    have[3] = False
    item_vecs = rng.standard_normal((n_items, 4))
    test_items = np.arange(0, n_items, 2)
    task = rec_task(users, items, part, vectors, have, test_items, n_items, k=5)
    got = recall_at(task, item_vecs, BACKEND)
    recalls = []
    for u in range(n_users):
        hist = set(items[(users == u) & (part != TEST) & (items >= 0)].tolist())
        tgt = set(items[(users == u) & (part == TEST) & (items >= 0)].tolist())
        tgt = {i for i in tgt if i % 2 == 0} - hist
        if not have[u] or not hist or not tgt:
            continue
        scores = item_vecs.astype(np.float32) @ vectors[u]
        order = [i for i in np.lexsort((np.arange(n_items), -scores)) if i not in hist][:5]
        recalls.append(len(tgt & set(order)) / len(tgt))
    assert task.to_dict()["n_users"] == len(recalls)
    assert got == pytest.approx(np.mean(recalls))


def test_planted_linear_probe_recovers_the_shared_share():
    x, y, share, _ = planted()
    shift = make_item_shift("random", x.shape[0])
    result = run_probe(x, y, shift, shift, ["linear"], BACKEND)
    lin = result.capacities["linear"]
    assert lin.test.r2 == pytest.approx(share, abs=0.03)
    assert lin.gap == (0.0, 0.0) and lin.fit["alpha_source"] == "cv5"
    # the reverse direction has the same shared share by construction
    back = run_probe(y, x, shift, shift, ["linear"], BACKEND, direction="cf2sem")
    assert back.capacities["linear"].test.r2 == pytest.approx(share, abs=0.03)


def test_shift_planted_in_a_private_factor_lowers_test_r2():
    x, y, _, py = planted()
    counts = (py[:, 0] > 0).astype(np.int64) * 10 + (py[:, 1] > 0)
    shift = make_item_shift("popularity", x.shape[0], train_counts=counts)
    reference = make_item_shift("random", x.shape[0])
    lin = run_probe(x, y, shift, reference, ["linear"], BACKEND).capacities["linear"]
    assert lin.test.r2 < lin.random_test[0] - 0.1
    assert lin.gap[0] == pytest.approx(lin.test.r2 - lin.random_test[0])
    assert lin.train.r2 > lin.test.r2


def test_linear_relation_gives_linear_close_to_mlp():
    rng = np.random.default_rng(7)
    q, _ = np.linalg.qr(rng.standard_normal((8, 8)))
    x = rng.choice([-1.0, 1.0], size=(400, 8))
    y = x @ q + 0.3 * rng.standard_normal((400, 8))
    shift = make_item_shift("random", 400)
    res = run_probe(x, y, shift, shift, ["linear", "mlp1"], BACKEND, max_epochs=300, seed=1)
    lin, mlp = res.capacities["linear"].test.r2, res.capacities["mlp1"].test.r2
    assert lin > 0.8 and abs(lin - mlp) < 0.05


def test_nonlinear_relation_gives_mlp_above_linear():
    rng = np.random.default_rng(8)
    x = l2_rows(rng.standard_normal((400, 4)))
    y = np.abs(x)  # unit rows again; uncorrelated with x, so no linear signal
    shift = make_item_shift("random", 400)
    res = run_probe(x, y, shift, shift, ["linear", "mlp1"], BACKEND, max_epochs=300)
    lin, mlp = res.capacities["linear"].test.r2, res.capacities["mlp1"].test.r2
    assert lin < 0.1 and mlp > lin + 0.5


def test_mlp_is_deterministic_and_stops_early():
    rng = np.random.default_rng(9)
    x, y = rng.standard_normal((120, 5)), rng.standard_normal((120, 3))
    a = fit_capacity("mlp1", x, y, seed=3, max_epochs=60)
    b = fit_capacity("mlp1", x, y, seed=3, max_epochs=60)
    np.testing.assert_array_equal(a.predict(x), b.predict(x))
    assert a.info["epochs_run"] < 60  # pure noise: validation stops improving early
    assert a.info["best_epoch"] <= a.info["epochs_run"] and a.info["n_valid"] == 12
    c = fit_capacity("mlp1", x, y, seed=4, max_epochs=60)
    assert not np.array_equal(a.predict(x), c.predict(x))
    with pytest.raises(UsageError, match="unknown --capacity"):
        fit_capacity("mlp9", x, y)
