"""Joining Ray for the Ray engine (:mod:`complement.retrieval.ray`), once per process.

Ray is imported only here and only when the engine is used: without it, or when it is
installed but cannot be imported, :class:`~complement.errors.UsageError` names the install
command. :func:`connect` joins ``--ray-address`` when given, else ``RAY_ADDRESS`` when set,
else starts a local instance on this machine's cores; a process that already called
``ray.init`` itself keeps its connection. A process that joined one cluster this way refuses
another address (one Ray connection per process) until ``ray.shutdown()``, after which the
next call joins again by the same rules. An address that cannot be a Ray cluster is an error
at once (``ray.init`` would retry for many minutes, or print its own traceback): an empty one,
one that is not ``HOST:PORT`` with a port in 1..65535 (``ray://HOST:PORT``, ``auto`` and
``local`` are Ray's other forms), an HTTP(S) URL (the dashboard or Jobs API), a ``HOST:PORT``
where nothing listens, or one where a server answers that does not speak gRPC.
:func:`prepare` makes every check of :func:`connect` that does not start Ray.

Ray's own log lines stay off stderr and stdout: its driver logger is set to ERROR, the workers'
and raylet's output is not forwarded (it stays in the session's log folder, /tmp/ray/session_*)
and a failed attempt of a task that Ray retries is not printed
(``RAY_enable_output_error_log_if_still_retry=0`` unless set).

Signals: ``ray.init`` replaces the process's SIGTERM handler with its own (``sys.exit(15)``).
A Python handler that was in place before (the CLI's: exit 143, outputs left as they were) is
put back as soon as ``ray.init`` returns, and a SIGTERM that arrived during ``ray.init`` is
passed to it. A Ctrl-C (SIGINT) during ``ray.init`` is held until ``ray.init`` returns and
then raised (a KeyboardInterrupt that unwinds a half-started core worker can crash the
process); a second one is raised at once, to leave a join that hangs.
"""

from __future__ import annotations

import atexit
import importlib.util
import logging
import os
import re
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from complement.errors import DeviceError, UsageError

__all__ = [
    "INSTALL",
    "check_address",
    "cluster_info",
    "connect",
    "prepare",
    "ray_available",
    "require_ray",
    "session",
]

#: What to run when Ray is missing.
INSTALL = "pip install 'complement[ray]'"

_lock = threading.Lock()
#: how this process joined Ray: kind ("local instance", "RAY_ADDRESS", "explicit"; None: not
#: yet), the address asked for (None: a local instance) and the connection it made
_joined: dict[str, Any] = {"kind": None, "target": None, "session": None}


def ray_available() -> bool:
    """Whether Ray can be imported (without importing it)."""
    return importlib.util.find_spec("ray") is not None


def require_ray() -> Any:
    """The ``ray`` module, or a UsageError with the install command (Ray missing, or installed
    but failing to import: a wheel for another Python, a grpcio/protobuf mismatch, ...)."""
    if not ray_available():
        raise UsageError(f"--engine ray needs Ray, which is not installed: {INSTALL}")
    try:
        import ray
    except Exception as exc:  # ImportError, or whatever a broken install raises on import
        detail = " ".join(str(exc).split())[:300]
        raise UsageError(
            f"--engine ray: Ray is installed but cannot be imported ({type(exc).__name__}: "
            f"{detail}); reinstall it: {INSTALL}"
        ) from None
    return ray


def _request(address: str | None, source: str) -> tuple[str, str | None, str]:
    """(kind, the address to give ``ray.init`` or None for a local instance, its source)."""
    env = os.environ.get("RAY_ADDRESS")
    if address is not None and address != "local":
        return "explicit", address, source
    if address is None and env and env != "local":
        return "RAY_ADDRESS", env, "RAY_ADDRESS"
    return "local instance", None, ""  # Ray's "local": a new instance, as complement starts it


def prepare(address: str | None = None, source: str = "") -> None:
    """Every check :func:`connect` makes before it starts or joins Ray, without starting it:
    Ray importable, and the address (``address``, else ``RAY_ADDRESS``) one to join."""
    require_ray()
    _, target, where = _request(address, source)
    if target is not None:
        check_address(target, source=where)


def session() -> tuple[str, ...] | None:
    """This process's Ray connection, as something that changes with every ``ray.init``
    (None: not connected)."""
    ray = sys.modules.get("ray")
    if ray is None or not ray.is_initialized():
        return None
    try:
        ctx = ray.get_runtime_context()
        return (str(ctx.gcs_address), str(ctx.get_node_id()), str(ctx.get_job_id()))
    except Exception:  # Ray Client, or a Ray without these: one connection per process
        return ("connected",)


