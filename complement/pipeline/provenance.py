"""Where a result came from: resolved options, fingerprints of every input, the backend."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

import numpy.typing as npt

from complement.config import DATA_KEYS, NOT_PROVENANCE, Settings
from complement.io.fingerprint import file_fingerprint, input_files
from complement.pipeline.context import Context
from complement.pipeline.section import Section
from complement.retrieval import Backend

__all__ = [
    "config_record",
    "item_universe_sha256",
    "provenance",
    "report_provenance",
    "with_provenance",
]


def config_record(settings: Settings) -> dict[str, Any]:
    """The resolved config without the options that only say where outputs go."""
    config = settings.to_dict()
    for part in ("values", "sources"):
        config[part] = {k: v for k, v in config[part].items() if k not in NOT_PROVENANCE}
    return config


def provenance(settings: Settings, backend: Backend | None = None) -> dict[str, Any]:
    """A single command's provenance: resolved config, input fingerprints, device/backend."""
    inputs = {
        name: file_fingerprint(settings.get(name))
        for name in DATA_KEYS
        if name in settings.values and settings.get(name) is not None
    }
    out: dict[str, Any] = {"config": config_record(settings), "inputs": inputs}
    if backend is not None:
        out["retrieval"] = backend.to_dict()
    return out


def with_provenance(
    section: Section, settings: Settings, backend: Backend | None
) -> dict[str, Any]:
    """The single command's whole JSON document: the section's, then ``provenance``."""
    return replace(section, provenance=provenance(settings, backend)).document()


def item_universe_sha256(ids: npt.NDArray[Any]) -> str:
    """sha256 of the shared item ids in index order, one per line (UTF-8, ``\\n`` after each)."""
    digest = hashlib.sha256()
    for start in range(0, ids.shape[0], 65536):
        chunk = ids[start : start + 65536]
        digest.update(("\n".join(str(x) for x in chunk.tolist()) + "\n").encode("utf-8"))
    return digest.hexdigest()


def report_provenance(ctx: Context) -> dict[str, Any]:
    """The report's provenance: also input shapes, the item universe, split and seeds."""
    settings, views, split = ctx.settings, ctx.views, ctx.split
    paths = {name: settings.get(name) for name in DATA_KEYS if name in settings.values}
    out: dict[str, Any] = {
        "config": config_record(settings),
        "inputs": input_files(paths),
        "n_items": views.n_items,
        "item_universe_sha256": item_universe_sha256(views.ids),
        "views": views.to_dict(),
        "interactions": ctx.coverage,
        "split": split.to_dict() if split is not None else None,
        "seeds": {"seed": settings["seed"], "split": split.seed if split is not None else None},
    }
    if ctx.backend is not None:
        out["retrieval"] = ctx.backend.to_dict()
    return out
