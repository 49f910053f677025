"""``complement demo``: ``complement report`` on the MovieLens-100K fixture, as an HTML page."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from complement.cli.common import backend_for, emit, load, out, settings_for
from complement.cli.options import Invocation, command
from complement.fixture import fixture_config
from complement.pipeline.report import run_report

__all__ = ["DEMO_HTML", "demo"]

DEMO_HTML = "complement-demo.html"


def _demo(inv: Invocation) -> None:
    config = fixture_config()
    target = Path.cwd() / DEMO_HTML
    out.print(f"complement demo: complement report on {config.parent}", markup=False)
    settings = settings_for("report", config, html=target, quiet=inv.flags.get("quiet"))
    backend = backend_for(settings)
    _, run = run_report(
        partial(load, settings, backend, need_split=True), backend.device, notify=False
    )
    emit(settings, run.doc)
    out.print(
        f"\nwrote {target} (every section, plots included; no network needed)\n"
        f"open it in a browser: {target.as_uri()}",
        highlight=False,
        markup=False,
    )


demo = command(
    "demo",
    _demo,
    arguments=(),
    config=False,
    doc="""Run complement report on the bundled MovieLens-100K fixture: print every table and
    write complement-demo.html in the working directory.

    Example: complement demo --quiet""",
)
