"""Runner of ``oracle``: how much choosing among the two views' lists could gain, and fusion."""

from __future__ import annotations

from complement.core import diversity, evaluation, fusion
from complement.core import oracle as oracle_core
from complement.core import segments as segments_core
from complement.core.hits import VIEWS
from complement.pipeline.context import Context
from complement.pipeline.hits import no_log_reason
from complement.pipeline.section import Section, Skip, make_section
from complement.pipeline.segments import (
    diversity_part,
    diversity_view,
    oracle_segments,
    segments_part,
)

__all__ = ["NO_VALID", "run_oracle"]

#: the report's reason for skipping the oracle when the split has no validation part
NO_VALID = "no validation phase to tune fusion on: "


def run_oracle(ctx: Context) -> Section:
    """Oracle bounds (union, budget, select) and practical fusion with paired tests.

    Keeps the per-view rankings on the context so that hits can reuse them.
    """
    if not ctx.has_log:
        raise Skip(no_log_reason("user-level evaluation"))
    ev = ctx.evaluation
    if ev.valid is None:
        raise Skip(NO_VALID + str(ev.valid_error))
    settings, views = ctx.settings, ctx.views
    div_view = diversity_view(settings, VIEWS)  # a bad name is refused before any work
    with ctx.progress("oracle: ranking views and fusions") as progress:
        result = oracle_core.complement_oracle(
            ev.test,
            ev.valid,
            views.sem,
            views.cf,
            settings["k"],
            ctx.require_backend(),
            sem_users=ev.sem_users,
            cf_users=ev.cf_users,
            rrf_depth=settings["rrf_depth"],
            n_boot=settings["n_boot"],
            seed=settings["seed"],
            alpha=settings["alpha"],
            progress=progress,
        )
    ctx.view_lists = (result.lists["semantic"], result.lists["collaborative"])
    definitions = {
        **evaluation.DEFINITIONS,
        **oracle_core.DEFINITIONS,
        **fusion.DEFINITIONS,
        **diversity.DEFINITIONS,
    }
    segments = None
    if ctx.segments is not None:
        log, _ = ctx.require_log()
        segments = oracle_segments(
            ctx.segments, ev.test, int(log.user_ids.shape[0]), result, settings
        )
        definitions.update(segments_core.DEFINITIONS)
    lists = {
        k: {**{v: result.lists[v] for v in VIEWS}, **fused}
        for k, fused in result.fused_per_k.items()
    }
    return make_section(
        "oracle",
        result,
        result.to_dict(),
        split=ev.split,
        definitions=definitions,
        views=views.to_dict(),
        interactions=ctx.coverage,
        **diversity_part(
            lists, ctx.unit_view(div_view), ctx.effective_ranks, div_view, ctx.diversity_memo
        ),
        **segments_part(segments),
    )
