"""Runner of ``align``: train the published alignment strategies and judge them against fusion.

The strategies are torch models: :mod:`complement.core.align` is imported when align runs,
never at start. With an export folder, each strategy's item and user vectors are written as
``.npz`` so that every other command can diagnose them.
"""

from __future__ import annotations

from pathlib import Path

from complement.core import evaluation, fusion
from complement.core import oracle as oracle_core
from complement.core.evaluation import split_summary
from complement.io.export import write_embedding_pairs
from complement.pipeline.context import Context
from complement.pipeline.section import Section, make_section

__all__ = ["methods_of", "run_align"]


def methods_of(choice: str) -> tuple[str, ...]:
    """``--method``: one strategy, or every one for ``all``."""
    from complement.core.strategies import METHODS

    return tuple(METHODS) if choice == "all" else (choice,)


def run_align(ctx: Context, export: Path | None = None) -> Section:
    """Train each strategy on the split, evaluate everything side by side."""
    from complement.core import align as align_core

    settings, views = ctx.settings, ctx.views
    log, index = ctx.require_log()
    split = ctx.require_split()
    sem_u, cf_u = ctx.sem_users, ctx.cf_users
    backend = ctx.require_backend()
    device = backend.device
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
            device=device,
            rrf_depth=settings["rrf_depth"],
            n_boot=settings["n_boot"],
            progress=progress,
        )
    assert result.test is not None
    exports = None
    if export is not None:
        pairs = {name: (t.items, t.users) for name, t in result.training.items()}
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
        },
        views=views.to_dict(),
        interactions=ctx.coverage,
        training_device=device,
    )
