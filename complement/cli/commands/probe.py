"""``complement probe``: can a simple map recover one view from the other, under shift?"""

from __future__ import annotations

from functools import partial

from complement.cli.common import backend_for, emit, load
from complement.cli.options import Invocation, command
from complement.pipeline import with_provenance
from complement.pipeline.context import log_given
from complement.pipeline.exports import export_files, section_map
from complement.pipeline.probe import capacities_of, probe_loading

__all__ = ["probe"]


def _probe(inv: Invocation) -> None:
    settings = inv.settings()
    backend = backend_for(settings)
    ctx, section = probe_loading(
        partial(load, settings, backend, need_split=log_given(settings)),
        capacities_of(settings["capacity"]),
        backend.device,
    )
    files = export_files(ctx, section_map(section))
    emit(settings, with_provenance(section, settings, backend), files)


probe = command(
    "probe",
    _probe,
    doc="""Alignment probes: fit a map from one view to the other, score it on shifted items.

    Example: complement probe --config complement.toml --capacity linear --shift temporal""",
)
