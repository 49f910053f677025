"""What runs inside a Ray task of the Ray engine (:mod:`complement.retrieval.ray`), and how
the driver collects the tasks' results (:func:`collect`).

One task is one shard: contiguous query rows with their slice of the ``exclude`` CSR and of
``query_scale``; it calls the local backend's ``topk`` (with the BLAS at the task's share of
CPUs) and returns the lists with its wall and CPU seconds. For item k-NN over every item on
the CPU, a task is a run of the symmetric self-search's tiles instead (:func:`run_tiles`). The
base arrives from the object store, or, for a read-only memory-mapped ``.npy``, as a path every
task maps itself (:class:`Mapped`). Tasks are retried by Ray (:data:`MAX_RETRIES`: a lost
worker or node, or an OSError); :data:`FAIL_ONCE_ENV` injects one failure for the tests.
"""

from __future__ import annotations

import mmap
import os
import re
import time
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.errors import ComplementError, DeviceError
from complement.retrieval import Backend
from complement.retrieval.ray_cluster import require_ray

__all__ = [
    "FAIL_ONCE_ENV",
    "MAX_RETRIES",
    "WAIT_SECONDS",
    "Mapped",
    "collect",
    "csr_rows",
    "mapped",
    "mapped_paths",
    "remote_shard",
    "remote_tiles",
    "shard_error",
]

#: Ray retries of one shard (lost worker or node, I/O errors) before the call fails.
MAX_RETRIES = 3
#: Test hook: when this environment variable names a file that does not exist yet, the first
#: task to run creates it and fails (``crash:PATH``, the default, ends its worker process as a
#: lost worker would; ``raise:PATH`` raises OSError); the retry then finds the file and runs.
FAIL_ONCE_ENV = "COMPLEMENT_RAY_FAIL_ONCE"

ExcludeCSR = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]

_REMOTE: dict[str, Any] = {}


@dataclass(frozen=True)
class Mapped:
    """A read-only memory-mapped array, by path: every worker maps the same file."""

    path: str
    dtype: str
    shape: tuple[int, ...]
    offset: int

    def open(self) -> np.memmap[Any, Any]:
        return np.memmap(
            self.path, dtype=np.dtype(self.dtype), mode="r", offset=self.offset, shape=self.shape
        )


def mapped(array: Any) -> Mapped | None:
    """The file behind a read-only C-ordered memory map (None for anything else)."""
    if not isinstance(array, np.memmap) or getattr(array, "mode", None) != "r":
        return None
    owner = getattr(array, "_mmap", None)
    path = getattr(array, "filename", None)
    if not isinstance(owner, mmap.mmap) or path is None or not array.flags.c_contiguous:
        return None
    if array.size == 0:
        return None
    # numpy maps the file from the allocation-granularity boundary below its offset
    start = int(array.offset) - int(array.offset) % mmap.ALLOCATIONGRANULARITY
    origin = np.frombuffer(owner, dtype=np.uint8).ctypes.data
    at = start + (array.ctypes.data - origin)
    return Mapped(os.path.abspath(path), array.dtype.str, tuple(array.shape), at)


def fail_once(spec: str | None) -> None:
    """The test hook of :data:`FAIL_ONCE_ENV` (see there)."""
    if not spec:
        return
    mode, _, path = spec.partition(":") if ":" in spec else ("crash", "", spec)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return
    os.close(fd)
    if mode == "raise":
        raise OSError(f"{FAIL_ONCE_ENV}: injected failure")
    os._exit(1)  # the worker dies, as on a lost node


def run_shard(
    backend: Backend,
    base: Any,
    queries: Any,
    rows: tuple[int, int],
    k: int,
    base_scale: npt.NDArray[np.float32] | None,
    query_scale: npt.NDArray[np.float32] | None,
    exclude: ExcludeCSR | None,
    cpus: int,
    fail: str | None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32], tuple[float, float], str]:
    """One shard, inside a Ray task: the local backend's ``topk`` of query rows ``rows``.

    Returns the lists, (wall, CPU) seconds of the task and which worker process ran it.

    ``base`` is the array (resolved from the object store) or a :class:`Mapped`; ``queries``
    the shard's rows, a :class:`Mapped` (rows ``rows`` of it) or ``"base"`` (rows of the base).
    """
    t0, c0 = time.perf_counter(), time.process_time()
    fail_once(fail)
    matrix = base.open() if isinstance(base, Mapped) else base
    a, b = rows
    if isinstance(queries, str):
        q = matrix[a:b]
    elif isinstance(queries, Mapped):
        q = queries.open()[a:b]
    else:
        q = queries
    if backend.device == "cuda":
        idx, val = backend.topk(
            q, matrix, k, base_scale=base_scale, query_scale=query_scale, exclude=exclude
        )
    else:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(max(1, cpus), user_api="blas"):  # the task's share of the node
            idx, val = backend.topk(
                q, matrix, k, base_scale=base_scale, query_scale=query_scale, exclude=exclude
            )
    return idx, val, (time.perf_counter() - t0, time.process_time() - c0), _worker()


