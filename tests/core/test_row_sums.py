"""The history means without scipy: ``weighted_row_sums`` and ``expit`` against scipy and a
brute-force loop, bit for bit (``expit`` with the C library's ``exp``: ``libm_exp``)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit as scipy_expit

from complement.core import ranking
from complement.core.ranking import weighted_row_sums
from complement.core.rerank import expit, libm_exp


def _csr(rng, n_rows, n_cols, d, longest):
    counts = rng.integers(0, longest + 1, n_rows)
    counts[::7] = 0  # empty rows
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    indices = np.concatenate(
        [rng.choice(n_cols, c, replace=False) for c in counts]  # any order within a row
    ).astype(np.int32)
    weights = rng.random(indices.size).astype(np.float32) * 3
    x = rng.standard_normal((n_cols, d)).astype(np.float32)
    x[::5, ::3] = -0.0  # signed zeros: 0 + (-0.0) is +0.0, as scipy sums
    x[1::9] *= 1e30  # large terms: float32 rounding of every partial sum matters
    return indptr, indices, weights, x


def _brute(indptr, indices, weights, x):
    out = np.zeros((indptr.size - 1, x.shape[1]), dtype=np.float32)
    for u in range(indptr.size - 1):
        for e in range(indptr[u], indptr[u + 1]):
            out[u] = out[u] + np.float32(weights[e]) * x[indices[e]]
    return out


@pytest.mark.parametrize("sum_rows", [1, 3, 2048])
def test_weighted_row_sums_equal_scipy_and_a_plain_loop(monkeypatch, sum_rows):
    monkeypatch.setattr(ranking, "_SUM_ROWS", sum_rows)  # one, several and ragged blocks
    rng = np.random.default_rng(sum_rows)
    indptr, indices, weights, x = _csr(rng, 40, 60, 9, 30)
    got = weighted_row_sums(indptr, indices, weights, x)
    want = np.asarray(sp.csr_matrix((weights, indices, indptr), shape=(40, 60)) @ x)
    assert got.dtype == np.float32 and got.shape == (40, 9)
    np.testing.assert_array_equal(got.view(np.int32), want.view(np.int32))
    np.testing.assert_array_equal(
        got.view(np.int32), _brute(indptr, indices, weights, x).view(np.int32)
    )


def test_weighted_row_sums_of_no_rows_and_of_empty_rows():
    x = np.ones((3, 2), dtype=np.float32)
    assert weighted_row_sums(
        np.zeros(1, np.int64), np.zeros(0, np.int32), np.zeros(0, np.float32), x
    ).shape == (0, 2)
    got = weighted_row_sums(
        np.zeros(4, np.int64), np.zeros(0, np.int32), np.zeros(0, np.float32), x
    )
    np.testing.assert_array_equal(got, np.zeros((3, 2), np.float32))
    assert not np.signbit(got).any()


def test_expit_equals_scipys():
    """Bit for bit on every machine, AVX-512 included (numpy's own exp is not the C library's
    there)."""
    rng = np.random.default_rng(0)
    t = np.concatenate(
        [
            rng.standard_normal(200_000) * 6,
            rng.standard_normal(20_000) * 400,  # exp overflows: exactly 0 and 1
            [0.0, -0.0, 1e-300, -1e-300, 709.0, -709.0, 709.7, -709.7, 709.79, -709.79],
            [710.0, -710.0, 800.0, -800.0, np.inf, -np.inf],
        ]
    )
    got, want = expit(t), scipy_expit(t)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got.view(np.int64), want.view(np.int64))
    assert expit(np.array([-1000.0]))[0] == 0.0 and expit(np.array([1000.0]))[0] == 1.0
    assert np.isnan(expit(np.array([np.nan]))[0])


def test_expit_of_large_arrays_is_scipys_with_the_same_bits(monkeypatch):
    from complement.core import rerank

    t = np.random.default_rng(2).standard_normal(5000) * 30
    small = expit(t)
    monkeypatch.setattr(rerank, "_SCIPY_EXPIT_VALUES", 100)  # 5000 entries count as large
    large = expit(t)
    np.testing.assert_array_equal(small.view(np.int64), large.view(np.int64))
    np.testing.assert_array_equal(large.view(np.int64), scipy_expit(t).view(np.int64))


def test_libm_exp_is_math_exp():
    rng = np.random.default_rng(1)
    x = np.concatenate(
        [
            rng.standard_normal(50_000) * 300,
            [709.0, 709.78, 709.7827128933839, 709.79, 710.0, 1e308, np.inf, -np.inf, -0.0],
        ]
    )

    def exp(v: float) -> float:
        try:
            return math.exp(v)
        except OverflowError:
            return math.inf

    want = np.array([exp(v) for v in x.tolist()])
    got = libm_exp(x)
    np.testing.assert_array_equal(got.view(np.int64), want.view(np.int64))
    assert libm_exp(x[:21].reshape(3, 7)).shape == (3, 7)
    assert libm_exp(np.zeros(0)).shape == (0,)
    assert np.isnan(libm_exp(np.array([np.nan]))[0])


def test_user_queries_sum_in_numpy_or_scipy_with_the_same_bits(monkeypatch):
    from complement.core.evaluation import prepare_eval
    from complement.core.ranking import user_queries
    from complement.core.splits import TEST, TRAIN

    rng = np.random.default_rng(5)
    n_items = 30
    users = rng.integers(0, 25, 400)
    idx = rng.integers(0, n_items, 400)
    part = rng.choice([TRAIN, TEST], 400, p=[0.8, 0.2]).astype(np.int8)
    ev = prepare_eval(users, idx, part, n_items)
    items = rng.standard_normal((n_items, 7)).astype(np.float32)
    small, scale = user_queries(ev, items)  # numpy's sums
    monkeypatch.setattr(ranking, "_NUMPY_SUM_VALUES", 0)  # every log is "large": scipy's
    large, scale_large = user_queries(ev, items)
    np.testing.assert_array_equal(small.view(np.int32), large.view(np.int32))
    np.testing.assert_array_equal(scale, scale_large)
