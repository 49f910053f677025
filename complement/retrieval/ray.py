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
command when Ray is missing. Ray is started or joined once per process, on the first call
that needs it (or at once: :func:`ray_backend`): ``address`` when given (``--ray-address``),
else ``RAY_ADDRESS`` when set, else a local instance on this machine's cores; a process that
already called ``ray.init`` itself keeps its connection (see
:func:`~complement.retrieval.ray_cluster.connect`).

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

from complement.errors import DeviceError, UsageError
from complement.retrieval import Backend, Progress, get_backend, symmetric
from complement.retrieval.exact import BAND
from complement.retrieval.ray_cluster import (
    INSTALL,
    check_address,
    cluster_info,
    connect,
    prepare,
    ray_available,
    require_ray,
    session,
)
from complement.retrieval.ray_tasks import (
    FAIL_ONCE_ENV,
    MAX_RETRIES,
    collect,
    csr_rows,
    mapped,
    mapped_paths,
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
    session: tuple[str, ...] | None = None


@dataclass(frozen=True)
class RayBackend(Backend):
    """A :class:`Backend` whose ``topk`` runs in shards of query rows as Ray tasks.

    ``device``/``name`` are the local backend's that each task runs (``cpu``/``cpu-blas`` or
    ``cuda``/``cuda-torch``; cuda tasks ask Ray for one GPU each). ``address``: the cluster to
    join (None: ``RAY_ADDRESS``, else a local instance; see :func:`connect`), joined on the
    first call that needs a cluster. ``shards``: shards per call (None: the cluster's CPUs, or
    its GPUs on cuda), never more than the queries. ``source``: where ``address`` came from,
    for messages (a config file's ``path[options]``; ``""``: ``--ray-address``). Build it
    with :func:`ray_backend` to resolve the device and check (or join) Ray at once.
    """

    address: str | None = None
    shards: int | None = None
    source: str = field(default="", compare=False)
    record: _Record = field(default_factory=_Record, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.shards is not None and int(self.shards) < 1:
            raise UsageError(f"shards={self.shards}: the number of shards must be at least 1")

    @property
    def local(self) -> Backend:
        """The backend every task runs."""
        return Backend(self.device, self.name)

    def join(self) -> None:
        """Join Ray now, on the calling thread: the report does so on its main thread before its
        side thread starts, so that ``ray.init`` runs where a Ctrl-C can be held."""
        self._join()

    def _join(self) -> dict[str, int]:
        """Join Ray (again after a ``ray.shutdown()``), and the cluster's resources."""
        kind = connect(self.address, self.source)
        now = session()
        record = self.record
        if record.address != kind or record.session != now or not record.cluster:
            record.address, record.cluster, record.session = kind, cluster_info(), now
        return record.cluster

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

        collect(ray, pending, len(runs), put, "tiles", mapped_paths(base_map))
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

        collect(ray, pending, shards, put, "query rows", mapped_paths(base_map, query_map))
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
        if self.record.address is None:  # no call needed a cluster: join to say which
            self._join()
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


def ray_backend(
    device: str | Backend = "auto",
    *,
    address: str | None = None,
    shards: int | None = None,
    join: bool = True,
    source: str = "",
) -> RayBackend:
    """The Ray engine over the local backend of ``device`` (a device name or a Backend).

    Joins Ray at once (see :func:`connect`), so a missing Ray (:class:`UsageError`, with the
    install command) or an unreachable cluster (:class:`DeviceError`) is reported before any
    work. ``join=False`` (the command line) makes only the checks that start nothing (Ray
    importable, the address well-formed and answering: :func:`prepare`) and joins on the first
    call that needs the cluster, so that bad inputs are reported without waiting for Ray.
    ``source``: where ``address`` came from, for messages.
    """
    local = device if isinstance(device, Backend) else get_backend(device)
    backend = RayBackend(local.device, local.name, address=address, shards=shards, source=source)
    if join:
        backend.join()
    else:
        prepare(address, source)
    return backend
