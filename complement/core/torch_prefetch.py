"""Importing torch in the background, so that work before the first MLP fit overlaps it.

``import torch`` takes about 1.5 s on 2 cores. The probe starts it in a thread as soon as it
knows an MLP capacity will be fitted, and fits the capacities before the MLPs meanwhile. No
computation runs in that thread, so no result depends on it.
"""

from __future__ import annotations

import sys
import threading

__all__ = ["join_prefetch", "prefetch_torch"]

_PREFETCH_LOCK = threading.Lock()
_prefetch: dict[str, threading.Thread | None] = {"thread": None}


def _import_torch() -> None:
    try:
        import torch  # noqa: F401
    except Exception:  # the caller's own import reports it
        pass


def prefetch_torch() -> None:
    """Start importing torch in a background thread (about 1.5 s on 2 cores), so that work
    done before the first MLP fit (the linear capacity, on one BLAS thread) overlaps it.

    The first ``import torch`` afterwards waits for the import under way (Python's module
    lock) and finds the same module; :func:`join_prefetch` waits for it to end. Nothing is
    computed in that thread, so no result depends on it.
    """
    with _PREFETCH_LOCK:
        if "torch" in sys.modules or _prefetch["thread"] is not None:
            return
        thread = threading.Thread(target=_import_torch, name="complement-import-torch", daemon=True)
        _prefetch["thread"] = thread
        thread.start()


def join_prefetch() -> None:
    """Wait for a :func:`prefetch_torch` import to finish (a process must not exit mid-import)."""
    thread = _prefetch["thread"]
    if thread is not None:
        thread.join()
