"""Item metadata (parquet, CSV, TSV): an id column and a title column, nothing else is read.

The id column is ``--item-col`` (the interaction log's item column) and the title column
``--title-col``; RecBole-style headers such as ``movie_title:token_seq`` match ``movie_title``.
Ids are canonicalised like embedding ids, so ``7``, ``7.0`` and ``"7"`` name the same item.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from complement.errors import InputError
from complement.io.files import require_file as _require_file
from complement.io.ids import unique_ids_from_series
from complement.io.parquet import polars_reason
from complement.io.tables_in import describe_columns, open_table, read_errors
from complement.io.views import map_ids

if TYPE_CHECKING:
    import polars as pl

__all__ = ["ItemTitles", "load_items"]


@dataclass(frozen=True)
class ItemTitles:
    """``titles[r]`` is the title of item ``ids[r]`` (canonical string ids, unique)."""

    path: str
    ids: npt.NDArray[np.str_]
    titles: npt.NDArray[np.str_]

    def lookup(self, ids: npt.NDArray[np.str_]) -> list[str | None]:
        """Titles of ``ids`` in order; ``None`` for ids the metadata does not list."""
        pos = map_ids(self.ids, np.asarray(ids, dtype=str))
        return [str(self.titles[p]) if p >= 0 else None for p in pos.tolist()]

    def find(self, text: str) -> npt.NDArray[np.str_]:
        """Ids whose title equals ``text`` (case-insensitive); else those containing it."""
        needle = text.strip().lower()
        lowered = np.char.lower(self.titles)
        exact = lowered == needle
        if exact.any():
            return np.asarray(self.ids[exact], dtype=str)
        return np.asarray(self.ids[np.char.find(lowered, needle) >= 0], dtype=str)


def _scan(path: Path) -> Any:
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".csv", ".tsv", ".item", ".txt"):
        return open_table(path, "item metadata")
    raise InputError(
        f"item metadata {path}: unsupported file type {suffix!r}; use .parquet, .csv or .tsv"
    )


def _column(columns: list[str], wanted: str, option: str, path: Path) -> str:
    if wanted in columns:
        return wanted
    matches = [c for c in columns if c.split(":", 1)[0] == wanted]
    if len(matches) == 1:
        return matches[0]
    raise InputError(
        f"item metadata {path}: no column {wanted!r} ({describe_columns(columns, path)}); "
        f"name the right one with {option}"
    )


def _titles(series: pl.Series, path: Path, column: str) -> list[str]:
    """Titles as text (empty titles become ``""``); nested or binary non-UTF-8 is refused."""
    import polars as pl

    dtype = series.dtype
    if dtype == pl.Binary:
        try:
            return ["" if v is None else bytes(v).decode("utf-8") for v in series.to_list()]
        except UnicodeDecodeError:
            raise InputError(
                f"item metadata {path}: title column {column!r} holds bytes that are not UTF-8 "
                "text; store the titles as text"
            ) from None
    if dtype.is_nested() or dtype == pl.Object:
        raise InputError(
            f"item metadata {path}: title column {column!r} has type {dtype}, not text; store "
            "one title per row as text (--title-col names the column)"
        )
    try:
        return [str(v) for v in series.cast(pl.String).fill_null("").to_list()]
    except read_errors():
        raise InputError(
            f"item metadata {path}: title column {column!r} has type {dtype}, which cannot be "
            "read as text; store one title per row as text"
        ) from None


def load_items(
    path: str | Path, *, item_col: str = "item_id", title_col: str = "title"
) -> ItemTitles:
    """Read the id and title columns; duplicate ids are an error, empty titles become ``""``."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"item metadata {p}: file not found; check the --items path")
    _require_file(p, "item metadata")
    try:
        table = _scan(p)
        columns = table.names()
        i = _column(columns, item_col, "--item-col", p)
        t = _column(columns, title_col, "--title-col", p)
        if i == t:
            raise InputError(
                f"item metadata {p}: the id and title columns are both {i!r}; name the title "
                "column with --title-col"
            )
        frame = table.collect([i, t])
    except InputError:
        raise
    except read_errors() as exc:  # corrupt parquet, undecodable csv, ...
        raise InputError(
            f"item metadata {p}: cannot be read ({polars_reason(exc)}); check the file"
        ) from None
    if frame.height == 0:
        raise InputError(f"item metadata {p}: the table is empty (0 rows); give one row per item")
    ids = unique_ids_from_series(frame[i], f"item metadata {p}", i)
    titles = _titles(frame[t], p, t)
    return ItemTitles(path=str(p), ids=ids, titles=np.asarray(titles, dtype=str))
