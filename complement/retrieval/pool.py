"""Worker threads for the CPU backend's product + selection, each with its own scratch.

While the workers run, the BLAS is limited to one thread per call (``threadpoolctl``) and
restored afterwards: the workers are the parallelism, so one worker's single-threaded numpy
selection overlaps the others' products instead of leaving cores idle.
"""

from __future__ import annotations

import os
import queue
from concurrent.futures import ThreadPoolExecutor, as_completed, wait
from typing import Any

import numpy as np

__all__ = ["MASK_ROWS", "Pool", "workers"]

#: Rows of a chunk of scores whose candidate mask is built at once (the mask is scratch of
#: that many rows, not of the whole chunk).
MASK_ROWS = 64


def workers() -> int:
    """Threads for the product + threshold selection: as many as the BLAS would use."""
    from threadpoolctl import threadpool_info

    counts = [int(i.get("num_threads") or 1) for i in threadpool_info() if i["user_api"] == "blas"]
    return max(1, max(counts, default=os.cpu_count() or 1))


class Pool:
    """Worker threads, each with its own scratch (a chunk of scores and its mask); with one
    worker there is no thread and every task runs in the calling thread."""

    def __init__(self, n_workers: int, chunk: int, width: int) -> None:
        self.n = n_workers
        self.cells = chunk * width
        self.scratch: queue.SimpleQueue[tuple[Any, Any]] = queue.SimpleQueue()
        mask = min(chunk, MASK_ROWS) * width
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
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1, user_api="blas"):
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
