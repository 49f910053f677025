"""Inputs given as Python objects instead of files (the Python API accepts both).

:class:`InMemory` wraps a numpy array, a polars frame or a sequence of ids where a path would
stand: the loaders turn it into the same validated objects a file gives, and the provenance
records a label, the content's sha256 and its shape instead of a file's. :func:`wrap` makes
one: pandas DataFrames and polars LazyFrames become polars DataFrames, and ``snapshot=True``
copies the content, so that later changes to the caller's object do not reach it.
"""

from __future__ import annotations

import copy
import hashlib
import sys
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from complement.errors import InputError

__all__ = ["InMemory", "instance_of", "is_path_like", "wrap"]


def is_path_like(value: Any) -> bool:
    """A file path (str or os.PathLike), as opposed to an in-memory input."""
    import os

    return isinstance(value, (str, os.PathLike))


def instance_of(value: Any, module: str, name: str) -> bool:
    """``isinstance(value, module.name)`` without importing ``module`` (an object of it exists
    only once it is imported)."""
    loaded = sys.modules.get(module)
    cls = getattr(loaded, name, None) if loaded is not None else None
    return cls is not None and isinstance(value, cls)


def _as_frame(value: Any, role: str) -> Any:
    """A polars DataFrame for a pandas DataFrame or a polars LazyFrame; else ``value``."""
    if instance_of(value, "pandas", "DataFrame"):
        import polars as pl

        try:
            return pl.from_pandas(value)
        except Exception as exc:  # noqa: BLE001 - pyarrow and polars raise many types
            reason = " ".join(str(exc).split())[:200]
            raise InputError(
                f"{role}: the pandas DataFrame cannot be converted to a polars DataFrame "
                f"({reason}); give a polars DataFrame or a path"
            ) from None
    if instance_of(value, "polars", "LazyFrame"):
        try:
            return value.collect()
        except Exception as exc:  # noqa: BLE001 - any error of the query
            reason = " ".join(str(exc).split())[:200]
            raise InputError(
                f"{role}: the polars LazyFrame cannot be collected ({reason}); fix the query "
                "or give a DataFrame"
            ) from None
    return value


def wrap(value: Any, role: str, *, snapshot: bool = False) -> InMemory:
    """``value`` as an in-memory input; ``snapshot``: a copy of it, not a reference.

    A pandas DataFrame or a polars LazyFrame becomes a polars DataFrame. A snapshot copies
    numpy arrays and the rows of frames (a polars frame may share memory with the numpy
    arrays it was built from) and deep-copies anything else.
    """
    value = _as_frame(value, role)
    if snapshot:
        if isinstance(value, np.ndarray):
            value = np.array(value, copy=True, subok=False)
        elif instance_of(value, "polars", "DataFrame"):
            value = value[np.arange(value.height)]  # a gather writes new buffers
        else:
            value = copy.deepcopy(value)
    return InMemory(value, role)


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
        """A deterministic serialisation of the content, for the sha256.

        A frame is its CSV; a frame that CSV cannot hold (list or struct columns) is its
        schema and its rows as JSON lines instead.
        """
        if self.kind() == "frame":
            return _frame_bytes(self.value, self.label())
        arr = np.ascontiguousarray(np.asarray(self.value))
        if arr.dtype.kind in "OUS":
            return "\n".join(str(x) for x in arr.ravel().tolist()).encode("utf-8")
        header = f"{arr.dtype.str}{arr.shape}".encode()
        return header + arr.tobytes()

    @cached_property
    def _fingerprint(self) -> dict[str, Any]:
        data = self.content_bytes()
        return {
            "path": self.label(),
            "sha256": hashlib.sha256(data).hexdigest(),
            "bytes": len(data),
        }

    def fingerprint(self) -> dict[str, Any]:
        """Label, sha256 and size of the content (hashed once: a copy of the first answer)."""
        return dict(self._fingerprint)


def _frame_bytes(frame: Any, label: str) -> bytes:
    import io

    buffer = io.BytesIO()
    try:
        frame.write_csv(buffer)
        return buffer.getvalue()
    except Exception:  # noqa: BLE001 - CSV holds no nested data: JSON lines below
        pass
    try:
        rows: str = frame.write_ndjson()
    except Exception:  # noqa: BLE001 - e.g. a column of Python objects
        raise InputError(
            f"{label}: the frame cannot be serialised to fingerprint it (schema "
            f"{dict(frame.schema)}); drop columns of Python objects, or give a path"
        ) from None
    schema = ",".join(f"{name}:{dtype}" for name, dtype in frame.schema.items())
    return f"schema {schema}\n".encode() + rows.encode("utf-8")
