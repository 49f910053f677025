"""Joining Ray for the Ray engine (:mod:`complement.retrieval.ray`), once per process.

Ray is imported only here and only when the engine is used: without it,
:class:`~complement.errors.UsageError` names the install command. :func:`connect` joins
``--ray-address`` when given, else ``RAY_ADDRESS`` when set, else starts a local instance on
this machine's cores; a process that already called ``ray.init`` itself keeps its connection.
An address where nothing listens is a :class:`~complement.errors.DeviceError` at once
(``ray.init`` would retry for minutes).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import socket
import threading
from typing import Any

from complement.errors import DeviceError, UsageError

__all__ = ["INSTALL", "check_address", "cluster_info", "connect", "ray_available", "require_ray"]

#: What to run when Ray is missing.
INSTALL = "pip install 'complement[ray]'"

_lock = threading.Lock()
#: how this process joined Ray ("local instance", "RAY_ADDRESS", "explicit"; None: not yet)
_joined: dict[str, str | None] = {"kind": None}


def ray_available() -> bool:
    """Whether Ray can be imported (without importing it)."""
    return importlib.util.find_spec("ray") is not None


def require_ray() -> Any:
    """The ``ray`` module, or a UsageError with the install command."""
    if not ray_available():
        raise UsageError(f"--engine ray needs Ray, which is not installed: {INSTALL}")
    import ray

    return ray


def connect(address: str | None = None) -> str:
    """Join Ray once per process; returns how (the provenance's address kind).

    ``address`` (``--ray-address``): that cluster ("explicit"); else ``RAY_ADDRESS`` when set;
    else a new local instance on this machine's cores ("local instance"). When this process
    has already called ``ray.init`` (a caller's own cluster), that connection is used
    ("existing connection").
    """
    ray = require_ray()
    with _lock:
        if ray.is_initialized():
            return _joined["kind"] or "existing connection"
        env = os.environ.get("RAY_ADDRESS")
        kwargs: dict[str, Any]
        if address:
            kind, kwargs = "explicit", {"address": address}
        elif env:
            kind, kwargs = "RAY_ADDRESS", {"address": env}
        else:
            kind = "local instance"
            kwargs = {"num_cpus": os.cpu_count() or 1, "include_dashboard": False}
        if "address" in kwargs:
            check_address(kwargs["address"])
        try:
            ray.init(logging_level=logging.WARNING, **kwargs)
        except (Exception, SystemExit) as exc:  # unreachable cluster, bad address, ...
            where = kwargs.get("address", "a local instance")
            raise DeviceError(
                f"--engine ray: could not start or join Ray ({where}): {' '.join(str(exc).split())}"
            ) from exc
        _joined["kind"] = kind
        return kind


def check_address(address: str, timeout: float = 5.0) -> None:
    """A :class:`DeviceError` at once when nothing listens at a ``host:port`` Ray address
    (``ray.init`` would otherwise retry for minutes); other forms (``auto``) are left to Ray."""
    where = address[len("ray://") :] if address.startswith("ray://") else address
    host, _, port = where.rpartition(":")
    if not host or not port.isdigit():
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        raise DeviceError(
            f"--engine ray: no Ray cluster answers at {address} ({exc.strerror or exc}); start "
            "one (ray start --head) or fix --ray-address / RAY_ADDRESS"
        ) from None


def cluster_info() -> dict[str, int]:
    """Nodes, CPUs and GPUs of the cluster, and the CPUs of its largest node."""
    ray = require_ray()
    res = ray.cluster_resources()
    alive = [n for n in ray.nodes() if n.get("Alive")]
    largest = max((int(n.get("Resources", {}).get("CPU", 0)) for n in alive), default=0)
    return {
        "nodes": len(alive),
        "cpus": int(res.get("CPU", 0)),
        "gpus": int(res.get("GPU", 0)),
        "node_cpus": largest or int(res.get("CPU", 0)),
    }
