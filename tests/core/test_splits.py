from __future__ import annotations

import numpy as np
import pytest

from complement.core.splits import TEST, TRAIN, VALID, make_split
from complement.errors import UsageError


def test_temporal_cutoff_position():
    ts = np.array([5, 1, 3, 2, 4, 6, 7, 8, 9, 10], dtype=float)
    users = np.zeros(10, dtype=np.int64)
    s = make_split("temporal", users, ts, test_frac=0.2)
    assert s.cutoff == 9.0  # sorted position floor(0.8*10)=8 -> 9
    assert set(ts[s.test]) == {9.0, 10.0}
    s2 = make_split("temporal", users, ts, cutoff=6.0, valid_frac=0.2)
    assert set(ts[s2.test]) == {6, 7, 8, 9, 10}
    assert s2.valid_cutoff == 5.0 and set(ts[s2.valid]) == {5.0}


def test_temporal_cutoff_leaving_a_side_empty():
    ts = np.arange(5, dtype=float)
    with pytest.raises(UsageError, match="leaves test empty"):
        make_split("temporal", np.zeros(5, dtype=np.int64), ts, cutoff=100.0)
    with pytest.raises(UsageError, match="leaves train empty"):
        make_split("temporal", np.zeros(5, dtype=np.int64), ts, cutoff=-1.0)


def test_user_temporal_last_fraction_and_single_users():
    users = np.array([0] * 10 + [1] * 2 + [2])
    ts = np.r_[np.arange(10), [5, 1], [3]].astype(float)
    s = make_split("user-temporal", users, ts, test_frac=0.2, valid_frac=0.25)
    assert list(np.flatnonzero(s.test)) == [8, 9, 10]  # user 1's later row is index 10
    assert s.part[12] == TRAIN  # a user with one interaction is never tested
    assert list(np.flatnonzero(s.valid)) == [6, 7]  # floor(0.25*8)=2 last train rows of user 0


def test_user_temporal_ties_broken_by_row():
    users = np.zeros(4, dtype=np.int64)
    ts = np.array([1.0, 1.0, 1.0, 1.0])
    s = make_split("user-temporal", users, ts, test_frac=0.25)
    assert list(s.part) == [TRAIN, TRAIN, TRAIN, TEST]


def test_random_is_seeded():
    users = np.zeros(1000, dtype=np.int64)
    ts = np.zeros(1000)
    a = make_split("random", users, ts, test_frac=0.3, valid_frac=0.1, seed=7)
    b = make_split("random", users, ts, test_frac=0.3, valid_frac=0.1, seed=7)
    c = make_split("random", users, ts, test_frac=0.3, valid_frac=0.1, seed=8)
    assert np.array_equal(a.part, b.part) and not np.array_equal(a.part, c.part)
    assert 0.25 < a.test.mean() < 0.35
    assert np.any(a.part == VALID)


def test_files_and_bad_values():
    users = np.zeros(6, dtype=np.int64)
    ts = np.arange(6, dtype=float)
    s = make_split("files", users, ts, n_train_rows=4)
    assert list(s.part) == [0, 0, 0, 0, 2, 2]
    with pytest.raises(UsageError):
        make_split("files", users, ts)
    with pytest.raises(UsageError):
        make_split("temporal", users, ts, test_frac=1.5)
    with pytest.raises(UsageError):
        make_split("sideways", users, ts)
    with pytest.raises(UsageError, match="empty"):
        make_split("temporal", users[:0], ts[:0])


def test_no_validation_rows_named_when_the_per_user_split_rounds_them_down():
    users = np.repeat(np.arange(30), 10)  # 10 interactions each: 8 train rows
    ts = np.arange(300, dtype=float)
    s = make_split("user-temporal", users, ts, test_frac=0.2, valid_frac=0.1)
    assert not s.valid.any()
    hint = s.no_targets_hint("valid", 0, 0)
    assert hint is not None and "set --valid-frac > 0" not in hint
    assert "floor(0.1 * its train rows)" in hint and "none has more than 8 train rows" in hint
    assert "raise --valid-frac to at least 0.125" in hint
    enough = make_split("user-temporal", users, ts, test_frac=0.2, valid_frac=0.125)
    assert enough.valid.sum() == 30  # the suggested fraction gives every user one row
    odd = make_split("user-temporal", np.repeat(np.arange(3), 8), np.arange(24.0), valid_frac=0.1)
    need = float(odd.no_targets_hint("valid", 0, 0).split("at least ")[1].split(",")[0])
    again = make_split("user-temporal", np.repeat(np.arange(3), 8), np.arange(24.0),
                       valid_frac=need)  # fmt: skip
    assert again.valid.any()
    none = make_split("user-temporal", users, ts, valid_frac=0.0)
    assert none.no_targets_hint("valid", 0, 0) is None  # "set --valid-frac > 0" is right
    assert enough.no_targets_hint("valid", 0, 0) is None


def test_files_split_whose_test_rows_are_all_in_history_is_named():
    users = np.tile(np.arange(3), 2)
    s = make_split("files", users, np.zeros(6), n_train_rows=3)
    hint = s.no_targets_hint("test", 3, 3)
    assert hint is not None and "every test row (3 of 3) is already in its user's train" in hint
    assert "same file" in hint and "--test-frac" not in hint
    assert s.no_targets_hint("test", 3, 1) is None
    assert make_split("user-temporal", users, np.arange(6.0)).no_targets_hint("test", 3, 3) is None


def test_cutoff_refusals_print_timestamps_exactly():
    """Unix seconds are printed whole (%g printed 874724710 as 8.74725e+08), other values
    with every digit they hold."""
    users = np.zeros(3, dtype=np.int64)
    ts = np.array([874724710.0, 880000000.0, 893286638.0])
    with pytest.raises(UsageError) as err:
        make_split("temporal", users, ts, cutoff=874724710.0)
    assert str(err.value).startswith(
        "--cutoff 874724710 leaves train empty (the log's timestamps span 874724710 .. 893286638)"
    )
    assert "e+08" not in str(err.value)
    with pytest.raises(UsageError, match=r"--cutoff 893286638\.5 leaves test empty"):
        make_split("temporal", users, ts, cutoff=893286638.5)
    with pytest.raises(UsageError, match=r"span 0\.123456789 \.\. 2\.5\)"):
        make_split("temporal", users, np.array([0.123456789, 1.0, 2.5]), cutoff=9.0)
    with pytest.raises(UsageError, match=r"all timestamps are equal \(1700000000\)"):
        make_split("temporal", users, np.full(3, 1_700_000_000.0))
    tied = np.array([1_600_000_000.0] * 8 + [1_600_000_001.0] * 2)
    with pytest.raises(UsageError) as err:
        make_split("temporal", np.zeros(10, dtype=np.int64), tied, test_frac=0.5)
    assert "the temporal split's cutoff 1600000000 (" in str(err.value)
    assert "share the earliest time 1600000000;" in str(err.value)
