from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from complement.errors import InputError
from complement.io import load_interactions, load_split_files


def test_recbole_headers_and_tsv(tmp_path):
    p = tmp_path / "log.inter"
    p.write_text(
        "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
        "1\t10\t4\t100\n2\t11\t3\t50\n1\t'q\"uote\t5\t70\n"
    )
    log = load_interactions(p)
    assert log.n_rows == 3
    assert log.user_ids.tolist() == ["1", "2"]
    assert log.items.tolist() == ["10", "11", "'q\"uote"]
    np.testing.assert_array_equal(log.timestamps, [100, 50, 70])


def test_parquet_csv_and_column_names(tmp_path):
    df = pl.DataFrame(
        {"u": [1, 2], "i": ["a", "b"], "t": ["2020-01-01T00:00:00", "2020-01-02T00:00:00"]}
    )
    df.write_parquet(tmp_path / "l.parquet")
    log = load_interactions(tmp_path / "l.parquet", user_col="u", item_col="i", time_col="t")
    assert log.timestamps[1] - log.timestamps[0] == 86400
    df.write_csv(tmp_path / "l.csv")
    log = load_interactions(tmp_path / "l.csv", user_col="u", item_col="i", time_col="t")
    assert log.items.tolist() == ["a", "b"]


@pytest.mark.parametrize(
    ("content", "kwargs", "message"),
    [
        ("user_id,item_id,timestamp\n", {}, "has no rows"),
        ("user,item_id,timestamp\n1,2,3\n", {}, "no column 'user_id'"),
        ("user_id,item_id,timestamp\n1,2,yesterday\n", {}, "unparsable timestamps"),
        ("user_id,item_id\n1,2\n", {}, "no column 'timestamp'"),
    ],
)
def test_bad_logs(tmp_path, content, kwargs, message):
    p = tmp_path / "log.csv"
    p.write_text(content)
    with pytest.raises(InputError, match=message):
        load_interactions(p, **kwargs)


