"""Which log rows have embeddings: log items mapped to view indices, and the --max-missing policy.

Items of the log without embeddings in both views are counted (never silently dropped); a log
in which a larger share of rows than ``max_missing`` names such items is refused, since that
usually means mismatched ids rather than a few unembedded items. Views without ids (row ``i``
is item ``i``) are refused when the log's item ids look shifted against the row numbers (most
often ids that start at 1: a shift gives more of the log's items a row than the ids as given,
and at least 90% of them), as user vectors are (:mod:`complement.io.users`), unless
``positional_ids``.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from complement.errors import InputError
from complement.io.ids import row_shift, shift_words
from complement.io.interactions import Interactions
from complement.io.views import map_ids

__all__ = ["SHIFT_SHARE", "log_coverage"]

#: views without ids look shifted against the log when a shift gives at least this share of the
#: log's items a row, and more of them than the ids as given
SHIFT_SHARE = 0.9


class JoinedItems(Protocol):
    """What coverage reads of joined views (two or many): the shared item ids."""

    @property
    def ids(self) -> npt.NDArray[np.str_]: ...

    @property
    def positional(self) -> bool: ...


def log_coverage(
    log: Interactions,
    views: JoinedItems,
    max_missing: float | None = None,
    *,
    positional_ids: bool = False,
    ids_hint: str = "--sem-ids / --cf-ids",
) -> tuple[npt.NDArray[np.int64], dict[str, Any]]:
    """(item index of every log row, -1 without embeddings; the coverage summary).

    The log's distinct item ids are looked up once (:func:`map_ids`) and spread to the rows
    through their codes, so no string is built per row. ``ids_hint``: how the user gives the
    views' ids, named when views without ids look shifted against the log.
    """
    uniq, inverse = log.item_ids, log.item_codes
    if views.positional and not positional_ids:
        _check_shift(log, views, ids_hint)
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


def _check_shift(log: Interactions, views: JoinedItems, ids_hint: str) -> None:
    """Refuse views without ids whose row numbers look shifted against the log's item ids."""
    n_rows = int(views.ids.astype(np.int64).max()) + 1  # row i is id i (a few may be dropped)
    delta, best, same = row_shift(n_rows, log.item_ids)
    # only a shift that gives nearly every log item a row (a log of unembedded items beside a
    # few embedded ones is the coverage's business); none as given: "none has embeddings" says so
    if delta == 0 or same == 0 or best < SHIFT_SHARE * log.item_ids.shape[0]:
        return
    shift, why = shift_words(delta, "item")
    raise InputError(
        f"interaction log {log.path}: the item embeddings have no ids (their rows are numbered "
        f"0..{n_rows - 1}), and the log's item ids look shifted by {shift} against them: "
        f"{best} of the log's {log.item_ids.shape[0]} items match if row i is item id "
        f"i{delta:+d}, {same} as given{why}; give the views' ids ({ids_hint}), or pass "
        "--positional-ids if row i really is item i"
    )
