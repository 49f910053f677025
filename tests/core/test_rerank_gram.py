"""The gated fusion's Newton Hessian: ``weighted_gram`` against the three-operand einsum it
replaces (bit for bit, so the fitted gates and every JSON stay the same) and against a plain
sequential sum."""

from __future__ import annotations

import numpy as np
import pytest

from complement.core.rerank import FEATURE_NAMES, weighted_gram


def _sequential(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Σ_n (x_ni w_n) x_nj, summed over n in order from 0 (a plain loop)."""
    out = np.zeros((x.shape[1], x.shape[1]))
    for n in range(x.shape[0]):
        out += (x[n] * w[n])[:, None] * x[n][None, :]
    return out


def _design(rng: np.random.Generator, n: int, f: int, zeros: bool) -> np.ndarray:
    x = rng.standard_normal((n, f)) * np.exp(rng.standard_normal(f) * 3)
    x[:, 0] = 1.0  # the intercept column
    if zeros:
        x[rng.random((n, f)) < 0.3] = 0.0
    return x


@pytest.mark.parametrize("seed", range(40))
def test_same_bits_as_three_operand_einsum(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 60)) if seed % 4 == 0 else int(rng.integers(1, 120_000))
    f = 1 + len(FEATURE_NAMES) if seed % 2 else int(rng.integers(1, 14))
    x = _design(rng, n, f, zeros=seed % 5 == 0)
    p = 1.0 / (1.0 + np.exp(-rng.standard_normal(n) * 4))
    w = p * (1.0 - p)
    got = weighted_gram(x, w)
    want = np.einsum("ni,n,nj->ij", x, w, x)
    assert got.dtype == np.float64 and got.shape == (f, f)
    assert np.array_equal(got, want)
    assert np.array_equal(np.signbit(got), np.signbit(want))


def test_sums_in_order() -> None:
    rng = np.random.default_rng(7)
    x = _design(rng, 3000, 1 + len(FEATURE_NAMES), zeros=False)
    w = rng.random(3000) * 0.25
    assert np.array_equal(weighted_gram(x, w), _sequential(x, w))


def test_one_column() -> None:
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5000, 1))
    w = rng.random(5000)
    assert np.array_equal(weighted_gram(x, w), np.einsum("ni,n,nj->ij", x, w, x))
