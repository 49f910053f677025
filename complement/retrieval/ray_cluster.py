"""Joining Ray for the Ray engine (:mod:`complement.retrieval.ray`), once per process.

Ray is imported only here and only when the engine is used: without it,
:class:`~complement.errors.UsageError` names the install command. :func:`connect` joins
``--ray-address`` when given, else ``RAY_ADDRESS`` when set, else starts a local instance on
this machine's cores; a process that already called ``ray.init`` itself keeps its connection.
An address that cannot be a Ray cluster is a :class:`~complement.errors.DeviceError` at once
(``ray.init`` would retry for many minutes): an HTTP(S) URL (the dashboard or Jobs API), a
``host:port`` where nothing listens, or one where a server answers that does not speak gRPC.

``ray.init`` replaces the process's SIGTERM handler with its own (``sys.exit(15)``). A Python
handler that was in place before (the CLI's: exit 143, outputs left as they were) is put back
as soon as ``ray.init`` returns, and a SIGTERM that arrived during ``ray.init`` is passed to it.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable
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
        else:  # "local": a new instance even when a cluster was started on this machine
            kind = "local instance"
            cpus = os.cpu_count() or 1
            kwargs = {"address": "local", "num_cpus": cpus, "include_dashboard": False}
        if kind != "local instance":
            check_address(kwargs["address"], source="RAY_ADDRESS" if kind == "RAY_ADDRESS" else "")
        handler = _python_sigterm_handler()
        try:
            ray.init(logging_level=logging.WARNING, **kwargs)
        except SystemExit:  # from Ray's SIGTERM handlers (sys.exit(15), or 1 once its node
            # has killed the processes it started): a termination, not a failure to join
            if handler is not None:
                handler(signal.SIGTERM, None)
            raise
        except Exception as exc:  # unreachable cluster, bad address, ...
            raise _not_joined(kind, kwargs["address"], exc) from exc
        finally:
            if handler is not None:
                signal.signal(signal.SIGTERM, handler)
        _joined["kind"] = kind
        return kind


def _not_joined(kind: str, address: str, exc: BaseException) -> DeviceError:
    """The one line for a ``ray.init`` that failed; joining a cluster without token
    authentication turned on here adds how to turn it on (a cluster that asks for a token
    refuses such a driver with only "Failed to connect")."""
    where = "a local instance" if kind == "local instance" else address
    message = f"--engine ray: could not start or join Ray ({where}): {' '.join(str(exc).split())}"
    if kind != "local instance" and os.environ.get("RAY_AUTH_MODE", "").lower() != "token":
        message += (
            "; if the cluster uses token authentication (recent Ray versions turn it on by "
            "default), set RAY_AUTH_MODE=token here and give its token (RAY_AUTH_TOKEN, or the "
            "file ~/.ray/auth_token; 'ray get-auth-token' on the head node prints it)"
        )
    return DeviceError(message)


def _python_sigterm_handler() -> Callable[[int, Any], Any] | None:
    """The Python function handling SIGTERM now (None: the default action, an ignored signal,
    a handler outside Python, or not the main thread, where handlers cannot be set)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    handler = signal.getsignal(signal.SIGTERM)
    return handler if callable(handler) else None


#: what an HTTP/2 client sends first (RFC 9113, section 3.4): the preface, then SETTINGS
_H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])
#: the HTTP/2 frame type a server's first frame must have (SETTINGS)
_H2_SETTINGS = 4


def check_address(address: str, timeout: float = 5.0, source: str = "") -> None:
    """A :class:`DeviceError` at once when ``address`` cannot be a Ray cluster to join.

    ``ray.init`` would otherwise retry for many minutes, printing a warning a second. Refused:
    an ``http(s)://`` URL (the dashboard or the Jobs API, which a driver does not join); a
    ``host:port`` (or ``ray://host:port``) where nothing listens; one where a server answers
    that does not speak gRPC, which Ray's GCS and Ray Client servers do: it must answer the
    HTTP/2 preface with a SETTINGS frame within ``timeout`` seconds (not checked when
    ``RAY_USE_TLS`` is set: the cluster then speaks TLS first). Other forms (``auto``) are left
    to Ray. ``source``: where the address came from, for the message (``RAY_ADDRESS``).
    """
    named = f"{source} {address}" if source else address
    fix = (
        "give the head node's GCS address (HOST:6379, as 'ray start --head' prints) or a Ray "
        "Client address (ray://HOST:10001) with --ray-address or RAY_ADDRESS"
    )
    if address.lower().startswith(("http://", "https://")):
        raise DeviceError(
            f"--engine ray: {named} is an HTTP address (the Ray dashboard or Jobs API), not a "
            f"way into the cluster for a driver; {fix}"
        )
    where = address[len("ray://") :] if address.startswith("ray://") else address
    host, _, port = where.rpartition(":")
    if not host or not port.isdigit():
        return
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout) as conn:
            if _tls_expected():
                return
            reply = _first_frame(conn)
    except OSError as exc:
        raise DeviceError(
            f"--engine ray: no Ray cluster answers at {named} ({exc.strerror or exc}); start "
            "one (ray start --head) or fix --ray-address / RAY_ADDRESS"
        ) from None
    if len(reply) < 9 or reply[3] != _H2_SETTINGS:
        raise DeviceError(
            f"--engine ray: something answers at {named}, but not a Ray cluster "
            f"({_describe(reply, timeout)}); {fix}"
        )


def _tls_expected() -> bool:
    return os.environ.get("RAY_USE_TLS", "").strip().lower() in ("1", "true", "yes")


def _first_frame(conn: socket.socket) -> bytes:
    """The first 9 bytes (a frame header) the server sends after our HTTP/2 preface; fewer
    when it closes the connection or stays silent past the socket's timeout."""
    conn.sendall(_H2_PREFACE)
    reply = b""
    try:
        while len(reply) < 9:
            chunk = conn.recv(9 - len(reply))
            if not chunk:
                break
            reply += chunk
    except TimeoutError:
        pass
    return reply


def _describe(reply: bytes, timeout: float) -> str:
    """What the server did instead of speaking gRPC, in words (never its raw bytes)."""
    if not reply:
        return f"it sent no reply to a gRPC greeting, waiting up to {timeout:g} s"
    if reply.startswith((b"HTTP/", b"<")):
        return "an HTTP/1 server replied to a gRPC greeting"
    return "it did not answer a gRPC greeting as gRPC servers do"


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
