"""Tables read by the loaders: parquet through pyarrow, CSV/TSV through polars.

:func:`open_table` gives the same two calls for both (column names, then chosen columns), so
the interaction-log and item-metadata readers share one way of opening a file; quoting is
recognised only where a CSV file uses it, and error messages never echo a file's first line
unless it looks like a header. In text tables, spaces around the header's names are dropped
(``user_id, item_id``) when that leaves distinct names, and blank lines at the end of the
file are not rows.
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
    "drop_trailing_blank_rows",
    "open_table",
    "read_errors",
    "separator_hint",
    "stripped_names",
    "trailing_blank_lines",
]

_SNIFF_BYTES = 64 * 1024
#: separators a text table may hold by mistake, as named in messages
_SEPARATORS = {",": "comma", "\t": "tab", ";": "semicolon", "|": "bar"}
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


def describe_columns(columns: list[str], path: Path | None = None) -> str:
    """The columns for an error message, unless the first line does not look like a header.

    A file without a header row has data (possibly a secret) on its first line, and polars
    takes that line as the column names: those are never echoed. With ``path`` (a text table),
    a first line that another separator splits is named as such.
    """
    if 0 < len(columns) <= 30 and all(
        _HEADER_NAME.fullmatch(c) and sum(ch.isdigit() for ch in c) <= 4 for c in columns
    ):
        return f"columns: {', '.join(columns)}"
    wrong = None if path is None else separator_hint(columns, path)
    if wrong is not None:
        return wrong
    if columns and all(_HEADER_NAME.fullmatch(c.strip()) for c in columns):
        return (
            f"its first line, {len(columns)} fields not shown here, has names with spaces "
            "around them, which are kept where dropping them would make two names the same; "
            "write the header without them"
        )
    return (
        f"its first line, {len(columns)} fields not shown here, does not look like a header "
        "row; the file needs a header naming its columns"
    )


def separator_hint(columns: list[str], path: Path) -> str | None:
    """What is wrong when a text table's first line is one field that another separator
    would split (a comma-separated file named ``.tsv``, ...); None otherwise."""
    if len(columns) != 1 or path.suffix.lower() == ".parquet" or not path.is_file():
        return None
    sep = "," if path.suffix.lower() == ".csv" else "\t"
    counts = {other: columns[0].count(other) for other in _SEPARATORS if other != sep}
    other = max(counts, key=lambda key: counts[key])
    if counts[other] == 0:
        return None
    suffix = path.suffix or "(no suffix)"
    fix = {",": "rename it to .csv", "\t": "rename it to .tsv"}.get(
        other, "convert it to comma-separated .csv or tab-separated .tsv"
    )
    return (
        f"its first line has no {_SEPARATORS[sep]} but {counts[other]} "
        f"{_SEPARATORS[other]}s, so the file looks {_SEPARATORS[other]}-separated while a "
        f"{suffix} file is read as {_SEPARATORS[sep]}-separated; {fix}"
    )


def stripped_names(names: list[str]) -> dict[str, str]:
    """Header names padded with spaces (``user_id, item_id``) mapped to the names without
    them; empty when none is padded, or when stripping would leave an empty or repeated name
    (the header is then read as it is)."""
    stripped = [name.strip() for name in names]
    if stripped == names or "" in stripped or len(set(stripped)) < len(stripped):
        return {}
    return {old: new for old, new in zip(names, stripped, strict=True) if old != new}


def trailing_blank_lines(path: Path) -> int:
    """Empty lines at the end of a text file (after the last line's own line break)."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, 2)
            size = fh.tell()
            fh.seek(max(0, size - _SNIFF_BYTES))
            tail = fh.read()
    except OSError:
        return 0
    breaks = 0
    while tail.endswith(b"\n"):
        tail = tail[:-2] if tail.endswith(b"\r\n") else tail[:-1]
        breaks += 1
    return max(breaks - 1, 0)


def drop_trailing_blank_rows(frame: pl.DataFrame, blank: int) -> pl.DataFrame:
    """``frame`` without its last ``blank`` rows when those are the all-null rows polars reads
    from empty lines at the end of a file (at most ``blank`` rows, only all-null ones)."""
    if blank <= 0 or frame.height == 0 or frame.width == 0:
        return frame
    tail = frame.tail(min(blank, frame.height))
    nulls = [bool(tail[c].is_null().all()) for c in frame.columns]
    if not all(nulls):
        return frame
    return frame.head(frame.height - tail.height)


class _Parquet:
    """A parquet file read like a LazyFrame (names, then chosen columns) through pyarrow."""

    def __init__(self, path: Path, where: str) -> None:
        self.path, self.where = path, where

    def names(self) -> list[str]:
        return parquet_columns(self.path)

    def collect(self, columns: list[str]) -> pl.DataFrame:
        return read_parquet(self.path, self.where, columns)


class _Csv:
    """A CSV/TSV file read lazily by polars; header names padded with spaces are read without
    them (:func:`stripped_names`), blank lines at the end of the file are no rows."""

    def __init__(self, lazy: pl.LazyFrame, path: Path) -> None:
        self.lazy = lazy
        self.path = path
        self._renamed: dict[str, str] | None = None

    def _raw_names(self) -> list[str]:
        return self.lazy.collect_schema().names()

    def _stripped(self) -> dict[str, str]:
        if self._renamed is None:
            self._renamed = stripped_names(self._raw_names())
        return self._renamed

    def names(self) -> list[str]:
        renamed = self._stripped()
        return [renamed.get(name, name) for name in self._raw_names()]

    def collect(self, columns: list[str]) -> pl.DataFrame:
        import polars as pl

        renamed = self._stripped()
        if renamed:
            back = {new: old for old, new in renamed.items()}
            frame = self.lazy.select([pl.col(back.get(c, c)).alias(c) for c in columns]).collect()
        else:
            frame = self.lazy.select(columns).collect()
        return drop_trailing_blank_rows(frame, trailing_blank_lines(self.path))


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
    lazy = pl.scan_csv(
        path, separator=sep, quote_char=csv_quote_char(path, sep), infer_schema_length=10000
    )
    return _Csv(lazy, path)
