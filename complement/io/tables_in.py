"""Tables read by the loaders: parquet through pyarrow, CSV/TSV through polars.

:func:`open_table` gives the same two calls for both (column names, then chosen columns), so
the interaction-log and item-metadata readers share one way of opening a file; quoting is
recognised only where a CSV file uses it, and error messages never echo a file's first line
unless it looks like a header.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from complement.io.parquet import parquet_columns, read_parquet

if TYPE_CHECKING:
    import polars as pl

__all__ = [
    "Table",
    "csv_quote_char",
    "describe_columns",
    "open_table",
    "read_errors",
]

_SNIFF_BYTES = 64 * 1024
_HEADER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_:. -]{0,31}")


def read_errors() -> tuple[type[BaseException], ...]:
    """A read error from polars: any of its exception types, or a panic of its Rust core.

    A function, so that polars is imported only where a table is read (``except
    read_errors():`` is evaluated only when an exception reaches it).
    """
    import polars as pl

    return (Exception, pl.exceptions.PanicException)


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
    """A CSV/TSV file read lazily by polars."""

    def __init__(self, lazy: pl.LazyFrame) -> None:
        self.lazy = lazy

    def names(self) -> list[str]:
        return self.lazy.collect_schema().names()

    def collect(self, columns: list[str]) -> pl.DataFrame:
        return self.lazy.select(columns).collect()


Table = _Parquet | _Csv


def open_table(path: Path, what: str) -> Table:
    """A parquet file, or a text file: comma-separated for .csv, tab-separated otherwise.

    Parquet goes through pyarrow (see :func:`read_parquet`); text through polars' lazy CSV
    reader, quoting recognised where the file uses it (:func:`csv_quote_char`).
    """
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return _Parquet(path, f"{what} {path}")
    import polars as pl

    sep = "," if suffix == ".csv" else "\t"
    return _Csv(
        pl.scan_csv(
            path, separator=sep, quote_char=csv_quote_char(path, sep), infer_schema_length=10000
        )
    )
