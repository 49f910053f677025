"""Runner of ``overlap``: item-level neighbour agreement of the two views."""

from __future__ import annotations

from complement.core import overlap as overlap_core
from complement.pipeline.ceiling import ceiling_part, overlap_ceiling
from complement.pipeline.context import Context
from complement.pipeline.section import Section, make_section

__all__ = ["run_overlap"]


def run_overlap(ctx: Context) -> Section:
    """overlap@k and jaccard@k of the k-NN lists, linear CKA; by popularity with a log.

    With a replicate (``cf_replicate`` / ``sem_replicate``) the document gains ``ceiling``:
    the same figures between the view and its replicate, and S–C over them.
    """
    views, settings = ctx.views, ctx.settings
    with ctx.progress("overlap: nearest neighbours") as progress:
        result = overlap_core.item_overlap(
            views.sem,
            views.cf,
            settings["k"],
            ctx.require_backend(),
            metric=views.metric,
            sample=settings["sample"],
            seed=settings["seed"],
            groups=ctx.item_groups,
            progress=progress,
        )
    return make_section(
        "overlap",
        result,
        result.to_dict(),
        definitions=overlap_core.DEFINITIONS,
        views=views.to_dict(),
        interactions=ctx.coverage,
        **ceiling_part(overlap_ceiling(ctx, result)),
    )
