"""JSON documents: plain conversion and atomic writes.

Every output file is written to a temporary file in the destination folder, flushed, fsynced
and renamed over the destination, so an interrupted run never leaves a half-written file and
an existing output is replaced only by a complete new one.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from complement._version import __version__
from complement.errors import InputError

__all__ = [
    "check_output_path",
    "document",
    "dumps",
    "to_jsonable",
    "write_bytes_atomic",
    "write_json",
    "write_text_atomic",
]


def to_jsonable(obj: Any) -> Any:
    """numpy scalars/arrays, tuples and dataclasses -> plain JSON values; NaN/inf -> null."""
    if hasattr(obj, "to_dict") and callable(obj.to_dict):
        return to_jsonable(obj.to_dict())
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [to_jsonable(v) for v in obj.tolist()]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        value = float(obj)
        return value if math.isfinite(value) else None
    if isinstance(obj, Path):
        return str(obj)
    return obj


def dumps(doc: Any) -> str:
    return json.dumps(to_jsonable(doc), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def check_output_path(path: str | Path) -> None:
    """Refuse early an output whose folder does not exist (before any work is done)."""
    _check_parent(Path(path))


def _check_parent(path: Path) -> None:
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(
            f"output {path}: the folder {parent} does not exist; create it or choose another path"
        )
    if path.is_dir():
        raise InputError(f"output {path}: is a folder; give a file name")


def _target_mode(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    p = Path(path)
    _check_parent(p)
    try:
        fd, tmp = tempfile.mkstemp(
            dir=p.parent if str(p.parent) else ".", prefix=f".{p.name}.", suffix=".tmp"
        )
    except OSError as exc:
        raise _unwritable(p, exc) from None
    try:
        # mkstemp creates 0600; give the file the mode a plain open() would (or keep the mode
        # of the file it replaces), so replacing an output never changes who can read it
        os.fchmod(fd, _target_mode(p))
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, p)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError):
            raise _unwritable(p, exc) from None
        raise


def _unwritable(path: Path, exc: OSError) -> InputError:
    reason = exc.strerror or str(exc) or type(exc).__name__
    return InputError(
        f"output {path}: cannot be written ({reason}); check the folder's permissions and "
        "free space (any previous file there is left unchanged)"
    )


def write_text_atomic(path: str | Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def write_json(path: str | Path, doc: Any) -> None:
    write_text_atomic(path, dumps(doc))


def document(schema: str, body: Mapping[str, Any], **sections: Any) -> dict[str, Any]:
    """A versioned JSON document: schema first, then the body, then extra sections."""
    doc: dict[str, Any] = {"schema": schema, "complement_version": __version__}
    doc.update(body)
    doc.update(sections)
    return to_jsonable(doc)  # type: ignore[no-any-return]
