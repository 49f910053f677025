"""Runner of ``align``: train the alignment strategies and the paper's trained fusion, judge
them against the views, the fusions and the oracle.

The systems are torch models: :mod:`complement.core.align` is imported when align runs, never
at start. With an export folder, each trained system's item and user vectors (its first seed)
are written as ``.npz`` so that every other command can diagnose them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from complement.core import diversity, evaluation, fusion
from complement.core import oracle as oracle_core
from complement.core.evaluation import split_summary
from complement.core.hits import VIEWS
from complement.core.multiple import DEFINITIONS as HOLM_DEFINITIONS
from complement.io.export import write_embedding_pairs
from complement.pipeline.align_exports import setting_lists
from complement.pipeline.context import Context
from complement.pipeline.section import Section, make_section
from complement.pipeline.segments import diversity_view

__all__ = ["methods_of", "run_align"]


def methods_of(choice: str) -> tuple[str, ...]:
    """``--method``: comma-separated systems, or every one for ``all`` (in table order)."""
    from complement.core.strategies import METHODS

    names = [m for m in choice.split(",") if m]
    if "all" in names:
        return tuple(METHODS)
    return tuple(names)


def run_align(ctx: Context, export: Path | None = None) -> Section:
    """Train each strategy on the split, evaluate everything side by side."""
    from complement.core import align as align_core

    settings, views = ctx.settings, ctx.views
    log, index = ctx.require_log()
    split = ctx.require_split()
    sem_u, cf_u = ctx.sem_users, ctx.cf_users
    backend = ctx.require_backend()
    device = backend.device
    div_view = diversity_view(settings, VIEWS)  # a bad name is refused before any work
    with ctx.progress("align: training strategies") as progress:
        result = align_core.align(
            log.users,
            index,
            split,
            views.sem,
            views.cf,
            int(log.user_ids.shape[0]),
            methods_of(settings["method"]),
            backend,
            sem_users=None if sem_u is None else sem_u.vectors,
            cf_users=None if cf_u is None else cf_u.vectors,
            user_ok=ctx.user_ok,
            epochs=settings["epochs"],
            lr=settings["lr"],
            dim=settings["dim"],
            seed=settings["seed"],
            seeds=settings.get("seeds") or 1,
            grid=settings.get("grid") or "small",
            alpha=settings.get("alpha"),
            device=device,
            rrf_depth=settings["rrf_depth"],
            n_boot=settings["n_boot"],
            progress=progress,
        )
    assert result.test is not None
    exports = None
    if export is not None:
        pairs = {name: (t.first.items, t.first.users) for name, t in result.training.items()}
        exports = write_embedding_pairs(export, pairs, views.ids, log.user_ids)
    return make_section(
        "align",
        result,
        result.to_dict(),
        exports=exports,
        split=split_summary(split, result.test),
        definitions={
            **evaluation.DEFINITIONS,
            **oracle_core.DEFINITIONS,
            **fusion.DEFINITIONS,
            **align_core.DEFINITIONS,
            **HOLM_DEFINITIONS,
            **diversity.DEFINITIONS,
            "align_diversity": ALIGN_DIVERSITY,
        },
        views=views.to_dict(),
        interactions=ctx.coverage,
        diversity=align_diversity(ctx, result, div_view),
        training_device=device,
    )


#: how the diversity figures of align are taken (also in docs/definitions.md)
ALIGN_DIVERSITY = (
    "per setting, over the setting's candidate items: coverage@20 and intra-list diversity@20 "
    "of every system's list (views, fusions, trained systems' first seed) in the raw rows of "
    "the --diversity-view; effective rank of each view's and each trained system's item matrix"
)


def align_diversity(ctx: Context, result: Any, view: str) -> dict[str, Any]:
    """Coverage and intra-list diversity per setting and system; effective rank per matrix."""
    unit = ctx.unit_view(view)
    out: dict[str, Any] = {}
    for setting, ranked in setting_lists(result).items():
        found = diversity.diversity_of(
            {result.k: ranked.lists}, unit[ranked.index], {}, view=view
        ).to_dict()
        out[setting] = {"n_items": found["n_items"], **found["k"][str(result.k)]}
    trained = {name: diversity.effective_rank(t.first.items) for name, t in result.training.items()}
    return {
        "view": view,
        "k": result.k,
        "effective_rank": {**ctx.effective_ranks, **trained},
        "settings": out,
    }
