"""The user's own split (``--split files``): a train log and a test log read as one log."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from complement.io.interactions import Interactions, load_interactions

__all__ = ["load_split_files", "merge_split_logs"]


def _merge_codes(
    ids_a: npt.NDArray[np.str_],
    codes_a: npt.NDArray[np.int64],
    ids_b: npt.NDArray[np.str_],
    codes_b: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.str_], npt.NDArray[np.int64]]:
    """Two coded columns as one: the union of their sorted distinct ids, codes into it."""
    ids = np.union1d(ids_a, ids_b)
    into_a = np.searchsorted(ids, ids_a).astype(np.int64)
    into_b = np.searchsorted(ids, ids_b).astype(np.int64)
    return ids, np.concatenate([into_a[codes_a], into_b[codes_b]])


def merge_split_logs(a: Interactions, b: Interactions) -> tuple[Interactions, int]:
    """Train log ``a`` and test log ``b`` concatenated (train first), and train's length."""
    user_ids, users = _merge_codes(a.user_ids, a.users, b.user_ids, b.users)
    item_ids, item_codes = _merge_codes(a.item_ids, a.item_codes, b.item_ids, b.item_codes)
    ts = (
        np.concatenate([a.timestamps, b.timestamps])
        if a.timestamps is not None and b.timestamps is not None
        else None
    )
    merged = Interactions(
        path=f"{a.path}+{b.path}",
        user_ids=user_ids,
        users=users,
        timestamps=ts,
        item_ids=item_ids,
        item_codes=item_codes,
    )
    return merged, a.n_rows


def load_split_files(
    train: str | Path,
    test: str | Path,
    *,
    user_col: str = "user_id",
    item_col: str = "item_id",
    time_col: str | None = "timestamp",
) -> tuple[Interactions, int]:
    """The user's own split: train and test logs concatenated (train first), and train's length."""
    a = load_interactions(train, user_col=user_col, item_col=item_col, time_col=time_col)
    b = load_interactions(test, user_col=user_col, item_col=item_col, time_col=time_col)
    return merge_split_logs(a, b)
