"""Runner of ``explain``: one item's neighbours in each view, side by side."""

from __future__ import annotations

from complement.core import explain as explain_core
from complement.io.lookup import find_item
from complement.pipeline.context import Context
from complement.pipeline.section import Section, make_section

__all__ = ["run_explain"]


def run_explain(ctx: Context, item: str) -> Section:
    """``item`` is an id of the views, or (with ``--items``) a title or part of one."""
    views = ctx.views
    index = find_item(item, views.ids, ctx.item_meta)
    result = explain_core.explain_item(
        views.sem,
        views.cf,
        index,
        ctx.settings["neighbours"],
        ctx.require_backend(),
        ids=views.ids,
        titles=ctx.titles,
        metric=views.metric,
    )
    return make_section(
        "explain",
        result,
        result.to_dict(),
        definitions=explain_core.DEFINITIONS,
        views=views.to_dict(),
    )
