"""The ridge cross-validation (one eigendecomposition per fold, every α from it) and its helpers,
against brute-force numpy references."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import rankdata

from complement.core import probe_models
from complement.core.probe_metrics import average_ranks
from complement.core.structure import _whitener, cca


def brute_force_cv(x, y, seed, grid):
    """Per α and fold: centre with the fold's training means, solve the normal equations."""
    n, p = x.shape
    folds = np.array_split(np.random.default_rng([seed, 202]).permutation(n), probe_models.CV_FOLDS)
    sse = []
    for alpha in grid:
        total = 0.0
        for held in folds:
            fit = np.setdiff1d(np.arange(n), held)
            mx, my = x[fit].mean(0), y[fit].mean(0)
            xf, yf = x[fit] - mx, y[fit] - my
            w = np.linalg.solve(xf.T @ xf + alpha * np.eye(p), xf.T @ yf)
            total += float((((y[held] - my) - (x[held] - mx) @ w) ** 2).sum())
        sse.append(total)
    return np.array(sse)


@pytest.mark.parametrize(
    ("n", "p", "q", "seed"),
    [(60, 8, 3, 0), (90, 20, 12, 1), (40, 30, 5, 2), (50, 4, 16, 3), (200, 24, 24, 4)],
)
def test_cv_alpha_equals_brute_force_solves(n, p, q, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, p)) * rng.uniform(0.01, 3.0, p)  # uneven spectrum
    y = x @ rng.standard_normal((p, q)) + rng.standard_normal((n, q))
    best, errors = probe_models.cv_alpha(x, y, seed=seed)
    ref = brute_force_cv(x, y, seed, probe_models.ALPHA_GRID)
    np.testing.assert_allclose(np.array(list(errors.values())), ref, rtol=1e-9)
    assert list(errors) == [f"{a:g}" for a in probe_models.ALPHA_GRID]
    assert best == probe_models.ALPHA_GRID[int(np.argmin(ref))]


def test_cv_alpha_on_a_custom_grid_and_ties_go_to_the_smaller_alpha():
    rng = np.random.default_rng(7)
    x, y = rng.standard_normal((50, 6)), rng.standard_normal((50, 2))
    grid = (0.5, 2.0, 8.0)
    _, errors = probe_models.cv_alpha(x, y, seed=1, grid=grid)
    np.testing.assert_allclose(list(errors.values()), brute_force_cv(x, y, 1, grid), rtol=1e-10)
    zero = np.zeros((50, 2))  # every α predicts 0 exactly: all errors equal
    best, _ = probe_models.cv_alpha(x, zero, seed=1, grid=grid)
    assert best == 0.5


def test_ridge_weights_equal_the_normal_equations():
    rng = np.random.default_rng(8)
    x, y = rng.standard_normal((40, 9)), rng.standard_normal((40, 4))
    for alpha in (1e-4, 1.0, 1e3):
        ref = np.linalg.solve(x.T @ x + alpha * np.eye(9), x.T @ y)
        np.testing.assert_allclose(probe_models.ridge_weights(x, y, alpha), ref, rtol=1e-8)


def test_one_blas_thread_restores_the_thread_count():
    from threadpoolctl import threadpool_info

    def counts():
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]

    before = counts()
    with probe_models.one_blas_thread():
        assert all(c == 1 for c in counts())
    assert counts() == before


def test_average_ranks_equal_scipy_rankdata_with_ties_and_nans():
    rng = np.random.default_rng(9)
    for trial in range(200):
        n, c = int(rng.integers(1, 40)), int(rng.integers(1, 6))
        if trial % 2:
            m = rng.integers(0, int(rng.integers(1, 6)), size=(n, c)).astype(np.float64)
        else:
            m = rng.standard_normal((n, c))
        m[rng.random((n, c)) < 0.2] = np.nan
        ours = average_ranks(m)
        ref = rankdata(m, axis=0, nan_policy="omit")
        assert np.array_equal(ours, ref, equal_nan=True), (m, ours, ref)


def test_cca_with_a_precomputed_whitener_is_the_same_cca():
    rng = np.random.default_rng(10)
    a = rng.standard_normal((80, 6))
    b = a[:, :3] @ rng.standard_normal((3, 4)) + rng.standard_normal((80, 4))
    a, b = a - a.mean(0), b - b.mean(0)
    plain = cca(a, b)
    shared = cca(a, b, wa_half=_whitener(a))
    for u, v in zip(plain, shared, strict=True):
        assert np.array_equal(u, v)
