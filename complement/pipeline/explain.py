"""Runner of ``explain``: one item's neighbours in each view, side by side."""

from __future__ import annotations

from complement.core import explain as explain_core
from complement.io.lookup import find_item
from complement.pipeline.context import Context, read_views
from complement.pipeline.section import Section, make_section

__all__ = ["run_explain"]


def run_explain(ctx: Context, item: str) -> Section:
    """``item`` is an id of the views, or (with ``--items``) a title or part of one.

    An item in only one view, or left out by ``--drop-invalid``, is refused with that reason;
    an id that is also another item's title is explained, with a ``note`` saying so.
    """
    views = ctx.views
    found = find_item(item, views, ctx.item_meta, lambda: read_views(ctx.settings))
    result = explain_core.explain_item(
        views.sem,
        views.cf,
        found.index,
        ctx.settings["neighbours"],
        ctx.require_backend(),
        ids=views.ids,
        titles=ctx.titles,
        metric=views.metric,
    )
    body = result.to_dict()
    if found.note is not None:  # only then: other documents keep their keys
        body["note"] = found.note
    return make_section(
        "explain",
        result,
        body,
        definitions=explain_core.DEFINITIONS,
        views=views.to_dict(),
    )
