"""Worker threads for the CPU backend's product + selection, each with its own scratch.

While the workers run, the BLAS is limited to one thread per call (``threadpoolctl``) and
restored afterwards: the workers are the parallelism, so one worker's single-threaded numpy
selection overlaps the others' products instead of leaving cores idle.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed, wait
from contextlib import contextmanager
from typing import Any, TypeVar

import numpy as np

__all__ = ["MASK_ROWS", "Pool", "in_order", "one_blas_thread", "workers"]

T = TypeVar("T")

#: Rows of a chunk of scores whose candidate mask is built at once (the mask is scratch of
#: that many rows, not of the whole chunk).
MASK_ROWS = 64


def workers() -> int:
    """Threads for the product + threshold selection: as many as the BLAS would use."""
    counts = [int(c.num_threads or 1) for c in _blas().lib_controllers]
    return max(1, max(counts, default=os.cpu_count() or 1))


_LOCK = threading.Lock()
_CACHE: dict[str, Any] = {"key": None, "blas": None}
_HELD: dict[str, Any] = {"depth": 0, "limiters": [], "paths": set()}


def _blas() -> Any:
    """The BLAS libraries' ``threadpoolctl`` controller, kept while no module was imported
    (scanning the loaded libraries takes milliseconds; scipy or torch bring their own BLAS
    with their import). Thread counts are read live from it."""
    key = len(sys.modules)
    with _LOCK:
        if _CACHE["key"] != key or _CACHE["blas"] is None:
            from threadpoolctl import ThreadpoolController

            _CACHE["blas"] = ThreadpoolController().select(user_api="blas")
            _CACHE["key"] = len(sys.modules)
        return _CACHE["blas"]


class Pool:
    """Worker threads, each with its own scratch (a chunk of scores and its mask); with one
    worker there is no thread and every task runs in the calling thread."""

    def __init__(self, n_workers: int, chunk: int, width: int, mask_rows: int = MASK_ROWS) -> None:
        self.n = n_workers
        self.cells = chunk * width
        self.scratch: queue.SimpleQueue[tuple[Any, Any]] = queue.SimpleQueue()
        mask = min(chunk, mask_rows) * width
        for _ in range(n_workers):
            self.scratch.put((np.empty(chunk * width, np.float32), np.empty(mask, bool)))
        self.threads = ThreadPoolExecutor(n_workers) if n_workers > 1 else None

    def run(self, tasks: list[Any], done: Any) -> None:
        """Call every task with a scratch pair; ``done(result)`` in this thread as each ends.

        With several workers the BLAS runs one thread per call (the workers are the
        parallelism: each thread's product is followed by its own selection while the other
        threads multiply), restored afterwards.
        """

        def call(task: Any) -> Any:
            pair = self.scratch.get()
            try:
                return task(pair)
            finally:
                self.scratch.put(pair)

        if self.threads is None:
            for task in tasks:
                done(call(task))
            return
        with one_blas_thread():
            futures = [self.threads.submit(call, task) for task in tasks]
            try:
                for fut in as_completed(futures):
                    done(fut.result())
            finally:
                for fut in futures:
                    fut.cancel()
                wait(futures)

    def close(self) -> None:
        """Stop the threads and drop the scratch (the search's largest buffers) at once."""
        if self.threads is not None:
            self.threads.shutdown(wait=True, cancel_futures=True)
        self.scratch = queue.SimpleQueue()


def in_order(tasks: Iterable[Callable[[], T]], n_workers: int | None = None) -> Iterator[T]:
    """The results of ``tasks`` in their order, computed on worker threads with the BLAS on
    one thread each (at most ``n_workers`` + 1 results held at once).

    A float64 product on several BLAS threads sums in an order that depends on the thread
    count; blocks multiplied on one thread each and summed in block order by the caller give
    the same bits whatever the machine's thread count (and use its cores).
    """
    n = max(1, n_workers or workers())
    with one_blas_thread():
        if n == 1:
            for task in tasks:
                yield task()
            return
        with ThreadPoolExecutor(n) as threads:
            pending: deque[Future[T]] = deque()
            try:
                for task in tasks:
                    pending.append(threads.submit(task))
                    if len(pending) > n:
                        yield pending.popleft().result()
                while pending:
                    yield pending.popleft().result()
            finally:
                for fut in pending:
                    fut.cancel()


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """The BLAS on one thread inside the block: float64 products, dot products and norms
    (``numpy.linalg.norm`` is a BLAS dot) give the same bits whatever the thread count, and
    small decompositions (``eigh`` of a few hundred rows) do not wait on thread barriers.

    Nested and concurrent blocks (worker threads) share one process-wide limit: the first
    block in sets it, the last one out restores the thread counts found by the first (a BLAS
    loaded meanwhile is limited when the next block starts, and restored with the rest)."""
    blas = _blas()
    with _LOCK:
        new = [c for c in blas.lib_controllers if c.filepath not in _HELD["paths"]]
        if new:
            _free_control()
            _HELD["limiters"].append(
                blas.select(filepath=[c.filepath for c in new]).limit(limits=1, user_api="blas")
            )
            _HELD["paths"].update(c.filepath for c in new)
            _free_control()
        _HELD["depth"] += 1
    try:
        yield
    finally:
        with _LOCK:
            _HELD["depth"] -= 1
            if _HELD["depth"] == 0:
                _free_control()
                while _HELD["limiters"]:
                    _HELD["limiters"].pop().restore_original_limits()
                _HELD["paths"] = set()
                _free_control()


def _free_control() -> None:
    """threadpoolctl >= 3.8 lets only the thread that last set an OpenBLAS limit change it
    until that thread lets go; the limit here is held by a count, not by a thread, so the
    last block out (any thread) must be able to restore it."""
    import threadpoolctl

    clear = getattr(
        getattr(threadpoolctl, "OpenBLASController", None), "clear_controlling_thread", None
    )
    if clear is not None:
        clear(force=True)
