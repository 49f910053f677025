"""Segments: every user-level table again for a subset of the users or of the items.

Definitions (fixed; also in docs/definitions.md and the JSON under ``definitions``):

- An item segment (a column of the items table; a list column puts an item in every segment
  it lists): ``T_u`` restricted to the segment's items; the users with at least one such
  target; their ranked lists are unchanged (they still rank every candidate).
- A user segment (a column of the users table): the evaluated users it holds, with all their
  targets.
- ``activity`` (built in): the evaluated users ranked by activity (history rows) ascending,
  ties by lower user code; the first ``floor(0.6 n)`` are ``cold``, up to ``floor(0.8 n)``
  ``mid``, the rest ``hot`` (the items' 60/20/20 popularity rule). They partition the
  evaluated users, so user-weighted segment means equal the whole.
- ``compare`` (item segments): every pair's ``overlap@k``, ``jaccard@k``, median and zero
  share over the segment's query items, read from the neighbour lists of the whole run (no
  new search); ``ci95`` from ``N_BOOT`` resamples of the segment's query items (seeded), every
  pair and k from the same resamples, as the whole table's. User segments do not apply.
- A segment with fewer than ``MIN_USERS`` evaluated users (item-level ``overlap`` and
  ``compare``'s pairs: query items, ``MIN_ITEMS``) is reported as too small, without numbers.
  Within a segment the tables have their own bootstrap intervals (the same seed) and no
  popularity groups.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.core.evaluation import EvalData, restrict_targets
from complement.core.popularity import GROUPS, popularity_groups
from complement.core.stats import N_BOOT, bootstrap_estimates, bootstrap_mean_ci

__all__ = [
    "ACTIVITY",
    "DEFINITIONS",
    "MIN_ITEMS",
    "PAIR_DEFINITIONS",
    "MIN_USERS",
    "SOURCES",
    "SegmentRow",
    "Segments",
    "SegmentsResult",
    "activity_segments",
    "item_segment_overlap",
    "item_segment_pairs",
    "select_users",
    "user_cuts",
    "user_segments",
]

ACTIVITY = "activity"
MIN_USERS = 20
MIN_ITEMS = 20
SOURCES = ("items", "users", ACTIVITY)

DEFINITIONS = {
    "segments": "every table again per segment of --segment-col: an items-table column "
    "restricts T_u to the segment's items (users with >= 1 such target); a users-table column "
    "keeps the segment's users with all their targets; 'activity' = evaluated users by history "
    "rows, cold = bottom 60%, mid = next 20%, hot = top 20% (ties by lower user code), a "
    "partition of the users; list columns put a row in every segment listed; own bootstrap "
    "intervals, no popularity groups inside a segment",
    "too_small": f"a segment with fewer than {MIN_USERS} evaluated users (overlap: {MIN_ITEMS} "
    "query items) is reported without numbers",
    "segment_overlap": "overlap: mean overlap@k and jaccard@k over the segment's query items, "
    "with a bootstrap interval of the mean overlap (query items resampled, seeded)",
}

#: compare's item-level part per item segment (in compare's ``definitions`` only)
PAIR_DEFINITIONS = {
    "pair_segments": "compare, item segments: per pair and k, overlap, jaccard, overlap_median "
    "and zero_fraction over the segment's query items (the per-item values of the whole run's "
    "neighbour lists, no new search), ci95 from 1000 bootstrap resamples of the segment's "
    f"query items (seeded; every pair and k from the same resamples); fewer than {MIN_ITEMS} "
    "query items: too small; user segments: not applicable",
}


@dataclass(frozen=True)
class Segments:
    """Named segments: ``members[s]`` holds item indices (``items``) or log user codes
    (``users``); built-in ``activity`` segments are made per evaluation (no members)."""

    column: str
    source: str
    names: tuple[str, ...]
    members: tuple[npt.NDArray[np.int64], ...] = field(repr=False, default=())
    #: items (or log users) of the table's key space that no segment holds
    n_unassigned: int = 0

    @property
    def unit(self) -> str:
        return "items" if self.source == "items" else "users"


def activity_segments() -> Segments:
    """The built-in cold / mid / hot user-activity segments."""
    return Segments(column=ACTIVITY, source=ACTIVITY, names=GROUPS)


@dataclass(frozen=True)
class SegmentRow:
    """One segment: its size, and its table (None when too small)."""

    name: str
    n: int
    n_targets: int | None
    table: Any | None

    def to_dict(self, unit: str) -> dict[str, Any]:
        key = "n_users" if unit == "users" else "n_items"
        if self.table is None:
            return {key: self.n, "too_small": True}
        out: dict[str, Any] = {key: self.n}
        if self.n_targets is not None:
            out["n_targets"] = self.n_targets
        body = self.table.to_dict() if hasattr(self.table, "to_dict") else self.table
        return {**out, **body}


@dataclass(frozen=True)
class SegmentsResult:
    column: str
    source: str
    minimum: int
    unit: str
    n_unassigned: int
    rows: tuple[SegmentRow, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "source": self.source,
            "minimum": self.minimum,
            "unit": self.unit,
            "n_unassigned": self.n_unassigned,
            "by_segment": {row.name: row.to_dict(self.unit) for row in self.rows},
        }


def select_users(ev: EvalData, rows: npt.NDArray[np.int64]) -> EvalData:
    """``ev`` restricted to its rows ``rows`` (ascending), with all their targets."""
    rows = np.asarray(rows, dtype=np.int64)

    def take(indptr: npt.NDArray[np.int64], indices: npt.NDArray[np.int64]) -> Any:
        counts = np.diff(indptr)[rows]
        starts = np.repeat(indptr[rows], counts)
        pos = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        new_ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return new_ptr, indices[starts + pos].astype(np.int64)

    h_ptr, h_idx = take(ev.history_indptr, ev.history_indices)
    t_ptr, t_idx = take(ev.target_indptr, ev.target_indices)
    return replace(
        ev,
        users=ev.users[rows],
        history_indptr=h_ptr,
        history_indices=h_idx,
        target_indptr=t_ptr,
        target_indices=t_idx,
        activity=ev.activity[rows],
        counts={"n_users": int(rows.size), "n_targets": int(t_idx.size)},
    )


def _flags(members: npt.NDArray[np.int64], size: int) -> npt.NDArray[np.bool_]:
    flag = np.zeros(size, dtype=bool)
    flag[members] = True
    return flag


def user_cuts(
    seg: Segments, ev: EvalData, n_log_users: int
) -> list[tuple[str, npt.NDArray[np.int64], EvalData]]:
    """Per segment: (name, rows of ``ev`` kept, the restricted evaluation data)."""
    out: list[tuple[str, npt.NDArray[np.int64], EvalData]] = []
    if seg.source == ACTIVITY:
        group = popularity_groups(ev.activity)
        for g, name in enumerate(seg.names):
            rows = np.flatnonzero(group == g).astype(np.int64)
            out.append((name, rows, select_users(ev, rows)))
    elif seg.source == "users":
        for name, members in zip(seg.names, seg.members, strict=True):
            rows = np.flatnonzero(_flags(members, n_log_users)[ev.users]).astype(np.int64)
            out.append((name, rows, select_users(ev, rows)))
    else:
        for name, members in zip(seg.names, seg.members, strict=True):
            rows, sub = restrict_targets(ev, _flags(members, ev.n_items))
            out.append((name, rows, sub))
    return out


def user_segments(
    seg: Segments,
    ev: EvalData,
    n_log_users: int,
    table: Callable[[npt.NDArray[np.int64], EvalData], Any],
    *,
    minimum: int = MIN_USERS,
) -> SegmentsResult:
    """``table(rows, sub)`` for every segment with at least ``minimum`` users."""
    rows_out = []
    for name, rows, sub in user_cuts(seg, ev, n_log_users):
        n = int(rows.size)
        if n < minimum:
            rows_out.append(SegmentRow(name, n, None, None))
        else:
            rows_out.append(SegmentRow(name, n, int(sub.n_targets.sum()), table(rows, sub)))
    return SegmentsResult(
        column=seg.column,
        source=seg.source,
        minimum=minimum,
        unit="users",
        n_unassigned=seg.n_unassigned,
        rows=tuple(rows_out),
    )


def _item_rows(
    seg: Segments,
    query_index: npt.NDArray[np.int64],
    n_items: int,
    minimum: int,
    table: Callable[[npt.NDArray[np.bool_]], dict[str, Any]],
) -> SegmentsResult:
    """One row per item segment: its query items' ``table(mask)``, or too small below
    ``minimum`` query items."""
    rows_out = []
    for name, members in zip(seg.names, seg.members, strict=True):
        mask = _flags(members, n_items)[query_index]
        n = int(mask.sum())
        rows_out.append(SegmentRow(name, n, None, table(mask) if n >= minimum else None))
    return SegmentsResult(
        column=seg.column,
        source=seg.source,
        minimum=minimum,
        unit="items",
        n_unassigned=seg.n_unassigned,
        rows=tuple(rows_out),
    )


def item_segment_overlap(
    seg: Segments,
    query_index: npt.NDArray[np.int64],
    per_item: Mapping[int, npt.NDArray[np.float64]],
    n_items: int,
    *,
    seed: int = 0,
    minimum: int = MIN_ITEMS,
) -> SegmentsResult:
    """Mean overlap@k and jaccard@k (``= overlap / (2 - overlap)``) over each item segment's
    query items, with the bootstrap interval of the mean overlap."""

    def table(mask: npt.NDArray[np.bool_]) -> dict[str, Any]:
        out: dict[str, Any] = {"k": {}}
        for k, ov in sorted(per_item.items()):
            vals = np.asarray(ov, dtype=np.float64)[mask]
            out["k"][str(k)] = {
                "overlap": float(vals.mean()),
                "jaccard": float((vals / (2.0 - vals)).mean()),
                "ci95": list(bootstrap_mean_ci(vals, seed=seed)),
            }
        return out

    return _item_rows(seg, query_index, n_items, minimum, table)


def item_segment_pairs(
    seg: Segments,
    query_index: npt.NDArray[np.int64],
    counts: Mapping[tuple[str, str, int], npt.NDArray[np.int64]],
    n_items: int,
    *,
    seed: int = 0,
    n_boot: int = N_BOOT,
    minimum: int = MIN_ITEMS,
) -> SegmentsResult:
    """compare's pairwise table per item segment: from ``counts[(a, b, k)]`` (``|N_a(i)[:k] ∩
    N_b(i)[:k]|`` of every query item, in ``query_index`` order), each pair's mean overlap@k
    (``count / k``), jaccard@k (``count / (2k − count)``), median overlap and share of items
    with no common neighbour over the segment's query items, and the 95% bootstrap interval
    of the mean overlap (the segment's query items resampled; every pair and k from the same
    resamples, integer counts summed exactly, as the whole table's)."""

    def table(mask: npt.NDArray[np.bool_]) -> dict[str, Any]:
        cut = {key: np.asarray(c, dtype=np.float64)[mask] for key, c in counts.items()}
        est = bootstrap_estimates(
            {f"{a}|{b}|{k}": c for (a, b, k), c in cut.items()}, n_boot=n_boot, seed=seed
        )
        pairs: dict[str, dict[str, Any]] = {}
        for (a, b, k), inter in cut.items():
            ov = inter / k
            lo, hi = est[f"{a}|{b}|{k}"].ci95
            node = pairs.setdefault(a, {}).setdefault(b, {"k": {}})
            node["k"][str(k)] = {
                "overlap": float(ov.mean()),
                "jaccard": float((inter / (2 * k - inter)).mean()),
                "overlap_median": float(np.median(ov)),
                "zero_fraction": float(np.mean(inter == 0)),
                "ci95": [lo / k, hi / k],
            }
        for by_b in pairs.values():
            for node in by_b.values():
                node["k"] = dict(sorted(node["k"].items(), key=lambda kv: int(kv[0])))
        return {"pairs": pairs}

    return _item_rows(seg, query_index, n_items, minimum, table)
