"""Segment labels for ``--segment-col``: one column of the items table or of the users table.

:func:`segment_source` decides where the column lives (``--items``, ``--users``, or the
built-in ``activity``); :func:`load_segment_labels` reads the key column and the label column
and maps the labels onto the run's keys (the joined views' item ids, or the log's user ids).

Labels are text, integers, booleans or categoricals, or lists of them (a list puts a row in
every segment it names); empty labels and nulls put a row in no segment. A text table (CSV,
TSV) has no list type: its text labels are split on ``|`` (``Action|Comedy`` is the list
``[Action, Comedy]``, each piece stripped of surrounding white space). The key column is
``--item-col`` for the items table and ``--user-col`` for the users table; RecBole-style
headers such as ``genre:token_seq`` match ``genre``. ``activity`` names the built-in user
segments; a table that also has a column called ``activity`` is refused as ambiguous.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from complement.errors import InputError, UsageError
from complement.io.files import require_file
from complement.io.ids import unique_ids_from_series
from complement.io.parquet import polars_reason
from complement.io.tables_in import describe_columns, open_table, read_errors
from complement.io.views import map_ids

if TYPE_CHECKING:
    import polars as pl

__all__ = [
    "ACTIVITY",
    "LIST_SEPARATOR",
    "MAX_SEGMENTS",
    "SegmentLabels",
    "load_segment_labels",
    "segment_source",
    "split_text_labels",
    "table_columns",
]

ACTIVITY = "activity"
#: separates the labels of one row in a text (CSV/TSV) table's segment column: ``A|B``
LIST_SEPARATOR = "|"
#: more distinct labels than this is refused (a segment column holds few labels)
MAX_SEGMENTS = 200
_SUFFIXES = (".parquet", ".csv", ".tsv", ".item", ".user", ".txt")
_WHAT = {"items": "item metadata", "users": "user metadata"}
_OPTION = {"items": "--items", "users": "--users"}


@dataclass(frozen=True)
class SegmentLabels:
    """``members[s]``: the positions in the run's keys of the rows labelled ``names[s]``."""

    path: str
    column: str
    names: tuple[str, ...]
    members: tuple[npt.NDArray[np.int64], ...]
    #: keys that no segment holds (not in the table, or an empty label)
    n_unassigned: int


def _open(path: Path, what: str) -> Any:
    if not path.exists():
        raise InputError(f"{what} {path}: file not found; check the path")
    require_file(path, what)
    if path.suffix.lower() not in _SUFFIXES:
        raise InputError(
            f"{what} {path}: unsupported file type {path.suffix!r}; use .parquet, .csv or .tsv"
        )
    return open_table(path, what)


def _match(columns: list[str], wanted: str) -> str | None:
    if wanted in columns:
        return wanted
    matches = [c for c in columns if c.split(":", 1)[0] == wanted]
    return matches[0] if len(matches) == 1 else None


def table_columns(path: str | Path, what: str) -> list[str]:
    """The column names of a metadata table."""
    p = Path(path)
    table = _open(p, what)
    try:
        return list(table.names())
    except read_errors() as exc:
        raise InputError(
            f"{what} {p}: cannot be read ({polars_reason(exc)}); check the file"
        ) from None


def segment_source(column: str, items: Any, users: Any) -> str:
    """``items``, ``users`` or ``activity``: where ``--segment-col COLUMN`` is read from."""
    tables = {
        source: table_columns(value, _WHAT[source])
        for source, value in (("items", items), ("users", users))
        if isinstance(value, (str, Path))
    }
    found = [source for source, cols in tables.items() if _match(cols, column) is not None]
    if column == ACTIVITY:
        if found:
            where = items if found[0] == "items" else users
            raise UsageError(
                "--segment-col activity is ambiguous: it names the built-in user-activity "
                f"segments and a column of {_OPTION[found[0]]} {where}; "
                "rename that column to segment by it, or leave the table out for the built-in"
            )
        return ACTIVITY
    if len(found) == 2:
        raise UsageError(
            f"--segment-col {column!r} is a column of both --items {items} and --users {users}; "
            "rename one of them"
        )
    if found:
        return found[0]
    if not tables:
        raise UsageError(
            f"--segment-col {column!r} needs a table holding that column: pass --items ITEMS "
            "(item segments) or --users USERS (user segments), or use --segment-col activity"
        )
    listed = "; ".join(
        f"{_OPTION[source]} has {describe_columns(cols)}" for source, cols in tables.items()
    )
    raise UsageError(
        f"--segment-col {column!r} is not a column of the tables given ({listed}); name one "
        "of their columns, or use --segment-col activity"
    )


