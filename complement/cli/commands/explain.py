"""``complement explain ITEM``: an item's neighbours in each view, side by side."""

from __future__ import annotations

from complement.cli.common import backend_for, emit, load
from complement.cli.options import Invocation, command
from complement.pipeline import with_provenance
from complement.pipeline.explain import run_explain

__all__ = ["explain"]


def _explain(inv: Invocation) -> None:
    settings = inv.settings()
    backend = backend_for(settings)
    section = run_explain(load(settings, backend), inv.arguments["item"])
    emit(settings, with_provenance(section, settings, backend))


explain = command(
    "explain",
    _explain,
    arguments=("item", "sem", "cf"),
    doc="""An item's nearest neighbours in each view side by side, and which both views agree on.

    Example: complement explain "Toy Story" --config complement.toml --neighbours 10""",
)
