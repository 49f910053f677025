"""Runner of ``hits``: does each view find relevant items that the other misses?"""

from __future__ import annotations

from complement.core import diversity, evaluation
from complement.core import hits as hits_core
from complement.core import segments as segments_core
from complement.pipeline.ceiling import ceiling_part, hits_ceiling
from complement.pipeline.context import Context
from complement.pipeline.section import Section, Skip, make_section
from complement.pipeline.segments import (
    diversity_part,
    diversity_view,
    hits_segments,
    segments_part,
)

__all__ = ["no_log_reason", "run_hits"]


def no_log_reason(what: str) -> str:
    """Why a section that needs an interaction log cannot run without one."""
    return (
        f"no interaction log ({what} needs one): set [data] interactions in complement.toml "
        "or pass --interactions"
    )


def run_hits(ctx: Context) -> Section:
    """Per-view Recall/NDCG/HitRate, list Jaccard, unique hits, user classes.

    When the oracle ran first on the same context (``complement report``), its per-view
    rankings are reused: the hits lists are their exact prefixes.
    """
    if not ctx.has_log:
        raise Skip(no_log_reason("user-level evaluation"))
    ev = ctx.evaluation
    settings, views = ctx.settings, ctx.views
    div_view = diversity_view(settings, hits_core.VIEWS)  # a bad name is refused before work
    if ctx.view_lists is not None:
        ks = evaluation.check_ks(settings["k"], ev.test.n_items)
        kmax = max(ks)
        result = hits_core.hits_from_lists(
            ev.test,
            ctx.view_lists[0][:, :kmax],
            ctx.view_lists[1][:, :kmax],
            ks,
            n_boot=settings["n_boot"],
            seed=settings["seed"],
            scoring={
                "semantic": hits_core.scoring_name(ev.sem_users is not None),
                "collaborative": hits_core.scoring_name(ev.cf_users is not None),
            },
        )
    else:
        with ctx.progress("hits: ranking both views") as progress:
            result = hits_core.complement_hits(
                ev.test,
                views.sem,
                views.cf,
                settings["k"],
                ctx.require_backend(),
                sem_users=ev.sem_users,
                cf_users=ev.cf_users,
                n_boot=settings["n_boot"],
                seed=settings["seed"],
                progress=progress,
            )
    definitions = {**evaluation.DEFINITIONS, **hits_core.DEFINITIONS, **diversity.DEFINITIONS}
    segments = None
    if ctx.segments is not None:
        log, _ = ctx.require_log()
        segments = hits_segments(
            ctx.segments, ev.test, int(log.user_ids.shape[0]), result, settings
        )
        definitions.update(segments_core.DEFINITIONS)
    lists = {"semantic": result.sem_lists, "collaborative": result.cf_lists}
    return make_section(
        "hits",
        result,
        result.to_dict(),
        split=ev.split,
        definitions=definitions,
        views=views.to_dict(),
        interactions=ctx.coverage,
        **diversity_part(
            {k: lists for k in result.per_k},
            ctx.unit_view(div_view),
            ctx.effective_ranks,
            div_view,
            ctx.diversity_memo,
        ),
        **segments_part(segments),
        **ceiling_part(hits_ceiling(ctx, result)),
    )
