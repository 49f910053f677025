"""Inputs given as Python objects instead of files (the Python API accepts both).

:class:`InMemory` wraps a numpy array, a polars frame or a sequence of ids where a path would
stand: the loaders turn it into the same validated objects a file gives, and the provenance
records a label, the content's sha256 and its shape instead of a file's.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["InMemory", "is_path_like"]


def is_path_like(value: Any) -> bool:
    """A file path (str or os.PathLike), as opposed to an in-memory input."""
    import os

    return isinstance(value, (str, os.PathLike))


@dataclass(frozen=True, eq=False)
class InMemory:
    """An input given as an object: ``value`` is a numpy array or a polars DataFrame."""

    value: Any
    role: str

    def kind(self) -> str:
        return "frame" if hasattr(self.value, "columns") else "array"

    def label(self) -> str:
        shape = self.shape()
        dims = "×".join(str(s) for s in shape) if shape else "?"
        return f"<in-memory {self.kind()} {dims}: {self.role}>"

    def __str__(self) -> str:
        return self.label()

    def shape(self) -> list[int] | None:
        if self.kind() == "frame":
            return [int(self.value.height), int(self.value.width)]
        return [int(s) for s in np.shape(self.value)]

    def content_bytes(self) -> bytes:
        """A deterministic serialisation of the content, for the sha256."""
        if self.kind() == "frame":
            import io

            buffer = io.BytesIO()
            self.value.write_csv(buffer)
            return buffer.getvalue()
        arr = np.ascontiguousarray(np.asarray(self.value))
        if arr.dtype.kind in "OUS":
            return "\n".join(str(x) for x in arr.ravel().tolist()).encode("utf-8")
        header = f"{arr.dtype.str}{arr.shape}".encode()
        return header + arr.tobytes()

    def fingerprint(self) -> dict[str, Any]:
        data = self.content_bytes()
        return {
            "path": self.label(),
            "sha256": hashlib.sha256(data).hexdigest(),
            "bytes": len(data),
        }
