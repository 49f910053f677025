"""Interaction logs (parquet, CSV, TSV) read lazily through polars.

Column names are set by ``user_col``, ``item_col`` and ``time_col``; RecBole-style headers such
as ``user_id:token`` match ``user_id``. Timestamps may be numbers (any unit, kept as given),
datetimes, or text holding either; everything is converted to float64 seconds-or-units. Text
dates with the day and month as numbers (``01/02/2020``: DD/MM or MM/DD?) are refused, and so
is a column that mixes times with a UTC offset and times without one.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from complement.errors import InputError
from complement.io.files import require_file as _require_file
from complement.io.ids import canonical_ids, empty_count, ids_from_series
from complement.io.parquet import polars_reason
from complement.io.tables_in import (
    Table,
    describe_columns,
    open_table,
    read_errors,
    separator_hint,
)

if TYPE_CHECKING:
    import polars as pl

__all__ = [
    "Interactions",
    "id_codes",
    "interactions_from_frame",
    "load_interactions",
]

#: dates such as 01/02/2020, 1.2.2020 or 01-02-20: day and month in either order
_DAY_MONTH = r"^\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}(?:\D|$)"
#: ISO 8601 datetimes with a UTC offset or Z, and without one
_ISO_DATE = r"^\d{4}-\d{2}-\d{2}"
_ZONED = _ISO_DATE + r"[T ].*(?:[Zz]|[+-]\d{2}(?::?\d{2})?)$"
_NAIVE = _ISO_DATE + r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)?$"


@dataclass(frozen=True, init=False)
class Interactions:
    """A log as parallel arrays of integer codes, with strings for the distinct ids only.

    Row ``r`` is user ``user_ids[users[r]]`` and item ``item_ids[item_codes[r]]``;
    ``user_ids`` and ``item_ids`` are the distinct canonical ids, sorted as strings. A log of
    millions of rows thus costs 16 bytes a row for its ids (plus 8 for a timestamp), never one
    Python or numpy string per row. :attr:`items` (one id string per row) is built on demand.

    The constructor also takes ``items=`` (one canonical id string per row), as it did before
    the codes: ``Interactions(path=..., user_ids=..., users=..., items=..., timestamps=...)``
    gives the same object as the codes would.
    """

    path: str
    user_ids: npt.NDArray[np.str_]
    users: npt.NDArray[np.int64]
    item_ids: npt.NDArray[np.str_]
    item_codes: npt.NDArray[np.int64]
    timestamps: npt.NDArray[np.float64] | None

    def __init__(
        self,
        path: str,
        user_ids: npt.NDArray[np.str_],
        users: npt.NDArray[np.int64],
        items: npt.NDArray[np.str_] | None = None,
        timestamps: npt.NDArray[np.float64] | None = None,
        *,
        item_ids: npt.NDArray[np.str_] | None = None,
        item_codes: npt.NDArray[np.int64] | None = None,
    ) -> None:
        if items is not None:
            if item_ids is not None or item_codes is not None:
                raise TypeError("give items, or item_ids with item_codes, not both")
            item_ids, codes = np.unique(np.asarray(items, dtype=str), return_inverse=True)
            item_codes = codes.reshape(-1).astype(np.int64, copy=False)
        if item_ids is None or item_codes is None:
            raise TypeError("Interactions needs items, or item_ids and item_codes")
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "user_ids", user_ids)
        object.__setattr__(self, "users", users)
        object.__setattr__(self, "item_ids", item_ids)
        object.__setattr__(self, "item_codes", item_codes)
        object.__setattr__(self, "timestamps", timestamps)

    @property
    def n_rows(self) -> int:
        return int(self.users.shape[0])

    @property
    def items(self) -> npt.NDArray[np.str_]:
        """The item id of every row (built on demand: one string per row)."""
        return self.item_ids[self.item_codes]


def _scan(path: Path) -> Table:
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
    wrong = separator_hint(columns, path)
    if wrong is not None:
        raise InputError(f"interaction log {path}: {wrong}")
    raise InputError(
        f"interaction log {path}: no column {wanted!r} ({describe_columns(columns, path)}); "
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
    except read_errors():
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
    import polars as pl

    dtype = series.dtype
    if dtype.is_numeric():
        out = series.cast(pl.Float64).to_numpy()
    elif dtype in (pl.Datetime, pl.Date) or isinstance(dtype, pl.Datetime):
        out = series.cast(pl.Datetime("us")).dt.epoch("s").cast(pl.Float64).to_numpy()
    elif dtype == pl.String:
        series = series.str.strip_chars()
        as_num = series.cast(pl.Float64, strict=False)
        if as_num.null_count() == 0:
            out = as_num.to_numpy()
        else:
            text = as_num.is_null()
            day_month = (series.str.contains(_DAY_MONTH) & text).to_numpy()
            if day_month.any():
                raise InputError(
                    f"interaction log {path}: column {column!r} holds dates written with the "
                    f"day and month as numbers ({_first(series, day_month)}), which read as "
                    "DD/MM or MM/DD alike; write them as ISO 8601 (YYYY-MM-DD) or unix seconds"
                )
            try:
                parsed = series.str.to_datetime(strict=True)
            except read_errors():  # polars raises ComputeError / InvalidOperationError
                zoned = (series.str.contains(_ZONED) & text).to_numpy()
                naive = (series.str.contains(_NAIVE) & text).to_numpy()
                if zoned.any() and naive.any():
                    raise InputError(
                        f"interaction log {path}: column {column!r} mixes times with a UTC "
                        f"offset ({_first(series, zoned)}) and times without one "
                        f"({_first(series, naive)}); give every time an offset (Z for UTC) "
                        "or none"
                    ) from None
                try:
                    loose = series.str.to_datetime(strict=False).is_null()
                except read_errors():  # no datetime format could be inferred at all
                    loose = pl.Series([True] * series.len())
                mask = (text & loose).to_numpy()
                first = _first(series, mask) if mask.any() else "numbers mixed with datetimes"
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


def _first(series: pl.Series, mask: npt.NDArray[np.bool_]) -> str:
    """The first value where ``mask`` holds, for a message: quoted when short and printable,
    else its data row."""
    row = int(np.flatnonzero(mask)[0])
    value = str(series[row])
    short = len(value) <= 32 and value.isprintable()
    return f"first: {value!r}" if short else f"first on data row {row + 1}"


def _ids(series: pl.Series, path: Path, column: str) -> npt.NDArray[np.str_]:
    """The canonical id of every row (one string per row; :func:`id_codes` avoids that)."""
    ids, codes = id_codes(series, path, column)
    return ids[codes]


def id_codes(
    series: pl.Series, path: Path, column: str
) -> tuple[npt.NDArray[np.str_], npt.NDArray[np.int64]]:
    """(the distinct canonical ids sorted as strings, the code of every row into them).

    The same ids and codes as ``np.unique(canonical ids of every row, return_inverse=True)``,
    without one string per row: the column's own values are coded (numbers by numpy, whose
    temporary arrays go back to the system at once; text and other types ranked by polars),
    only the distinct values become canonical strings, and values that turn into the same id
    (``" 7"`` and ``"7"``, ``-0.0`` and ``0.0``) are merged afterwards.
    """
    import polars as pl

    where = f"interaction log {path} column {column!r}"
    nulls = empty_count(series)
    if nulls > 0:
        raise InputError(
            f"interaction log {path}: column {column!r} has {nulls} empty ids; "
            "every interaction needs a user and an item id"
        )
    ids_from_series(series.head(0), where)  # refuses lists, structs, booleans, ... up front
    n = series.len()
    if n == 0:
        return np.empty(0, dtype=str), np.empty(0, dtype=np.int64)
    dtype = series.dtype
    if dtype.is_float() or (dtype.is_integer() and dtype not in (pl.Int128, pl.UInt128)):
        raw = series.to_numpy()
        coded = _small_range_codes(raw) if dtype.is_integer() else None
        if coded is None:
            values, inverse = np.unique(raw, return_inverse=True)
            coded = values, inverse.reshape(-1).astype(np.int64, copy=False)
            del inverse
        del raw
        values, codes = coded
        distinct = canonical_ids(values, where)
    else:
        if isinstance(dtype, pl.Categorical | pl.Enum):
            series = series.cast(pl.String)
        codes = np.asarray(series.rank("dense").to_numpy(), dtype=np.int64)  # 1 .. m
        codes -= 1
        first = np.empty(int(codes.max()) + 1, dtype=np.int64)  # a row holding each value
        first[codes] = np.arange(n, dtype=np.int64)
        distinct = ids_from_series(series.gather(first), where)
    ids, remap = np.unique(distinct, return_inverse=True)
    np.take(remap.reshape(-1).astype(np.int64, copy=False), codes, out=codes)
    return ids, codes


def _small_range_codes(
    column: npt.NDArray[Any],
) -> tuple[npt.NDArray[Any], npt.NDArray[np.int64]] | None:
    """``np.unique(column, return_inverse=True)`` for integers within a range of at most a few
    times their count (ids 0..n, 1..n, ...), by a table over the range instead of a sort: the
    same distinct values (sorted, same dtype) and codes, in a fraction of the time and memory.
    None for a wider range (the caller sorts)."""
    lo, hi = column.min(), column.max()
    span = int(hi) - int(lo) + 1
    if span > max(4 * column.size, 1 << 16):
        return None
    shifted = np.subtract(column, lo, dtype=np.int64)  # within 0 .. span - 1: no overflow
    present = np.zeros(span, dtype=bool)
    present[shifted] = True
    code_of = np.cumsum(present, dtype=np.int64)
    code_of -= 1
    np.take(code_of, shifted, out=shifted)
    del code_of
    values = np.flatnonzero(present).astype(column.dtype)
    values += lo
    return values, shifted


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
    except read_errors() as exc:  # corrupt parquet, undecodable csv, ...
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
    except read_errors() as exc:
        raise InputError(
            f"interaction log {p}: cannot be read ({polars_reason(exc)}); check the file"
        ) from None
    log = interactions_from_frame(frame, str(p), p, u, i, t)
    del frame, table
    _release_arrow_memory()
    return log


def _release_arrow_memory() -> None:
    """Hand the memory pyarrow kept from reading a parquet log back to the system.

    Its pool keeps freed blocks for reuse; after a log of millions of rows that is hundreds
    of megabytes that the rest of the run (retrieval, bootstrap) would be counted on top of.
    """
    arrow = sys.modules.get("pyarrow")
    if arrow is not None:
        try:
            arrow.default_memory_pool().release_unused()
        except Exception:  # pragma: no cover - an older pyarrow without release_unused
            pass


def interactions_from_frame(
    frame: pl.DataFrame, label: str, where: Path, user: str, item: str, time: str | None
) -> Interactions:
    """A log from a frame whose columns are resolved (``user``, ``item``, ``time`` or None).

    ``label`` becomes :attr:`Interactions.path`; ``where`` names the log in messages. The ids
    are read as codes (:func:`id_codes`), never as one string per row.
    """
    if frame.height == 0:
        raise InputError(f"interaction log {label}: has no rows; give a log with interactions")
    user_ids, users = id_codes(frame[user], where, user)
    ts = _timestamps(frame[time], where, time) if time is not None else None
    item_ids, item_codes = id_codes(frame[item], where, item)
    return Interactions(
        path=label,
        user_ids=user_ids,
        users=users,
        timestamps=ts,
        item_ids=item_ids,
        item_codes=item_codes,
    )