def test_missing_and_unsupported(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        load_interactions(tmp_path / "nope.csv")
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(InputError, match="unsupported file type"):
        load_interactions(tmp_path / "x.json")


def test_split_files(tmp_path):
    (tmp_path / "a.csv").write_text("user_id,item_id,timestamp\n1,1,1\n2,2,2\n")
    (tmp_path / "b.csv").write_text("user_id,item_id,timestamp\n3,3,3\n")
    log, n_train = load_split_files(tmp_path / "a.csv", tmp_path / "b.csv")
    assert n_train == 2 and log.n_rows == 3
    assert log.user_ids[log.users].tolist() == ["1", "2", "3"]


def test_fully_quoted_csv(tmp_path):
    p = tmp_path / "q.csv"
    p.write_text(
        '"user_id","item_id","timestamp"\n"1","10","100"\n"2","a, b","50"\n"1","x""y","70"\n'
    )
    log = load_interactions(p)
    assert log.user_ids.tolist() == ["1", "2"]
    assert log.items.tolist() == ["10", "a, b", 'x"y']
    np.testing.assert_array_equal(log.timestamps, [100, 50, 70])


def test_uint64_ids_above_2_63_are_exact(tmp_path):
    big = [2**63 + 1, 2**64 - 1]
    pl.DataFrame(
        {"user_id": pl.Series(big, dtype=pl.UInt64), "item_id": [1, 2], "timestamp": [1, 2]}
    ).write_parquet(tmp_path / "l.parquet")
    log = load_interactions(tmp_path / "l.parquet")
    assert log.user_ids.tolist() == ["18446744073709551615", "9223372036854775809"]
    (tmp_path / "l.csv").write_text(
        "user_id,item_id,timestamp\n1,18446744073709551615,1\n2,9223372036854775809,2\n"
    )
    log = load_interactions(tmp_path / "l.csv")  # polars reads these as Int128
    assert log.items.tolist() == ["18446744073709551615", "9223372036854775809"]


def test_errors_never_echo_the_file(tmp_path):
    secret = "sk_live_0123456789abcdefSECRET"
    (tmp_path / "headerless.csv").write_text(f"{secret},42,1000\n1,2,3\n")
    with pytest.raises(InputError, match="does not look like a header row") as info:
        load_interactions(tmp_path / "headerless.csv")
    assert secret not in str(info.value)
    (tmp_path / "ragged.csv").write_text(f'user_id,item_id,timestamp\n1,2,3\n"{secret},2,3\n')
    with pytest.raises(InputError, match="cannot be read") as info:
        load_interactions(tmp_path / "ragged.csv")
    assert secret not in str(info.value) and "\n" not in str(info.value)
    (tmp_path / "bin.csv").write_bytes(b"user_id,item_id,timestamp\n1,2,3\n\xff\xfe,2,3\n")
    with pytest.raises(InputError, match="not UTF-8 text"):
        load_interactions(tmp_path / "bin.csv")
    long_value = "x" * 40 + secret
    (tmp_path / "ts.csv").write_text(f"user_id,item_id,timestamp\n1,2,3\n1,3,{long_value}\n")
    with pytest.raises(InputError, match="unparsable timestamps") as info:
        load_interactions(tmp_path / "ts.csv")
    assert secret not in str(info.value)


@pytest.mark.parametrize(
    ("column", "values", "message"),
    [
        ("item_id", [[1], [2]], "ids have type List"),
        ("user_id", [{"a": 1}, {"a": 2}], "ids have type Struct"),
        ("item_id", [b"\xff", b"a"], "not UTF-8 text"),
        ("timestamp", [[1], [2]], "has type List"),
        ("timestamp", [{"a": 1}, {"a": 2}], "has type Struct"),
    ],
)
def test_unusable_column_types_are_one_line(tmp_path, column, values, message):
    frame = {"user_id": [1, 2], "item_id": [1, 2], "timestamp": [1, 2]}
    frame[column] = values
    pl.DataFrame(frame).write_parquet(tmp_path / "l.parquet")
    with pytest.raises(InputError, match=message):
        load_interactions(tmp_path / "l.parquet")


def test_same_column_twice_is_refused(tmp_path):
    (tmp_path / "l.csv").write_text("user_id,item_id,timestamp\n1,2,3\n")
    with pytest.raises(InputError, match="must differ"):
        load_interactions(tmp_path / "l.csv", item_col="user_id")


def test_all_equal_timestamps_named_by_the_temporal_split(tmp_path):
    from complement.core.splits import make_split
    from complement.errors import UsageError

    (tmp_path / "l.csv").write_text("user_id,item_id,timestamp\n1,1,5\n2,2,5\n3,3,5\n")
    log = load_interactions(tmp_path / "l.csv")
    with pytest.raises(UsageError) as info:
        make_split("temporal", log.users, log.timestamps)
    msg = str(info.value)
    assert "all timestamps are equal" in msg and "at least two distinct times" in msg
    assert "--cutoff" not in msg
    tied = np.array([1.0] * 8 + [2.0, 3.0])  # the earliest time holds 80% of the log
    with pytest.raises(UsageError, match="8 of the 10 interactions share the earliest time"):
        make_split("temporal", np.zeros(10, dtype=np.int64), tied, test_frac=0.5)


def test_items_tables(tmp_path):
    from complement.io import load_items

    pl.DataFrame({"item_id": [1, 2], "title": [["a"], ["b"]]}).write_parquet(tmp_path / "l.parquet")
    with pytest.raises(InputError, match="title column 'title' has type List"):
        load_items(tmp_path / "l.parquet")
    pl.DataFrame({"item_id": [1, 2], "title": [b"\xff", b"a"]}).write_parquet(
        tmp_path / "b.parquet"
    )
    with pytest.raises(InputError, match="not UTF-8"):
        load_items(tmp_path / "b.parquet")
    pl.DataFrame({"item_id": [1, 2], "title": [b"Heat", None]}).write_parquet(
        tmp_path / "ok.parquet"
    )
    assert load_items(tmp_path / "ok.parquet").titles.tolist() == ["Heat", ""]
    (tmp_path / "e.csv").write_text("item_id,title\n")
    with pytest.raises(InputError, match=r"the table is empty \(0 rows\)"):
        load_items(tmp_path / "e.csv")
    (tmp_path / "u.csv").write_text("item_id,title\n18446744073709551615,big\n")
    assert load_items(tmp_path / "u.csv").ids.tolist() == ["18446744073709551615"]


LOG = "user_id,item_id,timestamp\n1,10,100\n1,11,200\n2,10,150\n"


def test_blank_lines_at_the_end_of_a_log_are_not_rows(tmp_path):
    for end in ("\n", "\n\n\n", "\r\n"):
        (tmp_path / "l.csv").write_text(LOG + end, newline="")
        log = load_interactions(tmp_path / "l.csv")
        assert log.n_rows == 3 and log.user_ids.tolist() == ["1", "2"]
    (tmp_path / "l.tsv").write_text(LOG.replace(",", "\t") + "\n\n")
    assert load_interactions(tmp_path / "l.tsv").n_rows == 3
    (tmp_path / "mid.csv").write_text("user_id,item_id,timestamp\n1,10,100\n\n2,10,150\n")
    with pytest.raises(InputError, match="column 'user_id' has 1 empty ids"):
        load_interactions(tmp_path / "mid.csv")  # a blank line before the end is a row


def test_header_names_padded_with_spaces(tmp_path):
    (tmp_path / "l.csv").write_text("user_id, item_id, timestamp\n1, 10, 100\n1, 11, 200\n")
    log = load_interactions(tmp_path / "l.csv")
    assert log.user_ids.tolist() == ["1"] and log.items.tolist() == ["10", "11"]
    np.testing.assert_array_equal(log.timestamps, [100, 200])
    (tmp_path / "same.csv").write_text("user_id,item_id, item_id,timestamp\n1,2,3,4\n")
    assert load_interactions(tmp_path / "same.csv").items.tolist() == ["2"]  # ambiguous: as is
    (tmp_path / "dup.csv").write_text("user_id, user_id,item_id, timestamp\n1,2,3,4\n")
    with pytest.raises(InputError, match="has names with spaces around them, which are kept"):
        load_interactions(tmp_path / "dup.csv")


def test_wrong_separator_for_the_suffix_is_named(tmp_path):
    (tmp_path / "l.tsv").write_text(LOG)
    with pytest.raises(InputError) as info:
        load_interactions(tmp_path / "l.tsv")
    msg = str(info.value)
    assert "its first line has no tab but 2 commas" in msg and "rename it to .csv" in msg, msg
    assert "does not look like a header row" not in msg
    (tmp_path / "l.csv").write_text(LOG.replace(",", "\t"))
    with pytest.raises(InputError, match=r"no comma but 2 tabs.*rename it to \.tsv"):
        load_interactions(tmp_path / "l.csv")


def test_empty_text_ids_in_a_log_are_refused(tmp_path):
    pl.DataFrame(
        {"user_id": ["a", " ", "b"], "item_id": [1, 2, 3], "timestamp": [1, 2, 3]}
    ).write_parquet(tmp_path / "l.parquet")
    with pytest.raises(InputError, match="column 'user_id' has 1 empty ids"):
        load_interactions(tmp_path / "l.parquet")


def _log_with_times(tmp_path, times):
    rows = "".join(f"1,{i},{t}\n" for i, t in enumerate(times))
    (tmp_path / "t.csv").write_text("user_id,item_id,timestamp\n" + rows)
    return tmp_path / "t.csv"


def test_naive_and_zoned_times_mixed_are_named(tmp_path):
    p = _log_with_times(tmp_path, ["2020-01-01T00:01:00", "2020-01-01T00:02:00+02:00"])
    with pytest.raises(InputError) as info:
        load_interactions(p)
    msg = str(info.value)
    assert "mixes times with a UTC offset (first: '2020-01-01T00:02:00+02:00')" in msg, msg
    assert "times without one (first: '2020-01-01T00:01:00')" in msg
    assert "unparsable" not in msg
    zoned = load_interactions(_log_with_times(tmp_path, ["2020-01-01T00:00:00Z",
                                                         "2020-01-01T02:00:00+02:00"]))  # fmt: skip
    assert zoned.timestamps[0] == zoned.timestamps[1]


@pytest.mark.parametrize("first", ["01/02/2020", "1.2.2020", "01-02-2020", "13/02/2020 10:00"])
def test_day_month_dates_are_refused_as_ambiguous(tmp_path, first):
    with pytest.raises(InputError) as info:
        load_interactions(_log_with_times(tmp_path, [first, "03/04/2020"]))
    msg = str(info.value)
    assert f"day and month as numbers (first: {first!r})" in msg and "ISO 8601" in msg, msg
    for times in (["2020-02-01", "2020-04-03"], ["2020/02/01", "2020/04/03"], [" 5 ", "6"]):
        log = load_interactions(_log_with_times(tmp_path, times))  # ISO, year first, numbers
        assert log.timestamps[0] < log.timestamps[1]
