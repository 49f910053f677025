"""What every command shares: error handling, settings, loading with progress, output.

Errors: the library raises :class:`~complement.errors.ComplementError`; :func:`guarded` is the
only place that catches it, printing one line to stderr and exiting with its code (2, or 3 for
gate's "not comparable").
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from typer._click.globals import get_current_context  # typer's own click, as app.py uses

from complement.config import OPTIONS, OUTPUT_OPTIONS, Settings, resolve
from complement.errors import ComplementError
from complement.io.export import check_export
from complement.io.writer import STDOUT, OutputSet
from complement.options import OUTPUT_FOLDERS
from complement.pipeline import Context, load_context
from complement.pipeline.engine import backend_for
from complement.report.model.text import visible
from complement.report.outputs import render_outputs
from complement.report.rich import render_document
from complement.retrieval import Backend

__all__ = [
    "backend_for",
    "emit",
    "err",
    "guarded",
    "load",
    "note",
    "out",
    "progress_bar",
    "settings_for",
]

F = TypeVar("F", bound=Callable[..., Any])

out = Console()
err = Console(stderr=True)


def guarded(fn: F) -> F:
    """Turn a ComplementError into one line on stderr and its exit code; nothing else."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ComplementError as exc:
            # control characters from ids and file names escaped (\x1b, \n), as in the tables:
            # the line can neither drive the terminal nor break in two
            message = " ".join(visible(str(exc)).split())
            err.print(
                f"complement: error: {message}", markup=False, highlight=False, soft_wrap=True
            )
            raise typer.Exit(exc.exit_code) from None

    return wrapper  # type: ignore[return-value]


def settings_for(
    command: str, config: Path | None, *, inputs: Sequence[str] = (), **flags: Any
) -> Settings:
    """Resolve a command's settings; positional SEM/CF map to data.semantic/collaborative.

    ``inputs``: files the command reads that are not settings (gate's CURRENT report): no
    output may overwrite them either."""
    clean = {k: _as_given(k, v) for k, v in flags.items()}
    settings = resolve(command, clean, config=config)
    if inputs:
        settings = replace(settings, extra={**settings.extra, "inputs": tuple(inputs)})
    output_set(settings)  # every output checked before any work
    return settings


def _as_given(name: str, value: Any) -> Any:
    """A flag's value for the settings; an output file's path as the user typed it.

    The command line turns a path into a :class:`~pathlib.Path`, which drops a trailing
    separator: ``--json new/`` names a folder, and must not become a file called ``new``."""
    if not isinstance(value, Path):
        return value
    if name in OUTPUT_OPTIONS:
        ctx = get_current_context(silent=True)
        typed = ctx.params.get(name) if ctx is not None else None
        if isinstance(typed, str) and Path(typed) == value:
            return typed
    return str(value)


#: outputs that may be ``-`` (standard output)
STDOUT_OK = ("json", "markdown")


def output_set(settings: Settings) -> OutputSet:
    """The run's outputs, each checked: writable, not a device or folder, not an input, not
    an output another option of the run writes too."""
    inputs = settings.input_files()
    outputs = OutputSet(inputs=tuple(inputs))
    for name in OUTPUT_OPTIONS:
        outputs.check(name, settings.get(name), stdout_ok=name in STDOUT_OK)
    for name in OUTPUT_FOLDERS:
        outputs.check(name, settings.get(name), folder=True)
    check_export(  # align's .npz files, named by the methods: none may be an input
        settings.get("export"), settings.get("method"), OPTIONS["method"].choices, inputs
    )
    return outputs


class _LazyProgress:
    """A Rich progress bar that appears only once work has run for about a second, and only on
    a terminal (redirected, a bar would leave its description and blank lines behind)."""

    def __init__(self, description: str, quiet: bool) -> None:
        self.description = description
        self.quiet = quiet
        self.t0 = time.monotonic()
        self.bar: Progress | None = None
        self.task: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self.quiet or not err.is_terminal:
            return
        if self.bar is None:
            if time.monotonic() - self.t0 < 1.0:
                return
            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}"),
                TimeElapsedColumn(),
                console=err,
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task(self.description, total=total)
        self.bar.update(self.task, completed=done, total=total)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


@contextmanager
def progress_bar(description: str, quiet: bool) -> Iterator[Callable[[int, int], None]]:
    bar = _LazyProgress(description, quiet)
    try:
        yield bar
    finally:
        bar.close()


def load(
    settings: Settings,
    backend: Backend | None,
    *,
    need_log: bool = False,
    need_split: bool = False,
) -> Context:
    """The pipeline's context, with Rich progress bars on stderr unless --quiet."""
    quiet = bool(settings.get("quiet"))
    return load_context(
        settings,
        backend,
        need_log=need_log,
        need_split=need_split,
        progress=lambda description: progress_bar(description, quiet),
        notify=None if quiet else note,
    )


def note(line: str) -> None:
    """One line of progress on stderr (user text is never read as markup)."""
    err.print(line, markup=False, highlight=False)


def emit(settings: Settings, doc: dict[str, Any], files: Sequence[tuple[str, bytes]] = ()) -> None:
    """Write the run's outputs as one set (--json, --html/--markdown where the command has
    them, and ``files``: (target, content) pairs such as tables), then print its tables.

    With ``--json -`` or ``--markdown -`` the document goes to standard output and the tables
    to stderr (nowhere with --quiet).
    """
    with output_set(settings) as outputs:
        rendered = render_outputs(
            doc,
            json=settings.get("json"),
            html=settings.get("html"),
            markdown=settings.get("markdown"),
        )
        for target, data in [*rendered, *files]:
            outputs.stage(target, data)
        outputs.commit()
    to_stdout = any(settings.get(n) == STDOUT for n in STDOUT_OK)
    if not to_stdout:
        render_document(doc, out)
    elif not settings.get("quiet"):
        render_document(doc, err)
