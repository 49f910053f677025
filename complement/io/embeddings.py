"""Embedding files (.npy, .npz, .parquet) -> ids and a 2-D float matrix.

Pickles are never loaded (``allow_pickle=False`` everywhere; ``.npy`` headers are parsed here
and never hand object arrays to numpy). Every reader checks what a file declares against what
it holds before allocating: a ``.npy`` header against the file's size, an ``.npz`` member's
header against the member's declared size, its compression ratio and this machine's memory.
Large ``.npy`` files are memory-mapped rather than read.
"""

from __future__ import annotations

import ast
import lzma
import math
import os
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt

from complement.errors import InputError

if TYPE_CHECKING:
    import polars as pl

__all__ = [
    "Embeddings",
    "MMAP_BYTES",
    "NPZ_MAX_RATIO",
    "NPZ_RATIO_FLOOR",
    "canonical_ids",
    "ids_from_series",
    "load_embeddings",
    "load_ids",
    "parquet_columns",
    "read_parquet",
]

#: .npy files larger than this are memory-mapped instead of read into memory.
MMAP_BYTES = 256 * 1024 * 1024

#: An .npz member that inflates more than this many times its compressed size ...
NPZ_MAX_RATIO = 100
#: ... to more than this many bytes is refused as a likely zip bomb (real vectors barely
#: compress; numpy.savez stores them uncompressed).
NPZ_RATIO_FLOOR = 64 * 1024 * 1024

#: Largest .npy header read (numpy's own np.load refuses headers above 10000 bytes).
_MAX_HEADER = 10000
#: An .npz member may declare at most this many bytes beyond what its header needs.
_NPZ_SLACK = 64 * 1024
_CHUNK = 16 * 1024 * 1024
_MAGIC = b"\x93NUMPY"

_PICKLE_HINT = (
    "it holds Python objects (a pickle), which complement never loads; "
    "save a numeric array with numpy.save"
)


@dataclass(frozen=True)
class Embeddings:
    """One view's vectors. ``ids[i]`` (canonical string) names row ``i`` of ``matrix``.

    ``ids_from_rows`` is True when the file gave no ids, so ``ids`` are the row numbers
    ``0 .. n-1`` (positional ids); ``join_views`` refuses to pair those with real ids unless
    asked to.
    """

    path: str
    role: str
    ids: npt.NDArray[np.str_]
    matrix: npt.NDArray[Any]
    ids_from_rows: bool = False

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.matrix.shape[0]), int(self.matrix.shape[1]))

    @property
    def positional_ids(self) -> bool:
        """True when the ids are row numbers (no ids were given), not the items' own ids."""
        return self.ids_from_rows


# --------------------------------------------------------------------------------------- ids

#: Floats above this are not exact integers any more (float64 has a 53-bit mantissa).
_FLOAT_EXACT = 2.0**53


