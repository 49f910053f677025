"""User embeddings of one view aligned to the interaction log's users.

Rows are user ids by the same rules as item embeddings; their dimension must equal that of the
view's item embeddings (scores are inner products). Users of the log without a row are marked
in a mask; more than ``max_missing`` of them is refused (usually mismatched ids). Vectors
without ids (row ``i`` is user ``i``) are refused when the log's user ids look shifted against
the row numbers (most often ids that start at 1), as item views are (:func:`join_views`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from complement.errors import InputError
from complement.io.embeddings import Embeddings
from complement.io.ids import row_shift, shift_words
from complement.io.views import map_ids

__all__ = ["UserVectors", "align_user_vectors"]


@dataclass(frozen=True)
class UserVectors:
    """One row per log user (zeros where ``have`` is False)."""

    vectors: npt.NDArray[np.float32]
    have: npt.NDArray[np.bool_]


def align_user_vectors(
    emb: Embeddings,
    log_user_ids: npt.NDArray[np.str_],
    *,
    item_dim: int,
    item_path: str,
    option: str,
    max_missing: float | None,
    positional_ids: bool = False,
) -> UserVectors:
    """Align ``emb`` (user embeddings of one view) to ``log_user_ids``.

    ``option`` is the view's flag prefix (``sem`` or ``cf``) named in messages. Vectors
    without ids whose row numbers look shifted against the log's user ids are refused unless
    ``positional_ids``.
    """
    role, path = emb.role, emb.path
    if emb.shape[1] != item_dim:
        raise InputError(
            f"{role} embeddings {path}: dimension {emb.shape[1]} differs from the item "
            f"embeddings {item_path} (dimension {item_dim}); user and item vectors of a "
            "view must come from the same model"
        )
    if emb.ids_from_rows and not positional_ids:
        delta, best, same = row_shift(emb.shape[0], log_user_ids)
        if delta != 0:
            shift, why = shift_words(delta, "user")
            raise InputError(
                f"{role} embeddings {path}: has no ids (its rows are numbered "
                f"0..{emb.shape[0] - 1}), and the log's user ids look shifted by {shift} "
                f"against them: {best} of the log's {log_user_ids.shape[0]} users match if row "
                f"i is user id i{delta:+d}, {same} as given{why}; give the users' ids with "
                f"--{option}-users-ids, or pass --positional-ids if row i really is user i"
            )
    pos = map_ids(emb.ids, log_user_ids)
    have = pos >= 0
    if not have.any():
        raise InputError(
            f"{role} embeddings {path}: none of the log's user ids has a row; check "
            f"--{option}-users-ids (rows are user ids, row i is id i without ids)"
        )
    missing = 1.0 - float(have.mean())
    if max_missing is not None and missing > max_missing:
        first = ", ".join(log_user_ids[~have][:5].tolist())
        raise InputError(
            f"{role} embeddings {path}: {missing:.0%} of the log's users have no row (first ids: "
            f"{first}), more than --max-missing {max_missing:g}; check --{option}-users-ids, or "
            "raise --max-missing"
        )
    out = np.zeros((log_user_ids.shape[0], emb.shape[1]), dtype=np.float32)
    out[have] = np.asarray(emb.matrix, dtype=np.float32)[pos[have]]
    bad = have & ~np.isfinite(out).all(axis=1)
    if bad.any():
        raise InputError(
            f"{role} embeddings {path}: {int(bad.sum())} rows contain NaN or infinite values "
            f"(first user ids: {', '.join(log_user_ids[bad][:5].tolist())}); "
            "fix or remove those rows"
        )
    return UserVectors(out, np.asarray(have, dtype=np.bool_))
