"""``complement overlap``: item-level neighbour agreement between the two views."""

from __future__ import annotations

from complement.cli.common import backend_for, emit, load
from complement.cli.options import Invocation, command
from complement.pipeline import with_provenance
from complement.pipeline.exports import export_files, section_map
from complement.pipeline.overlap import run_overlap

__all__ = ["overlap"]


def _overlap(inv: Invocation) -> None:
    settings = inv.settings()
    backend = backend_for(settings)
    ctx = load(settings, backend)
    section = run_overlap(ctx)
    emit(
        settings,
        with_provenance(section, settings, backend),
        export_files(ctx, section_map(section)),
    )


overlap = command(
    "overlap",
    _overlap,
    doc="""Item-level neighbour agreement: overlap@k and jaccard@k of the k-NN lists, linear CKA.

    Example: complement overlap sem.npy cf.npy --k 10,20 --json overlap.json""",
)
