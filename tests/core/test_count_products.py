"""count_products in blocks of columns gives the bits of one pass (each column on its own)."""

from __future__ import annotations

import numpy as np
import pytest

from complement.core import stats


@pytest.mark.parametrize("block_bytes", [8, 8 * 50, 8 * 50 * 7])
def test_column_blocks_change_no_bit(monkeypatch, block_bytes):
    rng = np.random.default_rng(3)
    n, b = 50, 40
    counts = rng.multinomial(n, np.full(n, 1 / n), size=b).astype(np.float64)
    values = np.c_[
        rng.random((n, 9)),
        rng.standard_normal((n, 5)) * 10.0 ** rng.integers(-12, 12, (n, 5)),
        np.where(rng.random((n, 1)) < 0.1, np.nan, 2.0),
        -rng.random((n, 3)),
    ]
    whole = stats.count_products(counts, values)
    monkeypatch.setattr(stats, "_COLUMN_BLOCK_BYTES", block_bytes)
    blocked = stats.count_products(counts, values)
    np.testing.assert_array_equal(whole, blocked)
    assert np.signbit(whole).tolist() == np.signbit(blocked).tolist()


def test_unit_rows_copies_once_and_leaves_the_input():
    from complement.core.ranking import unit_rows

    m = np.array([[3.0, 4.0], [0.0, 0.0]], dtype=np.float32)
    out = unit_rows(m)
    assert out is not m and m[0, 0] == 3.0
    np.testing.assert_allclose(out, [[0.6, 0.8], [0.0, 0.0]], rtol=1e-7)
