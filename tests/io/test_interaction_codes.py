"""Interaction logs held as integer codes: the same ids, codes and rows as one string per row.

``Interactions`` keeps the distinct ids (sorted as strings) and an int64 code per row instead of
one numpy string per row; these tests check that every reader gives exactly what
``np.unique(<canonical id of every row>, return_inverse=True)`` gave before.
"""

from __future__ import annotations

import decimal
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from complement.errors import InputError
from complement.io.coverage import log_coverage
from complement.io.embeddings import Embeddings
from complement.io.ids import ids_from_series
from complement.io.interactions import (
    Interactions,
    id_codes,
    interactions_from_frame,
    load_interactions,
)
from complement.io.split_logs import load_split_files
from complement.io.views import join_views


def per_row(series: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """The reference: canonical strings for every row, then np.unique."""
    ids, inverse = np.unique(ids_from_series(series, "x"), return_inverse=True)
    return ids, inverse.reshape(-1).astype(np.int64)


RNG = np.random.default_rng(0)
SERIES = {
    "int64": pl.Series(RNG.integers(-50, 50, 500)),
    "int-sorted-as-text": pl.Series([10, 2, 1, 100, 2, 33, 10]),
    "uint64-above-2^63": pl.Series([2**64 - 1, 5, 2**63 + 1, 5], dtype=pl.UInt64),
    "int128": pl.Series([3, 1, 2**70, 1], dtype=pl.Int128),
    "float-integers": pl.Series([1.0, -0.0, 0.0, 7.0, 1.0, 2.0**52]),
    "int32": pl.Series(RNG.integers(0, 30, 200), dtype=pl.Int32),
    "text": pl.Series(["b", " a", "a", "c ", "c", "é", "a", "10", "9", "\u00a0x"]),
    "categorical": pl.Series(["x", "y", "x", "z", "y"], dtype=pl.Categorical),
    "binary-utf8": pl.Series([b"7", b"8", b"7"]),
    "decimal": pl.Series([decimal.Decimal(7), decimal.Decimal(8), decimal.Decimal(7)]),
    "one-value": pl.Series(["only"] * 4),
}


@pytest.mark.parametrize("name", list(SERIES))
def test_codes_match_one_string_per_row(name):
    series = SERIES[name]
    ids, codes = id_codes(series, Path("log.csv"), "item_id")
    want_ids, want_codes = per_row(series)
    assert ids.tolist() == want_ids.tolist()
    np.testing.assert_array_equal(codes, want_codes)
    assert codes.dtype == np.int64
    assert ids[codes].tolist() == ids_from_series(series, "x").tolist()


@pytest.mark.parametrize(
    ("series", "message"),
    [
        (pl.Series([1, None, 2]), "has 1 empty ids"),
        (pl.Series([0.5, 1.0]), "non-integer floats"),
        (pl.Series([True, False]), "booleans"),
        (pl.Series([[1], [2]]), "ids have type List"),
        (pl.Series([b"\xff", b"a"]), "not UTF-8 text"),
    ],
)
def test_codes_refuse_what_the_strings_refused(series, message):
    with pytest.raises(InputError, match=message):
        id_codes(series, Path("log.csv"), "item_id")


def _frame(n: int = 2000) -> pl.DataFrame:
    rng = np.random.default_rng(1)
    return pl.DataFrame(
        {
            "user_id": rng.integers(0, 300, n),
            "item_id": rng.integers(0, 120, n).astype(str),
            "timestamp": rng.integers(0, 10**6, n),
        }
    )


def test_loaded_log_matches_the_string_reference(tmp_path):
    frame = _frame()
    frame.write_parquet(tmp_path / "log.parquet")
    frame.write_csv(tmp_path / "log.csv")
    for name in ("log.parquet", "log.csv"):
        log = load_interactions(tmp_path / name)
        want_users, want_codes = per_row(frame["user_id"])
        assert log.user_ids.tolist() == want_users.tolist()
        np.testing.assert_array_equal(log.users, want_codes)
        assert log.items.tolist() == ids_from_series(frame["item_id"], "x").tolist()
        assert log.item_ids.tolist() == sorted(set(log.items.tolist()))
        np.testing.assert_array_equal(log.timestamps, frame["timestamp"].to_numpy())
        assert log.n_rows == frame.height


def test_constructor_still_takes_items_per_row():
    """``Interactions(path, user_ids, users, items=..., timestamps=...)`` as before the codes
    (complement/io/loaders.py builds in-memory logs this way)."""
    items = np.array(["b", "a", "b", "c"])
    log = Interactions(
        path="mem",
        user_ids=np.array(["u"]),
        users=np.zeros(4, dtype=np.int64),
        items=items,
        timestamps=None,
    )
    assert log.item_ids.tolist() == ["a", "b", "c"]
    assert log.item_codes.tolist() == [1, 0, 1, 2]
    assert log.items.tolist() == items.tolist()
    same = interactions_from_frame(
        pl.DataFrame({"u": ["u"] * 4, "i": items}), "mem", Path("mem"), "u", "i", None
    )
    assert same.item_ids.tolist() == log.item_ids.tolist()
    np.testing.assert_array_equal(same.item_codes, log.item_codes)
    with pytest.raises(TypeError):
        Interactions(path="x", user_ids=items, users=log.users)


def test_split_files_merge_codes_like_strings(tmp_path):
    frame = _frame()
    frame[:1200].write_csv(tmp_path / "train.csv")
    frame[1200:].with_columns(pl.col("user_id") + 250).write_csv(tmp_path / "test.csv")
    merged, n_train = load_split_files(tmp_path / "train.csv", tmp_path / "test.csv")
    assert n_train == 1200
    users = np.concatenate([frame["user_id"][:1200], frame["user_id"][1200:] + 250]).astype(str)
    want_ids, want_codes = np.unique(users, return_inverse=True)
    assert merged.user_ids.tolist() == want_ids.tolist()
    np.testing.assert_array_equal(merged.users, want_codes)
    assert merged.items.tolist() == frame["item_id"].to_list()
    assert merged.item_ids.tolist() == sorted(set(frame["item_id"].to_list()))


def test_coverage_maps_codes_like_strings(tmp_path):
    frame = _frame()
    frame.write_parquet(tmp_path / "log.parquet")
    log = load_interactions(tmp_path / "log.parquet")
    rng = np.random.default_rng(2)
    ids = np.arange(0, 100).astype(str)  # items 100..119 of the log have no embeddings
    views = join_views(
        Embeddings("s.npy", "semantic", ids, rng.standard_normal((100, 4)).astype(np.float32)),
        Embeddings("c.npy", "collaborative", ids, rng.standard_normal((100, 3)).astype(np.float32)),
    )
    index, info = log_coverage(log, views, max_missing=0.5)
    position = {item: j for j, item in enumerate(views.ids.tolist())}
    want = np.array([position.get(item, -1) for item in frame["item_id"].to_list()])
    np.testing.assert_array_equal(index, want)
    assert info["n_rows_without_embeddings"] == int((want < 0).sum())
    assert info["n_items_without_embeddings"] == 20
    assert info["n_items_in_log"] == 120


@pytest.mark.parametrize(
    "dtype", [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64]
)
def test_small_range_integer_codes_equal_a_sort(dtype):
    """Integer ids within a small range are coded by a table: np.unique's exact answer."""
    from complement.io.interactions import _small_range_codes

    rng = np.random.default_rng(3)
    info = np.iinfo(dtype)
    for lo in {int(info.min), 0, int(info.max) - 200}:
        column = rng.integers(lo, min(int(info.max), lo + 200), 1000, dtype=dtype, endpoint=True)
        values, codes = _small_range_codes(column)
        want_values, want_codes = np.unique(column, return_inverse=True)
        assert values.dtype == want_values.dtype
        np.testing.assert_array_equal(values, want_values)
        assert codes.dtype == np.int64
        np.testing.assert_array_equal(codes, want_codes.reshape(-1))
    wide = np.array([0, 2**40, 5], dtype=np.int64)
    assert _small_range_codes(wide) is None  # a wide range is left to the sort


def _positional_views(n: int, *, with_ids: bool = False):
    rng = np.random.default_rng(4)
    ids = np.arange(n).astype(str)
    sem, cf = (rng.standard_normal((n, d)).astype(np.float32) for d in (4, 3))
    return join_views(
        Embeddings("s.npy", "semantic", ids, sem, ids_from_rows=not with_ids),
        Embeddings("c.npy", "collaborative", ids, cf, ids_from_rows=not with_ids),
    )


def _log_of(items: list[int]) -> Interactions:
    frame = pl.DataFrame({"user_id": [j % 7 for j in range(len(items))], "item_id": items})
    return interactions_from_frame(frame, "log", Path("log"), "user_id", "item_id", None)


def test_views_without_ids_against_a_log_shifted_by_one_are_refused():
    """Bare .npy views (rows 0..49) and a MovieLens-style log (ids 1..50) used to be joined
    silently: each item scored with its neighbour's vector, one log item 'without embeddings'."""
    log = _log_of(list(range(1, 51)))
    with pytest.raises(InputError, match="look shifted by one") as caught:
        log_coverage(log, _positional_views(50))
    assert "50 of the log's 50 items match if row i is item id i+1, 49 as given" in str(
        caught.value
    )
    # with --positional-ids, or with ids given, the same log is joined as given
    given = ((_positional_views(50), True), (_positional_views(50, with_ids=True), False))
    for views, flag in given:
        index, info = log_coverage(log, views, positional_ids=flag)
        assert info["n_items_without_embeddings"] == 1 and index.tolist()[:3] == [1, 2, 3]


def test_a_log_with_unembedded_items_is_not_a_shift():
    """A shift that matches more items but leaves many without a row is coverage, not a shift;
    a log matching the rows as given is never a shift."""
    for items in (list(range(5)) + list(range(1000, 1006)), list(range(0, 40)), [3, 4, 5]):
        _, info = log_coverage(_log_of(items), _positional_views(50))
        assert info["n_items_in_log"] == len(set(items))
