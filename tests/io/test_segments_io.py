"""Reading --segment-col: where the column lives, list and scalar labels, refusals."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from complement.errors import InputError, UsageError
from complement.io.segments import MAX_SEGMENTS, load_segment_labels, segment_source


@pytest.fixture
def items(tmp_path):
    path = tmp_path / "items.parquet"
    pl.DataFrame(
        {
            "item_id": [1, 2, 3, 4, 5],
            "genres": [["Action", "Comedy"], ["Comedy"], [], None, ["Action", ""]],
            "year": [1990, 1995, 1990, None, 2000],
            "score": [0.1, 0.2, 0.3, 0.4, 0.5],
        }
    ).write_parquet(path)
    return path


@pytest.fixture
def users(tmp_path):
    path = tmp_path / "users.csv"
    path.write_text("user_id,country,activity\nu1,FR,1\nu2,DE,2\nu3,FR,3\n")
    return path


def _members(labels):
    return {n: m.tolist() for n, m in zip(labels.names, labels.members, strict=True)}


def test_list_column_puts_an_item_in_every_segment(items):
    keys = np.array(["5", "1", "2", "3", "9"])  # run order differs; 9 not in the table
    labels = load_segment_labels(items, "items", column="genres", key_col="item_id", keys=keys)
    assert labels.names == ("Action", "Comedy")
    assert _members(labels) == {"Action": [0, 1], "Comedy": [1, 2]}
    assert labels.n_unassigned == 2  # item 3 (empty list) and 9 (not listed)


def test_integer_column_and_nulls(items):
    keys = np.array(["1", "2", "3", "4", "5"])
    labels = load_segment_labels(items, "items", column="year", key_col="item_id", keys=keys)
    assert _members(labels) == {"1990": [0, 2], "1995": [1], "2000": [4]}
    assert labels.n_unassigned == 1


def test_users_table_csv(users):
    keys = np.array(["u3", "u1", "u2", "u4"])
    labels = load_segment_labels(users, "users", column="country", key_col="user_id", keys=keys)
    assert _members(labels) == {"DE": [2], "FR": [0, 1]} and labels.n_unassigned == 1


@pytest.mark.parametrize("suffix", [".csv", ".tsv"])
def test_text_table_labels_split_on_the_bar_like_a_list_column(items, tmp_path, suffix):
    """``A|B`` in a CSV/TSV segment column is the list [A, B]: the same segments as the
    parquet list column holding the same labels."""
    sep = "," if suffix == ".csv" else "\t"
    text = tmp_path / f"items{suffix}"
    rows = ["1", "Action|Comedy"], ["2", "Comedy"], ["3", ""], ["4", ""], ["5", "Action|"]
    text.write_text(
        sep.join(["item_id", "genres"]) + "\n" + "".join(sep.join(r) + "\n" for r in rows)
    )
    keys = np.array(["5", "1", "2", "3", "9"])
    from_text = load_segment_labels(text, "items", column="genres", key_col="item_id", keys=keys)
    from_list = load_segment_labels(items, "items", column="genres", key_col="item_id", keys=keys)
    assert from_text.names == from_list.names == ("Action", "Comedy")
    assert _members(from_text) == _members(from_list) == {"Action": [0, 1], "Comedy": [1, 2]}
    assert from_text.n_unassigned == from_list.n_unassigned == 2


def test_bar_separated_user_labels_are_stripped_and_deduplicated(tmp_path):
    path = tmp_path / "users.csv"
    path.write_text('user_id,cohort\nu1,"2020 | trial"\nu2,2021\nu3,trial|trial||\nu4,\n')
    keys = np.array(["u1", "u2", "u3", "u4"])
    labels = load_segment_labels(path, "users", column="cohort", key_col="user_id", keys=keys)
    assert _members(labels) == {"2020": [0], "2021": [1], "trial": [0, 2]}
    assert labels.n_unassigned == 1


def test_bar_is_kept_in_parquet_text_labels(tmp_path):
    """Parquet has list columns: a text label there is one label, ``|`` and all."""
    path = tmp_path / "items.parquet"
    pl.DataFrame({"item_id": [1, 2], "kind": ["A|B", "A"]}).write_parquet(path)
    keys = np.array(["1", "2"])
    labels = load_segment_labels(path, "items", column="kind", key_col="item_id", keys=keys)
    assert _members(labels) == {"A": [1], "A|B": [0]}


def test_where_the_column_lives(items, users):
    assert segment_source("genres", items, None) == "items"
    assert segment_source("country", items, users) == "users"
    assert segment_source("activity", items, None) == "activity"
    assert segment_source("activity", None, None) == "activity"
    with pytest.raises(UsageError, match="ambiguous"):
        segment_source("activity", items, users)  # users.csv has a column 'activity'
    with pytest.raises(UsageError, match="not a column of the tables given"):
        segment_source("nope", items, users)
    with pytest.raises(UsageError, match="needs a table"):
        segment_source("genres", None, None)
    with pytest.raises(InputError, match="file not found"):
        segment_source("genres", items.parent / "missing.parquet", None)


def test_refusals(items, tmp_path):
    keys = np.array(["1", "2"])
    with pytest.raises(InputError, match="has type Float64"):
        load_segment_labels(items, "items", column="score", key_col="item_id", keys=keys)
    with pytest.raises(InputError, match="no key column 'movie'"):
        load_segment_labels(items, "items", column="year", key_col="movie", keys=keys)
    dup = tmp_path / "dup.csv"
    dup.write_text("item_id,g\n1,a\n1,b\n")
    with pytest.raises(InputError, match="duplicate ids"):
        load_segment_labels(dup, "items", column="g", key_col="item_id", keys=keys)
    many = tmp_path / "many.csv"
    n = MAX_SEGMENTS + 1
    many.write_text("item_id,g\n" + "".join(f"{i},label{i}\n" for i in range(n)))
    with pytest.raises(InputError, match="distinct labels"):
        load_segment_labels(
            many, "items", column="g", key_col="item_id", keys=np.arange(n).astype(str)
        )
