"""Interaction logs (parquet, CSV, TSV) read lazily through polars.

Column names are set by ``user_col``, ``item_col`` and ``time_col``; RecBole-style headers such
as ``user_id:token`` match ``user_id``. Timestamps may be numbers (any unit, kept as given),
datetimes, or text holding either; everything is converted to float64 seconds-or-units.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from complement.errors import InputError
from complement.io.files import require_file as _require_file
from complement.io.ids import ids_from_series
from complement.io.parquet import parquet_columns, polars_reason, read_parquet

__all__ = ["Interactions", "load_interactions", "load_split_files"]


@dataclass(frozen=True)
class Interactions:
    """A log as parallel arrays. ``users`` are codes into ``user_ids``; ``items`` are ids."""

    path: str
    user_ids: npt.NDArray[np.str_]
    users: npt.NDArray[np.int64]
    items: npt.NDArray[np.str_]
    timestamps: npt.NDArray[np.float64] | None

    @property
    def n_rows(self) -> int:
        return int(self.users.shape[0])


_SNIFF_BYTES = 64 * 1024
_HEADER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_:. -]{0,31}")
#: A read error from polars: any of its exception types, or a panic of its Rust core.
READ_ERRORS: tuple[type[BaseException], ...] = (Exception, pl.exceptions.PanicException)


def csv_quote_char(path: Path, separator: str) -> str | None:
    """``'"'`` when a field near the start of the file opens with a double quote, else None.

    Quoting is recognised only where it is used, so RecBole-style files whose ids contain a
    stray ``"`` keep reading as before, and fully quoted CSV files read as CSV.
    """
    try:
        with path.open("rb") as fh:
            head = fh.read(_SNIFF_BYTES)
    except OSError:
        return None
    head = head.removeprefix(b"\xef\xbb\xbf")
    sep = re.escape(separator.encode())
    return '"' if re.search(rb"(?:^|[\r\n]|" + sep + rb')"', head) else None


def describe_columns(columns: list[str]) -> str:
    """The columns for an error message, unless the first line does not look like a header.

    A file without a header row has data (possibly a secret) on its first line, and polars
    takes that line as the column names: those are never echoed.
    """
    if 0 < len(columns) <= 30 and all(
        _HEADER_NAME.fullmatch(c) and sum(ch.isdigit() for ch in c) <= 4 for c in columns
    ):
        return f"columns: {', '.join(columns)}"
    return (
        f"its first line, {len(columns)} fields not shown here, does not look like a header "
        "row; the file needs a header naming its columns"
    )


class _Parquet:
    """A parquet file read like a LazyFrame (names, then chosen columns) through pyarrow."""

    def __init__(self, path: Path, where: str) -> None:
        self.path, self.where = path, where

    def names(self) -> list[str]:
        return parquet_columns(self.path)

    def collect(self, columns: list[str]) -> pl.DataFrame:
        return read_parquet(self.path, self.where, columns)


class _Csv:
    def __init__(self, lazy: pl.LazyFrame) -> None:
        self.lazy = lazy

    def names(self) -> list[str]:
        return self.lazy.collect_schema().names()

    def collect(self, columns: list[str]) -> pl.DataFrame:
        return self.lazy.select(columns).collect()


def open_table(path: Path, what: str) -> _Parquet | _Csv:
    """A parquet file, or a text file: comma-separated for .csv, tab-separated otherwise.

    Parquet goes through pyarrow (see :func:`read_parquet`); text through polars' lazy CSV
    reader, quoting recognised where the file uses it (:func:`csv_quote_char`).
    """
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return _Parquet(path, f"{what} {path}")
    sep = "," if suffix == ".csv" else "\t"
    return _Csv(
        pl.scan_csv(
            path, separator=sep, quote_char=csv_quote_char(path, sep), infer_schema_length=10000
        )
    )


def _scan(path: Path) -> _Parquet | _Csv:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return open_table(path, "interaction log")
    if suffix in (".csv", ".tsv", ".inter", ".txt"):
        return open_table(path, "interaction log")
    raise InputError(
        f"interaction log {path}: unsupported file type {suffix!r}; use .parquet, .csv or .tsv"
    )


def _resolve_column(columns: list[str], wanted: str, option: str, path: Path) -> str:
    if wanted in columns:
        return wanted
    matches = [c for c in columns if c.split(":", 1)[0] == wanted]
    if len(matches) == 1:
        return matches[0]
    raise InputError(
        f"interaction log {path}: no column {wanted!r} ({describe_columns(columns)}); "
        f"name the right one with {option}"
    )


def _timestamps(series: pl.Series, path: Path, column: str) -> npt.NDArray[np.float64]:
    dtype = series.dtype
    if series.null_count() > 0:
        raise InputError(
            f"interaction log {path}: column {column!r} has {series.null_count()} empty "
            "timestamps; every interaction needs a time"
        )
    try:
        out = _timestamp_values(series, path, column)
    except InputError:
        raise
    except READ_ERRORS:
        raise InputError(
            f"interaction log {path}: column {column!r} has type {dtype} and cannot be read as "
            "timestamps; use unix seconds or ISO 8601 datetimes"
        ) from None
    arr = np.asarray(out, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise InputError(
            f"interaction log {path}: column {column!r} holds "
            f"{int(np.count_nonzero(~np.isfinite(arr)))} NaN or infinite timestamps; "
            "fix or remove those rows"
        )
    return arr


def _timestamp_values(series: pl.Series, path: Path, column: str) -> npt.NDArray[Any]:
    dtype = series.dtype
    if dtype.is_numeric():
        out = series.cast(pl.Float64).to_numpy()
    elif dtype in (pl.Datetime, pl.Date) or isinstance(dtype, pl.Datetime):
        out = series.cast(pl.Datetime("us")).dt.epoch("s").cast(pl.Float64).to_numpy()
    elif dtype == pl.String:
        as_num = series.cast(pl.Float64, strict=False)
        if as_num.null_count() == 0:
            out = as_num.to_numpy()
        else:
            try:
                parsed = series.str.to_datetime(strict=True)
            except READ_ERRORS:  # polars raises ComputeError / InvalidOperationError
                try:
                    loose = series.str.to_datetime(strict=False).is_null()
                except READ_ERRORS:  # no datetime format could be inferred at all
                    loose = pl.Series([True] * series.len())
                mask = (as_num.is_null() & loose).to_numpy()
                rows = np.flatnonzero(mask)
                if rows.size == 0:
                    first = "numbers mixed with datetimes"
                else:
                    value = str(series[int(rows[0])])
                    short = len(value) <= 32 and value.isprintable()
                    first = f"first: {value!r}" if short else f"first on data row {rows[0] + 1}"
                raise InputError(
                    f"interaction log {path}: column {column!r} holds unparsable timestamps "
                    f"({first}); use unix seconds or ISO 8601 datetimes"
                ) from None
            out = parsed.dt.epoch("s").cast(pl.Float64).to_numpy()
    else:
        raise InputError(
            f"interaction log {path}: column {column!r} has type {dtype}, not a timestamp; "
            "use unix seconds or ISO 8601 datetimes"
        )
    return np.asarray(out)


def _ids(series: pl.Series, path: Path, column: str) -> npt.NDArray[np.str_]:
    if series.null_count() > 0:
        raise InputError(
            f"interaction log {path}: column {column!r} has {series.null_count()} empty ids; "
            "every interaction needs a user and an item id"
        )
    return ids_from_series(series, f"interaction log {path} column {column!r}")


def load_interactions(
    path: str | Path,
    *,
    user_col: str = "user_id",
    item_col: str = "item_id",
    time_col: str | None = "timestamp",
) -> Interactions:
    """Read the needed columns only. ``time_col=None`` skips timestamps."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"interaction log {p}: file not found; check the path")
    if p.is_dir():
        raise InputError(f"interaction log {p}: is a folder, not a file; give the log's path")
    _require_file(p, "interaction log")
    try:
        table = _scan(p)
        columns = table.names()
    except InputError:
        raise
    except READ_ERRORS as exc:  # corrupt parquet, undecodable csv, ...
        raise InputError(
            f"interaction log {p}: cannot be read ({polars_reason(exc)}); check the file"
        ) from None
    u = _resolve_column(columns, user_col, "--user-col", p)
    i = _resolve_column(columns, item_col, "--item-col", p)
    wanted = [u, i]
    t: str | None = None
    if time_col is not None:
        t = _resolve_column(columns, time_col, "--time-col", p)
        wanted.append(t)
    if len(set(wanted)) < len(wanted):
        raise InputError(
            f"interaction log {p}: the user, item and time columns must differ "
            f"({', '.join(repr(w) for w in wanted)}); name each with --user-col, --item-col "
            "and --time-col"
        )
    try:
        frame = table.collect(wanted)
    except InputError:
        raise
    except READ_ERRORS as exc:
        raise InputError(
            f"interaction log {p}: cannot be read ({polars_reason(exc)}); check the file"
        ) from None
    if frame.height == 0:
        raise InputError(f"interaction log {p}: has no rows; give a log with interactions")
    user_raw = _ids(frame[u], p, u)
    user_ids, users = np.unique(user_raw, return_inverse=True)
    ts = _timestamps(frame[t], p, t) if t is not None else None
    return Interactions(
        path=str(p),
        user_ids=user_ids,
        users=users.astype(np.int64),
        items=_ids(frame[i], p, i),
        timestamps=ts,
    )


def load_split_files(
    train: str | Path,
    test: str | Path,
    *,
    user_col: str = "user_id",
    item_col: str = "item_id",
    time_col: str | None = "timestamp",
) -> tuple[Interactions, int]:
    """The user's own split: train and test logs concatenated (train first), and train's length."""
    a = load_interactions(train, user_col=user_col, item_col=item_col, time_col=time_col)
    b = load_interactions(test, user_col=user_col, item_col=item_col, time_col=time_col)
    raw_users = np.concatenate([a.user_ids[a.users], b.user_ids[b.users]])
    user_ids, users = np.unique(raw_users, return_inverse=True)
    ts = (
        np.concatenate([a.timestamps, b.timestamps])
        if a.timestamps is not None and b.timestamps is not None
        else None
    )
    merged = Interactions(
        path=f"{a.path}+{b.path}",
        user_ids=user_ids,
        users=users.astype(np.int64),
        items=np.concatenate([a.items, b.items]),
        timestamps=ts,
    )
    return merged, a.n_rows
