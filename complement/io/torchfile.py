"""``.pt`` / ``.pth`` files written by ``torch.save``: a tensor, or a mapping of named tensors.

They are loaded only with ``torch.load(path, map_location="cpu", weights_only=True)``, which
unpickles tensors and plain containers but no other object: a file that would need more (a
pickled model, a custom class) is refused as a pickle. Before torch reads anything, the file
must look like what ``torch.save`` writes (a zip archive, or a pickle in the legacy format),
and the archive's members are checked against its size, this machine's memory and the
compression ratio of a zip bomb (the limits of :mod:`complement.io.npz`).
"""

from __future__ import annotations

import pickle
import warnings
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.errors import InputError
from complement.io import npz as _npz
from complement.io.files import PICKLE_HINT, human_size, is_pickle, physical_memory, sniff
from complement.io.npy import MAGIC
from complement.io.tensors import pick_tensor

__all__ = ["load_pt"]

_FIX = "re-save it with torch.save"


def _check_archive(path: Path, where: str) -> None:
    """Refuse an archive whose members could not be real tensors before torch inflates any."""
    size = path.stat().st_size
    try:
        with zipfile.ZipFile(path) as zf:
            members = zf.infolist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise InputError(f"{where}: not a readable .pt file ({reason[:120]}); {_FIX}") from None
    total = 0
    for info in members:
        stored = info.compress_type == zipfile.ZIP_STORED
        if info.compress_size > size or (stored and info.compress_size != info.file_size):
            raise InputError(
                f"{where}: member {info.filename[-60:]!r} declares "
                f"{human_size(info.compress_size)} stored in a {human_size(size)} archive; the "
                f"file is truncated or damaged: {_FIX}"
            )
        if (
            not stored
            and info.file_size > _npz.NPZ_RATIO_FLOOR
            and info.file_size > _npz.NPZ_MAX_RATIO * max(info.compress_size, 1)
        ):
            raise InputError(
                f"{where}: member {info.filename[-60:]!r}: {human_size(info.compress_size)} "
                f"would inflate to {human_size(info.file_size)} (over {_npz.NPZ_MAX_RATIO} "
                "times), so it is refused as a likely zip bomb; save it with torch.save"
            )
        total += info.file_size
    memory = physical_memory()
    if memory is not None and total > memory:
        raise InputError(
            f"{where}: would need {human_size(total)} of memory to load, more than this machine "
            f"has ({human_size(memory)}); save the vectors as a .npy or .safetensors file, "
            "which is memory-mapped"
        )


def _torch(where: str) -> Any:
    try:
        import torch
    except ImportError:
        raise InputError(
            f"{where}: reading a .pt file needs PyTorch, which is not installed; pip install "
            "torch, or save the vectors as .npy or .safetensors"
        ) from None
    return torch


def _torch_load(path: Path, where: str) -> Any:
    head = sniff(path, 64)
    if not head:
        raise InputError(f"{where}: not a readable .pt file (the file is empty, 0 bytes); {_FIX}")
    if head.startswith(b"PK\x03\x04"):
        _check_archive(path, where)
    elif not is_pickle(head):
        if head.startswith(MAGIC):
            found = "it is a .npy array: give it a .npy name"
        elif all(32 <= b < 127 or b in (9, 10, 13) for b in head):
            found = "it holds text"
        else:
            found = "it is neither the zip archive nor the pickle that torch.save writes"
        raise InputError(f"{where}: not a .pt file ({found}); {_FIX}")
    torch = _torch(where)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns about pickle protocols it may not read
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:  # weights_only refuses to build any other object
        raise InputError(f"{where}: {PICKLE_HINT}") from None
    except MemoryError:
        raise InputError(
            f"{where}: there is not enough free memory to load it; save the vectors as a .npy "
            "or .safetensors file, which is memory-mapped"
        ) from None
    except Exception as exc:  # noqa: BLE001 - torch raises RuntimeError, EOFError, ...
        text = str(exc)
        if "weights_only" in text:
            raise InputError(f"{where}: {PICKLE_HINT}") from None
        first = text.splitlines()[0] if text.strip() else type(exc).__name__
        raise InputError(f"{where}: not a readable .pt file ({first[:120]}); {_FIX}") from None


