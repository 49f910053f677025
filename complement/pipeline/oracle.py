"""Runner of ``oracle``: how much choosing among the two views' lists could gain, and fusion."""

from __future__ import annotations

from complement.core import evaluation, fusion
from complement.core import oracle as oracle_core
from complement.pipeline.context import Context
from complement.pipeline.hits import no_log_reason
from complement.pipeline.section import Section, Skip, make_section

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
            progress=progress,
        )
    ctx.view_lists = (result.lists["semantic"], result.lists["collaborative"])
    return make_section(
        "oracle",
        result,
        result.to_dict(),
        split=ev.split,
        definitions={**evaluation.DEFINITIONS, **oracle_core.DEFINITIONS, **fusion.DEFINITIONS},
        views=views.to_dict(),
        interactions=ctx.coverage,
    )
