"""The split prepared for alignment: cold items, both evaluation phases, training pairs.

Definitions (fixed; see :mod:`complement.core.align` and docs/definitions.md):

- Cold items: ``round(0.05 · n_items)`` items drawn with ``numpy.random.default_rng(seed)``.
  Their train and validation rows are removed entirely (no strategy trains on them, no history
  contains them); their test rows stay targets. Every other item is warm.
- Training pairs: the distinct (user, item) pairs of the train rows (warm items only).
- Every setting is evaluated at ``K = 20`` over a subset of the candidates
  (:func:`candidate_subset`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.core.evaluation import EvalData, prepare_eval, restrict_targets
from complement.core.splits import TEST, TRAIN, Split

__all__ = [
    "COLD_FRAC",
    "K",
    "IntArray",
    "Protocol",
    "candidate_subset",
    "cold_items",
    "make_protocol",
]

#: The cut-off of every evaluation setting (Recall@K, NDCG@K, hits).
K = 20
#: Share of the items drawn cold.
COLD_FRAC = 0.05

IntArray = npt.NDArray[np.int64]


def cold_items(n_items: int, seed: int, frac: float = COLD_FRAC) -> npt.NDArray[np.bool_]:
    """The seeded cold-item mask: ``round(frac · n_items)`` items without replacement."""
    n_cold = int(round(frac * n_items))
    mask = np.zeros(n_items, dtype=bool)
    if n_cold > 0:
        rng = np.random.default_rng(seed)
        mask[rng.choice(n_items, size=n_cold, replace=False)] = True
    return mask


@dataclass(frozen=True)
class Protocol:
    """The split prepared for alignment: cold items, evaluation phases, training pairs."""

    cold: npt.NDArray[np.bool_]
    test: EvalData
    valid: EvalData
    train_users: IntArray
    train_items: IntArray
    n_users: int
    counts: dict[str, int]

    @property
    def warm(self) -> npt.NDArray[np.bool_]:
        return ~self.cold

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_cold_items": int(self.cold.sum()),
            "n_warm_items": int((~self.cold).sum()),
            "cold_frac": COLD_FRAC,
            "n_train_pairs": int(self.train_users.shape[0]),
            **self.counts,
            "test": self.test.to_dict(),
            "valid": self.valid.to_dict(),
        }


def make_protocol(
    users: IntArray,
    item_index: IntArray,
    split: Split,
    n_items: int,
    n_users: int,
    *,
    seed: int = 0,
    user_ok: npt.NDArray[np.bool_] | None = None,
) -> Protocol:
    """Cold items, both evaluation phases and the training pairs of one split."""
    cold = cold_items(n_items, seed)
    index = np.asarray(item_index, dtype=np.int64).copy()
    part = split.part
    known = index >= 0
    cold_row = known & cold[np.maximum(index, 0)]
    removed = cold_row & (part != TEST)
    index[removed] = -1
    common: dict[str, Any] = {"n_items": n_items, "n_users": n_users, "user_ok": user_ok}
    test = prepare_eval(users, index, part, phase="test", **common)
    valid = prepare_eval(users, index, part, phase="valid", **common)
    train = (part == TRAIN) & (index >= 0)
    keys = np.unique(users[train].astype(np.int64) * n_items + index[train])
    return Protocol(
        cold=cold,
        test=test,
        valid=valid,
        train_users=(keys // n_items).astype(np.int64),
        train_items=(keys % n_items).astype(np.int64),
        n_users=n_users,
        counts={
            "n_cold_rows_removed": int(removed.sum()),
            "n_cold_test_rows": int((cold_row & (part == TEST)).sum()),
        },
    )


def candidate_subset(
    ev: EvalData, candidates: npt.NDArray[np.bool_]
) -> tuple[IntArray, EvalData, IntArray]:
    """``ev`` with targets and ranked items restricted to ``candidates`` (re-indexed).

    Returns the rows of ``ev`` kept (users with a candidate target), the restricted data in the
    candidates' own index space, and the item index of each candidate.
    """
    cand = np.asarray(candidates, dtype=bool)
    rows, sub = restrict_targets(ev, cand)
    index = np.flatnonzero(cand).astype(np.int64)
    pos = np.full(ev.n_items, -1, dtype=np.int64)
    pos[index] = np.arange(index.shape[0])
    h = sub.history_indices
    keep = cand[h]
    owner = np.repeat(np.arange(sub.n_users), np.diff(sub.history_indptr))
    per_user = np.bincount(owner[keep], minlength=sub.n_users)
    out = replace(
        sub,
        n_items=int(index.shape[0]),
        history_indptr=np.concatenate([[0], np.cumsum(per_user)]).astype(np.int64),
        history_indices=pos[h[keep]],
        target_indices=pos[sub.target_indices],
        popularity=ev.popularity[index],
    )
    return rows, out, index
