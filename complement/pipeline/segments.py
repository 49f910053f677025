"""The ``segments`` and ``diversity`` parts of the hits, oracle, overlap and compare documents.

Each runner computes its whole-population result first; these helpers cut it by the
``--segment-col`` segments (:mod:`complement.core.segments`: same table per segment, own
bootstrap intervals, too-small segments without numbers) and measure the diversity of its
ranked lists and item matrices (:mod:`complement.core.diversity`) in the ``--diversity-view``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.core import diversity as diversity_core
from complement.core import segments as segments_core
from complement.core.compare_users import users_from_lists
from complement.core.evaluation import EvalData
from complement.core.hits import VIEWS, hits_from_lists
from complement.core.oracle_tables import oracle_from_lists
from complement.errors import UsageError

__all__ = [
    "diversity_part",
    "diversity_view",
    "hits_segments",
    "oracle_segments",
    "overlap_segments",
    "compare_segments",
    "compare_pair_segments",
    "segments_part",
]

_SHORT = {"sem": "semantic", "cf": "collaborative"}


def diversity_view(settings: Any, names: Sequence[str]) -> str:
    """The ``--diversity-view`` (default: the first view); ``sem``/``cf`` name the two views."""
    value = settings.get("diversity_view")
    if value is None:
        return names[0]
    value = _SHORT.get(value, value) if set(names) == set(VIEWS) else value
    if value not in names:
        raise UsageError(
            f"--diversity-view {settings.get('diversity_view')!r} is not one of the views "
            f"({', '.join(names)}); name one of them"
        )
    return str(value)


def diversity_part(
    lists: Mapping[int, Mapping[str, npt.NDArray[np.int64]]],
    unit_vectors: npt.NDArray[Any],
    effective_ranks: Mapping[str, float],
    view: str,
    memo: diversity_core.DiversityMemo | None = None,
) -> dict[str, Any]:
    """``{"diversity": ...}``: coverage and intra-list diversity per K and list (in the unit
    rows of ``view``), and each matrix's effective rank (computed once by the caller);
    ``memo``: the run's measured lists, reused (``Context.diversity_memo``)."""
    result = diversity_core.diversity_of(lists, unit_vectors, effective_ranks, view=view, memo=memo)
    return {"diversity": result.to_dict()}


def segments_part(result: segments_core.SegmentsResult | dict[str, Any] | None) -> dict[str, Any]:
    """``{"segments": ...}``, or nothing without ``--segment-col``."""
    if result is None:
        return {}
    return {"segments": result if isinstance(result, dict) else result.to_dict()}


def _cut(lists: Mapping[Any, Any], rows: npt.NDArray[np.int64]) -> dict[Any, Any]:
    return {name: value[rows] for name, value in lists.items()}


def hits_segments(
    seg: segments_core.Segments, ev: EvalData, n_log_users: int, result: Any, settings: Any
) -> segments_core.SegmentsResult:
    """The hits tables (every K, no popularity groups) per segment."""
    ks = sorted(result.per_k)

    def table(rows: npt.NDArray[np.int64], sub: EvalData) -> dict[str, Any]:
        res = hits_from_lists(
            sub,
            result.sem_lists[rows],
            result.cf_lists[rows],
            ks,
            n_boot=settings["n_boot"],
            seed=settings["seed"],
            groups=False,
        )
        return {"k": res.to_dict()["k"]}

    return segments_core.user_segments(seg, ev, n_log_users, table)


def oracle_segments(
    seg: segments_core.Segments, ev: EvalData, n_log_users: int, result: Any, settings: Any
) -> segments_core.SegmentsResult:
    """The oracle tables (bounds, fusions with paired tests) per segment."""
    ks = sorted(result.per_k)
    alpha = None if result.alpha_search is None else dict(result.alpha_search.alpha)
    views = {v: result.lists[v] for v in VIEWS}

    def table(rows: npt.NDArray[np.int64], sub: EvalData) -> dict[str, Any]:
        per_k = oracle_from_lists(
            sub,
            _cut(views, rows),
            {k: _cut(fused, rows) for k, fused in result.fused_per_k.items()},
            ks,
            alpha=alpha,
            n_boot=settings["n_boot"],
            seed=settings["seed"],
            groups=False,
        )
        return {"k": {str(k): row.to_dict() for k, row in sorted(per_k.items())}}

    return segments_core.user_segments(seg, ev, n_log_users, table)


def compare_segments(
    seg: segments_core.Segments, ev: EvalData, n_log_users: int, users: Any, settings: Any
) -> segments_core.SegmentsResult:
    """compare's user-level tables per segment."""
    ks = sorted(users.per_k)

    def table(rows: npt.NDArray[np.int64], sub: EvalData) -> dict[str, Any]:
        per_k = users_from_lists(
            sub,
            _cut(users.lists, rows),
            ks,
            anchor=users.anchor,
            n_boot=settings["n_boot"],
            seed=settings["seed"],
        )
        return {"k": {str(k): row.to_dict() for k, row in sorted(per_k.items())}}

    return segments_core.user_segments(seg, ev, n_log_users, table)


def _not_applicable(seg: segments_core.Segments, reason: str) -> dict[str, Any]:
    """The record of user segments given to an item-level table."""
    status = "not applicable"
    return {"column": seg.column, "source": seg.source, "status": status, "reason": reason}


def overlap_segments(
    seg: segments_core.Segments, result: Any, settings: Any
) -> segments_core.SegmentsResult | dict[str, Any]:
    """Mean overlap/Jaccard per item segment; user segments do not apply to item-level
    agreement (refused by the overlap command, recorded as not applicable in a report)."""
    if seg.source != "items":
        return _not_applicable(seg, "overlap is item-level; user segments cut hits and oracle")
    return segments_core.item_segment_overlap(
        seg, result.query_index, result.per_item, int(result.n_items), seed=settings["seed"]
    )


def compare_pair_segments(
    seg: segments_core.Segments, items: Any, settings: Any
) -> segments_core.SegmentsResult | dict[str, Any]:
    """compare's item-level pairwise table per item segment, from the whole run's neighbour
    lists (no new search); user segments do not apply to item-level agreement."""
    if seg.source != "items":
        return _not_applicable(
            seg, "pairwise overlap is item-level; user segments cut the user-level tables"
        )
    counts = {
        key: np.rint(np.asarray(values, dtype=np.float64) * key[2]).astype(np.int64)
        for key, values in items.per_item.items()
    }
    return segments_core.item_segment_pairs(
        seg, items.query_index, counts, int(items.n_items), seed=settings["seed"]
    )