def _worker() -> str:
    import ray

    ctx = ray.get_runtime_context()
    return f"{ctx.get_node_id()[:12]}:{os.getpid()}"


def run_tiles(
    base: Any,
    scale: npt.NDArray[np.float32] | None,
    plan: Any,
    jobs: tuple[tuple[int, int], ...],
    cpus: int,
    fail: str | None,
) -> tuple[npt.NDArray[np.uint64], tuple[float, float], str]:
    """One shard of a symmetric self-search, inside a Ray task: the running top-``w`` keys of
    every row over the tiles ``jobs`` (:func:`complement.retrieval.symmetric.tile_keys`), with
    the task's (wall, CPU) seconds and its worker. ``base`` as in :func:`run_shard`."""
    from threadpoolctl import threadpool_limits

    from complement.retrieval import symmetric

    t0, c0 = time.perf_counter(), time.process_time()
    fail_once(fail)
    matrix = base.open() if isinstance(base, Mapped) else base
    workers = max(1, cpus)
    with threadpool_limits(workers, user_api="blas"):  # the task's share of the node
        keys = symmetric.tile_keys(matrix, scale, plan, jobs, workers)
    return keys, (time.perf_counter() - t0, time.process_time() - c0), _worker()


def _remote(fn: Any, cpus: int, gpus: int) -> Any:
    """The Ray remote function of ``fn`` with these resources and the retries (made once)."""
    ray = require_ray()
    key = f"{fn.__name__}:{cpus}:{gpus}"
    if key not in _REMOTE:
        _REMOTE[key] = ray.remote(
            num_cpus=cpus,
            num_gpus=gpus,
            num_returns=1,
            max_retries=MAX_RETRIES,
            retry_exceptions=[OSError],
        )(fn)
    return _REMOTE[key]


def remote_shard(cpus: int, gpus: int) -> Any:
    """The Ray remote function of :func:`run_shard` with these resources."""
    return _remote(run_shard, cpus, gpus)


def remote_tiles(cpus: int) -> Any:
    """The Ray remote function of :func:`run_tiles` with ``cpus`` CPUs."""
    return _remote(run_tiles, cpus, 0)


def csr_rows(exclude: ExcludeCSR | None, a: int, b: int) -> ExcludeCSR | None:
    """Rows ``a:b`` of a CSR pair (indptr rebased to 0)."""
    if exclude is None:
        return None
    indptr, indices = exclude
    lo, hi = int(indptr[a]), int(indptr[b])
    ptr = np.asarray(indptr[a : b + 1], dtype=np.int64) - lo
    return ptr, np.ascontiguousarray(indices[lo:hi], dtype=np.int64)


