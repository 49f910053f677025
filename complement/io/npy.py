"""``.npy`` arrays: a header parsed here, checked against the file, then read or memory-mapped.

The header is never trusted: its version, length, dtype and shape are checked, object dtypes
(pickles) are refused, and the data it declares is compared with what the file holds before
anything is allocated. Files larger than :data:`MMAP_BYTES` are memory-mapped rather than read.
The same header reader serves the members of ``.npz`` archives (:mod:`complement.io.npz`).
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from complement.errors import InputError
from complement.io.files import PICKLE_HINT, human_size, is_pickle, read_exact

__all__ = ["MAGIC", "MMAP_BYTES", "NpyHeader", "load_npy", "not_npy", "read_header", "shaped"]

#: .npy files larger than this are memory-mapped instead of read into memory.
MMAP_BYTES = 256 * 1024 * 1024

#: Largest .npy header read (numpy's own np.load refuses headers above 10000 bytes).
_MAX_HEADER = 10000
MAGIC = b"\x93NUMPY"


def not_npy(head: bytes, where: str, fix: str) -> InputError:
    """The error for content that does not start with the .npy magic number."""
    if is_pickle(head):
        return InputError(f"{where}: {PICKLE_HINT}")
    if head.startswith(b"PK"):
        found = "it is a zip archive, perhaps an .npz: give it a .npz name"
    elif head and all(32 <= b < 127 or b in (9, 10, 13) for b in head[:64]):
        found = "it holds text"
    else:
        found = "it does not start with the .npy magic number"
    return InputError(f"{where}: not a .npy file ({found}); {fix}")


@dataclass(frozen=True)
class NpyHeader:
    """What a ``.npy`` header declares, once checked to be a plain array's header."""

    dtype: np.dtype[Any]
    shape: tuple[int, ...]
    fortran: bool
    offset: int  # bytes from the start of the .npy content to the first data byte

    @property
    def count(self) -> int:
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        return self.count * self.dtype.itemsize

    def describe(self) -> str:
        return f"shape {self.shape} of {self.dtype}, {human_size(self.nbytes)} of data"


def read_header(fh: IO[bytes], where: str, fix: str) -> NpyHeader:
    """Parse a .npy header from ``fh`` (positioned at its start) without trusting it.

    Raises InputError for anything that is not a well-formed header of a plain array:
    ``fix`` is the how-to-fix part for the "not a .npy file" message.
    """
    bad = f"; the file may be truncated: {fix}"
    head = read_exact(fh, 8)
    if len(head) == 0:
        raise InputError(f"{where}: not a readable .npy array (the file is empty, 0 bytes); {fix}")
    if len(head) < 8 and MAGIC.startswith(head[:6]):
        raise InputError(f"{where}: not a valid .npy array (it ends inside the header){bad}")
    if not head.startswith(MAGIC):
        raise not_npy(head + read_exact(fh, 56), where, fix)
    version = (head[6], head[7])
    if version not in ((1, 0), (2, 0), (3, 0)):
        raise InputError(
            f"{where}: not a valid .npy array (unknown format version {version[0]}.{version[1]})"
            f"{bad}"
        )
    width = 2 if version == (1, 0) else 4
    raw_len = read_exact(fh, width)
    if len(raw_len) < width:
        raise InputError(f"{where}: not a valid .npy array (it ends inside the header){bad}")
    header_len = int.from_bytes(raw_len, "little")
    if header_len > _MAX_HEADER:
        raise InputError(
            f"{where}: not a valid .npy array (its header claims {header_len} bytes, more than "
            f"the {_MAX_HEADER} a plain array needs){bad}"
        )
    raw = read_exact(fh, header_len)
    if len(raw) < header_len:
        raise InputError(f"{where}: not a valid .npy array (it ends inside the header){bad}")
    try:
        text = raw.decode("utf-8" if version == (3, 0) else "latin1")
    except UnicodeDecodeError:
        raise InputError(f"{where}: not a valid .npy array (garbled header){bad}") from None
    fields = _header_fields(text, version)
    if fields is None:
        raise InputError(f"{where}: not a valid .npy array (garbled header){bad}")
    descr, fortran, shape = fields
    try:
        dtype = np.lib.format.descr_to_dtype(descr)
    except Exception:  # numpy raises TypeError, ValueError, KeyError, ... for a bad descr
        raise InputError(
            f"{where}: not a valid .npy array (its header names no valid dtype){bad}"
        ) from None
    if dtype.hasobject:
        raise InputError(f"{where}: {PICKLE_HINT}")
    if math.prod(max(n, 1) for n in shape) * max(dtype.itemsize, 1) >= 2**62:
        raise InputError(
            f"{where}: not a valid .npy array (its header declares shape {shape} of {dtype}, "
            f"larger than any array can be){bad}"
        )
    if dtype.itemsize == 0 and math.prod(shape) > 0:
        raise InputError(
            f"{where}: dtype {dtype} has zero-size elements, so it holds no values; "
            "store float32 vectors or integer/text ids"
        )
    return NpyHeader(dtype=dtype, shape=shape, fortran=fortran, offset=8 + width + header_len)


