"""Runner of ``structure``: shared versus private structure of the two views (CCA).

Also :func:`unit_context`, shared with the probe: both L2-normalise every row whatever
``--metric`` says, so an all-zero row, which the join lets through under ``--metric ip``, is
refused there, or with ``--drop-invalid`` left out of these two diagnostics only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.core import structure as structure_core
from complement.core.diversity import DiversityMemo
from complement.errors import InputError
from complement.io import Views
from complement.io.coverage import log_coverage
from complement.io.sources import InMemory
from complement.io.views import row_status
from complement.pipeline.ceiling import ceiling_part, structure_ceiling
from complement.pipeline.context import Context
from complement.pipeline.section import Section, make_section

__all__ = ["UnitContext", "run_structure", "unit_context", "widen"]


@dataclass(frozen=True)
class UnitContext:
    """The context a diagnostic on L2-normalised rows runs on: ``ctx`` itself, or (after
    ``--drop-invalid`` left out all-zero rows) one on the items ``kept`` (indices of the
    original context's items, ascending; None: every item)."""

    ctx: Context
    kept: npt.NDArray[np.int64] | None = None
    n_items: int = 0


def _label(value: Any) -> str:
    return value.label() if isinstance(value, InMemory) else str(value)


def unit_context(ctx: Context, command: str) -> UnitContext:
    """``ctx`` for a diagnostic that L2-normalises every row (``command``: its name).

    Under ``--metric cosine`` the join has already refused (or dropped) all-zero rows. Under
    ``--metric ip`` they are refused here with one line naming the view and the first ids, or
    with ``--drop-invalid`` left out: the context returned then holds the other items only,
    with ``views.dropped`` counting them (``semantic_zero``, ``collaborative_zero``) and the
    log's coverage recomputed on them, exactly as a cosine join with ``--drop-invalid`` makes it.
    """
    views = ctx.views
    if views.metric == "cosine":
        return UnitContext(ctx, None, views.n_items)
    zero = {
        "semantic": row_status(views.sem, "cosine")[1],
        "collaborative": row_status(views.cf, "cosine")[1],
    }
    bad = zero["semantic"] | zero["collaborative"]
    if not bad.any():
        return UnitContext(ctx, None, views.n_items)
    settings = ctx.settings
    if not settings.get("drop_invalid"):
        view, mask = next((v, m) for v, m in zero.items() if m.any())
        first = ", ".join(views.ids[mask][:5].tolist())
        path = _label(settings.get(view))
        matrix = views.sem if view == "semantic" else views.cf
        rows = np.asarray(matrix[np.flatnonzero(mask)])
        what = (
            "are all zeros"
            if not rows.any()
            else "are all zeros or have a norm too small for float32"
        )
        raise InputError(
            f"{view} embeddings {path}: {int(mask.sum())} rows (first ids: {first}) {what}; "
            f"{command} L2-normalises every row whatever --metric says, and such a row has no "
            "direction; pass --drop-invalid to leave such items out"
        )
    kept = np.flatnonzero(~bad).astype(np.int64)
    if kept.shape[0] < 2:
        raise InputError(
            f"after --drop-invalid only {kept.shape[0]} shared items with no all-zero row remain "
            f"(need 2); {command} L2-normalises every row: fix the embeddings"
        )
    before = views.dropped
    dropped = {
        "semantic_nonfinite": int(before.get("semantic_nonfinite", 0)),
        "semantic_zero": int(zero["semantic"].sum()),
        "collaborative_nonfinite": int(before.get("collaborative_nonfinite", 0)),
        "collaborative_zero": int(zero["collaborative"].sum()),
        "total": int(before.get("total", 0)) + int(bad.sum()),
    }
    unit_views = Views(
        ids=views.ids[kept],
        sem=np.ascontiguousarray(views.sem[kept]),
        cf=np.ascontiguousarray(views.cf[kept]),
        metric=views.metric,
        only_semantic=views.only_semantic,
        only_collaborative=views.only_collaborative,
        dropped=dropped,
    )
    derived = replace(
        ctx,
        views=unit_views,
        item_index=None,
        coverage=None,
        view_lists=None,
        diversity_memo=DiversityMemo(),
    )
    if ctx.log is not None:
        derived.item_index, derived.coverage = log_coverage(
            ctx.log, unit_views, settings.get("max_missing")
        )
    return UnitContext(derived, kept, views.n_items)


def widen(values: npt.NDArray[np.float64], unit: UnitContext) -> npt.NDArray[np.float64]:
    """Per-item ``values`` of the unit context's items spread over the original context's
    items (NaN for the items left out), for the per-item table of the original items."""
    if unit.kept is None:
        return values
    out = np.full(unit.n_items, np.nan)
    out[unit.kept] = values
    return out


def run_structure(ctx: Context) -> Section:
    """CCA with a permutation null, shared variance, private energy per item."""
    unit = unit_context(ctx, "structure")
    ctx = unit.ctx
    settings, views = ctx.settings, ctx.views
    result = structure_core.shared_structure(
        views.sem,
        views.cf,
        max_dim=settings["max_dim"],
        permutations=settings["permutations"],
        direction=settings["direction"],
        alpha=settings["ridge_alpha"],
        seed=settings["seed"],
        ids=views.ids,
        titles=ctx.titles,
    )
    section = make_section(
        "structure",
        result,
        result.to_dict(),
        definitions=structure_core.DEFINITIONS,
        views=views.to_dict(),
        **ceiling_part(structure_ceiling(ctx, result)),
    )
    if unit.kept is None:
        return section
    # the document is of the items kept; the result's per-item energies (for --per-item)
    # cover every item of the run, NaN where --drop-invalid left an item out here
    return replace(section, result=replace(result, energy=widen(result.energy, unit)))
