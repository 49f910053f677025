"""``complement compare``: N named views, pairwise agreement and what each view adds."""

from __future__ import annotations

from complement.cli.common import backend_for, emit, note, progress_bar
from complement.cli.options import Invocation, command
from complement.pipeline.compare import compare_provenance, run_compare
from complement.pipeline.many import load_many

__all__ = ["compare"]


def _compare(inv: Invocation) -> None:
    settings = inv.settings()
    backend = backend_for(settings)
    quiet = bool(settings.get("quiet"))
    ctx = load_many(
        settings,
        backend,
        progress=lambda description: progress_bar(description, quiet),
        notify=None if quiet else note,
    )
    section = run_compare(ctx)
    emit(settings, compare_provenance(section, settings, backend).document())


compare = command(
    "compare",
    _compare,
    arguments=(),
    doc="""Many named views: pairwise overlap@k and CKA, per-view recall, unique hits, N-view
    oracles, greedy selection.

    Views: --view NAME=PATH[:IDS] (repeat), or in complement.toml a [views] table or a
    view = [...] list.

    Example: complement compare --view sem=sem.npy --view cf=cf.npy --view cf1=cf_seed1.npy""",
)
