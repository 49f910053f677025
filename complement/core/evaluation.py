"""Shared evaluation data: one phase of a split in item-index space, its users and targets.

Every user-level diagnostic (``hits``, ``oracle``, the probe's recommendation check, the
alignment strategies, the report) evaluates through this module and its companions, so they all
mean the same thing by "history", "T_u", "evaluated user" and "Recall@K": this module prepares
what is ranked and scored against (history, targets, evaluated users, popularity);
:mod:`complement.core.ranking` scores and ranks, :mod:`complement.core.metrics` turns ranked
lists into per-user metrics, :mod:`complement.core.stats` gives the bootstrap intervals.

Definitions (fixed; also in docs/definitions.md and the JSON under ``definitions``):

- Candidates: every item of the joined views (item index ``0 .. n_items - 1``). Log rows whose
  item has no embedding in both views are not candidates; they are never ranked, never targets,
  and the target rows removed that way are counted.
- Two phases. ``test`` (the final evaluation): history = train + validation (every row not in
  test), targets = test rows. ``valid`` (tuning, e.g. the fusion weight): history = train only,
  targets = validation rows. Nothing is ever tuned on test.
- History ``H_u``: the distinct candidate items of u's history rows. Targets ``T_u``: the
  distinct candidate items of u's target rows that are not in ``H_u``.
- Evaluated users: at least one history row with a candidate item, ``T_u`` non-empty, and (when
  user embeddings are used) a user vector in every view involved.
- Scores of a view: with user embeddings, the inner product ``p_u · x_i``; without, the cosine
  between ``q_u`` = the mean over ``H_u`` of the L2-normalised item vectors, and each item.
  (``cosine=True`` turns user embeddings into cosine scores too, as fusion needs.)
- Ranking: every item of ``H_u`` is excluded exactly; the top K by (score descending, item index
  ascending). A slot that only an excluded item could fill is ``-1`` and never a hit.
- ``Recall@K = |R_K(u) ∩ T_u| / |T_u|``; ``NDCG@K = DCG / IDCG`` with binary gains,
  ``DCG = Σ_{j<K, R_j ∈ T_u} 1 / log2(j + 2)`` and ``IDCG`` over ``min(K, |T_u|)`` hits;
  ``HitRate@K = 1`` if ``R_K(u) ∩ T_u`` is non-empty.
- Popularity of an item: its number of history rows; activity of a user: their number of
  history rows (both from the history part only, never from the targets).
- Intervals: 95% percentile bootstrap over evaluated users (``n_boot`` resamples, seeded); every
  mean, and every ratio of sums, of one table is resampled with the same users.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.core.splits import TEST, TRAIN, VALID, Split
from complement.errors import UsageError

__all__ = [
    "DEFINITIONS",
    "PHASES",
    "EvalData",
    "check_ks",
    "check_n_boot",
    "prepare_eval",
    "restrict_targets",
    "sorted_isin",
    "split_summary",
]

PHASES = ("test", "valid")

DEFINITIONS = {
    "candidates": "items present in both views (after --drop-invalid); log rows of other items "
    "are never ranked nor targets, and target rows removed that way are counted",
    "history": "test phase: train + validation rows (everything not test); validation phase "
    "(tuning only): train rows; H_u = the distinct candidate items of u's history",
    "targets": "T_u = distinct candidate items of u's test rows (validation rows when tuning) "
    "that are not in H_u",
    "evaluated_users": "users with >= 1 history row on a candidate item and non-empty T_u "
    "(and a user vector in each view when user embeddings are given)",
    "scores": "with user embeddings: inner product p_u . x_i; without: cosine between the mean "
    "of the L2-normalised vectors of H_u and each item",
    "ranking": "H_u excluded exactly; top K by (score desc, item index asc); slots only an "
    "excluded item could fill are -1 and never hits",
    "recall": "|R_K(u) ∩ T_u| / |T_u|, mean over evaluated users",
    "ndcg": "binary gains, DCG = sum over hits at 0-based rank j of 1/log2(j+2), ideal DCG over "
    "min(K, |T_u|) hits; mean over evaluated users",
    "hit_rate": "1 if R_K(u) ∩ T_u is non-empty, else 0; mean over evaluated users",
    "popularity": "item popularity = number of history rows of the item; user activity = number "
    "of history rows of the user (history part only)",
    "ci95": "2.5 and 97.5 percentiles over n_boot bootstrap resamples of the evaluated users "
    "(seeded by --seed; within a popularity group, of the group's users); ratios of sums are "
    "recomputed on each resample; a dict's ci95 maps each of its mean-valued keys to [lo, hi]",
}

CSR = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]
#: query keys looked up at once in :func:`sorted_isin` (its temporaries: 8 bytes a key)
_ISIN_CHUNK = 1 << 20
#: widest range of keys (hi - lo) that :func:`sorted_isin` looks up in a table of flags
_ISIN_TABLE = 1 << 23


@dataclass(frozen=True)
class EvalData:
    """One phase of a split in item-index space, restricted to the evaluated users.

    ``users[r]`` is the log user code of row ``r``; ``history_*`` and ``target_*`` are CSR
    arrays over those rows with sorted, distinct item indices.
    """

    phase: str
    n_items: int
    users: npt.NDArray[np.int64]
    history_indptr: npt.NDArray[np.int64]
    history_indices: npt.NDArray[np.int64]
    target_indptr: npt.NDArray[np.int64]
    target_indices: npt.NDArray[np.int64]
    popularity: npt.NDArray[np.int64]
    activity: npt.NDArray[np.int64]
    counts: Mapping[str, int] = field(default_factory=dict)

    @property
    def n_users(self) -> int:
        return int(self.users.shape[0])

    @property
    def history(self) -> CSR:
        return self.history_indptr, self.history_indices

    @property
    def targets(self) -> CSR:
        return self.target_indptr, self.target_indices

    @property
    def n_targets(self) -> npt.NDArray[np.int64]:
        return np.diff(self.target_indptr)

    def to_dict(self) -> dict[str, Any]:
        return {"phase": self.phase, **{k: int(v) for k, v in self.counts.items()}}


def _csr_rows(
    keys: npt.NDArray[np.int64], n_items: int, keep_users: npt.NDArray[np.int64], n_log: int
) -> CSR:
    """Sorted (user * n_items + item) keys -> CSR over ``keep_users`` (ascending)."""
    owner = keys // n_items
    per_user = np.bincount(owner, minlength=n_log)[keep_users]  # other users' keys: no effect
    keep = np.zeros(n_log, dtype=bool)
    keep[keep_users] = True
    mask = keep[owner]
    del owner
    sel = keys if mask.all() else keys[mask]
    del mask
    indptr = np.zeros(per_user.size + 1, dtype=np.int64)
    np.cumsum(per_user, out=indptr[1:])
    return indptr, np.remainder(sel, n_items)


def _distinct(keys: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """The distinct values of a fresh integer array, ascending; sorts ``keys`` in place.

    What ``np.unique`` returns, by one sort: numpy's hash-table unique leaves the memory of its
    table with the allocator (hundreds of megabytes for a log of millions of rows).
    """
    keys.sort()
    if keys.size < 2:
        return keys
    new = np.empty(keys.size, dtype=bool)
    new[0] = True
    np.not_equal(keys[1:], keys[:-1], out=new[1:])
    return keys if new.all() else keys[new]


def _row_keys(
    users: npt.NDArray[np.int64],
    item_index: npt.NDArray[np.int64],
    rows: npt.NDArray[np.bool_],
    n_items: int,
) -> npt.NDArray[np.int64]:
    """``user * n_items + item`` of the ``rows`` (a fresh array, built in place)."""
    keys = users[rows]
    keys *= n_items
    keys += item_index[rows]
    return keys


def sorted_isin(query: npt.NDArray[np.int64], sorted_keys: npt.NDArray[np.int64]) -> Any:
    """``query ∈ sorted_keys`` elementwise (``sorted_keys`` ascending): by a table of flags
    when the keys span fewer than ``_ISIN_TABLE`` values, else by binary search in chunks."""
    if sorted_keys.size == 0:
        return np.zeros(query.shape, dtype=bool)
    flat = np.ravel(query)
    out = np.empty(flat.shape, dtype=bool)
    lo, hi = int(sorted_keys[0]), int(sorted_keys[-1])
    table = None
    if hi - lo < _ISIN_TABLE:  # keys in a narrow range: one flag per value of the range
        table = np.zeros(hi - lo + 2, dtype=bool)  # the last flag: every query outside it
        table[sorted_keys - lo] = True
    for s in range(0, flat.size, _ISIN_CHUNK):
        q = flat[s : s + _ISIN_CHUNK]
        if table is not None:
            at = np.where((q >= lo) & (q <= hi), q - lo, hi - lo + 1)
            np.take(table, at, out=out[s : s + _ISIN_CHUNK])
            continue
        found = np.searchsorted(sorted_keys, q)
        np.take(sorted_keys, found, out=found, mode="clip")  # past the end: the last key
        np.equal(found, q, out=out[s : s + _ISIN_CHUNK])
    return out.reshape(np.shape(query))


def prepare_eval(
    users: npt.NDArray[np.int64],
    item_index: npt.NDArray[np.int64],
    part: npt.NDArray[np.int8],
    n_items: int,
    *,
    n_users: int | None = None,
    phase: str = "test",
    user_ok: npt.NDArray[np.bool_] | None = None,
    split: Split | None = None,
) -> EvalData:
    """Build one phase from parallel log arrays (user codes, item index or -1, split part).

    ``user_ok`` (one flag per log user) removes users without a user vector; they are counted.
    ``split`` (the split ``part`` comes from) names the cause when no user is left, where the
    split is it (:meth:`Split.no_targets_hint`).
    """
    if phase not in PHASES:
        raise UsageError(f"unknown evaluation phase {phase!r}: choose test or valid")
    users = np.asarray(users, dtype=np.int64)
    item_index = np.asarray(item_index, dtype=np.int64)
    part = np.asarray(part)
    n_log = int(n_users if n_users is not None else (users.max() + 1 if users.size else 0))
    if phase == "test":
        hist_rows, tgt_rows = part != TEST, part == TEST
    else:
        hist_rows, tgt_rows = part == TRAIN, part == VALID
    cand = item_index >= 0
    h = hist_rows & cand
    hist_keys = _distinct(_row_keys(users, item_index, h, n_items))
    t = tgt_rows & cand
    row_keys = _row_keys(users, item_index, t, n_items)
    in_hist = sorted_isin(row_keys, hist_keys)
    tgt_keys = _distinct(row_keys[~in_hist])
    del row_keys
    n_hist_u = np.bincount(hist_keys // n_items, minlength=n_log)
    n_tgt_u = np.bincount(tgt_keys // n_items, minlength=n_log)
    ok = np.ones(n_log, dtype=bool) if user_ok is None else np.asarray(user_ok, dtype=bool)
    with_targets = n_tgt_u > 0
    evaluated = with_targets & (n_hist_u > 0) & ok
    eval_users = np.flatnonzero(evaluated).astype(np.int64)
    what = "test" if phase == "test" else "validation"
    if eval_users.size == 0:
        n_in_history = int(in_hist.sum())
        hint = None if split is None else split.no_targets_hint(phase, int(t.sum()), n_in_history)
        hint = hint or (
            (
                "raise --test-frac or choose another --split"
                if int(tgt_rows.sum()) == 0
                else "lower --test-frac or choose another --split"
            )
            if phase == "test"
            else "the validation part tunes fusion: set --valid-frac > 0 (default 0.1)"
        )
        raise UsageError(
            f"no user has both a history and a {what} item among the {n_items} candidate "
            f"items ({int(tgt_rows.sum())} {what} rows); {hint}"
        )
    hist_indptr, hist_indices = _csr_rows(hist_keys, n_items, eval_users, n_log)
    tgt_indptr, tgt_indices = _csr_rows(tgt_keys, n_items, eval_users, n_log)
    counts = {
        "n_log_users": n_log,
        "n_candidates": n_items,
        "n_history_rows": int(hist_rows.sum()),
        "n_target_rows": int(tgt_rows.sum()),
        "n_target_rows_not_candidate": int((tgt_rows & ~cand).sum()),
        "n_target_rows_in_history": int(in_hist.sum()),
        "n_target_rows_repeated": int(t.sum() - in_hist.sum() - tgt_keys.size),
        "n_users_with_targets": int(with_targets.sum()),
        "n_users_without_history": int((with_targets & (n_hist_u == 0)).sum()),
        "n_users_without_vectors": int((with_targets & (n_hist_u > 0) & ~ok).sum()),
        "n_users": int(eval_users.size),
        "n_targets": int(tgt_indices.size),
    }
    return EvalData(
        phase=phase,
        n_items=n_items,
        users=eval_users,
        history_indptr=hist_indptr,
        history_indices=hist_indices,
        target_indptr=tgt_indptr,
        target_indices=tgt_indices,
        popularity=np.bincount(item_index[h], minlength=n_items).astype(np.int64),
        activity=np.bincount(users[hist_rows], minlength=n_log)[eval_users].astype(np.int64),
        counts=counts,
    )


def split_summary(split: Split, ev: EvalData) -> dict[str, Any]:
    """The ``split`` section of a report: the split itself plus the test-phase counts."""
    c = ev.counts
    return {
        **split.to_dict(),
        "n_users": c.get("n_log_users"),
        "n_items": ev.n_items,
        "n_users_evaluated": ev.n_users,
        "n_test_targets": int(ev.target_indices.size),
        "n_test_removed_not_candidate": c.get("n_target_rows_not_candidate"),
        "n_test_removed_in_history": c.get("n_target_rows_in_history"),
        "n_test_repeated": c.get("n_target_rows_repeated"),
        "n_users_with_test": c.get("n_users_with_targets"),
        "n_users_without_history": c.get("n_users_without_history"),
        "n_users_without_vectors": c.get("n_users_without_vectors"),
    }


def restrict_targets(
    ev: EvalData, keep_items: npt.NDArray[np.bool_]
) -> tuple[npt.NDArray[np.int64], EvalData]:
    """Keep only targets with ``keep_items[item]``; drop users left without targets.

    Returns the rows of ``ev`` kept (to index its ranked lists) and the restricted data.
    """
    keep = np.asarray(keep_items, dtype=bool)[ev.target_indices]
    owner = np.repeat(np.arange(ev.n_users), ev.n_targets)
    per_user = np.bincount(owner[keep], minlength=ev.n_users)
    del owner
    kept = per_user > 0
    rows = np.flatnonzero(kept).astype(np.int64)
    t_indptr = np.concatenate([[0], np.cumsum(per_user[rows])]).astype(np.int64)
    all_counts = np.diff(ev.history_indptr)
    h_counts = all_counts[rows]
    # the kept users' histories, in user order: one mask over the history entries
    h_indices = np.asarray(ev.history_indices[np.repeat(kept, all_counts)], dtype=np.int64)
    sub = replace(
        ev,
        users=ev.users[rows],
        history_indptr=np.concatenate([[0], np.cumsum(h_counts)]).astype(np.int64),
        history_indices=h_indices,
        target_indptr=t_indptr,
        target_indices=ev.target_indices[keep],
        activity=ev.activity[rows],
        counts={"n_users": int(rows.size), "n_targets": int(keep.sum())},
    )
    return rows, sub


def check_ks(ks: Sequence[int], n_items: int) -> tuple[int, ...]:
    """Sorted distinct cut-offs, each positive and smaller than the number of candidates."""
    if not ks:
        raise UsageError("--k is empty: give at least one k, for example --k 10,20,50")
    for k in ks:
        if k < 1:
            raise UsageError(f"--k {k}: every k must be a positive integer")
        if k >= n_items:
            raise UsageError(
                f"--k {k} is not smaller than the number of candidate items ({n_items}); lower it"
            )
    return tuple(sorted(set(int(k) for k in ks)))


def check_n_boot(n_boot: int) -> None:
    if n_boot < 1:
        raise UsageError(f"--n-boot {n_boot}: give at least 1 bootstrap resample (default 1000)")