def canonical_ids(values: npt.NDArray[Any], where: str) -> npt.NDArray[np.str_]:
    """Ids as strings so that ``7`` (int), ``7.0`` (float) and ``"7"`` (text) all match."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise InputError(
            f"{where}: ids must be one-dimensional, got shape {arr.shape}; give one id per row"
        )
    kind = arr.dtype.kind
    if kind == "i":
        return arr.astype(np.int64).astype(str)
    if kind == "u":
        return arr.astype(np.uint64).astype(str)
    if kind == "f":
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise InputError(f"{where}: ids are non-integer floats; store ids as integers or text")
        if arr.size and float(np.max(np.abs(arr))) > _FLOAT_EXACT:
            raise InputError(
                f"{where}: ids are floats above 2^53, which cannot hold every integer exactly "
                "(the ids may already be rounded); store ids as integers or text"
            )
        return arr.astype(np.int64).astype(str)
    if kind == "S":
        try:
            decoded = [bytes(v).decode("utf-8") for v in arr.tolist()]
        except UnicodeDecodeError:
            raise InputError(
                f"{where}: ids are bytes that are not UTF-8 text; store ids as integers or text"
            ) from None
        return np.asarray(np.char.strip(np.asarray(decoded, dtype=str)), dtype=str)
    if kind == "U":
        return np.asarray(np.char.strip(arr.astype(str)), dtype=str)
    if kind == "b":
        raise InputError(f"{where}: ids are booleans; store ids as integers or text")
    raise InputError(f"{where}: ids have unsupported dtype {arr.dtype}; use integers or text")


def ids_from_series(series: Any, where: str) -> npt.NDArray[np.str_]:
    """Canonical ids from a polars Series (nulls are the caller's to check first).

    Integers (any width), integer-valued floats, text, categoricals, UTF-8 binary and
    integer decimals are accepted; lists, structs, dates and other types are refused.
    """
    import polars as pl

    dtype = series.dtype
    if dtype == pl.String:
        return canonical_ids(np.asarray(series.to_list(), dtype=str), where)
    if isinstance(dtype, pl.Categorical | pl.Enum):
        return canonical_ids(np.asarray(series.cast(pl.String).to_list(), dtype=str), where)
    if dtype == pl.Binary:
        try:
            text = [bytes(v).decode("utf-8") for v in series.to_list()]
        except UnicodeDecodeError:
            raise InputError(
                f"{where}: ids are bytes that are not UTF-8 text; store ids as integers or text"
            ) from None
        return canonical_ids(np.asarray(text, dtype=str), where)
    if dtype.is_integer():
        if dtype in (pl.Int128, pl.UInt128):  # no numpy dtype holds these: go through text
            return np.asarray(series.cast(pl.String).to_list(), dtype=str)
        return canonical_ids(series.to_numpy(), where)
    if dtype.is_float():
        return canonical_ids(series.to_numpy(), where)
    if isinstance(dtype, pl.Decimal):
        if dtype.scale == 0:
            return np.asarray(series.cast(pl.String).to_list(), dtype=str)
        return canonical_ids(series.cast(pl.Float64).to_numpy(), where)
    if dtype == pl.Boolean:
        raise InputError(f"{where}: ids are booleans; store ids as integers or text")
    raise InputError(
        f"{where}: ids have type {dtype}, not integers or text; store one integer or text id "
        "per row"
    )


# ----------------------------------------------------------------------------- file checks


def _require_file(path: Path, what: str) -> None:
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


def _size(n: int) -> str:
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


def _physical_memory() -> int | None:
    try:
        pages = os.sysconf("SC_PHYS_PAGES")
        page = os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None
    if pages <= 0 or page <= 0:
        return None
    return int(pages) * int(page)


def _is_pickle(head: bytes) -> bool:
    """A pickle of protocol 2 or later starts with PROTO (0x80) and the protocol number."""
    return len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5


def _not_npy(head: bytes, where: str, fix: str) -> InputError:
    """The error for content that does not start with the .npy magic number."""
    if _is_pickle(head):
        return InputError(f"{where}: {_PICKLE_HINT}")
    if head.startswith(b"PK"):
        found = "it is a zip archive, perhaps an .npz: give it a .npz name"
    elif head and all(32 <= b < 127 or b in (9, 10, 13) for b in head[:64]):
        found = "it holds text"
    else:
        found = "it does not start with the .npy magic number"
    return InputError(f"{where}: not a .npy file ({found}); {fix}")


@dataclass(frozen=True)
class _Header:
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
        return f"shape {self.shape} of {self.dtype}, {_size(self.nbytes)} of data"


def _read_exact(fh: IO[bytes], n: int) -> bytes:
    out = b""
    while len(out) < n:
        chunk = fh.read(n - len(out))
        if not chunk:
            break
        out += chunk
    return out


def _read_header(fh: IO[bytes], where: str, fix: str) -> _Header:
    """Parse a .npy header from ``fh`` (positioned at its start) without trusting it.

    Raises InputError for anything that is not a well-formed header of a plain array:
    ``fix`` is the how-to-fix part for the "not a .npy file" message.
    """
    bad = f"; the file may be truncated: {fix}"
    head = _read_exact(fh, 8)
    if len(head) == 0:
        raise InputError(f"{where}: not a readable .npy array (the file is empty, 0 bytes); {fix}")
    if len(head) < 8 and _MAGIC.startswith(head[:6]):
        raise InputError(f"{where}: not a valid .npy array (it ends inside the header){bad}")
    if not head.startswith(_MAGIC):
        raise _not_npy(head + _read_exact(fh, 56), where, fix)
    version = (head[6], head[7])
    if version not in ((1, 0), (2, 0), (3, 0)):
        raise InputError(
            f"{where}: not a valid .npy array (unknown format version {version[0]}.{version[1]})"
            f"{bad}"
        )
    width = 2 if version == (1, 0) else 4
    raw_len = _read_exact(fh, width)
    if len(raw_len) < width:
        raise InputError(f"{where}: not a valid .npy array (it ends inside the header){bad}")
    header_len = int.from_bytes(raw_len, "little")
    if header_len > _MAX_HEADER:
        raise InputError(
            f"{where}: not a valid .npy array (its header claims {header_len} bytes, more than "
            f"the {_MAX_HEADER} a plain array needs){bad}"
        )
    raw = _read_exact(fh, header_len)
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
        raise InputError(f"{where}: {_PICKLE_HINT}")
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
    return _Header(dtype=dtype, shape=shape, fortran=fortran, offset=8 + width + header_len)


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


def _truncated(where: str, header: _Header, have: int, fix: str) -> InputError:
    return InputError(
        f"{where}: not a valid .npy array (its header declares {header.describe()}, but only "
        f"{_size(have)} follow the header); the file may be truncated: {fix}"
    )


def _shaped(flat: npt.NDArray[Any], header: _Header) -> npt.NDArray[Any]:
    if header.fortran:
        return flat.reshape(header.shape[::-1]).transpose()
    return flat.reshape(header.shape)


def _load_npy(path: Path, what: str, *, mmap: bool) -> npt.NDArray[Any]:
    where = f"{what} {path}"
    fix = "re-save it with numpy.save"
    size = path.stat().st_size
    try:
        with path.open("rb") as fh:
            header = _read_header(fh, where, fix)
            have = size - header.offset
            if have < header.nbytes:
                raise _truncated(where, header, max(have, 0), fix)
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
            f"{where}: there is not enough free memory to read its {_size(header.nbytes)}; "
            "free memory or use a machine with more"
        ) from None
    except OSError as exc:
        raise InputError(
            f"{where}: not a readable .npy array ({exc.strerror or exc}); {fix}"
        ) from None
    if flat.shape[0] != header.count:  # the file shrank while being read
        raise _truncated(where, header, flat.shape[0] * header.dtype.itemsize, fix)
    return _shaped(flat, header)


def _sniff(path: Path, n: int = 8) -> bytes:
    try:
        with path.open("rb") as fh:
            return fh.read(n)
    except OSError:
        return b""


def load_ids(path: str | Path, what: str = "ids") -> npt.NDArray[np.str_]:
    """Ids from a ``.npy`` array or a text file with one id per line."""
    p = Path(path)
    _require_file(p, what)
    if p.suffix.lower() == ".npy" or _sniff(p).startswith(_MAGIC):
        return canonical_ids(_load_npy(p, what, mmap=False), f"{what} {p}")
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        if _is_pickle(_sniff(p)):
            raise InputError(f"{what} {p}: {_PICKLE_HINT}") from None
        raise InputError(
            f"{what} {p}: not UTF-8 text; give a .npy array or a text file, one id per line"
        ) from None
    lines = [line.strip() for line in text.splitlines()]
    while lines and lines[-1] == "":
        lines.pop()
    if not lines:
        raise InputError(f"{what} {p}: the file is empty; give one id per line")
    if any(line == "" for line in lines):
        first = lines.index("") + 1
        raise InputError(f"{what} {p}: line {first} is empty; every line must hold one id")
    return np.asarray(lines, dtype=str)


def _check_matrix(arr: npt.NDArray[Any], what: str, path: Path) -> npt.NDArray[Any]:
    if arr.ndim != 2:
        raise InputError(
            f"{what} {path}: expected a 2-D array (items x dimensions), got {arr.ndim}-D "
            f"with shape {arr.shape}; reshape it to (n_items, dim)"
        )
    if arr.dtype.kind not in "fiu":
        raise InputError(f"{what} {path}: dtype {arr.dtype} is not numeric; store float32 vectors")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise InputError(
            f"{what} {path}: the array is empty (shape {arr.shape}); save an (n_items, dim) array"
        )
    if arr.dtype != np.float32 and not isinstance(arr, np.memmap):
        return np.ascontiguousarray(arr, dtype=np.float32)
    if arr.dtype != np.float32:
        return np.asarray(arr, dtype=np.float32)
    return arr


# ------------------------------------------------------------------------------------- .npz

_NPZ_FIX = "re-save it with numpy.savez"


def _read_member(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, where: str, archive_bytes: int
) -> npt.NDArray[Any]:
    """One member of an .npz, checked against its declared sizes before anything is inflated."""
    name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
    label = f"{where} member {name!r}"
    if info.flag_bits & 0x1:
        raise InputError(f"{label}: is encrypted; {_NPZ_FIX} (without a password)")
    stored = info.compress_type == zipfile.ZIP_STORED
    if info.compress_size > archive_bytes or (stored and info.compress_size != info.file_size):
        raise InputError(
            f"{label}: declares {_size(info.compress_size)} stored in a "
            f"{_size(archive_bytes)} archive; the archive is truncated or damaged: {_NPZ_FIX}"
        )
    with zf.open(info) as fh:
        header = _read_header(fh, label, _NPZ_FIX)
        need = header.offset + header.nbytes
        if info.file_size < need:
            raise InputError(
                f"{label}: not a valid .npy array (its header declares {header.describe()}, but "
                f"the member holds only {_size(info.file_size)}); the archive is truncated or "
                f"damaged: {_NPZ_FIX}"
            )
        if info.file_size > need + _NPZ_SLACK:
            raise InputError(
                f"{label}: declares {_size(info.file_size)}, far more than its header's "
                f"{header.describe()}; the archive is damaged or was not written by numpy: "
                f"{_NPZ_FIX}"
            )
        memory = _physical_memory()
        if memory is not None and header.nbytes > memory:
            raise InputError(
                f"{label}: would need {_size(header.nbytes)} of memory to inflate, more than this "
                f"machine has ({_size(memory)}); save it as a .npy file, which is memory-mapped"
            )
        if (
            not stored
            and need > NPZ_RATIO_FLOOR
            and need > NPZ_MAX_RATIO * max(info.compress_size, 1)
        ):
            raise InputError(
                f"{label}: {_size(info.compress_size)} would inflate to {_size(need)} "
                f"(over {NPZ_MAX_RATIO} times; real vectors barely compress), so it is refused "
                "as a likely zip bomb; save it with numpy.savez (uncompressed) or as a .npy file"
            )
        flat = np.empty(header.count, dtype=header.dtype)
        if header.nbytes:
            view = memoryview(flat.view(np.uint8).reshape(-1).data)
            pos = 0
            while pos < header.nbytes:
                chunk = fh.read(min(_CHUNK, header.nbytes - pos))
                if not chunk:
                    break
                view[pos : pos + len(chunk)] = chunk
                pos += len(chunk)
            if pos < header.nbytes:
                raise InputError(
                    f"{label}: its data ends after {_size(pos)} of the {_size(header.nbytes)} "
                    f"its header declares; the archive is truncated or damaged: {_NPZ_FIX}"
                )
    return _shaped(flat, header)


def _load_npz(path: Path, what: str) -> tuple[npt.NDArray[Any], npt.NDArray[Any] | None]:
    where = f"{what} {path}"
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise InputError(
            f"{where}: not a readable .npz archive ({exc}); re-save it with numpy.savez"
        ) from None
    except (OSError, EOFError, ValueError, NotImplementedError, RuntimeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise InputError(
            f"{where}: not a readable .npz archive ({reason}); re-save it with numpy.savez"
        ) from None
    with zf:
        members: dict[str, zipfile.ZipInfo] = {}
        for info in zf.infolist():
            key = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
            members.setdefault(key, info)
        if "embeddings" not in members:
            names = sorted(members)
            more = f", ... ({len(names)} in all)" if len(names) > 10 else ""
            shown = ", ".join(names[:10]) + more
            raise InputError(
                f"{where}: no array named 'embeddings' (found: {shown or 'none'}); save with "
                "numpy.savez(path, embeddings=..., ids=...)"
            )
        try:
            size = path.stat().st_size
            emb = _read_member(zf, members["embeddings"], where, size)
            ids = _read_member(zf, members["ids"], where, size) if "ids" in members else None
        except InputError:
            raise
        except MemoryError:
            raise InputError(
                f"{where}: there is not enough free memory to read it; save the vectors as a "
                ".npy file, which is memory-mapped"
            ) from None
        except zlib.error:
            raise InputError(
                f"{where}: its compressed data is corrupt (it cannot be inflated); {_NPZ_FIX}"
            ) from None
        except zipfile.BadZipFile as exc:
            raise InputError(f"{where}: the archive is corrupt ({exc}); {_NPZ_FIX}") from None
        except (
            OSError, EOFError, ValueError, NotImplementedError, RuntimeError, lzma.LZMAError
        ) as exc:  # fmt: skip
            # zipfile: unsupported compression, encrypted entries; lzma/bz2: corrupt streams
            raise InputError(
                f"{where}: not a readable .npz archive ({type(exc).__name__}: a damaged or "
                f"unsupported entry); {_NPZ_FIX}"
            ) from None
    return emb, ids


# --------------------------------------------------------------------------------- .parquet


def parquet_columns(path: Path) -> list[str]:
    """The column names in a parquet file's footer (no data is read)."""
    import pyarrow.parquet as pq

    return [str(name) for name in pq.read_schema(path).names]


def read_parquet(path: Path, where: str, columns: list[str] | None = None) -> pl.DataFrame:
    """A parquet file (or some of its columns) as a polars DataFrame, read through pyarrow.

    Polars' own reader can abort the whole process on some damaged files (a panic in a worker
    thread); pyarrow reports those as exceptions, and the table is validated in full before
    polars sees it. The footer's uncompressed size is checked against this machine's memory
    first. Read errors propagate for the caller to turn into its own message.
    """
    import polars as pl
    import pyarrow.parquet as pq

    handle = pq.ParquetFile(path)
    try:
        meta = handle.metadata
        declared = sum(
            max(int(meta.row_group(i).total_byte_size), 0) for i in range(meta.num_row_groups)
        )
        memory = _physical_memory()
        if memory is not None and declared > memory:
            raise InputError(
                f"{where}: declares {_size(declared)} of data, more than this machine's memory "
                f"({_size(memory)}); split the file or check that it is not damaged"
            )
        table = handle.read(columns=columns)
    finally:
        handle.close()
    table.validate(full=True)
    frame = pl.from_arrow(table)
    if not isinstance(frame, pl.DataFrame):  # a Table always converts to a DataFrame
        raise InputError(f"{where}: holds no table; re-write it")
    return frame


def _load_parquet(path: Path, what: str) -> tuple[npt.NDArray[Any], npt.NDArray[np.str_]]:
    import polars as pl

    where = f"{what} {path}"
    try:
        frame = read_parquet(path, where)
    except InputError:
        raise
    except (Exception, pl.exceptions.PanicException) as exc:  # several unrelated types
        raise InputError(
            f"{where}: not a readable parquet file ({polars_reason(exc)}); re-write it"
        ) from None
    if frame.height == 0:
        raise InputError(
            f"{where}: the table is empty (0 rows); write one row per item, an id and a vector"
        )
    vec_cols = [c for c, t in frame.schema.items() if isinstance(t, pl.List | pl.Array)]
    other = [c for c in frame.columns if c not in vec_cols]
    if len(vec_cols) != 1:
        raise InputError(
            f"{where}: expected exactly one list/array column holding the vectors, "
            f"found {len(vec_cols)} ({', '.join(vec_cols) or 'none'}); store each vector as "
            "one list column beside an id column"
        )
    preferred = [c for c in ("item_id", "id", "user_id") if c in other]
    if not other:
        raise InputError(
            f"{where}: no id column beside the vector column {vec_cols[0]!r}; add an item_id column"
        )
    id_col = preferred[0] if preferred else other[0]
    vec = vec_cols[0]
    col = frame[vec]
    inner = col.dtype.inner  # type: ignore[attr-defined]
    if not (inner.is_integer() or inner.is_float()):
        raise InputError(
            f"{where}: column {vec!r} holds {inner} values, not numbers; store float vectors"
        )
    if col.null_count() > 0:
        raise InputError(
            f"{where}: vectors in column {vec!r} have different lengths or nulls "
            f"({col.null_count()} rows have no vector); every row needs a vector of the same "
            "dimension"
        )
    if isinstance(col.dtype, pl.List):
        lengths = col.list.len()
        if lengths.n_unique() != 1:
            lo, hi = cast(int, lengths.min()), cast(int, lengths.max())
            raise InputError(
                f"{where}: vectors in column {vec!r} have different lengths or nulls "
                f"(lengths {lo} .. {hi}); every row needs a vector of the same dimension"
            )
        width = int(lengths[0])
    else:
        width = int(col.dtype.size)  # type: ignore[attr-defined]
    if width == 0:
        raise InputError(
            f"{where}: vectors in column {vec!r} are empty (dimension 0); store (n_items, dim) "
            "vectors"
        )
    try:
        matrix = np.asarray(col.cast(pl.Array(pl.Float32, width)).to_numpy(), dtype=np.float32)
    except (Exception, pl.exceptions.PanicException):
        raise InputError(f"{where}: column {vec!r} is not numeric; store float vectors") from None
    if matrix.shape != (frame.height, width):  # nulls inside vectors, nested arrays, ...
        raise InputError(
            f"{where}: column {vec!r} does not hold one flat numeric vector per row; store "
            "float vectors"
        )
    ids = frame[id_col]
    if ids.null_count() > 0:
        raise InputError(
            f"{where}: id column {id_col!r} has {ids.null_count()} empty ids; every row needs an id"
        )
    return matrix, ids_from_series(ids, f"{where} id column {id_col!r}")


def polars_reason(exc: BaseException) -> str:
    """A short reason for a polars read error that never echoes the file's content.

    Polars quotes offending values and lines in its messages (``could not parse `...```);
    those parts are replaced by ``…`` and the reason is cut to one short line.
    """
    import polars as pl

    text = str(exc)
    low = text.lower()
    if isinstance(exc, pl.exceptions.NoDataError) or "empty csv" in low:
        return "empty CSV"
    if "utf-8" in low or "utf8" in low:
        return "not UTF-8 text"
    if "more fields" in low or "malformed" in low or "escaped" in low or "could not parse" in low:
        return "malformed CSV: rows with a different number of fields, or an unclosed quote"
    if isinstance(exc, pl.exceptions.PanicException):
        return "the reader failed on damaged data"
    first = text.splitlines()[0] if text.strip() else type(exc).__name__
    first = re.sub(r"`[^`]*`?", "`…`", first)
    first = re.sub(r'"[^"]*"?', '"…"', first)
    return first[:120]


# -------------------------------------------------------------------------------------- api


def load_embeddings(
    path: str | Path,
    ids_path: str | Path | None = None,
    *,
    role: str = "semantic",
    mmap: bool = True,
) -> Embeddings:
    """Load one view. Without ids (none in the file and no ``ids_path``) row ``i`` is id ``i``."""
    p = Path(path)
    what = f"{role} embeddings"
    _require_file(p, what)
    suffix = p.suffix.lower()
    raw_ids: npt.NDArray[Any] | None = None
    if suffix == ".npy":
        arr = _load_npy(p, what, mmap=mmap)
    elif suffix == ".npz":
        arr, raw_ids = _load_npz(p, what)
    elif suffix == ".parquet":
        arr, raw_ids = _load_parquet(p, what)
    else:
        raise InputError(
            f"{what} {p}: unsupported file type {suffix!r}; use .npy, .npz or .parquet"
        )
    matrix = _check_matrix(arr, what, p)
    if ids_path is not None:
        ids = load_ids(ids_path, f"{role} ids")
        where = f"{role} ids {ids_path}"
    elif raw_ids is not None:
        ids = canonical_ids(raw_ids, f"{what} {p} (ids)")
        where = f"{what} {p} (ids)"
    else:
        ids = np.arange(matrix.shape[0]).astype(str)
        where = ""
    if ids.shape[0] != matrix.shape[0]:
        raise InputError(
            f"{where}: {ids.shape[0]} ids for {matrix.shape[0]} rows of {p}; "
            "give exactly one id per row"
        )
    if where:
        uniq, counts = np.unique(ids, return_counts=True)
        if uniq.shape[0] != ids.shape[0]:
            dups = uniq[counts > 1]
            shown = ", ".join(dups[:5].tolist())
            raise InputError(
                f"{where}: {dups.shape[0]} duplicate ids (first: {shown}); ids must be unique"
            )
    return Embeddings(
        path=str(p),
        role=role,
        ids=ids,
        matrix=matrix,
        ids_from_rows=ids_path is None and raw_ids is None,
    )