def _label_type(dtype: Any) -> bool:
    import polars as pl

    return bool(
        dtype == pl.String
        or dtype.is_integer()
        or dtype == pl.Boolean
        or dtype == pl.Categorical
        or isinstance(dtype, pl.Enum)
    )


def _labels(series: pl.Series, where: str) -> tuple[npt.NDArray[np.int64], list[str]]:
    """(table row, label) pairs; nulls and empty labels left out."""
    import polars as pl

    dtype = series.dtype
    if isinstance(dtype, pl.List) and _label_type(dtype.inner):
        frame = pl.DataFrame({"row": np.arange(series.len()), "label": series}).explode("label")
        values = frame["label"].cast(pl.String)
        keep = (values.is_not_null() & (values != "")).to_numpy()
        rows = frame["row"].to_numpy()[keep].astype(np.int64)
        return rows, values.filter(pl.Series(keep)).to_list()
    if not _label_type(dtype):
        raise InputError(
            f"{where} has type {dtype}; a segment column holds labels (text, integers, "
            "booleans, categories) or lists of them; choose another --segment-col"
        )
    values = series.cast(pl.String)
    keep = (values.is_not_null() & (values != "")).to_numpy()
    return np.flatnonzero(keep).astype(np.int64), values.filter(pl.Series(keep)).to_list()


def split_text_labels(series: pl.Series) -> pl.Series:
    """A text table's label column as lists: ``"A|B"`` names segments ``A`` and ``B``
    (pieces stripped of surrounding white space; empty pieces name none). Text tables have no
    list type, so ``|`` gives them the list semantics of a parquet list column; columns that
    are not text are returned as they are."""
    import polars as pl

    if series.dtype != pl.String:
        return series
    return series.str.split(LIST_SEPARATOR).list.eval(pl.element().str.strip_chars())


def load_segment_labels(
    path: str | Path,
    source: str,
    *,
    column: str,
    key_col: str,
    keys: npt.NDArray[np.str_],
) -> SegmentLabels:
    """Read ``column`` of the items (``source="items"``) or users table and map its labels
    onto ``keys`` (canonical ids: the joined items, or the log's users)."""
    what = _WHAT[source]
    p = Path(path)
    table = _open(p, what)
    key_option = "--item-col" if source == "items" else "--user-col"
    try:
        columns = table.names()
        key = _match(columns, key_col)
        col = _match(columns, column)
        if key is None:
            raise InputError(
                f"{what} {p}: no key column {key_col!r} ({describe_columns(columns, p)}); name it "
                f"with {key_option}"
            )
        if col is None:
            raise UsageError(f"--segment-col {column!r} is not a column of {what} {p}")
        if col == key:
            raise UsageError(
                f"--segment-col {column!r} is the key column of {what} {p}; choose a label column"
            )
        frame = table.collect([key, col])
    except (InputError, UsageError):
        raise
    except read_errors() as exc:
        raise InputError(
            f"{what} {p}: cannot be read ({polars_reason(exc)}); check the file"
        ) from None
    ids = unique_ids_from_series(frame[key], f"{what} {p}", key)
    labels_col = frame[col]
    if p.suffix.lower() != ".parquet":
        labels_col = split_text_labels(labels_col)
    rows, labels = _labels(labels_col, f"{what} {p}: column {col!r}")
    pos = map_ids(ids, np.asarray(keys, dtype=str))
    key_of_row = np.full(ids.shape[0], -1, dtype=np.int64)
    key_of_row[pos[pos >= 0]] = np.flatnonzero(pos >= 0)
    owner = key_of_row[rows]
    keep = owner >= 0
    owner = owner[keep]
    label_arr = np.asarray(labels, dtype=str)[keep] if labels else np.zeros(0, dtype=str)
    names, codes = np.unique(label_arr, return_inverse=True)
    if names.size > MAX_SEGMENTS:
        raise InputError(
            f"{what} {p}: column {col!r} has {names.size} distinct labels on the run's "
            f"{'items' if source == 'items' else 'users'}, more than {MAX_SEGMENTS}; a segment "
            "column holds few labels (genre, country, cohort)"
        )
    members = tuple(np.unique(owner[codes == s]).astype(np.int64) for s in range(names.size))
    assigned = np.zeros(len(keys), dtype=bool)
    assigned[owner] = True
    return SegmentLabels(
        path=str(p),
        column=column,
        names=tuple(str(n) for n in names),
        members=members,
        n_unassigned=int((~assigned).sum()),
    )
