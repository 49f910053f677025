"""Checks every input reader shares: the path is a readable file, sizes, memory, pickles.

Nothing here reads a file's content beyond a few leading bytes; the format readers
(:mod:`complement.io.npy`, :mod:`complement.io.npz`, :mod:`complement.io.tensors`, ...) use
these helpers to phrase their refusals alike.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from complement.errors import InputError

__all__ = [
    "PICKLE_HINT",
    "beyond_float32",
    "human_size",
    "is_pickle",
    "physical_memory",
    "read_exact",
    "require_file",
    "shown_names",
    "sniff",
]

#: The refusal of any file that holds (or would need unpickling) Python objects.
PICKLE_HINT = (
    "it holds Python objects (a pickle), which complement never loads; "
    "save a numeric array with numpy.save"
)


def require_file(path: Path, what: str) -> None:
    """Refuse a path that is missing, a folder, not a regular file, or unreadable."""
    if not path.exists():
        raise InputError(f"{what} {path}: file not found; check the path")
    if path.is_dir():
        raise InputError(f"{what} {path}: is a folder, not a file; give the file's path")
    if not path.is_file():
        raise InputError(
            f"{what} {path}: not a regular file (a pipe, socket or device); save the data to a "
            "file and give its path"
        )
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise InputError(
            f"{what} {path}: cannot be read ({exc.strerror}); fix its permissions"
        ) from None


def human_size(n: int) -> str:
    """``n`` bytes for a message: ``1.3 kB``, ``4.2 GB``, ``172 bytes``."""
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


def physical_memory() -> int | None:
    """This machine's physical memory in bytes (None where the platform does not say)."""
    try:
        pages = os.sysconf("SC_PHYS_PAGES")
        page = os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None
    if pages <= 0 or page <= 0:
        return None
    return int(pages) * int(page)


def is_pickle(head: bytes) -> bool:
    """A pickle of protocol 2 or later starts with PROTO (0x80) and the protocol number."""
    return len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5


def read_exact(fh: IO[bytes], n: int) -> bytes:
    """Up to ``n`` bytes from ``fh``: fewer only at the end of the file."""
    out = b""
    while len(out) < n:
        chunk = fh.read(n - len(out))
        if not chunk:
            break
        out += chunk
    return out


def sniff(path: Path, n: int = 8) -> bytes:
    """The first ``n`` bytes of a file (empty when it cannot be read)."""
    try:
        with path.open("rb") as fh:
            return fh.read(n)
    except OSError:
        return b""


def shown_names(names: list[str], limit: int = 10) -> str:
    """Names found in a file for a message: quoted, cut short, at most ``limit`` of them."""
    shown = [_short(name) for name in names[:limit]]
    more = f", ... ({len(names)} in all)" if len(names) > limit else ""
    return ", ".join(shown) + more if shown else "none"


def _short(name: str, width: int = 60) -> str:
    text = repr(name)
    return text if len(text) <= width else text[: width - 4] + "...'"


def beyond_float32(arr: npt.NDArray[Any], where: str) -> InputError:
    """The refusal of finite values that float32, the type every view is computed in, cannot
    hold (their magnitude is above about 3.4e38)."""
    limit = float(np.finfo(np.float32).max)
    big = np.zeros(arr.shape[0], dtype=bool)
    largest = 0.0
    with np.errstate(all="ignore"):  # a float128 beyond float64 is shown as inf, silently
        for start in range(0, arr.shape[0], 65536):
            block = np.abs(np.asarray(arr[start : start + 65536]))
            over = np.isfinite(block) & (block > limit)
            big[start : start + block.shape[0]] = over.reshape(block.shape[0], -1).any(axis=1)
            if over.any():
                largest = max(largest, float(block[over].max()))
    rows = np.flatnonzero(big)
    first = int(rows[0]) if rows.size else 0
    return InputError(
        f"{where}: {rows.size} rows (first: row {first}) hold finite values beyond float32's "
        f"range (largest magnitude {largest:.3g}; float32 holds up to {limit:.3g}), and every "
        "view is computed in float32; rescale the vectors (e.g. L2-normalise them) and save again"
    )
