"""``complement report``: every diagnostic from one config, one load, one JSON document."""

from __future__ import annotations

from functools import partial

from complement.cli.common import backend_for, emit, err, load, out
from complement.cli.options import Invocation, command
from complement.io.writer import STDOUT
from complement.pipeline.context import log_given
from complement.pipeline.exports import export_files
from complement.pipeline.report import run_report

__all__ = ["report"]


def _report(inv: Invocation) -> None:
    settings = inv.settings()
    backend = backend_for(settings)
    ctx, run = run_report(
        partial(load, settings, backend, need_split=log_given(settings)), backend.device
    )
    emit(settings, run.doc, export_files(ctx, run.sections))
    console = err if STDOUT in (settings.get("json"), settings.get("markdown")) else out
    for option in ("json", "html", "markdown"):
        if settings.get(option) not in (None, STDOUT):
            console.print(f"wrote {option}: {settings[option]}", markup=False, highlight=False)


report = command(
    "report",
    _report,
    doc="""Every diagnostic (overlap, hits, oracle, probe, structure) from one config and one
    load of the inputs, as one JSON document (--json), an HTML page (--html) and Markdown
    (--markdown).

    Example: complement report --config complement.toml --json report.json --html report.html""",
)
