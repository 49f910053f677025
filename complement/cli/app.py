"""The Typer application: ``complement <command>``.

Commands are loaded lazily. ``complement --help`` (and shell completion of command names)
reads the one-line summaries in :data:`COMMANDS` below and imports no command module, so
neither the pipeline nor numpy, polars, scipy or torch; a command's module is imported only
when that command runs or its own ``--help`` is shown. ``tests/cli/test_help.py`` checks that
each summary is the first paragraph of its command's docstring.
"""

from __future__ import annotations

import atexit
import gc
import importlib
import os
import signal
import sys
import threading
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup

from complement._version import __version__

__all__ = ["COMMANDS", "app", "main"]

#: every command, in the order ``--help`` lists them: the module
#: ``complement.cli.commands.<name>`` defines the command function ``<name>``; the value is the
#: first paragraph of its docstring (what ``complement --help`` shows, shortened).
COMMANDS: dict[str, str] = {
    "overlap": "Item-level neighbour agreement: overlap@k and jaccard@k of the k-NN lists, "
    "linear CKA.",
    "hits": "User-level complementarity: per-view Recall/NDCG/HitRate, list Jaccard, unique hits.",
    "oracle": "How well choosing among the two views' lists could do (union, budget, select "
    "oracles) and practical fusions with paired tests.",
    "report": "Every diagnostic (overlap, hits, oracle, probe, structure) from one config and "
    "one load of the inputs, as one JSON document (--json), an HTML page (--html) and Markdown "
    "(--markdown).",
    "gate": "Compare a new report with the last accepted one; exit 0 pass, 1 regression, 2 bad "
    "input, 3 not comparable.",
    "compare": "Many named views: pairwise overlap@k and CKA, per-view recall, unique hits, "
    "N-view oracles, greedy selection.",
    "probe": "Alignment probes: fit a map from one view to the other, score it on shifted items.",
    "structure": "Shared vs private: CCA with a permutation null, shared variance, private "
    "energy per item.",
    "explain": "An item's nearest neighbours in each view side by side, and which both views "
    "agree on.",
    "align": "Trained systems (directau, carec, darec, sella, their ablations; the paper's "
    "trained fusion ncn and its branches semproj, lightgcn) against the views, fusion and oracle.",
    "demo": "Run complement report on the bundled MovieLens-100K fixture: print every table and "
    "write complement-demo.html in the working directory.",
}


