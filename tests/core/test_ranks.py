"""Average ranks (Spearman's) with NaN and infinities: scipy's ``rankdata`` exactly, whichever
way the columns are sorted (NaN sorted as +inf, or as it is where a column holds both)."""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from complement.core.probe_metrics import average_ranks


def test_average_ranks_with_nan_and_infinities_equal_rankdata():
    rng = np.random.default_rng(41)
    special = np.array([0.0, -0.0, 1.0, np.nan, np.inf, -np.inf], dtype=np.float64)
    for trial in range(300):
        n, c = int(rng.integers(1, 30)), int(rng.integers(1, 5))
        if trial % 3 == 0:
            m = rng.choice(special, (n, c))
        else:
            m = rng.standard_normal((n, c))
            m[rng.random((n, c)) < 0.2] = np.nan
            if trial % 3 == 1:
                m[rng.random((n, c)) < 0.2] = np.inf
        ours = average_ranks(m)
        assert ours.flags.c_contiguous
        ref = rankdata(m, axis=0, nan_policy="omit")
        assert np.array_equal(ours, ref, equal_nan=True), (m, ours, ref)


def test_average_ranks_with_long_and_many_tie_runs_equal_rankdata():
    rng = np.random.default_rng(7)
    for trial in range(200):
        n, c = int(rng.integers(1, 200)), int(rng.integers(1, 6))
        m = rng.integers(0, int(rng.integers(1, 8)), (n, c)).astype(np.float64)  # long runs
        if trial % 2:
            m[rng.random((n, c)) < 0.1] = np.nan
        if trial % 5 == 0:
            m[:, 0] = 3.0  # a whole column tied
        ours = average_ranks(m)
        ref = rankdata(m, axis=0, nan_policy="omit")
        assert np.array_equal(ours, ref, equal_nan=True), (m, ours, ref)