def connect(address: str | None = None, source: str = "") -> str:
    """Join Ray once per process; returns how (the provenance's address kind).

    ``address`` (``--ray-address``): that cluster ("explicit"); else ``RAY_ADDRESS`` when set;
    else a new local instance on this machine's cores ("local instance"). When this process
    has already called ``ray.init`` itself (a caller's own cluster), that connection is used
    ("existing connection"). Once joined here, a call asking for another address is a
    :class:`DeviceError`; after ``ray.shutdown()`` the next call joins again. ``source``:
    where ``address`` came from, for messages (``""``: --ray-address; ``path[options]``: a
    config file).
    """
    ray = require_ray()
    with _lock:
        kind, target, where = _request(address, source)
        if ray.is_initialized():
            now = session()
            if _joined["kind"] is None or _joined["session"] != now:
                return "existing connection"  # the caller's own ray.init
            if (kind, target) != (_joined["kind"], _joined["target"]):
                raise DeviceError(
                    f"--engine ray: this process already joined Ray at "
                    f"{_describe_join(_joined['kind'], _joined['target'])}, not "
                    f"{_describe_join(kind, target, where)}; one Ray connection per process: "
                    "give the same address, start a new process, or call ray.shutdown() first"
                )
            return kind
        kwargs: dict[str, Any]
        if target is not None:
            check_address(target, source=where)
            kwargs = {"address": target}
        else:  # "local": a new instance even when a cluster was started on this machine
            cpus = os.cpu_count() or 1
            kwargs = {"address": "local", "num_cpus": cpus, "include_dashboard": False}
        # a task's failure that Ray will retry is not news: Ray otherwise prints its
        # traceback (to stdout, where --json - writes) from a thread of its own
        os.environ.setdefault(_RETRY_LOG, "0")
        with _signals_held():
            try:
                ray.init(logging_level=logging.ERROR, log_to_driver=False, **kwargs)
            except Exception as exc:  # unreachable cluster, refused token, ...
                raise _not_joined(kind, kwargs["address"], exc) from exc
        _joined.update(kind=kind, target=target, session=session())
        if not _joined.get("leave"):
            atexit.register(_leave)  # runs before Ray's own shutdown (registered earlier)
            _joined["leave"] = True
        return kind


def _leave() -> None:
    """At exit: Ray's shutdown, with Ctrl-C and SIGTERM ignored. The process is ending and its
    exit status is decided; a KeyboardInterrupt (or the CLI's Terminated) raised inside Ray's
    shutdown printed a traceback, left Ray's agents running and could crash the process
    (SIGSEGV) instead of ending it."""
    ray = sys.modules.get("ray")
    if ray is None or not ray.is_initialized():
        return
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    ray.shutdown()


#: Ray's switch for printing each failed attempt of a task that is retried
_RETRY_LOG = "RAY_enable_output_error_log_if_still_retry"


def _describe_join(kind: str | None, target: str | None, source: str = "") -> str:
    if target is None:
        return "a new local instance"
    if kind == "RAY_ADDRESS":
        return f"RAY_ADDRESS {target}"
    return f"{target} (set in {source})" if source else target


@contextmanager
def _signals_held() -> Iterator[None]:
    """Around ``ray.init``: the Python SIGTERM handler put back (and given a SIGTERM that Ray's
    handler turned into ``sys.exit``), and a first SIGINT held until the end, then raised."""
    main = threading.current_thread() is threading.main_thread()
    term = _python_handler(signal.SIGTERM) if main else None
    old_int = signal.getsignal(signal.SIGINT) if main else None
    restore = signal.SIG_DFL if old_int is None else old_int  # None: a handler set outside Python
    held: list[int] = []

    def hold(signum: int, frame: Any) -> None:
        if held:  # a second Ctrl-C: leave now
            signal.signal(signal.SIGINT, restore)
            raise KeyboardInterrupt
        held.append(signum)

    if main:
        signal.signal(signal.SIGINT, hold)
    try:
        yield
    except SystemExit:  # from Ray's SIGTERM handlers (sys.exit(15), or 1 once its node has
        # killed the processes it started): a termination, not a failure to join
        held.clear()
        if term is not None:
            term(signal.SIGTERM, None)
        raise
    finally:
        if term is not None:
            signal.signal(signal.SIGTERM, term)
        if main:
            signal.signal(signal.SIGINT, restore)
            if held:  # after ray.init, or in place of its error: the interruption wins
                _deliver_sigint(restore)


def _deliver_sigint(handler: Any) -> None:
    """What the SIGINT held during ``ray.init`` would have done."""
    if callable(handler):
        handler(signal.SIGINT, None)  # Python's default: raise KeyboardInterrupt
    elif handler == signal.SIG_DFL:
        os.kill(os.getpid(), signal.SIGINT)


#: what in a failed ``ray.init``'s error says that the cluster wants a token: Ray's words for
#: it, or the bare "Failed to connect" a token cluster gives a driver without one (the address
#: itself answered gRPC: :func:`check_address` ran first)
_AUTH = re.compile(r"auth|token|unauthenticated|failed to connect to ray cluster", re.I)


