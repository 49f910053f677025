"""``complement gate CURRENT.json --baseline BASELINE.json``: a CI gate for embedding releases.

Exit codes: 0 pass, 1 regression, 2 bad input or usage, 3 not comparable.
"""

from __future__ import annotations

import typer

from complement.cli.common import emit
from complement.cli.options import Invocation, command
from complement.gate import not_comparable_error
from complement.pipeline.gate import gate_reports

__all__ = ["gate"]


def _gate(inv: Invocation) -> None:
    settings = inv.settings()
    run = gate_reports(settings, inv.arguments["current"])
    emit(settings, run.doc)
    if run.exit_code == 3:
        raise not_comparable_error(run.result)
    if run.exit_code:
        raise typer.Exit(run.exit_code)


gate = command(
    "gate",
    _gate,
    arguments=("current",),
    doc="""Compare a new report with the last accepted one; exit 0 pass, 1 regression,
    2 bad input, 3 not comparable.

    Example: complement gate new.json --baseline accepted.json --rules gate.toml""",
)
