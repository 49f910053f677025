"""``complement align``: train the alignment strategies and the paper's trained fusion, judge
them against the views, the fusions and the oracle."""

from __future__ import annotations

from complement.cli.common import backend_for, emit, load
from complement.cli.options import Invocation, command
from complement.io.export import export_folder
from complement.pipeline import with_provenance
from complement.pipeline.align import run_align
from complement.pipeline.exports import export_files, section_map

__all__ = ["align"]


def _align(inv: Invocation) -> None:
    settings = inv.settings()
    backend = backend_for(settings)
    folder = export_folder(settings["export"])
    ctx = load(settings, backend, need_split=True)
    section = run_align(ctx, folder)
    emit(
        settings,
        with_provenance(section, settings, backend),
        export_files(ctx, section_map(section)),
    )


align = command(
    "align",
    _align,
    doc="""Trained systems (directau, carec, darec, sella, their ablations; the paper's trained
    fusion ncn and its branches semproj, lightgcn) against the views, fusion and oracle.

    Example: complement align --config complement.toml --method ncn,darec --seeds 2""",
)
