"""Reading tables safely: parquet through pyarrow, and polars errors as short reasons.

Shared by the embedding tables (:mod:`complement.io.tabular`), interaction logs and item
metadata. Polars' own parquet reader can abort the whole process on some damaged files, so
parquet is always read through pyarrow and validated before polars sees it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from complement.errors import InputError
from complement.io.files import human_size, physical_memory

if TYPE_CHECKING:
    import polars as pl

__all__ = ["parquet_columns", "polars_reason", "read_parquet"]


def parquet_columns(path: Path) -> list[str]:
    """The column names in a parquet file's footer (no data is read)."""
    import pyarrow.parquet as pq

    return [str(name) for name in pq.read_schema(path).names]


def read_parquet(path: Path, where: str, columns: list[str] | None = None) -> pl.DataFrame:
    """A parquet file (or some of its columns) as a polars DataFrame, read through pyarrow.

    Polars' own reader can abort the whole process on some damaged files (a panic in a worker
    thread); pyarrow reports those as exceptions, and the table is validated in full before
    polars sees it. The footer's uncompressed size is checked against this machine's memory
    first. Read errors propagate for the caller to turn into its own message.
    """
    import polars as pl
    import pyarrow.parquet as pq

    handle = pq.ParquetFile(path)
    try:
        meta = handle.metadata
        declared = sum(
            max(int(meta.row_group(i).total_byte_size), 0) for i in range(meta.num_row_groups)
        )
        memory = physical_memory()
        if memory is not None and declared > memory:
            raise InputError(
                f"{where}: declares {human_size(declared)} of data, more than this machine's "
                f"memory ({human_size(memory)}); split the file or check that it is not damaged"
            )
        table = handle.read(columns=columns)
    finally:
        handle.close()
    table.validate(full=True)
    frame = pl.from_arrow(table)
    if not isinstance(frame, pl.DataFrame):  # a Table always converts to a DataFrame
        raise InputError(f"{where}: holds no table; re-write it")
    return frame


def polars_reason(exc: BaseException) -> str:
    """A short reason for a polars read error that never echoes the file's content.

    Polars quotes offending values and lines in its messages (``could not parse `...```);
    those parts are replaced by ``…`` and the reason is cut to one short line.
    """
    import polars as pl

    text = str(exc)
    low = text.lower()
    if isinstance(exc, pl.exceptions.NoDataError) or "empty csv" in low:
        return "empty CSV"
    if "utf-8" in low or "utf8" in low:
        return "not UTF-8 text"
    if "more fields" in low or "malformed" in low or "escaped" in low or "could not parse" in low:
        return "malformed CSV: rows with a different number of fields, or an unclosed quote"
    if isinstance(exc, pl.exceptions.PanicException):
        return "the reader failed on damaged data"
    first = text.splitlines()[0] if text.strip() else type(exc).__name__
    first = re.sub(r"`[^`]*`?", "`…`", first)
    first = re.sub(r'"[^"]*"?', '"…"', first)
    return first[:120]
