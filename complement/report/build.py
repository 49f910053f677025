"""The ``complement.report/1`` document: sections, provenance, timings.

Layout (keys in this order)::

    schema, complement_version,
    sections      {name: "ok" | "not run"}              every known section, in run order
    overlap, hits, oracle, probe, structure
                  each the single command's --json document without its own ``provenance``
                  (hoisted into the report's), or {"status": "not run", "reason": "..."}
    figures       small data the page's plots need beyond the sections (per-item overlap
                  histogram at the headline k)
    provenance    complement version, resolved config, sha256 + size + shape of every input
                  file, n_items, item_universe_sha256, views, split, seeds, device/backend
    timings       wall seconds per section (the only non-deterministic part; last key)
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from complement._version import __version__
from complement.report.jsonio import document, file_fingerprint

__all__ = [
    "REPORT_SCHEMA",
    "SECTION_NAMES",
    "assemble_report",
    "file_shape",
    "input_files",
    "item_universe_sha256",
    "not_run",
    "overlap_histogram",
    "section_body",
]

REPORT_SCHEMA = "complement.report/1"
SECTION_NAMES = ("overlap", "hits", "oracle", "probe", "structure")


def not_run(reason: str) -> dict[str, str]:
    return {"status": "not run", "reason": reason}


def section_body(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A single command's document as it sits in the report: all but its ``provenance``."""
    return {k: v for k, v in doc.items() if k != "provenance"}


def item_universe_sha256(ids: npt.NDArray[Any]) -> str:
    """sha256 of the shared item ids in index order, one per line (UTF-8, ``\\n`` after each)."""
    digest = hashlib.sha256()
    for start in range(0, ids.shape[0], 65536):
        chunk = ids[start : start + 65536]
        digest.update(("\n".join(str(x) for x in chunk.tolist()) + "\n").encode("utf-8"))
    return digest.hexdigest()


def _npy_header_shape(handle: Any) -> list[int]:
    version = np.lib.format.read_magic(handle)
    if version == (1, 0):
        shape, _, _ = np.lib.format.read_array_header_1_0(handle)
    else:
        shape, _, _ = np.lib.format.read_array_header_2_0(handle)
    return [int(s) for s in shape]


def file_shape(path: str | Path) -> Any:
    """Shape of an input file read from its header or metadata (never the full data).

    .npy: the array shape; .npz: {array name: shape}; .parquet: [rows, columns];
    text files (.csv/.tsv/.txt/ids): [lines, None]; anything else: None.
    """
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
            import polars as pl

            schema = pl.read_parquet_schema(p)
            rows = pl.scan_parquet(p).select(pl.len()).collect().item()
            return [int(rows), len(schema)]
        lines = 0
        with p.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                lines += block.count(b"\n")
        return [lines, None]
    except Exception:  # noqa: BLE001 - a shape is informative only; the loaders validate
        return None


def overlap_histogram(per_item: npt.NDArray[np.float64], k: int, chance: float) -> dict[str, Any]:
    """Counts of query items with overlap@k = j/k for j = 0..k (for the report's figure)."""
    hits = np.rint(np.asarray(per_item, dtype=np.float64) * k).astype(np.int64)
    counts = np.bincount(hits, minlength=k + 1)[: k + 1]
    return {
        "k": int(k),
        "counts": counts.tolist(),
        "chance": float(chance),
        "mean": float(np.mean(per_item)) if per_item.size else None,
    }


def input_files(paths: Mapping[str, str | None]) -> dict[str, Any]:
    """{role: {path, sha256, bytes, shape}} for every input file given."""
    out: dict[str, Any] = {}
    for name, path in paths.items():
        if path is None:
            continue
        info = file_fingerprint(path)
        assert info is not None
        info["shape"] = file_shape(path)
        out[name] = info
    return out


def assemble_report(
    sections: Mapping[str, Mapping[str, Any]],
    provenance: Mapping[str, Any],
    timings: Mapping[str, float],
    figures: Mapping[str, Any] | None = None,
    order: Sequence[str] = SECTION_NAMES,
) -> dict[str, Any]:
    """The report document; ``timings`` is written last so it is easy to ignore."""
    status = {
        name: ("not run" if sections[name].get("status") == "not run" else "ok")
        for name in order
        if name in sections
    }
    body: dict[str, Any] = {"sections": status}
    for name in order:
        if name in sections:
            body[name] = sections[name]
    body["figures"] = dict(figures or {})
    return document(  # already plain JSON values (document() converts them)
        REPORT_SCHEMA,
        body,
        provenance={"complement_version": __version__, **provenance},
        timings={k: round(float(v), 3) for k, v in timings.items()},
    )
