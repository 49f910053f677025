"""Learned embeddings written back out as ``.npz`` (``embeddings`` + ``ids``), atomically.

``complement align --export DIR`` writes ``<method>_items.npz`` and ``<method>_users.npz`` per
strategy, so that every other command can diagnose them.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.errors import InputError
from complement.io.jsonio import write_bytes_atomic
from complement.io.writer import check_folder_members

__all__ = ["check_export", "export_folder", "export_names", "npz_bytes", "write_embedding_pairs"]

#: the name of a strategy's ablation: the strategy's name and this (as in core.align_training)
ABLATED = "_ablated"


def _names(system: str) -> dict[str, str]:
    return {"items": f"{system}_items.npz", "users": f"{system}_users.npz"}


def check_export(
    folder: str | os.PathLike[str] | None,
    method: str | Iterable[str] | None,
    every_method: Iterable[str],
    inputs: Iterable[str],
) -> None:
    """Refuse, before any training, an ``--export`` folder where align would write one of
    the run's ``inputs``: the files of ``method`` (``--method``: names, comma-separated, or
    ``all``, meaning ``every_method``; None: all). Torch is not imported here."""
    if folder is None:
        return
    names = (method or "all").split(",") if isinstance(method, str) else list(method or ["all"])
    if "all" in names:
        names = [m for m in every_method if m != "all"]
    check_folder_members("export", folder, export_names(m for m in names if m), inputs=inputs)


def export_names(methods: Iterable[str]) -> tuple[str, ...]:
    """Every file ``--export`` may write for ``methods``, known before any training: each
    method's files and its ablation's (named whether or not the method has an ablation, so
    that torch need not be imported to tell; a name too many only widens the check)."""
    return tuple(
        name
        for method in methods
        for system in (method, method + ABLATED)
        for name in _names(system).values()
    )


def export_folder(path: str | None) -> Path | None:
    """The export folder, created if its parent exists (checked before any training)."""
    if path is None:
        return None
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"--export {folder}: is a file; give a folder for the .npz files")
    if not folder.exists():
        parent = folder.parent if str(folder.parent) else Path(".")
        if not parent.is_dir():
            raise InputError(
                f"--export {folder}: the folder {parent} does not exist; create it or choose "
                "another path"
            )
        folder.mkdir()
    return folder


def npz_bytes(embeddings: npt.NDArray[Any], ids: npt.NDArray[Any]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, embeddings=np.asarray(embeddings, dtype=np.float32), ids=np.asarray(ids))
    return buffer.getvalue()


def write_embedding_pairs(
    folder: Path,
    pairs: Mapping[str, tuple[npt.NDArray[Any], npt.NDArray[Any]]],
    item_ids: npt.NDArray[np.str_],
    user_ids: npt.NDArray[Any],
) -> dict[str, dict[str, str]]:
    """``pairs`` maps a name to (item vectors, user vectors); returns the paths written."""
    written: dict[str, dict[str, str]] = {}
    for name, (items, users) in pairs.items():
        paths = {kind: folder / file for kind, file in _names(name).items()}
        write_bytes_atomic(paths["items"], npz_bytes(items, item_ids))
        write_bytes_atomic(paths["users"], npz_bytes(users, np.asarray(user_ids, dtype=str)))
        written[name] = {kind: str(p) for kind, p in paths.items()}
    return written
