"""Output sets: every file of one run checked before the work, written together at the end.

A run's outputs (``--json``, ``--html``, ``--markdown``, the tables and run files) are
declared up front: each must be ``-`` (standard output, where the option allows it), a
regular file, or a new name in an existing writable folder; never a device, FIFO, socket or
folder, never a name ending in a separator (it names a folder), never a path that is or leads
(through any link, followed one hop at a time) into ``/dev`` or ``/proc`` (``/dev/stdout``,
``/proc/self/fd/1``: the rename would replace the file a stream is redirected to), and never a
path that resolves to one of the run's inputs. Files a run writes into an output folder are
checked the same way as they are staged, before anything is written. Each is then rendered to a
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

__all__ = [
    "STDOUT",
    "OutputSet",
    "check_folder_members",
    "check_target",
    "device_path",
    "forget_written",
    "written",
]

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


#: the kernel's folders of devices and process streams: never a place for an output
_DEVICE_ROOTS = ("/dev", "/proc")
#: links followed before giving up (a loop; checking the path then reports it)
_MAX_HOPS = 40


#: ordinary file systems under /dev (shared memory): outputs may go there
_FILE_SYSTEMS_IN_DEV = ("/dev/shm",)


def _device_root(path: str) -> str | None:
    if any(path == fs or path.startswith(fs + "/") for fs in _FILE_SYSTEMS_IN_DEV):
        return None
    for root in _DEVICE_ROOTS:
        if path == root or path.startswith(root + "/"):
            return root
    return None


def device_path(path: str | os.PathLike[str]) -> str | None:
    """The folder, ``/dev`` or ``/proc``, that ``path`` is in or leads into through any of its
    links, each followed one hop at a time (None: neither).

    :func:`os.path.realpath` cannot tell: it resolves ``/proc/self/fd/1`` (and so
    ``/dev/stdout``) to the file standard output is redirected to, a regular file, and renaming
    a new file over that one would replace what the shell's ``>>`` appends to."""
    text = os.fspath(path)
    where = "/" if text.startswith("/") else os.getcwd()
    if (root := _device_root(where)) is not None and where != root:
        return root
    todo = text.split("/")[::-1]  # a stack: the next part of the path last
    hops = 0
    while todo:
        part = todo.pop()
        if part in ("", "."):
            continue
        if part == "..":
            where = os.path.dirname(where)
            continue
        where = os.path.join(where, part)
        root = _device_root(where)
        if root is not None and (where != root or not todo):  # /dev itself: see what is in it
            return root
        try:
            link = os.readlink(where)
        except OSError:  # not a link, or not there (yet)
            continue
        hops += 1
        if hops > _MAX_HOPS:
            return None
        where = "/" if link.startswith("/") else os.path.dirname(where)
        todo.extend(link.split("/")[::-1])
    return None


def _names_folder(text: str) -> bool:
    """Whether a path names a folder by its spelling: ``new/``, ``new/.``, ``new/..``."""
    seps = (os.sep, os.altsep) if os.altsep else (os.sep,)
    return text.endswith(seps) or os.path.basename(text) in (".", "..")


def _device_error(flag: str, text: str, root: str, fix: str) -> InputError:
    where = (
        f"under {root}/"
        if _device_root(os.path.abspath(text)) is not None
        else f"it leads into {root}/ through a link"
    )
    return InputError(f"{flag} {text}: is a device or stream path ({where}), not a file; {fix}")


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
    root = device_path(text)
    if root is not None:
        fix = (
            "give a folder"
            if folder
            else "use - for standard output, or give a file name"
            if stdout_ok
            else "give a file name"
        )
        raise _device_error(flag, text, root, fix)
    if not folder and _names_folder(text) and not os.path.isdir(text):
        raise _folder_name_error(flag, text)
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


def _folder_name_error(head: str, text: str) -> InputError:
    base = os.path.basename(text)
    ending = f"'{base}'" if base else "a separator"
    return InputError(f"{head} {text}: ends in {ending}, so it names a folder; give a file name")


def check_folder_members(
    option: str,
    folder: str | os.PathLike[str],
    names: Iterable[str],
    *,
    inputs: Iterable[str] = (),
) -> None:
    """Refuse, before any work, an output folder where the run would write one of its inputs
    (``names``: the files the run writes there)."""
    directory = os.fspath(folder)
    if not os.path.isdir(directory):  # created by the run: nothing of the user's is in it
        return
    real_inputs = {_real(i) for i in inputs}
    for name in names:
        member = os.path.join(directory, name)
        if _real(member) in real_inputs:
            raise InputError(
                f"{_flag(option)} {directory}: {member} is one of this run's inputs, and the "
                "run writes a file of that name there; choose another folder (complement never "
                "overwrites its inputs)"
            )


def _check_staged(target: str, inputs: Iterable[str]) -> None:
    """The checks of :func:`check_target` for a file the run names itself (the files of an
    output folder), made as it is staged: before anything is written."""
    if _names_folder(target):
        raise _folder_name_error("output", target)
    root = device_path(target)
    if root is not None:
        raise _device_error("output", target, root, "give a file name")
    if _real(target) in {_real(i) for i in inputs}:
        raise InputError(
            f"output {target}: is one of this run's inputs; choose another path (complement "
            "never overwrites its inputs)"
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
        _check_staged(target, self.inputs)
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
