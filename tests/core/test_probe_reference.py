"""The probe's random reference (the gap) and the advice of a shift whose side is too small."""

from __future__ import annotations

import numpy as np
import pytest

from complement.core.probe import run_probe
from complement.core.shifts import MIN_ITEMS, make_item_shift, random_reference
from complement.errors import UsageError
from complement.retrieval import get_backend

BACKEND = get_backend("cpu")


def test_random_reference_is_none_with_a_reason_below_100_items():
    shift, reason = random_reference(99, seed=3)
    assert shift is None
    assert reason is not None and "19 test items" in reason and "at least 100 items" in reason
    shift, reason = random_reference(100, seed=3)
    assert reason is None and shift is not None and shift.n_test == 20
    assert np.array_equal(shift.test, make_item_shift("random", 100, seed=3).test)


def test_a_probe_without_reference_reports_a_null_gap_with_its_reason():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((90, 6)), rng.standard_normal((90, 4))
    counts = np.arange(90)
    shift = make_item_shift("popularity", 90, train_counts=counts, tail_frac=0.3)
    result = run_probe(x, y, shift, None, ["linear"], BACKEND, gap_reason="too few items")
    lin = result.capacities["linear"]
    assert lin.random_test is None and lin.gap is None
    doc = result.to_dict()
    assert doc["reference_shift"] is None and doc["gap_reason"] == "too few items"
    assert doc["capacities"]["linear"]["gap"] is None
    assert doc["capacities"]["linear"]["random_test"] is None


def test_a_probe_with_its_reference_keeps_the_documents_keys():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((100, 6)), rng.standard_normal((100, 4))
    shift = make_item_shift("popularity", 100, train_counts=np.arange(100), tail_frac=0.3)
    doc = run_probe(x, y, shift, make_item_shift("random", 100), ["linear"], BACKEND).to_dict()
    assert "gap_reason" not in doc and doc["reference_shift"]["kind"] == "random"
    assert set(doc["capacities"]["linear"]["gap"]) == {"r2", "r2_uniform"}


@pytest.mark.parametrize(
    ("kwargs", "side", "advice"),
    [
        ({"kind": "popularity", "tail_frac": 0.99}, "train", "lower --tail-frac"),
        ({"kind": "popularity", "tail_frac": 0.05}, "test", "raise --tail-frac"),
        ({"kind": "cold", "max_interactions": 1000}, "train", "lower --max-interactions"),
        ({"kind": "cold", "max_interactions": 2}, "test", "raise --max-interactions"),
    ],
)
def test_a_side_too_small_gets_the_advice_that_grows_it(kwargs, side, advice):
    counts = np.arange(200, dtype=np.int64)
    with pytest.raises(UsageError) as info:
        make_item_shift(n_items=200, train_counts=counts, **kwargs)
    message = str(info.value)
    assert f" {side} items (train" in message and advice in message
    assert "raise --tail-frac" not in message or side == "test"


def test_temporal_advice_follows_the_side():
    seen = np.arange(200, dtype=np.float64)
    with pytest.raises(UsageError, match="0 test items.*an earlier --cutoff.*higher --test-frac"):
        make_item_shift("temporal", 200, first_seen=seen, cutoff=1000.0)
    with pytest.raises(UsageError, match="5 train items.*a later --cutoff.*lower --test-frac"):
        make_item_shift("temporal", 200, first_seen=seen, cutoff=5.0)


def test_both_sides_too_small_asks_for_more_items():
    counts = np.arange(30, dtype=np.int64)
    with pytest.raises(UsageError, match=f"give at least {2 * MIN_ITEMS} items"):
        make_item_shift("popularity", 30, train_counts=counts, tail_frac=0.5)
