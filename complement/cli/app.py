"""The Typer application: ``complement <command>``."""

from __future__ import annotations

import signal
import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from complement._version import __version__
from complement.cli.commands import align as align_cmd
from complement.cli.commands import demo, overlap
from complement.cli.commands import explain as explain_cmd
from complement.cli.commands import gate as gate_cmd
from complement.cli.commands import hits as hits_cmd
from complement.cli.commands import oracle as oracle_cmd
from complement.cli.commands import probe as probe_cmd
from complement.cli.commands import report as report_cmd
from complement.cli.commands import structure as structure_cmd

__all__ = ["app", "main"]


class _OneLineUsageErrors(TyperGroup):
    """Usage errors (an unknown flag, a value of the wrong type) as one line and exit code 2.

    Click (vendored by typer) prints a three-line usage box for these; complement answers every
    bad input with one line naming the problem and where to look, like its own errors.
    """

    def main(  # type: ignore[override]
        self,
        args: Any = None,
        prog_name: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, standalone_mode=False, **extra)
        try:
            rv = super().main(args, prog_name, standalone_mode=False, **extra)
        except Exception as exc:  # click's UsageError family, identified by its interface
            if type(exc).__name__ == "Abort":  # click's answer to Ctrl-C
                sys.stderr.write("complement: interrupted; no output was changed\n")
                sys.exit(130)
            code, fmt = getattr(exc, "exit_code", None), getattr(exc, "format_message", None)
            if not isinstance(code, int) or fmt is None:
                raise
            ctx = getattr(exc, "ctx", None)
            if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:
                sys.stdout.write(ctx.get_help() + "\n")
                sys.exit(0)
            where = ctx.command_path if ctx is not None else "complement"
            message = " ".join(str(fmt()).split())
            sys.stderr.write(f"complement: error: {message}; see '{where} --help'\n")
            sys.exit(code)
        except KeyboardInterrupt:
            sys.stderr.write("complement: interrupted; no output was changed\n")
            sys.exit(130)
        except Terminated:
            sys.stderr.write("complement: terminated; no output was changed\n")
            sys.exit(143)
        if rv == 130:  # typer turns Ctrl-C into exit code 130 before it reaches us
            sys.stderr.write("complement: interrupted; no output was changed\n")
        sys.exit(rv if isinstance(rv, int) else 0)


class Terminated(BaseException):  # noqa: N818 - a signal, like KeyboardInterrupt
    """SIGTERM (what a CI cancel sends), raised in the main thread so that outputs unwind."""


def _on_sigterm(_signum: int, _frame: Any) -> None:
    raise Terminated()


app = typer.Typer(
    name="complement",
    cls=_OneLineUsageErrors,
    help="How do a semantic and a collaborative view of the same items relate?",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"complement {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool | None,
        typer.Option("--version", callback=_version, is_eager=True, help="print the version"),
    ] = None,
) -> None:
    """complement: diagnostics for semantic and collaborative item embeddings."""


app.command("overlap")(overlap.overlap)
app.command("hits")(hits_cmd.hits)
app.command("oracle")(oracle_cmd.oracle)
app.command("report")(report_cmd.report)
app.command("gate")(gate_cmd.gate)
app.command("probe")(probe_cmd.probe)
app.command("structure")(structure_cmd.structure)
app.command("explain")(explain_cmd.explain)
app.command("align")(align_cmd.align)
app.command("demo")(demo.demo)


def main() -> None:
    signal.signal(signal.SIGTERM, _on_sigterm)
    app()
