"""Ids: canonical strings from arrays, polars columns and id files.

Ids are compared as strings so that ``7`` (int), ``7.0`` (float) and ``"7"`` (text) name the
same item; floats that are not exact integers (or too large for their type to hold every
integer: above 2^53 in float64, 2^24 in float32), empty text, booleans and other types are
refused. Object arrays (the Python API, a pandas Series) are ids when their elements are all
text or all integers. An id file is a ``.npy`` array (read by :mod:`complement.io.npy`) or
text with one id per line.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.errors import InputError
from complement.io.files import PICKLE_HINT, is_pickle, require_file, sniff
from complement.io.npy import MAGIC, load_npy

__all__ = [
    "canonical_ids",
    "empty_count",
    "ids_from_series",
    "load_ids",
    "row_shift",
    "shift_words",
    "unique_ids_from_series",
]


def _exact_bits(dtype: np.dtype[Any]) -> int:
    """Integers up to ``2**bits`` are exact in float ``dtype`` (float64: 53, float32: 24)."""
    return int(np.finfo(dtype).nmant) + 1


def _empty(ids: npt.NDArray[np.str_], where: str) -> npt.NDArray[np.str_]:
    """``ids`` (canonical text), refused when one is empty (blank text names no item)."""
    blank = ids == ""
    if blank.any():
        first = int(np.flatnonzero(blank)[0])
        raise InputError(
            f"{where}: {int(blank.sum())} ids are empty text (first at row {first}); every row "
            "needs an id"
        )
    return ids


def _objects(arr: npt.NDArray[Any], where: str) -> npt.NDArray[np.str_]:
    """An object array (Python objects, as pandas gives text) whose elements are all text or
    all integers, as canonical ids; anything else is refused."""
    items = arr.tolist()
    if all(isinstance(v, str) for v in items):
        return canonical_ids(np.asarray(items, dtype=str).reshape(arr.shape), where)
    integer = [isinstance(v, int | np.integer) and not isinstance(v, bool) for v in items]
    if all(integer):
        return np.asarray([str(int(v)) for v in items], dtype=str).reshape(arr.shape)
    kinds = sorted({type(v).__name__ for v in items})
    if any(integer) and any(isinstance(v, str) for v in items):
        raise InputError(
            f"{where}: ids mix text and integers (Python objects of types {', '.join(kinds)}); "
            "give every id as text or every id as an integer"
        )
    raise InputError(
        f"{where}: ids hold Python objects of types {', '.join(kinds[:5])}, not only text or "
        "only integers; use integers or text"
    )


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
        bits = _exact_bits(arr.dtype)
        if arr.size and float(np.max(np.abs(arr))) > 2.0**bits:
            name = "floats" if arr.dtype == np.float64 else f"{arr.dtype} values"
            raise InputError(
                f"{where}: ids are {name} above 2^{bits}, which cannot hold every integer "
                "exactly (the ids may already be rounded); store ids as integers or text"
            )
        return arr.astype(np.int64).astype(str)
    if kind == "S":
        try:
            decoded = [bytes(v).decode("utf-8") for v in arr.tolist()]
        except UnicodeDecodeError:
            raise InputError(
                f"{where}: ids are bytes that are not UTF-8 text; store ids as integers or text"
            ) from None
        return _empty(np.asarray(np.char.strip(np.asarray(decoded, dtype=str)), dtype=str), where)
    if kind == "U":
        return _empty(np.asarray(np.char.strip(arr.astype(str)), dtype=str), where)
    if kind == "O":
        return _objects(arr, where)
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


def empty_count(series: Any) -> int:
    """Rows of a polars Series with no id: nulls, and text that is blank once stripped."""
    import polars as pl

    empty = int(series.null_count())
    if series.dtype == pl.String or isinstance(series.dtype, pl.Categorical | pl.Enum):
        text = series.cast(pl.String).str.strip_chars()
        empty += int((text == "").sum())
    return empty


def unique_ids_from_series(series: Any, where: str, column: str) -> npt.NDArray[np.str_]:
    """The key column of a metadata table: no empty ids, canonical, each id once.

    ``where`` names the table (``"item metadata PATH"``); ``column`` the key column.
    """
    empty = empty_count(series)
    if empty > 0:
        raise InputError(f"{where}: column {column!r} has {empty} empty ids; every row needs an id")
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


def row_shift(n_rows: int, log_ids: npt.NDArray[np.str_]) -> tuple[int, int, int]:
    """How a log's (user or item) ids match row numbers ``0 .. n_rows-1``: (shift, ids that
    match with it, ids that match as given). The shift is 0 unless some shift ``d`` (row ``i``
    is id ``i + d``) matches more ids than none does, and at least half of the smaller side
    (the rule :func:`complement.io.views.join_views` names item shifts by)."""
    try:
        ids = log_ids.astype(np.int64)
    except (ValueError, OverflowError):
        return 0, 0, 0
    if ids.size == 0 or n_rows == 0:
        return 0, 0, 0

    def matches(delta: int) -> int:  # ids whose value minus delta is a row number
        return int(np.count_nonzero((ids >= delta) & (ids - delta < n_rows)))

    same = matches(0)
    need = max(2, math.ceil(0.5 * min(n_rows, int(ids.size))))
    best, best_delta = same, 0
    for delta in dict.fromkeys((1, -1, int(ids.min()), int(ids.max()) - (n_rows - 1))):
        if delta != 0 and (hits := matches(delta)) > best:
            best, best_delta = hits, delta
    if best_delta == 0 or best < need:
        return 0, same, same
    return best_delta, best, same


def shift_words(delta: int, what: str) -> tuple[str, str]:
    """How a message names a shift of :func:`row_shift`: ("one" or the number, and for a shift
    of +1 why it is common: "(row numbers start at 0; <what> ids often start at 1)")."""
    shift = "one" if abs(delta) == 1 else str(abs(delta))
    why = f" (row numbers start at 0; {what} ids often start at 1)" if delta == 1 else ""
    return shift, why
