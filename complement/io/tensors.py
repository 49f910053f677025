"""``.safetensors`` files, parsed here (no dependency), and the choice of a file's vectors.

A ``.safetensors`` file is an 8-byte little-endian header length, a JSON header mapping tensor
names to ``{dtype, shape, data_offsets}`` (and an optional ``__metadata__``), then the raw
little-endian data. Everything the header declares is checked before anything is allocated:
its length against the file, every tensor's offsets against the data that follows, and every
shape times its element size against its span. The chosen tensor's dtype must be a float
(F16, BF16, F32, F64) or an integer; BF16 is widened to float32. Large files are memory-mapped.

:func:`pick_tensor` chooses the vectors among named tensors (also for ``.pt`` state dicts):
the one a key names, else one named ``embeddings``, else the only 2-D tensor.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.errors import InputError
from complement.io import npy as _npy
from complement.io.files import (
    PICKLE_HINT,
    human_size,
    is_pickle,
    physical_memory,
    read_exact,
    shown_names,
)

__all__ = ["TensorInfo", "load_safetensors", "pick_tensor", "read_safetensors_header"]

#: dtypes read, as numpy dtypes (BF16 is read as its 16 bits and widened to float32)
_DTYPES = {
    "F16": "<f2",
    "BF16": "<u2",
    "F32": "<f4",
    "F64": "<f8",
    "I8": "<i1",
    "I16": "<i2",
    "I32": "<i4",
    "I64": "<i8",
    "U8": "<u1",
    "U16": "<u2",
    "U32": "<u4",
    "U64": "<u8",
}
_INTEGER = ("I8", "I16", "I32", "I64", "U8", "U16", "U32", "U64")
#: element sizes of the format's other dtypes: their spans are checked, they are never read
_OTHER_SIZES = {"BOOL": 1, "F8_E5M2": 1, "F8_E4M3": 1, "C64": 8}
#: Largest header read: names and shapes of thousands of tensors fit in far less.
_MAX_HEADER = 16 * 1024 * 1024
_FIX = "re-save it with safetensors' save_file"


@dataclass(frozen=True)
class TensorInfo:
    """One tensor as the header declares it; ``begin``/``end`` are offsets in the file."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    begin: int
    end: int

    @property
    def count(self) -> int:
        return math.prod(self.shape)


def _name(name: str) -> str:
    return shown_names([name])


def _not_safetensors(head: bytes, where: str) -> InputError | None:
    """A clearer error than a bad header length for content that is something else."""
    if is_pickle(head):
        return InputError(f"{where}: {PICKLE_HINT}")
    if head.startswith(b"PK"):
        found = "it is a zip archive, perhaps a .pt or .npz: give it that name"
    elif head.startswith(_npy.MAGIC):
        found = "it is a .npy array: give it a .npy name"
    elif head and all(32 <= b < 127 or b in (9, 10, 13) for b in head[:64]):
        found = "it holds text"
    else:
        return None
    return InputError(f"{where}: not a .safetensors file ({found}); {_FIX}")


def read_safetensors_header(path: Path, where: str) -> dict[str, TensorInfo]:
    """The tensors a ``.safetensors`` header declares, each checked against the file."""
    size = path.stat().st_size
    bad = f"; the file may be truncated or damaged: {_FIX}"
    with path.open("rb") as fh:
        head = read_exact(fh, 8)
        n = int.from_bytes(head, "little")
        if len(head) < 8 or n < 2 or n > size - 8 or n > _MAX_HEADER:
            other = _not_safetensors(head + read_exact(fh, 56), where)
            if other is not None:
                raise other
            if len(head) < 8:
                raise InputError(
                    f"{where}: not a .safetensors file (it holds {size} bytes, fewer than the 8 "
                    f"of its header length); {_FIX}"
                )
            if n < 2:
                claim = "too few for a JSON header"
            elif n > size - 8:
                claim = f"more than the {human_size(size - 8)} that follow"
            else:
                claim = f"more than the {human_size(_MAX_HEADER)} a header of names needs"
            raise InputError(
                f"{where}: not a valid .safetensors file (its header claims {n} bytes, "
                f"{claim}){bad}"
            )
        raw = read_exact(fh, n)
    try:
        parsed = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InputError(
            f"{where}: not a valid .safetensors file (its header is not JSON){bad}"
        ) from None
    if not isinstance(parsed, dict):
        raise InputError(f"{where}: not a valid .safetensors file (garbled header){bad}")
    data_start, data_len = 8 + n, size - 8 - n
    out: dict[str, TensorInfo] = {}
    for name, entry in parsed.items():
        if name == "__metadata__":
            continue
        info = _entry(name, entry, data_start)
        if info is None:
            raise InputError(
                f"{where}: not a valid .safetensors file (garbled header entry {_name(name)}){bad}"
            )
        if info.end - data_start > data_len:
            raise InputError(
                f"{where}: not a valid .safetensors file (tensor {_name(name)} lies at bytes "
                f"{info.begin - data_start}..{info.end - data_start} of the data, but only "
                f"{human_size(data_len)} follow the header){bad}"
            )
        width = np.dtype(_DTYPES[info.dtype]).itemsize if info.dtype in _DTYPES else None
        width = _OTHER_SIZES.get(info.dtype, width)
        if width is not None and info.count * width != info.end - info.begin:
            raise InputError(
                f"{where}: not a valid .safetensors file (tensor {_name(name)} declares shape "
                f"{info.shape} of {info.dtype}, {human_size(info.count * width)}, but spans "
                f"{human_size(info.end - info.begin)}){bad}"
            )
        out[name] = info
    return out


