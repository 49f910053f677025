"""Membership in sorted keys (the hit tests' lookup): the table of flags and the binary search
give numpy's answer, keys near the int64 limits included."""

from __future__ import annotations

import numpy as np

from complement.core import evaluation


def test_sorted_isin_by_table_and_by_binary_search_equal_numpy(monkeypatch):
    rng = np.random.default_rng(31)
    edge = np.array([np.iinfo(np.int64).min, -1, 0, np.iinfo(np.int64).max], dtype=np.int64)
    for trial in range(300):
        keys = np.unique(rng.integers(-40, 120, int(rng.integers(0, 30))))
        if trial % 10 == 0:
            keys = np.unique(np.concatenate([keys, rng.choice(edge, 2)]))
        query = rng.integers(-60, 140, (int(rng.integers(0, 6)), int(rng.integers(0, 9))))
        if trial % 7 == 0 and query.size:
            query.flat[: min(4, query.size)] = edge[: min(4, query.size)]
        want = np.isin(query, keys)
        for table, chunk in ((1 << 23, 1 << 20), (1 << 23, 3), (0, 1 << 20), (0, 3)):
            monkeypatch.setattr(evaluation, "_ISIN_TABLE", table)
            monkeypatch.setattr(evaluation, "_ISIN_CHUNK", chunk)
            got = evaluation.sorted_isin(query, keys)
            assert got.shape == query.shape and got.dtype == bool
            np.testing.assert_array_equal(got, want)
