"""What the provenance records of an input: its path, sha256, size and shape.

Shapes are read from headers and metadata only (never the full data); inputs given as
in-memory objects (:class:`complement.io.sources.InMemory`) are hashed from their bytes.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from complement.io.sources import InMemory
from complement.io.tensors import read_safetensors_header

__all__ = ["file_fingerprint", "file_shape", "input_files"]


def file_fingerprint(path: str | Path | InMemory | None) -> dict[str, Any] | None:
    """sha256 and size of an input file (streamed), or of an in-memory input's content."""
    if path is None:
        return None
    if isinstance(path, InMemory):
        return path.fingerprint()
    p = Path(path)
    digest = hashlib.sha256()
    with p.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {"path": str(path), "sha256": digest.hexdigest(), "bytes": p.stat().st_size}


def _npy_header_shape(handle: Any) -> list[int]:
    version = np.lib.format.read_magic(handle)
    if version == (1, 0):
        shape, _, _ = np.lib.format.read_array_header_1_0(handle)
    else:
        shape, _, _ = np.lib.format.read_array_header_2_0(handle)
    return [int(s) for s in shape]


def file_shape(path: str | Path | InMemory) -> Any:
    """Shape of an input read from its header or metadata (never the full data).

    .npy: the array shape; .npz and .safetensors: {array name: shape}; .parquet: [rows,
    columns] from its footer (read through pyarrow: polars can abort the process on a damaged
    file); .pt/.pth: None (reading one means loading it); text files (.csv/.tsv/.txt/ids):
    [lines, None]; in-memory inputs: their shape; anything else: None.
    """
    if isinstance(path, InMemory):
        return path.shape()
    p = Path(path)
    suffix = p.suffix.lower()
    try:
        if suffix == ".npy":
            with p.open("rb") as handle:
                return _npy_header_shape(handle)
        if suffix == ".npz":
            shapes: dict[str, list[int]] = {}
            with zipfile.ZipFile(p) as archive:
                for name in sorted(archive.namelist()):
                    if name.endswith(".npy"):
                        with archive.open(name) as handle:
                            shapes[name[:-4]] = _npy_header_shape(handle)
            return shapes
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            parquet = pq.ParquetFile(p)
            try:
                meta = parquet.metadata
                return [int(meta.num_rows), len(parquet.schema_arrow.names)]
            finally:
                parquet.close()
        if suffix == ".safetensors":
            tensors = read_safetensors_header(p, str(p))
            return {name: list(info.shape) for name, info in sorted(tensors.items())}
        if suffix in (".pt", ".pth"):
            return None
        lines = 0
        with p.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                lines += block.count(b"\n")
        return [lines, None]
    except Exception:  # noqa: BLE001 - a shape is informative only; the loaders validate
        return None


def input_files(paths: Mapping[str, str | InMemory | None]) -> dict[str, Any]:
    """{role: {path, sha256, bytes, shape}} for every input given."""
    out: dict[str, Any] = {}
    for name, path in paths.items():
        if path is None:
            continue
        info = file_fingerprint(path)
        assert info is not None
        info["shape"] = file_shape(path)
        out[name] = info
    return out
