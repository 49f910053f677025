"""Output sets: every file of one run checked before the work, written together at the end.

A run's outputs (``--json``, ``--html``, ``--markdown``, the tables and run files) are
declared up front: each must be ``-`` (standard output, where the option allows it), a
regular file, or a new name in an existing writable folder; never a device, FIFO, socket or
folder, and never a path that resolves to one of the run's inputs. Each is then rendered to a
temporary file beside its target (a short name, so any valid target name works), and only
when all are rendered are they renamed over their targets, one after the other. An error, an
interrupt (SIGINT) or a termination (SIGTERM) before that point removes the temporaries and
leaves every existing file as it was. :func:`written` says which targets this process has
renamed into place since :func:`forget_written` (the CLI's message for an interrupted command:
whether its outputs were left as they were, or had already been written).
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from complement.errors import InputError

__all__ = ["STDOUT", "OutputSet", "check_target", "forget_written", "written"]

STDOUT = "-"
#: what goes into each folder output (named in messages)
FOLDER_CONTENT = {"export": ".npz files", "run_dir": "run files"}

#: the targets renamed into place since the last :func:`forget_written`, in order
_written: list[str] = []


def written() -> tuple[str, ...]:
    """The targets output sets renamed into place since the last :func:`forget_written`."""
    return tuple(_written)


def forget_written() -> None:
    """Start a new record for :func:`written` (the CLI calls it as each command starts)."""
    _written.clear()


def _flag(option: str) -> str:
    return "--" + option.replace("_", "-")


def _real(path: str | os.PathLike[str]) -> str:
    return os.path.realpath(os.fspath(path))


def check_target(
    option: str,
    path: str | os.PathLike[str],
    *,
    inputs: Iterable[str] = (),
    folder: bool = False,
    stdout_ok: bool = False,
) -> None:
    """Refuse, before any work, an output the run could not or must not write."""
    flag, text = _flag(option), os.fspath(path)
    if text == STDOUT:
        if stdout_ok:
            return
        raise InputError(f"{flag} -: this output cannot go to standard output; give a file name")
    p = Path(text)
    real = _real(p)
    if os.path.islink(p) and not os.path.isdir(os.path.dirname(real) or "."):
        raise InputError(
            f"{flag} {p}: is a link that does not lead to a file in a folder; give a file name"
        )
    try:
        info = os.stat(p)  # follows a link to what it leads to
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise InputError(
            f"{flag} {p}: cannot be checked ({exc.strerror}); choose another path"
        ) from None
    if info is not None:
        if folder:
            if not stat.S_ISDIR(info.st_mode):
                what = FOLDER_CONTENT.get(option, "files")
                raise InputError(f"{flag} {p}: is a file; give a folder for the {what}")
        elif stat.S_ISDIR(info.st_mode):
            raise InputError(f"output {p}: is a folder; give a file name")
        elif not stat.S_ISREG(info.st_mode):
            raise InputError(
                f"{flag} {p}: is not a regular file (a device, FIFO or socket); give a file name"
            )
    if real in {_real(i) for i in inputs}:
        raise InputError(
            f"{flag} {p}: is one of this run's inputs; choose another name (complement never "
            "overwrites its inputs)"
        )
    parent = Path(real).parent if info is None or not folder else Path(real)
    if info is None and not parent.is_dir():
        shown = p.parent if str(p.parent) else Path(".")
        head = flag if folder else "output"
        raise InputError(
            f"{head} {p}: the folder {shown} does not exist; create it or choose another path"
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(
            f"{flag} {p}: the folder {parent} is not writable; check its permissions or choose "
            "another path"
        )


def _mode_for(target: str) -> int:
    try:
        return os.stat(target).st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


@dataclass
class OutputSet:
    """The outputs of one run: ``stage`` each, then ``commit`` them all (or ``discard``)."""

    inputs: tuple[str, ...] = ()
    _claimed: dict[str, str] = field(default_factory=dict)  # real path or "-" -> its option
    _staged: list[tuple[str, str]] = field(default_factory=list)  # (temporary, target)
    _stdout: list[bytes] = field(default_factory=list)
    _made: list[str] = field(default_factory=list)  # folders created for this run

    def check(
        self,
        option: str,
        path: str | os.PathLike[str] | None,
        *,
        folder: bool = False,
        stdout_ok: bool = False,
    ) -> None:
        """Check one declared output (None: not asked for); two outputs of one run may not
        both go to standard output or to the same file."""
        if path is None:
            return
        check_target(option, path, inputs=self.inputs, folder=folder, stdout_ok=stdout_ok)
        text = os.fspath(path)
        key = STDOUT if text == STDOUT else _real(text)
        other = self._claimed.get(key)
        if other is not None:
            where, fix = (
                ("standard output", "send only one output there")
                if key == STDOUT
                else ("this path", "give each output its own file")
            )
            raise InputError(f"{_flag(option)} {text}: {_flag(other)} writes to {where} too; {fix}")
        self._claimed[key] = option

    def stage(self, path: str | os.PathLike[str], data: bytes) -> None:
        """Render ``data`` for ``path`` into a temporary file beside it (``-``: stdout).

        A link is kept: the file it leads to is replaced, not the link itself.
        """
        target = os.fspath(path)
        if target == STDOUT:
            self._stdout.append(data)
            return
        if os.path.islink(target):
            target = _real(target)
        directory = os.path.dirname(os.path.abspath(target))
        if not os.path.isdir(directory):
            os.makedirs(directory)
            self._made.append(directory)
        try:  # a short name of its own, so that any valid target name works
            fd, temporary = tempfile.mkstemp(dir=directory, prefix=".cmpl-", suffix=".tmp")
        except OSError as exc:
            raise _unwritable(target, exc) from None
        self._staged.append((temporary, target))
        try:
            os.fchmod(fd, _mode_for(target))
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise _unwritable(target, exc) from None

    def commit(self) -> None:
        """Rename every staged file over its target; then write what goes to stdout."""
        for temporary, target in self._staged:
            try:
                os.replace(temporary, target)
            except OSError as exc:
                self.discard()
                raise _unwritable(target, exc) from None
            _written.append(target)
        self._staged.clear()
        for data in self._stdout:
            sys.stdout.buffer.write(data)
        if self._stdout:
            sys.stdout.buffer.flush()
        self._stdout.clear()

    def discard(self) -> None:
        """Remove every temporary (and folders this run created that stayed empty)."""
        for temporary, _ in self._staged:
            try:
                os.unlink(temporary)
            except FileNotFoundError:
                pass
        self._staged.clear()
        self._stdout.clear()
        for directory in reversed(self._made):
            try:
                os.rmdir(directory)
            except OSError:
                pass
        self._made.clear()

    def __enter__(self) -> OutputSet:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if kind is not None:
            self.discard()


def _unwritable(target: str, exc: OSError) -> InputError:
    reason = exc.strerror or str(exc) or type(exc).__name__
    return InputError(
        f"output {target}: cannot be written ({reason}); check the folder's permissions and "
        "free space (any previous file there is left unchanged)"
    )