#: the terminal colour codes of Ray's task headers (``\x1b[36mray::run_shard()\x1b[39m``)
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def shard_error(exc: BaseException, where: str, paths: Collection[str]) -> ComplementError:
    """The one line for a task that failed after Ray's retries: the backend's own error as it
    is, else what the task raised (``exc.cause`` of Ray's ``RayTaskError``, whose text is a
    coloured header and a traceback), or Ray's own error (a lost worker, ...). ``where``:
    "shard 2/4 (query rows 10-20)"; ``paths``: the memory-mapped files the tasks open, whose
    absence on a node gets the hint that they must be readable on every node."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, ComplementError):
        return cause
    if not isinstance(cause, BaseException):
        cause = exc
    name = getattr(cause, "filename", None)
    if isinstance(cause, OSError) and name is not None and os.path.abspath(str(name)) in paths:
        return DeviceError(
            f"--engine ray: {where} could not open the memory-mapped catalogue {name} "
            f"({cause.strerror or type(cause).__name__}; tried {MAX_RETRIES + 1} times); the "
            "path must be readable on every Ray node (shared storage, or the same file at the "
            "same path everywhere): see docs/scaling.md"
        )
    lines = _ANSI.sub("", str(cause)).strip().splitlines()
    text = " ".join(lines[0].split())[:300] if lines else ""
    return DeviceError(
        f"--engine ray: {where} failed (lost workers and I/O errors are retried {MAX_RETRIES} "
        f"times): {type(cause).__name__}{': ' + text if text else ''}"
    )


#: longest single wait for a task: a ``ray.wait`` blocked on a running task ran this process's
#: signal handlers only when the task ended, so a Ctrl-C or SIGTERM waited for it (minutes
#: with large shards; seen with Ray 2.60)
WAIT_SECONDS = 0.5


def mapped_paths(*maps: Any) -> frozenset[str]:
    """The files of the memory maps the tasks open (for the message when one cannot)."""
    return frozenset(m.path for m in maps if m is not None)


def collect(
    ray: Any,
    pending: dict[Any, tuple[int, int, int]],
    shards: int,
    put: Any,
    unit: str,
    paths: frozenset[str] = frozenset(),
) -> None:
    """Wait for every task of ``pending`` (ref: (shard, first, last) of its ``unit``: query
    rows or tiles) and hand each result to ``put(shard, a, b, result)``; a failed task (after
    Ray's retries) is a :class:`DeviceError` naming the shard and what the task raised, or the
    backend's own error (:func:`~complement.retrieval.ray_tasks.shard_error`). The rest is
    then cancelled, and what it left is fetched so that Ray prints no "Unhandled error"; on
    Ctrl-C it is only cancelled."""
    try:
        while pending:
            try:  # in short waits: signal handlers run between them (Ctrl-C, SIGTERM)
                ready, _ = ray.wait(list(pending), num_returns=1, timeout=WAIT_SECONDS)
            except SystemError as exc:
                _pass_signal(exc)
                raise
            for ref in ready:
                s, a, b = pending.pop(ref)
                try:
                    result = ray.get(ref)
                except Exception as exc:
                    _pass_signal(exc)
                    where = f"shard {s + 1}/{shards} ({unit} {a}-{b})"
                    raise shard_error(exc, where, paths) from None
                put(s, a, b, result)
    except Exception:  # a failed call: stop what is queued, and fetch what it left
        _drain(ray, list(pending))
        raise
    except KeyboardInterrupt:  # an interrupted one: stop what is queued, at once
        for ref in pending:
            ray.cancel(ref)
        raise
    # Any other exception (SystemExit, the CLI's Terminated on SIGTERM) ends the process, and
    # Ray ends the tasks of a driver that leaves; cancelling them first raced Ray's shutdown
    # (a task's reply after its cancellation failed a check in Ray's core: SIGABRT, about one
    # exit in twelve).


#: how long a failed call waits for its other tasks to stop once cancelled
DRAIN_SECONDS = 5.0


def _drain(ray: Any, refs: list[Any]) -> None:
    """Cancel ``refs`` and fetch (and drop) what those that end within :data:`DRAIN_SECONDS`
    returned or raised: Ray reports an error nobody fetched as an "Unhandled error" with its
    traceback on stderr, after complement's own line."""
    if not refs:
        return
    for ref in refs:
        ray.cancel(ref)
    try:
        ready, _ = ray.wait(refs, num_returns=len(refs), timeout=DRAIN_SECONDS)
    except SystemError as exc:
        _pass_signal(exc)
        return
    for ref in ready:
        try:
            ray.get(ref)
        except Exception as exc:  # what the call's error already stands for
            _pass_signal(exc)


def _pass_signal(exc: BaseException) -> None:
    """Raise what a signal handler raised inside a blocking Ray call, if that is what ``exc`` is.

    Ray's native ``wait``/``get`` run the process's signal handlers at some points while they
    block; what a handler raises there (``KeyboardInterrupt``, the CLI's ``Terminated`` on
    SIGTERM) comes out as a ``SystemError`` caused by it. Re-raised as itself, it ends the
    command as an interruption (exit 130 or 143, outputs untouched), not as a failed shard or
    a traceback.
    """
    cause = exc.__cause__ or exc.__context__
    if isinstance(exc, SystemError) and cause is not None and not isinstance(cause, Exception):
        raise cause from None
