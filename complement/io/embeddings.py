"""Embedding files -> ids and a 2-D float matrix, whatever the format.

:func:`load_embeddings` picks the reader by the file's suffix and validates what every
format gives alike: a 2-D numeric matrix (converted to float32) and one unique id per row.

=================  ========================================  ================================
suffix             reader                                    ids
=================  ========================================  ================================
``.npy``           :mod:`complement.io.npy`                  row numbers, or ``--sem-ids``
``.npz``           :mod:`complement.io.npz`                  member ``ids``
``.safetensors``   :mod:`complement.io.tensors`              1-D integer tensor ``ids``
``.pt``/``.pth``   :mod:`complement.io.torchfile`            entry ``ids`` of a mapping
``.parquet``       :mod:`complement.io.tabular`              the id column
``.csv``/``.tsv``  :mod:`complement.io.tabular`              the id column
=================  ========================================  ================================

An ids file (``--sem-ids`` / ``--cf-ids``) replaces ids found in the file. Pickles are never
loaded, and every reader checks what a file declares against what it holds before
allocating; large ``.npy`` and ``.safetensors`` files are memory-mapped rather than read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.errors import InputError
from complement.io.files import beyond_float32, require_file
from complement.io.ids import canonical_ids, ids_from_series, load_ids
from complement.io.npy import load_npy
from complement.io.npz import load_npz
from complement.io.parquet import parquet_columns, read_parquet
from complement.io.tabular import load_parquet, load_text_table
from complement.io.tensors import load_safetensors
from complement.io.torchfile import load_pt

__all__ = [
    "Embeddings",
    "SUFFIXES",
    "canonical_ids",
    "check_matrix",
    "ids_from_series",
    "load_embeddings",
    "load_ids",
    "parquet_columns",
    "read_parquet",
]

#: The suffixes :func:`load_embeddings` reads.
SUFFIXES = (".npy", ".npz", ".parquet", ".safetensors", ".pt", ".pth", ".csv", ".tsv")

#: role -> (option naming the vectors' tensor, option giving an ids file)
_FLAGS: dict[str, tuple[str | None, str]] = {
    "semantic": ("--sem-key", "--sem-ids"),
    "collaborative": ("--cf-key", "--cf-ids"),
    "semantic users": (None, "--sem-users-ids"),
    "collaborative users": (None, "--cf-users-ids"),
}


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


def check_matrix(arr: npt.NDArray[Any], what: str, path: Path) -> npt.NDArray[Any]:
    """A non-empty 2-D numeric array as float32 (memory maps stay maps when already float32)."""
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
    if arr.dtype == np.float32:
        return arr
    try:
        with np.errstate(over="raise"):  # finite values beyond float32's range
            if not isinstance(arr, np.memmap):
                return np.ascontiguousarray(arr, dtype=np.float32)
            return np.asarray(arr, dtype=np.float32)
    except FloatingPointError:
        raise beyond_float32(arr, f"{what} {path}") from None


def _read(
    p: Path,
    what: str,
    *,
    role: str,
    key: str | None,
    vector_cols: str | None,
    want_ids: bool,
    mmap: bool,
) -> tuple[npt.NDArray[Any], npt.NDArray[Any] | None]:
    """The raw matrix and the ids found in the file (None when it holds none)."""
    suffix = p.suffix.lower()
    key_flag, ids_flag = _FLAGS.get(role, (None, "an ids file"))
    if suffix == ".npz":
        return load_npz(p, what, key=key, flag=key_flag or "the key")
    if suffix == ".safetensors":
        return load_safetensors(
            p, what, key=key, flag=key_flag, want_ids=want_ids, ids_flag=ids_flag, mmap=mmap
        )
    if suffix in (".pt", ".pth"):
        return load_pt(p, what, key=key, flag=key_flag, want_ids=want_ids, ids_flag=ids_flag)
    if suffix not in SUFFIXES:
        raise InputError(
            f"{what} {p}: unsupported file type {suffix!r}; use .npy, .npz or .parquet (or "
            ".safetensors, .pt, .csv, .tsv)"
        )
    if key is not None:
        flag = key_flag or "the key"
        raise InputError(
            f"{what} {p}: {flag} {key!r} names a tensor in a .safetensors, .pt or .npz file, "
            f"but a {suffix} file holds no named tensors; drop {flag}"
        )
    if suffix == ".npy":
        return load_npy(p, what, mmap=mmap), None
    if suffix == ".parquet":
        return load_parquet(p, what, vector_cols=vector_cols)
    return load_text_table(p, what, vector_cols=vector_cols)


def load_embeddings(
    path: str | Path,
    ids_path: str | Path | None = None,
    *,
    role: str = "semantic",
    mmap: bool = True,
    key: str | None = None,
    vector_cols: str | None = None,
) -> Embeddings:
    """Load one view. Without ids (none in the file and no ``ids_path``) row ``i`` is id ``i``.

    ``key`` names the vectors' tensor in a ``.safetensors``, ``.pt`` or ``.npz`` file (default:
    ``embeddings``, or the only 2-D tensor); ``vector_cols`` is a glob over the column names of
    a parquet/CSV/TSV table with one column per dimension.
    """
    p = Path(path)
    what = f"{role} embeddings"
    require_file(p, what)
    arr, raw_ids = _read(
        p,
        what,
        role=role,
        key=key,
        vector_cols=vector_cols,
        want_ids=ids_path is None,
        mmap=mmap,
    )
    matrix = check_matrix(arr, what, p)
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