def _entry(name: str, entry: Any, data_start: int) -> TensorInfo | None:
    if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
        return None
    dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if not isinstance(dtype, str) or not isinstance(shape, list) or len(shape) > 64:
        return None
    if not isinstance(offsets, list) or len(offsets) != 2:
        return None
    if not all(type(v) is int and v >= 0 for v in [*shape, *offsets]):
        return None
    begin, end = offsets
    if begin > end:
        return None
    return TensorInfo(name, dtype, tuple(shape), data_start + begin, data_start + end)


def read_tensor(path: Path, info: TensorInfo, where: str, *, mmap: bool) -> npt.NDArray[Any]:
    """One tensor's data (checked by :func:`read_safetensors_header`) as a numpy array."""
    if info.dtype not in _DTYPES:
        raise InputError(
            f"{where}: tensor {_name(info.name)} has dtype {info.dtype}, which complement does "
            "not read; store F32 vectors (or F16, BF16, F64) and integer ids"
        )
    dtype = np.dtype(_DTYPES[info.dtype])
    widen = info.dtype == "BF16"
    if info.count == 0:
        return np.empty(info.shape, dtype=np.float32 if widen else dtype)
    nbytes = info.end - info.begin
    if mmap and not widen and path.stat().st_size > _npy.MMAP_BYTES:
        mapped: npt.NDArray[Any] = np.memmap(
            path, dtype=dtype, mode="r", offset=info.begin, shape=info.shape
        )
        return mapped
    need = nbytes * 3 if widen else nbytes
    memory = physical_memory()
    if memory is not None and need > memory:
        raise InputError(
            f"{where}: tensor {_name(info.name)} would need {human_size(need)} of memory, more "
            f"than this machine has ({human_size(memory)}); store it as F32 or F16, which is "
            "memory-mapped"
        )
    try:
        with path.open("rb") as fh:
            fh.seek(info.begin)
            flat = np.fromfile(fh, dtype=dtype, count=info.count)
    except MemoryError:
        raise InputError(
            f"{where}: there is not enough free memory to read its {human_size(nbytes)}; "
            "free memory or use a machine with more"
        ) from None
    except OSError as exc:
        raise InputError(
            f"{where}: not a readable .safetensors file ({exc.strerror or exc}); {_FIX}"
        ) from None
    if flat.shape[0] != info.count:  # the file shrank while being read
        raise InputError(
            f"{where}: not a valid .safetensors file (tensor {_name(info.name)} ends early); "
            f"the file may be truncated: {_FIX}"
        )
    arr = flat.reshape(info.shape)
    if widen:  # bfloat16 is the top half of a float32
        return (arr.astype(np.uint32) << 16).view(np.float32)
    return arr


def pick_tensor(
    shapes: dict[str, tuple[int, ...]], key: str | None, flag: str | None, where: str
) -> str:
    """The name of the vectors' tensor: ``key``, else ``embeddings``, else the only 2-D one.

    ``flag`` is the option that names a tensor (None where there is none, as for user vectors).
    """
    if key is not None:
        if key not in shapes:
            raise InputError(
                f"{where}: no tensor named {key!r} (found: {shown_names(sorted(shapes))}); name "
                f"one of them with {flag or 'the key'}"
            )
        return key
    flat = [name for name, shape in shapes.items() if len(shape) == 2 and name != "ids"]
    if "embeddings" in flat:
        return "embeddings"
    if len(flat) == 1:
        return flat[0]
    if not flat:
        found = shown_names(sorted(shapes))
        raise InputError(
            f"{where}: holds no 2-D tensor (found: {found}); save the vectors as one "
            "(n_items, dim) tensor"
        )
    fix = f"name the vectors with {flag}" if flag else "name the vectors' tensor 'embeddings'"
    raise InputError(
        f"{where}: holds {len(flat)} 2-D tensors ({shown_names(sorted(flat))}) and none is "
        f"named 'embeddings'; {fix}"
    )


def load_safetensors(
    path: Path,
    what: str,
    *,
    key: str | None = None,
    flag: str | None = None,
    want_ids: bool = True,
    ids_flag: str = "an ids file",
    mmap: bool = True,
) -> tuple[npt.NDArray[Any], npt.NDArray[Any] | None]:
    """The vectors (see :func:`pick_tensor`) and, when ``want_ids``, the ``ids`` tensor."""
    where = f"{what} {path}"
    tensors = read_safetensors_header(path, where)
    name = pick_tensor({n: t.shape for n, t in tensors.items()}, key, flag, where)
    matrix = read_tensor(path, tensors[name], where, mmap=mmap)
    ids = tensors.get("ids")
    if not want_ids or ids is None or name == "ids":
        return matrix, None
    if len(ids.shape) != 1 or ids.dtype not in _INTEGER:
        raise InputError(
            f"{where}: tensor 'ids' has shape {ids.shape} of {ids.dtype}, not a 1-D integer "
            f"tensor; store the ids as one, or give them with {ids_flag}"
        )
    return matrix, read_tensor(path, ids, where, mmap=False)
