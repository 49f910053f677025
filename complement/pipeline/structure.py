"""Runner of ``structure``: shared versus private structure of the two views (CCA)."""

from __future__ import annotations

from complement.core import structure as structure_core
from complement.pipeline.ceiling import ceiling_part, structure_ceiling
from complement.pipeline.context import Context
from complement.pipeline.section import Section, make_section

__all__ = ["run_structure"]


def run_structure(ctx: Context) -> Section:
    """CCA with a permutation null, shared variance, private energy per item."""
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
    return make_section(
        "structure",
        result,
        result.to_dict(),
        definitions=structure_core.DEFINITIONS,
        views=views.to_dict(),
        **ceiling_part(structure_ceiling(ctx, result)),
    )
