"""Embedding tables: parquet with one list column, parquet or CSV/TSV with a column per dimension.

A table holds an id column and the vectors, either as one list/array column (parquet) or as
one numeric column per dimension: the columns matching ``--vector-cols`` (a glob over column
names, kept in the file's order), or for CSV/TSV without it every column but the id column.
The id column is ``item_id``, ``id`` or ``user_id`` when one is there, else the first column
that holds no vectors. Parquet is read through pyarrow (:func:`complement.io.parquet.read_parquet`).
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt

from complement.errors import InputError
from complement.io.files import beyond_float32, shown_names
from complement.io.ids import empty_count, ids_from_series
from complement.io.parquet import parquet_columns, polars_reason, read_parquet

if TYPE_CHECKING:
    import polars as pl

__all__ = ["ID_COLUMNS", "load_parquet", "load_text_table"]

#: Column names taken as the id column, in this order of preference.
ID_COLUMNS = ("item_id", "id", "user_id")
_HEADER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_:. -]{0,63}")
_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")

_FLOAT32_MAX = float(np.finfo(np.float32).max)

Matrix = npt.NDArray[Any]
Ids = npt.NDArray[np.str_]


def _read_errors() -> tuple[type[BaseException], ...]:
    import polars as pl

    return (Exception, pl.exceptions.PanicException)


def _id_column(names: list[str], vectors: list[str], where: str) -> str:
    taken = set(vectors)
    other = [c for c in names if c not in taken]
    if not other:
        raise InputError(
            f"{where}: no id column beside the {len(vectors)} vector columns; add an item_id column"
        )
    preferred = [c for c in ID_COLUMNS if c in other]
    return preferred[0] if preferred else other[0]


def _ids(frame: pl.DataFrame, id_col: str, where: str) -> Ids:
    ids = frame[id_col]
    empty = empty_count(ids)
    if empty > 0:
        raise InputError(
            f"{where}: id column {id_col!r} has {empty} empty ids; every row needs an id"
        )
    return ids_from_series(ids, f"{where} id column {id_col!r}")


def _columns_matrix(frame: pl.DataFrame, vectors: list[str], where: str, fix: str) -> Matrix:
    """One float32 row per table row from the per-dimension columns ``vectors``."""
    import polars as pl

    for name in vectors:
        dtype = frame.schema[name]
        if not (dtype.is_integer() or dtype.is_float()):
            raise InputError(f"{where}: column {name!r} holds {dtype} values, not numbers; {fix}")
        nulls = frame[name].null_count()
        if nulls:
            raise InputError(
                f"{where}: column {name!r} has {nulls} empty values; every row needs a number "
                "in every vector column"
            )
    wide = [c for c in vectors if frame.schema[c] == pl.Float64]
    if wide:
        largest = frame.select(
            [pl.col(c).filter(pl.col(c).is_finite()).abs().max() for c in wide]
        ).row(0)
        if any(v is not None and v > _FLOAT32_MAX for v in largest):
            raise beyond_float32(frame.select(wide).to_numpy(), where)
    values = frame.select([pl.col(c).cast(pl.Float32) for c in vectors]).to_numpy()
    return np.ascontiguousarray(values, dtype=np.float32)


def _beyond_float32(values: pl.Series) -> bool:
    """Whether float64 values hold a finite one that float32 cannot (polars' cast to float32
    would turn it into infinity)."""
    largest = values.filter(values.is_finite()).abs().max()
    return largest is not None and float(largest) > _FLOAT32_MAX  # type: ignore[arg-type]


# --------------------------------------------------------------------------------- parquet


def load_parquet(path: Path, what: str, *, vector_cols: str | None = None) -> tuple[Matrix, Ids]:
    """Vectors and ids of a parquet table: a list column, or the ``vector_cols`` columns.

    ``vector_cols`` applies when it matches a column; a file it does not match is read by its
    list column (the option is shared by both views, which may be stored differently).
    """
    import polars as pl

    where = f"{what} {path}"
    try:
        names = parquet_columns(path)
        matched = [c for c in names if vector_cols is not None and fnmatchcase(c, vector_cols)]
        id_col = _id_column(names, matched, where) if matched else ""
        frame = read_parquet(path, where, [id_col, *matched] if matched else None)
    except InputError:
        raise
    except _read_errors() as exc:  # several unrelated types
        raise InputError(
            f"{where}: not a readable parquet file ({polars_reason(exc)}); re-write it"
        ) from None
    if frame.height == 0:
        raise InputError(
            f"{where}: the table is empty (0 rows); write one row per item, an id and a vector"
        )
    if matched:
        fix = "give --vector-cols a glob that matches only the vector columns"
        return _columns_matrix(frame, matched, where, fix), _ids(frame, id_col, where)
    vec_cols = [c for c, t in frame.schema.items() if isinstance(t, pl.List | pl.Array)]
    other = [c for c in frame.columns if c not in vec_cols]
    if not vec_cols and vector_cols is not None:
        raise InputError(
            f"{where}: no column matches --vector-cols {vector_cols!r} and none holds lists "
            f"(columns: {shown_names(frame.columns)}); give a glob that matches the "
            "per-dimension columns"
        )
    if len(vec_cols) != 1:
        hint = ", or name per-dimension columns with --vector-cols" if not vec_cols else ""
        raise InputError(
            f"{where}: expected exactly one list/array column holding the vectors, "
            f"found {len(vec_cols)} ({', '.join(vec_cols) or 'none'}); store each vector as "
            f"one list column beside an id column{hint}"
        )
    if not other:
        raise InputError(
            f"{where}: no id column beside the vector column {vec_cols[0]!r}; add an item_id column"
        )
    preferred = [c for c in ID_COLUMNS if c in other]
    id_col = preferred[0] if preferred else other[0]
    return _list_matrix(frame, vec_cols[0], where), _ids(frame, id_col, where)


def _list_matrix(frame: pl.DataFrame, vec: str, where: str) -> Matrix:
    import polars as pl

    col = frame[vec]
    inner = col.dtype.inner  # type: ignore[attr-defined]
    if not (inner.is_integer() or inner.is_float()):
        raise InputError(
            f"{where}: column {vec!r} holds {inner} values, not numbers; store float vectors"
        )
    if col.null_count() > 0:
        raise InputError(
            f"{where}: vectors in column {vec!r} have different lengths or nulls "
            f"({col.null_count()} rows have no vector); every row needs a vector of the same "
            "dimension"
        )
    if isinstance(col.dtype, pl.List):
        lengths = col.list.len()
        if lengths.n_unique() != 1:
            lo, hi = cast(int, lengths.min()), cast(int, lengths.max())
            raise InputError(
                f"{where}: vectors in column {vec!r} have different lengths or nulls "
                f"(lengths {lo} .. {hi}); every row needs a vector of the same dimension"
            )
        width = int(lengths[0])
    else:
        width = int(col.dtype.size)  # type: ignore[attr-defined]
    if width == 0:
        raise InputError(
            f"{where}: vectors in column {vec!r} are empty (dimension 0); store (n_items, dim) "
            "vectors"
        )
    if inner == pl.Float64 and _beyond_float32(col.explode()):
        raise beyond_float32(col.cast(pl.Array(pl.Float64, width)).to_numpy(), where)
    try:
        matrix = np.asarray(col.cast(pl.Array(pl.Float32, width)).to_numpy(), dtype=np.float32)
    except _read_errors():
        raise InputError(f"{where}: column {vec!r} is not numeric; store float vectors") from None
    if matrix.shape != (frame.height, width):  # nulls inside vectors, nested arrays, ...
        raise InputError(
            f"{where}: column {vec!r} does not hold one flat numeric vector per row; store "
            "float vectors"
        )
    return matrix


# ----------------------------------------------------------------------------------- CSV/TSV


def _describe(names: list[str]) -> str:
    """The columns of a text table, unless its first line does not look like a header."""
    if names and all(_HEADER_NAME.fullmatch(c) for c in names):
        return f"columns: {shown_names(names)}"
    return "its first line does not look like a header row, so it is not shown"


def load_text_table(path: Path, what: str, *, vector_cols: str | None = None) -> tuple[Matrix, Ids]:
    """Vectors and ids of a CSV (``.csv``) or TSV (any other suffix) table with a header row.

    The vector columns are those matching ``vector_cols``, or every column but the id column.
    Spaces around the header's names and the numbers are ignored (``item_id, d0``), as are
    blank lines at the end of the file.
    """
    import polars as pl

    from complement.io.tables_in import (
        csv_quote_char,
        drop_trailing_blank_rows,
        separator_hint,
        stripped_names,
        trailing_blank_lines,
    )

    kind = "CSV" if path.suffix.lower() == ".csv" else "TSV"
    where = f"{what} {path}"
    sep = "," if kind == "CSV" else "\t"
    options: dict[str, Any] = {"separator": sep, "quote_char": csv_quote_char(path, sep)}
    unreadable = f"{where}: not a readable {kind} table"
    try:
        raw = pl.scan_csv(path, infer_schema_length=0, **options).collect_schema().names()
    except _read_errors() as exc:
        raise InputError(f"{unreadable} ({polars_reason(exc)}); re-write it") from None
    renamed = stripped_names(raw)
    names = [renamed.get(c, c) for c in raw]
    if names and all(_NUMBER.fullmatch(c.strip()) for c in names):
        raise InputError(
            f"{where}: its first line holds numbers, not column names; add a header row naming "
            "the id column and the vector columns (item_id,d0,d1,...)"
        )
    wrong = separator_hint(names, path)
    if wrong is not None:
        raise InputError(f"{where}: {wrong}")
    if vector_cols is not None:
        vectors = [c for c in names if fnmatchcase(c, vector_cols)]
        if not vectors:
            raise InputError(
                f"{where}: no column matches --vector-cols {vector_cols!r} ({_describe(names)}); "
                "give a glob that matches the per-dimension columns"
            )
        id_col = _id_column(names, vectors, where)
        fix = "give --vector-cols a glob that matches only the vector columns"
    else:
        preferred = [c for c in ID_COLUMNS if c in names]
        id_col = preferred[0] if preferred else names[0]
        vectors = [c for c in names if c != id_col]
        if not vectors:
            raise InputError(
                f"{where}: holds only the id column {id_col!r}; add one numeric column per "
                "dimension"
            )
        fix = (
            "every column but the id column is read as a dimension: name the vector columns "
            "with --vector-cols"
        )
    original = {new: old for old, new in renamed.items()}
    read = _TextRead(path, options, {c: original.get(c, c) for c in [id_col, *vectors]})
    try:
        frame = read.frame(id_col, vectors)
    except _read_errors() as exc:
        padded = read.padded(id_col, vectors)  # numbers with spaces around them
        if padded is None:
            raise read.not_numbers(where, vectors, fix) or InputError(
                f"{unreadable} ({polars_reason(exc)}); re-write it"
            ) from None
        frame = padded
    frame = drop_trailing_blank_rows(frame, trailing_blank_lines(path))
    if frame.height == 0:
        raise InputError(
            f"{where}: the table is empty (0 rows); write one row per item, an id and a vector"
        )
    return _columns_matrix(frame, vectors, where, fix), _ids(frame, id_col, where)


class _TextRead:
    """Columns of a text table read by polars under the names the loader uses (``names``:
    the name used -> the name in the file, which may have spaces around it)."""

    def __init__(self, path: Path, options: dict[str, Any], names: dict[str, str]) -> None:
        self.path, self.options, self.names = path, options, names

    def _read(self, columns: list[str], **kwargs: Any) -> pl.DataFrame:
        import polars as pl

        frame = pl.read_csv(
            self.path, columns=[self.names[c] for c in columns], **kwargs, **self.options
        )
        return frame.rename({self.names[c]: c for c in columns if self.names[c] != c})

    def frame(self, id_col: str, vectors: list[str]) -> pl.DataFrame:
        """The id column (types inferred) and the vectors read as float64."""
        import polars as pl

        return self._read(
            [id_col, *vectors],
            schema_overrides={self.names[c]: pl.Float64 for c in vectors},
            infer_schema_length=10000,
        )

    def _numbers(self, vectors: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
        """(the vectors as text, the same as numbers once stripped of spaces: null where not
        a number or empty)."""
        import polars as pl

        text = self._read(vectors, infer_schema_length=0)
        numbers = text.select(
            [pl.col(c).str.strip_chars().cast(pl.Float64, strict=False) for c in vectors]
        )
        return text, numbers

    def padded(self, id_col: str, vectors: list[str]) -> pl.DataFrame | None:
        """After a failed read: the table when every vector value is a number once stripped
        of spaces (or empty), else None."""
        import polars as pl

        try:
            text, numbers = self._numbers(vectors)
            for name in vectors:
                if _not_number_rows(text[name], numbers[name]).any():
                    return None
            ids = self._read([id_col], infer_schema_length=10000)
        except _read_errors():
            return None
        return pl.concat([ids, numbers], how="horizontal")

    def not_numbers(self, where: str, vectors: list[str], fix: str) -> InputError | None:
        """After a failed read: the first vector column with a value that is not a number."""
        try:
            text, numbers = self._numbers(vectors)
            for name in vectors:
                col = text[name]
                bad = _not_number_rows(col, numbers[name])
                if bad.any():
                    row = int(np.flatnonzero(bad)[0]) + 1
                    some = int(bad.sum()) < col.len() - col.null_count()  # a few typos
                    return InputError(
                        f"{where}: column {name!r} holds {int(bad.sum())} values that are not "
                        f"numbers (first on data row {row}); "
                        f"{'fix or remove those rows' if some else fix}"
                    )
        except _read_errors():
            return None
        return None


def _not_number_rows(text: pl.Series, numbers: pl.Series) -> npt.NDArray[np.bool_]:
    """Rows whose text is neither empty nor a number (spaces around it allowed)."""
    blank = text.is_null() | (text.str.strip_chars() == "")
    return np.asarray((numbers.is_null() & ~blank).to_numpy(), dtype=bool)
