"""``complement hits``: does each view find relevant items that the other misses?"""

from __future__ import annotations

from complement.cli.common import backend_for, emit, load
from complement.cli.options import Invocation, command
from complement.pipeline import with_provenance
from complement.pipeline.exports import export_files, section_map
from complement.pipeline.hits import run_hits

__all__ = ["hits"]


def _hits(inv: Invocation) -> None:
    settings = inv.settings()
    backend = backend_for(settings)
    ctx = load(settings, backend, need_split=True)
    section = run_hits(ctx)
    emit(
        settings,
        with_provenance(section, settings, backend),
        export_files(ctx, section_map(section)),
    )


hits = command(
    "hits",
    _hits,
    doc="""User-level complementarity: per-view Recall/NDCG/HitRate, list Jaccard, unique hits.

    Example: complement hits --config complement.toml --k 10,20 --json hits.json""",
)
