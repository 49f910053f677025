"""Runner of ``overlap``: item-level neighbour agreement of the two views."""

from __future__ import annotations

from complement.core import overlap as overlap_core
from complement.core import segments as segments_core
from complement.errors import UsageError
from complement.pipeline.ceiling import ceiling_part, overlap_ceiling
from complement.pipeline.context import Context
from complement.pipeline.section import Section, make_section
from complement.pipeline.segments import overlap_segments, segments_part

__all__ = ["run_overlap"]


def run_overlap(ctx: Context) -> Section:
    """overlap@k and jaccard@k of the k-NN lists, linear CKA; by popularity with a log.

    With a replicate (``cf_replicate`` / ``sem_replicate``) the document gains ``ceiling``:
    the same figures between the view and its replicate, and S–C over them.
    """
    views, settings = ctx.views, ctx.settings
    seg = ctx.segments
    if seg is not None and seg.source != "items" and settings.command == "overlap":
        raise UsageError(
            f"overlap is item-level: --segment-col {seg.column!r} gives user segments; name a "
            "column of --items (for example genres), or segment hits/oracle/report by users"
        )
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
    definitions = dict(overlap_core.DEFINITIONS)
    segments = None
    if seg is not None:
        segments = overlap_segments(seg, result, settings)
        definitions.update(segments_core.DEFINITIONS)
    return make_section(
        "overlap",
        result,
        result.to_dict(),
        definitions=definitions,
        views=views.to_dict(),
        interactions=ctx.coverage,
        **segments_part(segments),
        **ceiling_part(overlap_ceiling(ctx, result)),
    )
