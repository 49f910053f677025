"""The fixture's views converted to each embedding format give the .npy's ``overlap`` JSON.

sem.npy / cf.npy / item_ids.npy of fixtures/movielens-100k are written in a temporary folder as
.safetensors (vectors + an ``ids`` tensor), torch ``.pt`` (``{"weight": ..., "ids": ...}``)
and parquet with one column per dimension (``--vector-cols``); ``complement overlap --json``
on each must give the document of the originals, apart from its provenance.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
import torch
from typer.testing import CliRunner

from tests.conftest import FIXTURE

K = "10,20"
_CODES = {np.dtype(np.float32): "F32", np.dtype(np.int64): "I64"}


def _overlap(folder: Path, *args: Any) -> dict[str, Any]:
    from complement.cli.app import app

    out = folder / "out.json"
    argv = ["overlap", *map(str, args), "--k", K, "--json", str(out), "--quiet"]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(out.read_text())
    out.unlink()
    doc.pop("provenance")
    return doc


@pytest.fixture(scope="module")
def views() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ids = np.load(FIXTURE / "item_ids.npy")
    return np.load(FIXTURE / "sem.npy"), np.load(FIXTURE / "cf.npy"), ids


@pytest.fixture(scope="module")
def expected(tmp_path_factory) -> dict[str, Any]:
    ids = FIXTURE / "item_ids.npy"
    folder = tmp_path_factory.mktemp("npy")
    args = (FIXTURE / "sem.npy", FIXTURE / "cf.npy", "--sem-ids", ids, "--cf-ids", ids)
    return _overlap(folder, *args)


def _safetensors(path: Path, tensors: dict[str, np.ndarray]) -> Path:
    header: dict[str, Any] = {}
    blobs, offset = [], 0
    for name, arr in tensors.items():
        data = np.ascontiguousarray(arr).tobytes()
        end = offset + len(data)
        dtype, shape = _CODES[arr.dtype], list(arr.shape)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, end]}
        blobs.append(data)
        offset = end
    raw = json.dumps(header).encode()
    path.write_bytes(len(raw).to_bytes(8, "little") + raw + b"".join(blobs))
    return path


def _pt(path: Path, matrix: np.ndarray, ids: np.ndarray) -> Path:
    torch.save({"weight": torch.from_numpy(matrix), "ids": torch.from_numpy(ids)}, path)
    return path


def _columns(path: Path, matrix: np.ndarray, ids: np.ndarray) -> Path:
    frame = pl.DataFrame({"item_id": ids}).with_columns(
        pl.Series(f"emb_{j}", matrix[:, j]) for j in range(matrix.shape[1])
    )
    frame.write_parquet(path)
    return path


def test_safetensors_views(tmp_path, views, expected):
    sem, cf, ids = views
    s = _safetensors(tmp_path / "sem.safetensors", {"embeddings": sem, "ids": ids})
    # several 2-D tensors: --cf-key names the vectors
    c = _safetensors(tmp_path / "cf.safetensors", {"cf": cf, "other": sem[:, :2], "ids": ids})
    assert _overlap(tmp_path, s, c, "--cf-key", "cf") == expected


def test_pt_views(tmp_path, views, expected):
    sem, cf, ids = views
    s, c = _pt(tmp_path / "sem.pt", sem, ids), _pt(tmp_path / "cf.pth", cf, ids)
    assert _overlap(tmp_path, s, c) == expected


def test_per_column_parquet_views(tmp_path, views, expected):
    sem, cf, ids = views
    s = _columns(tmp_path / "sem.parquet", sem, ids)
    c = _columns(tmp_path / "cf.parquet", cf, ids)
    assert _overlap(tmp_path, s, c, "--vector-cols", "emb_*") == expected


def test_mixed_formats_and_a_wrong_key(tmp_path, views, expected):
    sem, cf, ids = views
    s = _safetensors(tmp_path / "sem.safetensors", {"embeddings": sem, "ids": ids})
    c = _pt(tmp_path / "cf.pt", cf, ids)
    assert _overlap(tmp_path, s, c) == expected
    from complement.cli.app import app

    result = CliRunner().invoke(app, ["overlap", str(s), str(c), "--sem-key", "nope"])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "no tensor named 'nope'" in lines[0], result.output
