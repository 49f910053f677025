"""Holm's step-down adjustment against a brute-force reference."""

from __future__ import annotations

import itertools

import numpy as np

from complement.core.multiple import holm


def brute_holm(p: list[float]) -> list[float]:
    """Adjusted p_j = max over the hypotheses ranked at or before j of min(1, (m - rank + 1) p),
    ranks from a stable ascending sort; NaN takes no part and stays NaN."""
    idx = [i for i, x in enumerate(p) if not np.isnan(x)]
    m = len(idx)
    ranked = sorted(idx, key=lambda i: (p[i], i))
    out = [float("nan")] * len(p)
    for pos, j in enumerate(ranked):
        out[j] = max(min(1.0, (m - r) * p[ranked[r]]) for r in range(pos + 1))
    return out


def test_holm_matches_brute_force_on_random_families():
    rng = np.random.default_rng(0)
    for trial in range(200):
        m = int(rng.integers(1, 12))
        p = rng.random(m) ** 3
        if trial % 5 == 0:
            p[rng.integers(0, m)] = np.nan
        if trial % 7 == 0 and m > 1:
            p[1] = p[0]  # ties
        got = holm(p)
        want = brute_holm(p.tolist())
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-15, equal_nan=True)


def test_holm_by_hand_and_properties():
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06])
    np.testing.assert_allclose(holm([0.5, 0.9]), [1.0, 1.0])
    assert np.isnan(holm([np.nan, 0.2])[0]) and holm([np.nan, 0.2])[1] == 0.2
    assert holm([]).shape == (0,)
    for p in itertools.product([0.001, 0.02, 0.3], repeat=3):
        adj = holm(list(p))
        assert (adj >= np.asarray(p)).all() and (adj <= 1).all()
