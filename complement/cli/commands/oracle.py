"""``complement oracle``: how much choosing among the views' lists could gain; fusion."""

from __future__ import annotations

from complement.cli.common import backend_for, emit, load
from complement.cli.options import Invocation, command
from complement.pipeline import with_provenance
from complement.pipeline.exports import export_files, section_map
from complement.pipeline.oracle import run_oracle

__all__ = ["oracle"]


def _oracle(inv: Invocation) -> None:
    settings = inv.settings()
    backend = backend_for(settings)
    ctx = load(settings, backend, need_split=True)
    section = run_oracle(ctx)
    emit(
        settings,
        with_provenance(section, settings, backend),
        export_files(ctx, section_map(section)),
    )


oracle = command(
    "oracle",
    _oracle,
    doc="""How well choosing among the two views' lists could do (union, budget, select oracles)
    and practical fusions with paired tests.

    The oracles bound choosing among the two lists, not every fusion: concat_fixed,
    standardised score interpolation (--alpha fixes its weight), gated and rrf may exceed them.

    Example: complement oracle --config complement.toml --k 20 --json oracle.json""",
)
