"""One entry for each input kind that takes a path or an in-memory object.

The command line always gives paths; the Python API may give numpy arrays, polars frames or
id sequences (wrapped in :class:`~complement.io.sources.InMemory`). Both go through the same
validation, so an array is refused for exactly the reasons a ``.npy`` file would be.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.errors import InputError
from complement.io import interactions as _log
from complement.io import items as _items
from complement.io.embeddings import Embeddings, check_matrix, load_embeddings
from complement.io.ids import canonical_ids, load_ids, unique_ids_from_series
from complement.io.interactions import Interactions, load_interactions
from complement.io.items import ItemTitles, load_items
from complement.io.sources import InMemory
from complement.io.split_logs import merge_split_logs

__all__ = ["embeddings_from", "ids_from", "interactions_from", "items_from", "split_files_from"]


def _is_frame(value: Any) -> bool:
    """Whether ``value`` is a polars DataFrame (polars is not imported to find out: a frame
    exists only once polars is)."""
    pl = sys.modules.get("polars")
    return pl is not None and isinstance(value, pl.DataFrame)


def ids_from(value: str | Path | InMemory, what: str) -> npt.NDArray[np.str_]:
    """Ids from a file (see :func:`load_ids`) or an in-memory sequence."""
    if isinstance(value, InMemory):
        return canonical_ids(np.asarray(value.value), f"{what} {value.label()}")
    return load_ids(value, what)


def embeddings_from(
    value: str | Path | InMemory,
    ids: str | Path | InMemory | None,
    *,
    role: str,
    key: str | None = None,
    vector_cols: str | None = None,
) -> Embeddings:
    """One view from a file (see :func:`load_embeddings`) or an in-memory 2-D array.

    ``key`` (the vectors' tensor in a ``.safetensors``/``.pt``/``.npz`` file) and
    ``vector_cols`` (a glob over a table's per-dimension columns) apply to files only.
    """
    if not isinstance(value, InMemory):
        given = None if isinstance(ids, InMemory) else ids
        loaded = load_embeddings(value, given, role=role, key=key, vector_cols=vector_cols)
        if isinstance(ids, InMemory):
            return _with_ids(loaded, ids_from(ids, f"{role} ids"), ids.label(), role)
        return loaded
    what = f"{role} embeddings"
    raw = value.value
    if _is_frame(raw):
        raise InputError(
            f"{what} {value.label()}: a frame was given; give a 2-D numpy array (items x dims)"
        )
    arr = np.asarray(raw)
    if arr.dtype.hasobject:
        raise InputError(f"{what} {value.label()}: holds Python objects; give a numeric array")
    matrix = check_matrix(arr, what, Path(value.label()))
    loaded = Embeddings(
        path=value.label(),
        role=role,
        ids=np.arange(matrix.shape[0]).astype(str),
        matrix=matrix,
        ids_from_rows=True,
    )
    if ids is None:
        return loaded
    label = ids.label() if isinstance(ids, InMemory) else str(ids)
    return _with_ids(loaded, ids_from(ids, f"{role} ids"), label, role)


def _with_ids(loaded: Embeddings, ids: npt.NDArray[np.str_], where: str, role: str) -> Embeddings:
    if ids.shape[0] != loaded.matrix.shape[0]:
        raise InputError(
            f"{role} ids {where}: {ids.shape[0]} ids for {loaded.matrix.shape[0]} rows of "
            f"{loaded.path}; give exactly one id per row"
        )
    uniq, counts = np.unique(ids, return_counts=True)
    if uniq.shape[0] != ids.shape[0]:
        dups = uniq[counts > 1]
        raise InputError(
            f"{role} ids {where}: {dups.shape[0]} duplicate ids (first: "
            f"{', '.join(dups[:5].tolist())}); ids must be unique"
        )
    return Embeddings(
        path=loaded.path, role=role, ids=ids, matrix=loaded.matrix, ids_from_rows=False
    )


def interactions_from(
    value: str | Path | InMemory,
    *,
    user_col: str = "user_id",
    item_col: str = "item_id",
    time_col: str | None = "timestamp",
) -> Interactions:
    """A log from a file (see :func:`load_interactions`) or an in-memory polars frame."""
    if not isinstance(value, InMemory):
        return load_interactions(value, user_col=user_col, item_col=item_col, time_col=time_col)
    frame: Any = value.value
    label = value.label()
    if not _is_frame(frame):
        raise InputError(
            f"interaction log {label}: give a polars DataFrame (or a path to a log file)"
        )
    where = Path(label)
    columns = frame.columns
    u = _log._resolve_column(columns, user_col, "--user-col", where)
    i = _log._resolve_column(columns, item_col, "--item-col", where)
    t = _log._resolve_column(columns, time_col, "--time-col", where) if time_col else None
    return _log.interactions_from_frame(frame, label, where, u, i, t)


def split_files_from(
    train: str | Path | InMemory,
    test: str | Path | InMemory,
    *,
    user_col: str = "user_id",
    item_col: str = "item_id",
    time_col: str | None = "timestamp",
) -> tuple[Interactions, int]:
    """``--split files``: the train and test logs (files or frames) concatenated, train first,
    and train's length (see :func:`~complement.io.split_logs.merge_split_logs`)."""
    cols: dict[str, Any] = {"user_col": user_col, "item_col": item_col, "time_col": time_col}
    return merge_split_logs(interactions_from(train, **cols), interactions_from(test, **cols))


def items_from(
    value: str | Path | InMemory, *, item_col: str = "item_id", title_col: str = "title"
) -> ItemTitles:
    """Item metadata from a file (see :func:`load_items`) or an in-memory polars frame."""
    if not isinstance(value, InMemory):
        return load_items(value, item_col=item_col, title_col=title_col)
    frame: Any = value.value
    label = value.label()
    if not _is_frame(frame):
        raise InputError(f"item metadata {label}: give a polars DataFrame (or a path to a table)")
    where = Path(label)
    i = _items._column(frame.columns, item_col, "--item-col", where)
    t = _items._column(frame.columns, title_col, "--title-col", where)
    if i == t:
        raise InputError(
            f"item metadata {label}: the id and title columns are both {i!r}; name the title "
            "column with --title-col"
        )
    if frame.height == 0:
        raise InputError(
            f"item metadata {label}: the table is empty (0 rows); give one row per item"
        )
    ids = unique_ids_from_series(frame[i], f"item metadata {label}", i)
    titles = _items._titles(frame[t], where, t)
    return ItemTitles(path=label, ids=ids, titles=np.asarray(titles, dtype=str))
