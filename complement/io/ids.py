"""Ids: canonical strings from arrays, polars columns and id files.

Ids are compared as strings so that ``7`` (int), ``7.0`` (float) and ``"7"`` (text) name the
same item; floats that are not exact integers, booleans and other types are refused. An id
file is a ``.npy`` array (read by :mod:`complement.io.npy`) or text with one id per line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.errors import InputError
from complement.io.files import PICKLE_HINT, is_pickle, require_file, sniff
from complement.io.npy import MAGIC, load_npy

__all__ = ["canonical_ids", "ids_from_series", "load_ids", "unique_ids_from_series"]

#: Floats above this are not exact integers any more (float64 has a 53-bit mantissa).
_FLOAT_EXACT = 2.0**53


def canonical_ids(values: npt.NDArray[Any], where: str) -> npt.NDArray[np.str_]:
    """Ids as strings so that ``7`` (int), ``7.0`` (float) and ``"7"`` (text) all match."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise InputError(
            f"{where}: ids must be one-dimensional, got shape {arr.shape}; give one id per row"
        )
    kind = arr.dtype.kind
    if kind == "i":
        return arr.astype(np.int64).astype(str)
    if kind == "u":
        return arr.astype(np.uint64).astype(str)
    if kind == "f":
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise InputError(f"{where}: ids are non-integer floats; store ids as integers or text")
        if arr.size and float(np.max(np.abs(arr))) > _FLOAT_EXACT:
            raise InputError(
                f"{where}: ids are floats above 2^53, which cannot hold every integer exactly "
                "(the ids may already be rounded); store ids as integers or text"
            )
        return arr.astype(np.int64).astype(str)
    if kind == "S":
        try:
            decoded = [bytes(v).decode("utf-8") for v in arr.tolist()]
        except UnicodeDecodeError:
            raise InputError(
                f"{where}: ids are bytes that are not UTF-8 text; store ids as integers or text"
            ) from None
        return np.asarray(np.char.strip(np.asarray(decoded, dtype=str)), dtype=str)
    if kind == "U":
        return np.asarray(np.char.strip(arr.astype(str)), dtype=str)
    if kind == "b":
        raise InputError(f"{where}: ids are booleans; store ids as integers or text")
    raise InputError(f"{where}: ids have unsupported dtype {arr.dtype}; use integers or text")


def ids_from_series(series: Any, where: str) -> npt.NDArray[np.str_]:
    """Canonical ids from a polars Series (nulls are the caller's to check first).

    Integers (any width), integer-valued floats, text, categoricals, UTF-8 binary and
    integer decimals are accepted; lists, structs, dates and other types are refused.
    """
    import polars as pl

    dtype = series.dtype
    if dtype == pl.String:
        return canonical_ids(np.asarray(series.to_list(), dtype=str), where)
    if isinstance(dtype, pl.Categorical | pl.Enum):
        return canonical_ids(np.asarray(series.cast(pl.String).to_list(), dtype=str), where)
    if dtype == pl.Binary:
        try:
            text = [bytes(v).decode("utf-8") for v in series.to_list()]
        except UnicodeDecodeError:
            raise InputError(
                f"{where}: ids are bytes that are not UTF-8 text; store ids as integers or text"
            ) from None
        return canonical_ids(np.asarray(text, dtype=str), where)
    if dtype.is_integer():
        if dtype in (pl.Int128, pl.UInt128):  # no numpy dtype holds these: go through text
            return np.asarray(series.cast(pl.String).to_list(), dtype=str)
        return canonical_ids(series.to_numpy(), where)
    if dtype.is_float():
        return canonical_ids(series.to_numpy(), where)
    if isinstance(dtype, pl.Decimal):
        if dtype.scale == 0:
            return np.asarray(series.cast(pl.String).to_list(), dtype=str)
        return canonical_ids(series.cast(pl.Float64).to_numpy(), where)
    if dtype == pl.Boolean:
        raise InputError(f"{where}: ids are booleans; store ids as integers or text")
    raise InputError(
        f"{where}: ids have type {dtype}, not integers or text; store one integer or text id "
        "per row"
    )


def unique_ids_from_series(series: Any, where: str, column: str) -> npt.NDArray[np.str_]:
    """The key column of a metadata table: no empty ids, canonical, each id once.

    ``where`` names the table (``"item metadata PATH"``); ``column`` the key column.
    """
    if series.null_count() > 0:
        raise InputError(
            f"{where}: column {column!r} has {series.null_count()} empty ids; every row "
            "needs an id"
        )
    ids = ids_from_series(series, f"{where} column {column!r}")
    uniq, counts = np.unique(ids, return_counts=True)
    if (counts > 1).any():
        dup = ", ".join(uniq[counts > 1][:5].tolist())
        raise InputError(f"{where}: duplicate ids in column {column!r} (first: {dup})")
    return ids


def load_ids(path: str | Path, what: str = "ids") -> npt.NDArray[np.str_]:
    """Ids from a ``.npy`` array or a text file with one id per line."""
    p = Path(path)
    require_file(p, what)
    if p.suffix.lower() == ".npy" or sniff(p).startswith(MAGIC):
        return canonical_ids(load_npy(p, what, mmap=False), f"{what} {p}")
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        if is_pickle(sniff(p)):
            raise InputError(f"{what} {p}: {PICKLE_HINT}") from None
        raise InputError(
            f"{what} {p}: not UTF-8 text; give a .npy array or a text file, one id per line"
        ) from None
    lines = [line.strip() for line in text.splitlines()]
    while lines and lines[-1] == "":
        lines.pop()
    if not lines:
        raise InputError(f"{what} {p}: the file is empty; give one id per line")
    if any(line == "" for line in lines):
        first = lines.index("") + 1
        raise InputError(f"{what} {p}: line {first} is empty; every line must hold one id")
    return np.asarray(lines, dtype=str)