class _Command(TyperCommand):
    """A command whose usage line names its arguments as the docs write them.

    Typer puts a required argument in braces (``complement gate [OPTIONS] {CURRENT}``); the
    README and docs write ``complement gate [OPTIONS] CURRENT`` and ``ITEM [SEM] [CF]``."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                name = param.human_readable_name
                pieces.append(name if param.required else f"[{name}]")
            else:
                pieces.extend(param.get_usage_pieces(ctx))
        return pieces


def load_command(name: str) -> Any:
    """The click command of ``name``, built from its module (imported now, not before)."""
    module = importlib.import_module(f"complement.cli.commands.{name}")
    single = typer.Typer(
        add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None
    )
    single.command(name, cls=_Command)(getattr(module, name))
    return typer.main.get_command(single)


class _OneLineUsageErrors(TyperGroup):
    """Usage errors (an unknown flag, a value of the wrong type) as one line and exit code 2.

    Click (vendored by typer) prints a three-line usage box for these; complement answers every
    bad input with one line naming the problem and where to look, like its own errors.

    The group's ``commands`` hold placeholders (name and summary only, from :data:`COMMANDS`):
    the listing in ``--help`` and the completion of command names use them, and
    :meth:`get_command` replaces a placeholder by the real command the first time it is needed.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._loaded: dict[str, Any] = {}

    def list_commands(self, ctx: Any) -> list[str]:
        return [name for name in COMMANDS if name in self.commands]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in COMMANDS or cmd_name not in self.commands:
            return self.commands.get(cmd_name)
        if cmd_name not in self._loaded:
            self._loaded[cmd_name] = load_command(cmd_name)
        return self._loaded[cmd_name]

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """The command list from the placeholders' summaries: no command module is imported."""
        names = [n for n in self.list_commands(ctx) if not self.commands[n].hidden]
        if not names:
            return
        limit = formatter.width - 6 - max(len(n) for n in names)
        rows = [(n, self.commands[n].get_short_help_str(limit)) for n in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def shell_complete(self, ctx: Any, incomplete: str) -> list[Any]:
        """Command names (with their summaries) and the group's own options, nothing loaded."""
        from typer._click.shell_completion import CompletionItem

        results = [
            CompletionItem(name, help=self.commands[name].get_short_help_str())
            for name in self.list_commands(ctx)
            if name.startswith(incomplete) and not self.commands[name].hidden
        ]
        results.extend(typer._click.Command.shell_complete(self, ctx, incomplete))
        return results

    def main(  # type: ignore[override]
        self,
        args: Any = None,
        prog_name: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if (writer := _loaded_writer()) is not None:
            writer.forget_written()
        if not standalone_mode:
            return super().main(args, prog_name, standalone_mode=False, **extra)
        try:
            rv = super().main(args, prog_name, standalone_mode=False, **extra)
        except Exception as exc:  # click's UsageError family, identified by its interface
            if type(exc).__name__ == "Abort":  # click's answer to Ctrl-C
                _stopped("interrupted", 130)
            code, fmt = getattr(exc, "exit_code", None), getattr(exc, "format_message", None)
            if not isinstance(code, int) or fmt is None:
                raise
            ctx = getattr(exc, "ctx", None)
            if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:
                sys.stdout.write(ctx.get_help() + "\n")
                sys.exit(0)
            where = ctx.command_path if ctx is not None else "complement"
            # click ends its messages with a full stop ("No such command 'x'."): dropped before
            # the "; see" that follows
            message = " ".join(str(fmt()).split()).removesuffix(".")
            sys.stderr.write(f"complement: error: {message}; see '{where} --help'\n")
            sys.exit(code)
        except KeyboardInterrupt:
            _stopped("interrupted", 130)
        except Terminated:
            _stopped("terminated", 143)
        if rv == 130:  # typer turns Ctrl-C into exit code 130 before it reaches us
            _stopped("interrupted", 130)
        sys.exit(rv if isinstance(rv, int) else 0)


def _loaded_writer() -> Any:
    """:mod:`complement.io.writer` when a command has loaded it, else None (``--help`` does
    not load it and must not pay for the import; nothing is written without it)."""
    return sys.modules.get("complement.io.writer")


def _stopped(how: str, code: int) -> NoReturn:
    """The one line for a command stopped by Ctrl-C or SIGTERM, and its exit code.

    Stopped before its outputs were renamed into place (nearly always), it changed none of
    them; stopped after (while it printed its tables), they were complete, and the line says
    so instead."""
    writer = _loaded_writer()
    if writer is not None and writer.written():
        sys.stderr.write(f"complement: {how} after its outputs were written\n")
    else:
        sys.stderr.write(f"complement: {how}; no output was changed\n")
    sys.exit(code)


def _command_over() -> None:
    """From now on SIGTERM is ignored: the command has finished or unwound.

    Its outputs are complete, or were left as they were, and only clean-up remains: the
    ``atexit`` handlers shut a Ray instance down and remove temporary folders, in a second or
    so. Broken off there (by :class:`Terminated`, or by the signal's default action), Ray's
    shutdown printed a traceback or left agent processes of the instance running."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


class Terminated(BaseException):  # noqa: N818 - a signal, like KeyboardInterrupt
    """SIGTERM (what a CI cancel sends), raised in the main thread so that outputs unwind."""


def _on_sigterm(_signum: int, _frame: Any) -> None:
    raise Terminated()


app = typer.Typer(
    name="complement",
    cls=_OneLineUsageErrors,
    help="How do a semantic and a collaborative view of the same items relate?",
    no_args_is_help=True,
    add_completion=True,
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
        typer.Option("--version", "-V", callback=_version, is_eager=True, help="print the version"),
    ] = None,
) -> None:
    """complement: diagnostics for semantic and collaborative item embeddings."""


def _placeholder() -> None:  # pragma: no cover - never invoked: get_command loads the real one
    raise RuntimeError("a command placeholder was invoked")


for _name, _summary in COMMANDS.items():
    app.command(_name, help=_summary)(_placeholder)


#: glibc's ``M_MMAP_THRESHOLD``, and the size from which blocks come from (and go back to) the
#: system: with glibc's default, the threshold moves with the largest block freed so far, and a
#: run over a log of millions of rows held blocks it no longer used (its peak memory counts
#: them). Fixed at 32 MiB: blocks of that size and more always go back at once; smaller ones
#: are reused without new page faults (1 MiB measured 6% less peak memory on the 5M-row
#: ``hits`` case, but 10% more wall time, the kernel zeroing fresh pages).
#: ``M_TRIM_THRESHOLD``: free memory at the top of the heap kept for reuse. A fixed mmap
#: threshold also fixes this one at glibc's 128 KiB, so every temporary array of more than that
#: went back to the system when freed and the next one faulted its pages in again (the fixture's
#: ``oracle``: 1.1 s of system time, 6.0 s wall; with 16 MiB kept, 0.35 s and 5.1 s, for 11 MB
#: more peak memory; 64 MiB, glibc's own adaptive setting, gained no more time and held 28 MB
#: more at the peak of the 5M-row ``hits`` case).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD_BYTES = 32 << 20
_TRIM_THRESHOLD_BYTES = 16 << 20


def _hand_back_freed_memory() -> None:
    """Fix glibc's mmap and trim thresholds (Linux only; a no-op elsewhere, never an error)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES)
        libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD_BYTES)
    except (OSError, AttributeError):  # pragma: no cover - not glibc (musl has a stub)
        return


def _skip_last_collections() -> None:
    """Leave every object still alive out of the interpreter's collections from now on.

    At exit the interpreter collects garbage again while it tears its modules down, walking
    every object a command left alive: 0.15-0.2 s after ``complement report`` on the fixture (4%
    of its wall time) to free memory the process is about to give back anyway. Frozen objects
    are skipped (``gc.freeze``); everything else still happens as usual: ``atexit`` handlers,
    ``weakref.finalize`` hooks, files flushed and closed, modules torn down."""
    gc.disable()
    gc.freeze()


#: the library names every thread it starts ``complement-...`` (a report's side sections, the
#: background ``import torch``)
_OWN_THREADS = "complement-"


def _own_thread_running() -> bool:
    """Whether a thread complement started is still running (only on an interrupted or failed
    command: a finished one has waited for all of them)."""
    me = threading.current_thread()
    return any(
        t is not me and t.is_alive() and t.name.startswith(_OWN_THREADS)
        for t in threading.enumerate()
    )


def _end_now(code: object) -> None:
    """End the process with ``code`` without tearing the interpreter down.

    Used when a command stops (Ctrl-C, SIGTERM, an error) while a thread of complement's is
    still in native code: a report's side sections in a BLAS or faiss call, say. Tearing the
    interpreter and the C libraries down beside that thread (OpenBLAS frees its buffers at
    exit) crashed the process with SIGSEGV in about one interruption of a hundred, after it had
    printed its one line. The ``atexit`` handlers still run (a Ray instance is shut down,
    ``weakref.finalize`` hooks remove temporary folders) and the standard streams are flushed;
    outputs were already left as they were while the command unwound."""
    if code is None or isinstance(code, int):
        status = code or 0
    else:  # sys.exit("message"): printed, exit 1, as the interpreter does
        sys.stderr.write(f"{code}\n")
        status = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can reach it
            pass
    os._exit(status)


def main() -> None:
    signal.signal(signal.SIGTERM, _on_sigterm)
    _hand_back_freed_memory()
    try:
        app()
    except BaseException as done:
        _command_over()
        if isinstance(done, SystemExit) and _own_thread_running():
            _end_now(done.code)
        raise
    finally:
        _skip_last_collections()
