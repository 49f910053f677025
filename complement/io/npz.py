""".npz archives: the ``embeddings`` member (or the one a key names) and an optional ``ids``.

Each member is checked before anything is inflated: encryption, its declared sizes against
the archive's size and against its ``.npy`` header (:mod:`complement.io.npy`), its compression
ratio (a likely zip bomb is refused) and this machine's memory. Object members (pickles) are
refused by the header reader.
"""

from __future__ import annotations

import lzma
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.errors import InputError
from complement.io.files import human_size, physical_memory
from complement.io.npy import read_header, shaped

__all__ = ["NPZ_MAX_RATIO", "NPZ_RATIO_FLOOR", "load_npz", "read_member"]

#: An .npz member that inflates more than this many times its compressed size ...
NPZ_MAX_RATIO = 100
#: ... to more than this many bytes is refused as a likely zip bomb (real vectors barely
#: compress; numpy.savez stores them uncompressed).
NPZ_RATIO_FLOOR = 64 * 1024 * 1024

#: An .npz member may declare at most this many bytes beyond what its header needs.
_NPZ_SLACK = 64 * 1024
_CHUNK = 16 * 1024 * 1024

_NPZ_FIX = "re-save it with numpy.savez"


def read_member(
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
            f"{label}: declares {human_size(info.compress_size)} stored in a "
            f"{human_size(archive_bytes)} archive; the archive is truncated or damaged: {_NPZ_FIX}"
        )
    with zf.open(info) as fh:
        header = read_header(fh, label, _NPZ_FIX)
        need = header.offset + header.nbytes
        if info.file_size < need:
            raise InputError(
                f"{label}: not a valid .npy array (its header declares {header.describe()}, but "
                f"the member holds only {human_size(info.file_size)}); the archive is truncated or "
                f"damaged: {_NPZ_FIX}"
            )
        if info.file_size > need + _NPZ_SLACK:
            raise InputError(
                f"{label}: declares {human_size(info.file_size)}, far more than its header's "
                f"{header.describe()}; the archive is damaged or was not written by numpy: "
                f"{_NPZ_FIX}"
            )
        memory = physical_memory()
        if memory is not None and header.nbytes > memory:
            raise InputError(
                f"{label}: would need {human_size(header.nbytes)} of memory to inflate, more than "
                f"this machine has ({human_size(memory)}); save it as a .npy file, which is "
                "memory-mapped"
            )
        if (
            not stored
            and need > NPZ_RATIO_FLOOR
            and need > NPZ_MAX_RATIO * max(info.compress_size, 1)
        ):
            raise InputError(
                f"{label}: {human_size(info.compress_size)} would inflate to {human_size(need)} "
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
                    f"{label}: its data ends after {human_size(pos)} of the "
                    f"{human_size(header.nbytes)} its header declares; the archive is truncated "
                    f"or damaged: {_NPZ_FIX}"
                )
    return shaped(flat, header)


def load_npz(
    path: Path, what: str, *, key: str | None = None, flag: str = "--sem-key"
) -> tuple[npt.NDArray[Any], npt.NDArray[Any] | None]:
    """The vectors (member ``embeddings``, or ``key``) and the ``ids`` member when there is one.

    ``flag`` is the option that gave ``key``, named in the message when no member has that name.
    """
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
            member = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
            members.setdefault(member, info)
        wanted = "embeddings" if key is None else key
        if wanted not in members:
            names = sorted(members)
            more = f", ... ({len(names)} in all)" if len(names) > 10 else ""
            shown = ", ".join(names[:10]) + more
            fix = (
                "save with numpy.savez(path, embeddings=..., ids=...)"
                if key is None
                else f"name one of them with {flag}"
            )
            raise InputError(
                f"{where}: no array named {wanted!r} (found: {shown or 'none'}); {fix}"
            )
        try:
            size = path.stat().st_size
            emb = read_member(zf, members[wanted], where, size)
            ids = read_member(zf, members["ids"], where, size) if "ids" in members else None
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