def _not_joined(kind: str, address: str, exc: BaseException) -> DeviceError:
    """The one line for a ``ray.init`` that failed; a failure about authentication, where
    token authentication is not turned on here, adds how to turn it on."""
    where = "a local instance" if kind == "local instance" else address
    said = " ".join(f"{exc} {exc.__cause__ or ''}".split())
    message = f"--engine ray: could not start or join Ray ({where}): {' '.join(str(exc).split())}"
    auth = _AUTH.search(f"{type(exc).__name__} {said}") is not None
    if kind != "local instance" and auth and os.environ.get("RAY_AUTH_MODE", "").lower() != "token":
        message += (
            "; if the cluster uses token authentication (recent Ray versions turn it on by "
            "default), set RAY_AUTH_MODE=token here and give its token (RAY_AUTH_TOKEN, or the "
            "file ~/.ray/auth_token; 'ray get-auth-token' on the head node prints it)"
        )
    return DeviceError(message)


def _python_handler(signum: int) -> Callable[[int, Any], Any] | None:
    """The Python function handling ``signum`` now (None: the default action, an ignored
    signal, or a handler outside Python)."""
    handler = signal.getsignal(signum)
    return handler if callable(handler) else None


#: what an HTTP/2 client sends first (RFC 9113, section 3.4): the preface, then SETTINGS
_H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])
#: the HTTP/2 frame type a server's first frame must have (SETTINGS)
_H2_SETTINGS = 4
#: Ray's address keywords, left to Ray: the cluster this machine knows of, a new local instance
_KEYWORDS = ("auto", "local")


def _names(address: str, source: str) -> tuple[str, str, str]:
    """(the address as messages name it, the option with its value, where to fix it)."""
    if source == "RAY_ADDRESS":
        return f"RAY_ADDRESS {address}", f"RAY_ADDRESS {address!r}", "RAY_ADDRESS"
    if source:
        return (
            f"ray_address {address} in {source}",
            f"ray_address {address!r} (set in {source})",
            f"ray_address in {source}",
        )
    return address, f"--ray-address {address!r}", "--ray-address"


def _host_port(address: str) -> tuple[str, int] | None:
    """(host, port) of ``HOST:PORT`` or ``ray://HOST:PORT`` (None: not that form, or a port
    outside 1..65535). An IPv6 host is written in brackets: ``[::1]:6379``."""
    where = address[len("ray://") :] if address.startswith("ray://") else address
    host, _, port = where.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host or re.search(r"[\s/\[\]@?#]", host) or not re.fullmatch(r"[0-9]{1,5}", port):
        return None
    return (host, int(port)) if 1 <= int(port) <= 65535 else None


def check_address(address: str, timeout: float = 5.0, source: str = "") -> None:
    """A :class:`DeviceError` at once when ``address`` cannot be a Ray cluster to join.

    ``ray.init`` would otherwise retry for many minutes, printing a warning a second, or print
    its own traceback. Refused: an empty address; one that is not ``HOST:PORT`` or
    ``ray://HOST:PORT`` with a port in 1..65535 (``auto`` and ``local``, Ray's keywords, are
    left to Ray); an ``http(s)://`` URL (the dashboard or the Jobs API, which a driver does not
    join); a ``HOST:PORT`` where nothing listens; one where a server answers that does not
    speak gRPC, which Ray's GCS and Ray Client servers do: it must answer the HTTP/2 preface
    with a SETTINGS frame within ``timeout`` seconds (not checked when ``RAY_USE_TLS`` is set:
    the cluster then speaks TLS first). ``source``: where the address came from, for the
    message (``""``: --ray-address; ``RAY_ADDRESS``; a config file's ``path[options]``).
    """
    named, given, fix = _names(address, source)
    forms = (
        "give the head node's GCS address (HOST:6379, as 'ray start --head' prints) or a Ray "
        "Client address (ray://HOST:10001)"
    )
    if not address.strip():
        raise DeviceError(
            f"--engine ray: {given} is empty; {forms} with {fix}, or leave it out for a new "
            "local instance on this machine"
        )
    if address.lower().startswith(("http://", "https://")):
        raise DeviceError(
            f"--engine ray: {named} is an HTTP address (the Ray dashboard or Jobs API), not a "
            f"way into the cluster for a driver; {forms} with {fix}"
        )
    if address in _KEYWORDS:
        return
    hostport = _host_port(address)
    if hostport is None:
        raise DeviceError(
            f"--engine ray: {given} is not HOST:PORT with a port in 1..65535; {forms}, or "
            f"auto, with {fix}"
        )
    try:
        with socket.create_connection(hostport, timeout=timeout) as conn:
            if _tls_expected():
                return
            reply = _first_frame(conn)
    except OSError as exc:
        raise DeviceError(
            f"--engine ray: no Ray cluster answers at {named} ({exc.strerror or exc}); start "
            f"one (ray start --head) or fix {fix}"
        ) from None
    if len(reply) < 9 or reply[3] != _H2_SETTINGS:
        raise DeviceError(
            f"--engine ray: something answers at {named}, but not a Ray cluster "
            f"({_describe(reply, timeout)}); {forms} with {fix}"
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