def _numpy(value: Any, name: str, where: str) -> npt.NDArray[Any]:
    import torch

    label = "its tensor" if name == "" else f"tensor {name!r}"
    if value.layout != torch.strided:
        raise InputError(f"{where}: {label} is sparse; save a dense one (tensor.to_dense())")
    if value.is_quantized:
        raise InputError(f"{where}: {label} is quantized; save a float one (tensor.dequantize())")
    if value.is_meta:
        raise InputError(
            f"{where}: {label} is a meta tensor, which holds a shape but no data; save the "
            "tensor once it holds its values (load the model's weights before saving)"
        )
    tensor = value.detach()
    if tensor.dtype == torch.bfloat16:
        tensor = tensor.to(torch.float32)
    try:
        return np.asarray(tensor.contiguous().numpy())
    except (RuntimeError, TypeError):
        raise InputError(
            f"{where}: {label} has dtype {tensor.dtype}, which numpy cannot hold; store float32 "
            "vectors"
        ) from None


def _ids(value: Any, where: str, ids_flag: str) -> npt.NDArray[Any]:
    """Ids stored under ``ids``: a 1-D integer tensor, or a list of integers or of strings."""
    import torch

    if isinstance(value, torch.Tensor):
        integer = not (value.is_floating_point() or value.is_complex() or value.dtype == torch.bool)
        if value.dim() == 1 and integer and value.layout == torch.strided:
            return _numpy(value, "ids", where)
        found = f"shape {tuple(value.shape)} of {value.dtype}"
    elif isinstance(value, list | tuple) and (
        all(type(v) is int for v in value) or all(type(v) is str for v in value)
    ):
        return np.asarray(value)
    else:
        found = f"a {type(value).__name__}"
    raise InputError(
        f"{where}: 'ids' holds {found}, not a 1-D integer tensor; store the ids as one, or give "
        f"them with {ids_flag}"
    )


def load_pt(
    path: Path,
    what: str,
    *,
    key: str | None = None,
    flag: str | None = None,
    want_ids: bool = True,
    ids_flag: str = "an ids file",
) -> tuple[npt.NDArray[Any], npt.NDArray[Any] | None]:
    """The vectors of a ``torch.save`` file and, when ``want_ids``, its ``ids`` entry.

    A bare tensor is the vectors. In a mapping (a state dict) they are the tensor ``key``
    names, else the one named ``embeddings``, else the only 2-D tensor (:func:`pick_tensor`).
    """
    where = f"{what} {path}"
    obj = _torch_load(path, where)
    import torch

    if isinstance(obj, torch.Tensor):
        if key is not None:
            raise InputError(
                f"{where}: holds one tensor, not a mapping of named tensors, so {flag or 'the key'}"
                f" {key!r} names nothing; drop {flag or 'the key'}"
            )
        return _numpy(obj, "", where), None
    if not isinstance(obj, Mapping):
        raise InputError(
            f"{where}: holds a {type(obj).__name__}, not a tensor or a mapping of named tensors; "
            "save a tensor or a dict of tensors with torch.save"
        )
    entries = {str(k): v for k, v in obj.items()}
    if key is not None and key in entries and not isinstance(entries[key], torch.Tensor):
        raise InputError(
            f"{where}: {key!r} holds a {type(entries[key]).__name__}, not a tensor; name a "
            f"tensor with {flag or 'the key'}"
        )
    tensors = {k: v for k, v in entries.items() if isinstance(v, torch.Tensor)}
    name = pick_tensor({k: tuple(v.shape) for k, v in tensors.items()}, key, flag, where)
    matrix = _numpy(tensors[name], name, where)
    if not want_ids or "ids" not in entries or name == "ids":
        return matrix, None
    return matrix, _ids(entries["ids"], where, ids_flag)