def _header_fields(text: str, version: tuple[int, int]) -> tuple[Any, bool, tuple[int, ...]] | None:
    try:
        parsed = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        if version > (2, 0):
            return None
        try:  # headers written by Python 2 may carry long-integer suffixes: (10L, 3L)
            parsed = ast.literal_eval(re.sub(r"\b(\d+)L\b", r"\1", text))
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return None
    if not isinstance(parsed, dict) or set(parsed) != {"descr", "fortran_order", "shape"}:
        return None
    shape, fortran = parsed["shape"], parsed["fortran_order"]
    if not isinstance(fortran, bool) or not isinstance(shape, tuple) or len(shape) > 64:
        return None
    if not all(type(n) is int and n >= 0 for n in shape):
        return None
    return parsed["descr"], fortran, shape


def _truncated(where: str, header: NpyHeader, have: int, fix: str) -> InputError:
    return InputError(
        f"{where}: not a valid .npy array (its header declares {header.describe()}, but only "
        f"{human_size(have)} follow the header); the file may be truncated: {fix}"
    )


def shaped(flat: npt.NDArray[Any], header: NpyHeader) -> npt.NDArray[Any]:
    """The flat data read after ``header`` in the header's shape and order."""
    if header.fortran:
        return flat.reshape(header.shape[::-1]).transpose()
    return flat.reshape(header.shape)


def load_npy(path: Path, what: str, *, mmap: bool) -> npt.NDArray[Any]:
    """The array of a ``.npy`` file, memory-mapped when ``mmap`` and the file is large."""
    where = f"{what} {path}"
    fix = "re-save it with numpy.save"
    size = path.stat().st_size
    try:
        with path.open("rb") as fh:
            header = read_header(fh, where, fix)
            have = size - header.offset
            if have < header.nbytes:
                raise _truncated(where, header, max(have, 0), fix)
            if have > header.nbytes:
                raise InputError(
                    f"{where}: not a valid .npy array (its header declares {header.describe()}, "
                    f"but {human_size(have - header.nbytes)} more follow: perhaps several arrays "
                    "were saved into one file); save one array per file with numpy.save"
                )
            if header.nbytes == 0:
                return np.empty(header.shape, dtype=header.dtype)
            if mmap and size > MMAP_BYTES and header.shape:
                mapped: npt.NDArray[Any] = np.memmap(
                    path,
                    dtype=header.dtype,
                    mode="r",
                    offset=header.offset,
                    shape=header.shape,
                    order="F" if header.fortran else "C",
                )
                return mapped
            flat = np.fromfile(fh, dtype=header.dtype, count=header.count)
    except MemoryError:
        raise InputError(
            f"{where}: there is not enough free memory to read its {human_size(header.nbytes)}; "
            "free memory or use a machine with more"
        ) from None
    except OSError as exc:
        raise InputError(
            f"{where}: not a readable .npy array ({exc.strerror or exc}); {fix}"
        ) from None
    if flat.shape[0] != header.count:  # the file shrank while being read
        raise _truncated(where, header, flat.shape[0] * header.dtype.itemsize, fix)
    return shaped(flat, header)
