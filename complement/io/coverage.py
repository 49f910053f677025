"""Which log rows have embeddings: log items mapped to view indices, and the --max-missing policy.

Items of the log without embeddings in both views are counted (never silently dropped); a log
in which a larger share of rows than ``max_missing`` names such items is refused, since that
usually means mismatched ids rather than a few unembedded items.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from complement.errors import InputError
from complement.io.interactions import Interactions
from complement.io.views import map_ids

__all__ = ["log_coverage"]


class JoinedItems(Protocol):
    """What coverage reads of joined views (two or many): the shared item ids."""

    @property
    def ids(self) -> npt.NDArray[np.str_]: ...


def log_coverage(
    log: Interactions, views: JoinedItems, max_missing: float | None = None
) -> tuple[npt.NDArray[np.int64], dict[str, Any]]:
    """(item index of every log row, -1 without embeddings; the coverage summary).

    The log's distinct item ids are looked up once (:func:`map_ids`) and spread to the rows
    through their codes, so no string is built per row.
    """
    uniq, inverse = log.item_ids, log.item_codes
    pos = map_ids(views.ids, uniq)
    index = pos[inverse]
    unknown = pos < 0
    if unknown.all():
        raise InputError(
            f"interaction log {log.path}: none of its {uniq.shape[0]} item ids has embeddings in "
            f"both views (log ids: {', '.join(uniq[:3].tolist())}, ...; embedding ids: "
            f"{', '.join(views.ids[:3].tolist())}, ...); check --item-col and that the log and "
            "the embeddings use the same ids (--sem-ids / --cf-ids)"
        )
    first: list[str] = uniq[unknown][:5].tolist()
    info: dict[str, Any] = {
        "path": log.path,
        "n_rows": log.n_rows,
        "n_users": int(log.user_ids.shape[0]),
        "n_items_in_log": int(uniq.shape[0]),
        "n_items_without_embeddings": int(unknown.sum()),
        "n_rows_without_embeddings": int(np.count_nonzero(index < 0)),
        "items_without_embeddings_first": first,
    }
    share = info["n_rows_without_embeddings"] / max(log.n_rows, 1)
    info["share_rows_without_embeddings"] = share
    if max_missing is not None and share > max_missing:
        raise InputError(
            f"interaction log {log.path}: {share:.0%} of its rows name items without embeddings "
            f"in both views (first ids: {', '.join(first)}), more than --max-missing "
            f"{max_missing:g}; check the ids, or raise --max-missing"
        )
    return np.asarray(index, dtype=np.int64), info
