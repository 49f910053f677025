"""The Ray engine: the same exact top-k, with the queries spread over a Ray cluster.

:class:`RayBackend` is a :class:`~complement.retrieval.Backend` (same ``topk`` signature, same
lists), so every diagnostic runs on it unchanged (``--engine ray``). Its ``topk`` splits the
query rows into contiguous shards, each with its slice of the ``exclude`` CSR and of
``query_scale``, runs each shard as a Ray task that calls the local backend's ``topk``
(CPU, or the GPU when the device resolved to cuda: the task then asks Ray for one GPU), and
writes the shards' lists back in query order. A query's list depends only on its row, its
excluded entries and the base (the canonical tie order of :mod:`complement.retrieval.exact`),
never on the shard it ran in, so the lists equal the local engine's.

The base goes to the object store once per call (``ray.put``; tasks on one node share it
without copies), except a read-only memory-mapped ``.npy`` (``np.memmap`` with a file name),
which every task maps from the same path instead: that path must be readable by every worker
(shared storage, or the same file on every node). Queries that are the base itself (item
k-NN of every item) travel the same way, as a range of its rows. Item k-NN of every item on
the CPU, where :mod:`complement.retrieval.symmetric` applies, is split by tiles instead of
query rows (:meth:`RayBackend.self_topk`): each task multiplies a run of the tiles on and above
the diagonal, each product once, and returns every row's running top keys; the driver merges
them and settles near-ties, so the lists are again the local engine's.

Tasks are retried by Ray (``max_retries``: a lost worker or node; ``retry_exceptions``: I/O
errors). Importing this module does not import Ray; :func:`ray_backend` (what the command line
builds for ``--engine ray``) raises :class:`~complement.errors.UsageError` with the install
command when Ray is missing. Ray is started or joined once per process: ``address`` when given
(``--ray-address``), else ``RAY_ADDRESS`` when set, else a local instance on this machine's
cores; a process that already called ``ray.init`` itself keeps its connection.

``to_dict()`` (the ``retrieval`` part of ``provenance``) adds ``engine: "ray"`` and ``ray``:
the address kind, the cluster's nodes/CPUs/GPUs, the shards, the worker processes that ran
them and, per ``topk`` call, every shard's rows and wall and CPU seconds.

Joining Ray is :mod:`complement.retrieval.ray_cluster`; what runs inside a task,
:mod:`complement.retrieval.ray_tasks`. docs/scaling.md has the recipe and the figures.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from complement.errors import ComplementError, DeviceError, UsageError
from complement.retrieval import Backend, Progress, get_backend, symmetric
from complement.retrieval.exact import BAND
from complement.retrieval.ray_cluster import (
    INSTALL,
    check_address,
    cluster_info,
    connect,
    ray_available,
    require_ray,
)
from complement.retrieval.ray_tasks import (
    FAIL_ONCE_ENV,
    MAX_RETRIES,
    csr_rows,
    mapped,
    remote_shard,
    remote_tiles,
)

__all__ = [
    "FAIL_ONCE_ENV",
    "INSTALL",
    "MAX_RETRIES",
    "RayBackend",
    "check_address",
    "connect",
    "ray_available",
    "ray_backend",
]


@dataclass(eq=False)
class _Record:
    """What the engine did (mutable inside the frozen backend): for ``to_dict``."""

    address: str | None = None
    cluster: dict[str, int] = field(default_factory=dict)
    calls: list[dict[str, Any]] = field(default_factory=list)
    workers: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class RayBackend(Backend):
    """A :class:`Backend` whose ``topk`` runs in shards of query rows as Ray tasks.

    ``device``/``name`` are the local backend's that each task runs (``cpu``/``cpu-blas`` or
    ``cuda``/``cuda-torch``; cuda tasks ask Ray for one GPU each). ``address``: the cluster to
    join (None: ``RAY_ADDRESS``, else a local instance; see :func:`connect`). ``shards``:
    shards per call (None: the cluster's CPUs, or its GPUs on cuda), never more than the
    queries. Build it with :func:`ray_backend` to resolve the device and join Ray at once.
    """

    address: str | None = None
    shards: int | None = None
    record: _Record = field(default_factory=_Record, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.shards is not None and int(self.shards) < 1:
            raise UsageError(f"shards={self.shards}: the number of shards must be at least 1")

    @property
    def local(self) -> Backend:
        """The backend every task runs."""
        return Backend(self.device, self.name)

    def _join(self) -> dict[str, int]:
        if self.record.address is None or not self.record.cluster:
            self.record.address = connect(self.address)
            self.record.cluster = cluster_info()
        return self.record.cluster

    def _plan(self, q: int) -> tuple[int, int, int]:
        """(shards, CPUs per task, GPUs per task) for ``q`` query rows."""
        cluster = self._join()
        gpu = self.device == "cuda"
        if gpu and not cluster["gpus"]:  # a task asking for a GPU would wait forever
            raise DeviceError(
                "--engine ray: the device resolved to cuda here, but the Ray cluster has no "
                "GPUs; use --device cpu, or add GPU nodes"
            )
        slots = cluster["gpus"] if gpu else cluster["cpus"]
        shards = max(1, min(q, int(self.shards or slots or 1)))
        # a task cannot ask for more CPUs than one node has (it would never be scheduled)
        share = max(1, min(cluster["cpus"] // shards, cluster.get("node_cpus", 1)))
        return shards, 1 if gpu else share, 1 if gpu else 0

    def self_topk(
        self,
        matrix: npt.NDArray[Any],
        k: int,
        *,
        scale: npt.NDArray[np.float32] | None = None,
        progress: Progress | None = None,
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """Same lists as :meth:`Backend.self_topk`. On the CPU, where the symmetric
        self-search applies, its tiles run as Ray tasks (runs of tiles of about equal work,
        each returning every row's running top keys), merged and settled here; otherwise the
        query rows run in shards (:meth:`topk`)."""
        n, d = int(matrix.shape[0]), int(matrix.shape[1])
        if self.device != "cpu" or n < 2:
            return self.self_by_rows(matrix, k, scale=scale, progress=progress)
        ray = require_ray()
        shards, cpus, _ = self._plan(n)
        if not symmetric.applies(n, d, min(k, n - 1) + BAND, cpus):
            return self.self_by_rows(matrix, k, scale=scale, progress=progress)
        start = time.perf_counter()
        tiles = symmetric.plan(n, k, BAND, cpus)
        runs = tiles.shares(shards)
        task = remote_tiles(cpus)
        fail = os.environ.get(FAIL_ONCE_ENV) or None
        base_map = mapped(matrix)
        base_arg: Any = base_map if base_map is not None else ray.put(np.asarray(matrix))
        scale_arg: Any = None if scale is None else ray.put(np.asarray(scale))
        pending: dict[Any, tuple[int, int, int]] = {}
        first = 0
        for s, run in enumerate(runs):
            pending[task.remote(base_arg, scale_arg, tiles, run, cpus, fail)] = (
                s, first, first + len(run)
            )  # fmt: skip
            first += len(run)
        parts: list[Any] = [None] * len(runs)
        seconds = [(0.0, 0.0)] * len(runs)
        workers: list[str] = [""] * len(runs)
        total = sum(tiles.cells(j) for j in tiles.jobs)
        done = [0]

        def put(s: int, a: int, b: int, result: Any) -> None:
            parts[s], seconds[s], workers[s] = result
            done[0] += sum(tiles.cells(j) for j in runs[s])
            if progress is not None:
                progress(n * done[0] // total, n)

        _collect(ray, pending, len(runs), put, "tiles")
        keys = symmetric.merge_keys(parts, tiles.w)
        idx, val = symmetric.finish_keys(matrix, scale, keys, k, tiles)
        self.record.workers.update(workers)
        self.record.calls.append(
            {
                "queries": n,
                "base_rows": n,
                "dim": d,
                "k": tiles.k,
                "search": "symmetric tiles",
                "tiles": len(tiles.jobs),
                "tile_rows": tiles.tile,
                "shards": len(runs),
                "cpus_per_shard": cpus,
                "gpus_per_shard": 0,
                "base_from": "path" if base_map is not None else "object store",
                "workers": len(set(workers)),
                "seconds": round(time.perf_counter() - start, 4),
                "shard_tiles": [len(run) for run in runs],
                "shard_cells": [sum(tiles.cells(j) for j in run) for run in runs],
                "shard_seconds": [round(x[0], 4) for x in seconds],
                "shard_cpu_seconds": [round(x[1], 4) for x in seconds],
            }
        )
        return idx, val

    def topk(
        self,
        queries: npt.NDArray[Any],
        base: npt.NDArray[Any],
        k: int,
        *,
        base_scale: npt.NDArray[np.float32] | None = None,
        exclude: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]] | None = None,
        progress: Progress | None = None,
        query_scale: npt.NDArray[np.float32] | None = None,
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """Same contract and lists as :meth:`Backend.topk`; the query rows run in shards."""
        q, n = int(queries.shape[0]), int(base.shape[0])
        kk = min(k, n)
        if q == 0 or kk <= 0:  # nothing to search: the local answer, without a cluster
            return self.local.topk(
                queries, base, k, base_scale=base_scale, exclude=exclude, query_scale=query_scale
            )
        ray = require_ray()
        start = time.perf_counter()
        shards, cpus, gpus = self._plan(q)
        task = remote_shard(cpus, gpus)
        fail = os.environ.get(FAIL_ONCE_ENV) or None

        base_map = mapped(base)
        base_arg: Any = base_map if base_map is not None else ray.put(np.asarray(base))
        scale_arg: Any = None if base_scale is None else ray.put(np.asarray(base_scale))
        query_map = None if queries is base else mapped(queries)
        qscale = None if query_scale is None else np.asarray(query_scale, dtype=np.float32)
        bounds = np.linspace(0, q, shards + 1).round().astype(np.int64)

        pending: dict[Any, tuple[int, int, int]] = {}
        for s, (a, b) in enumerate(zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)):
            if queries is base:
                qarg: Any = "base"
            elif query_map is not None:
                qarg = query_map
            else:
                qarg = np.ascontiguousarray(queries[a:b])
            ref = task.remote(
                self.local,
                base_arg,
                qarg,
                (a, b),
                k,
                scale_arg,
                None if qscale is None else qscale[a:b],
                csr_rows(exclude, a, b),
                cpus,
                fail,
            )
            pending[ref] = (s, a, b)

        idx = np.empty((q, kk), dtype=np.int64)
        val = np.empty((q, kk), dtype=np.float32)
        seconds = [(0.0, 0.0)] * shards
        workers: list[str] = [""] * shards
        done = [0]

        def put(s: int, a: int, b: int, result: Any) -> None:
            idx[a:b], val[a:b], seconds[s], workers[s] = result
            done[0] += b - a
            if progress is not None:
                progress(done[0], q)

        _collect(ray, pending, shards, put, "query rows")
        self.record.workers.update(workers)
        self.record.calls.append(
            {
                "queries": q,
                "base_rows": n,
                "dim": int(base.shape[1]),
                "k": kk,
                "shards": shards,
                "cpus_per_shard": cpus,
                "gpus_per_shard": gpus,
                "base_from": "path" if base_map is not None else "object store",
                "workers": len(set(workers)),
                "seconds": round(time.perf_counter() - start, 4),
                "shard_rows": np.diff(bounds).tolist(),
                "shard_seconds": [round(x[0], 4) for x in seconds],
                "shard_cpu_seconds": [round(x[1], 4) for x in seconds],
            }
        )
        return idx, val

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(super().to_dict())
        out["engine"] = "ray"
        out["ray"] = {
            "address": self.record.address,
            **self.record.cluster,
            "shards": self.shards,
            "workers": len(self.record.workers),
            "calls": list(self.record.calls),
        }
        return out


#: longest single wait for a task: a ``ray.wait`` blocked on a running task ran this process's
#: signal handlers only when the task ended, so a Ctrl-C or SIGTERM waited for it (minutes
#: with large shards; seen with Ray 2.60)
WAIT_SECONDS = 0.5


def _collect(
    ray: Any, pending: dict[Any, tuple[int, int, int]], shards: int, put: Any, unit: str
) -> None:
    """Wait for every task of ``pending`` (ref: (shard, first, last) of its ``unit``: query
    rows or tiles) and hand each result to ``put(shard, a, b, result)``; a failed task (after
    Ray's retries) is a :class:`DeviceError` naming the shard, or the backend's own error, and
    the rest is cancelled, as on Ctrl-C."""
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
                    cause = getattr(exc, "cause", None)
                    if isinstance(cause, ComplementError):  # the backend's own error
                        raise cause from None
                    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                    raise DeviceError(
                        f"--engine ray: shard {s + 1}/{shards} ({unit} {a}-{b}) failed (lost "
                        f"workers and I/O errors are retried {MAX_RETRIES} times): "
                        f"{type(exc).__name__}: {first[:300]}"
                    ) from exc
                put(s, a, b, result)
    except (Exception, KeyboardInterrupt):  # a failed or interrupted call: stop what is queued
        for ref in pending:
            ray.cancel(ref)
        raise
    # Any other exception (SystemExit, the CLI's Terminated on SIGTERM) ends the process, and
    # Ray ends the tasks of a driver that leaves; cancelling them first raced Ray's shutdown
    # (a task's reply after its cancellation failed a check in Ray's core: SIGABRT, about one
    # exit in twelve).


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


def ray_backend(
    device: str | Backend = "auto", *, address: str | None = None, shards: int | None = None
) -> RayBackend:
    """The Ray engine over the local backend of ``device`` (a device name or a Backend).

    Joins Ray at once (see :func:`connect`), so a missing Ray (:class:`UsageError`, with the
    install command) or an unreachable cluster (:class:`DeviceError`) is reported before any
    work.
    """
    local = device if isinstance(device, Backend) else get_backend(device)
    backend = RayBackend(local.device, local.name, address=address, shards=shards)
    backend._join()
    return backend
