"""Join N named views on item id, with the join rules and refusals of the two-view join.

:func:`join_many` is :func:`complement.io.views.join_views` for any number of views (at least
two): the shared universe is the ids present in *every* view, sorted as the two-view join sorts
them (numerically when every id is an integer), so on two views it gives the same items in the
same order. The refusals are the same, applied to the views as a set:

- a view without ids (row ``i`` is id ``i``) beside one with ids is refused unless
  ``positional_ids``; two views without ids must have the same number of rows;
- fewer than 2 shared items, or fewer than ``min_shared`` times the smallest view's item count,
  is refused, naming the view that shares least with the first one;
- NaN/inf rows (and all-zero rows under cosine) among the shared items are refused unless
  ``drop_invalid``, which leaves those items out of every view and counts them per view.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.errors import InputError, UsageError
from complement.io.embeddings import Embeddings
from complement.io.views import _mismatch, _take, sort_ids, valid_rows

__all__ = ["ManyViews", "join_many"]


@dataclass(frozen=True)
class ManyViews:
    """N views restricted to their shared, valid items; row ``i`` of each matrix is ``ids[i]``."""

    names: tuple[str, ...]
    ids: npt.NDArray[np.str_]
    matrices: tuple[npt.NDArray[Any], ...]
    metric: str
    paths: tuple[str, ...]
    #: per view: its items that are not in every other view (left out)
    only: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)
    #: no view had ids (row ``i`` is item ``i``): see :class:`complement.io.views.Views`
    positional: bool = False

    @property
    def n_items(self) -> int:
        return int(self.ids.shape[0])

    def matrix(self, name: str) -> npt.NDArray[Any]:
        return self.matrices[self.names.index(name)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_items": self.n_items,
            "dims": {n: int(m.shape[1]) for n, m in zip(self.names, self.matrices, strict=True)},
            "paths": dict(zip(self.names, self.paths, strict=True)),
            "not_shared": dict(self.only),
            "dropped": dict(self.dropped),
            "dropped_total": int(self.dropped.get("total", 0)),
        }


def _check_options(metric: str, min_shared: float) -> None:
    if metric not in ("cosine", "ip"):
        raise UsageError(f"unknown --metric {metric!r}: choose cosine or ip")
    if not (isinstance(min_shared, int | float) and 0.0 <= min_shared <= 1.0):
        raise UsageError(f"--min-shared {min_shared}: must lie in [0, 1] (a fraction of items)")


def _check_positional(embs: Sequence[Embeddings], names: Sequence[str], positional: bool) -> None:
    pos = [j for j, e in enumerate(embs) if e.ids_from_rows]
    real = [j for j, e in enumerate(embs) if not e.ids_from_rows]
    rows = {embs[j].shape[0] for j in pos}
    if len(rows) > 1:
        detail = ", ".join(f"{embs[j].path} has {embs[j].shape[0]} rows" for j in pos)
        raise InputError(
            f"{detail} and none of them has ids; give ids with --view NAME=PATH:IDS (or "
            ".npz/.parquet files with ids)"
        )
    if pos and real and not positional:
        p, r = embs[pos[0]], embs[real[0]]
        shared = np.intersect1d(p.ids, r.ids).shape[0]
        raise InputError(
            f"view {names[pos[0]]} ({p.path}) has no ids (its rows are numbered "
            f"0..{p.shape[0] - 1}) but view {names[real[0]]} ({r.path}) has ids, so joining "
            f"them would pair items by row number: {_mismatch(p, r, shared)}; give its ids with "
            f"--view {names[pos[0]]}={p.path}:IDS, or pass --positional-ids if row i really is "
            "the item with id i"
        )


def _worst(embs: Sequence[Embeddings]) -> tuple[int, int]:
    """The view (after the first) that shares the fewest ids with the first, and how many."""
    counts = [np.intersect1d(embs[0].ids, e.ids, assume_unique=True).shape[0] for e in embs[1:]]
    j = int(np.argmin(counts))
    return j + 1, int(counts[j])


def join_many(
    embs: Sequence[Embeddings],
    names: Sequence[str],
    *,
    metric: str = "cosine",
    drop_invalid: bool = False,
    positional_ids: bool = False,
    min_shared: float = 0.5,
) -> ManyViews:
    """Join the views on id, validate rows, and either refuse or (``drop_invalid``) drop bad
    rows (see the module docstring)."""
    _check_options(metric, min_shared)
    if len(embs) != len(names):
        raise UsageError(f"{len(embs)} views for {len(names)} names")
    if len(embs) < 2:
        raise UsageError(
            f"{'no view' if not embs else '1 view'} given: compare needs at least two (repeat "
            "--view NAME=PATH, or list them in a [views] table of complement.toml)"
        )
    _check_positional(embs, names, positional_ids)
    shared = embs[0].ids
    for emb in embs[1:]:
        shared = np.intersect1d(shared, emb.ids, assume_unique=True)
    shared = shared[sort_ids(shared)]
    smaller = min(e.shape[0] for e in embs)
    n_shared = int(shared.shape[0])
    if n_shared < 2 or n_shared < min_shared * smaller:
        j, pair_shared = _worst(embs)
        why = _mismatch(embs[0], embs[j], pair_shared)
        if n_shared < 2:
            raise InputError(
                f"the {len(embs)} views share {n_shared} item ids (need at least 2); view "
                f"{names[0]} and view {names[j]} share {pair_shared}: {why}; check that every "
                "view uses the same ids (--view NAME=PATH:IDS)"
            )
        frac = n_shared / smaller
        allow = math.floor(frac * 100) / 100
        raise InputError(
            f"the {len(embs)} views share only {n_shared} item ids, {frac:.0%} of the smallest "
            f"view's {smaller} (--min-shared {min_shared:g} needs "
            f"{math.ceil(min_shared * smaller)}), a sign that their ids do not match; view "
            f"{names[0]} and view {names[j]} share {pair_shared}: {why}; check that every view "
            f"uses the same ids (--view NAME=PATH:IDS), or pass --min-shared {allow:g} if they "
            "really cover different items"
        )
    rows = []
    for emb in embs:
        order = np.argsort(emb.ids, kind="stable")
        rows.append(order[np.searchsorted(emb.ids[order], shared)])
    keep, dropped = valid_rows(
        [
            (emb, idx, name, f"view {name} {emb.path}")
            for emb, idx, name in zip(embs, rows, names, strict=True)
        ],
        shared,
        metric,
        drop_invalid,
    )
    return ManyViews(
        names=tuple(names),
        ids=shared[keep],
        matrices=tuple(
            _take(emb.matrix, idx[keep].astype(np.intp))
            for emb, idx in zip(embs, rows, strict=True)
        ),
        metric=metric,
        paths=tuple(emb.path for emb in embs),
        only={n: int(e.shape[0] - n_shared) for n, e in zip(names, embs, strict=True)},
        dropped=dropped,
        positional=all(e.ids_from_rows for e in embs),
    )
