"""Paired bootstrap tests drawn together give the bits of one test at a time."""

from __future__ import annotations

import numpy as np
import pytest

from complement.core import stats


def _one_test(a, b, n_boot, seed):
    """The former ``paired_bootstrap``: its own draw of the resamples."""
    diff = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    means = stats.bootstrap_means(diff, n_boot, seed)
    lo, hi = np.percentile(means, [2.5, 97.5])
    le = (np.count_nonzero(means <= 0) + 1) / (n_boot + 1)
    ge = (np.count_nonzero(means >= 0) + 1) / (n_boot + 1)
    p = min(1.0, 2.0 * min(le, ge))
    return stats.PairedTest(float(diff.mean()), (float(lo), float(hi)), float(p))


@pytest.mark.parametrize("cells", [4_000_000, 37 * 3, 37])  # one step; 3 draws a step; 1
def test_paired_bootstraps_equal_one_test_at_a_time(monkeypatch, cells):
    monkeypatch.setattr(stats, "_CELLS", cells)
    rng = np.random.default_rng(4)
    n = 37  # odd: a step's 32-bit draws do not fill whole 64-bit outputs
    base = rng.random(n)
    pairs = [
        (rng.random(n), base),
        (base + 0.05 * rng.standard_normal(n), base),
        ((rng.random(n) < 0.3).astype(np.float64), (rng.random(n) < 0.2).astype(np.float64)),
        (base, base),  # no difference at all
    ]
    for n_boot, seed in ((200, 0), (101, 7)):
        together = stats.paired_bootstraps(pairs, n_boot=n_boot, seed=seed)
        assert together == [_one_test(a, b, n_boot, seed) for a, b in pairs]
        assert stats.paired_bootstrap(*pairs[1], n_boot=n_boot, seed=seed) == together[1]
    assert stats.paired_bootstraps([], n_boot=10) == []
    with pytest.raises(ValueError, match="same shape"):
        stats.paired_bootstraps([(base, base), (base[:5], base[:5])])
