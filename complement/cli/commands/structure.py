"""``complement structure``: shared versus private structure of the two views."""

from __future__ import annotations

from complement.cli.common import emit, load
from complement.cli.options import Invocation, command
from complement.pipeline import with_provenance
from complement.pipeline.exports import export_files, section_map
from complement.pipeline.structure import run_structure

__all__ = ["structure"]


def _structure(inv: Invocation) -> None:
    settings = inv.settings()
    ctx = load(settings, None)
    section = run_structure(ctx)
    emit(
        settings,
        with_provenance(section, settings, None),
        export_files(ctx, section_map(section)),
    )


structure = command(
    "structure",
    _structure,
    doc="""Shared vs private: CCA with a permutation null, shared variance, private energy per item.

    Example: complement structure sem.npy cf.npy --max-dim 32 --json structure.json""",
)
