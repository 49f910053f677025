"""The device and the engine, resolved once per run from the settings.

``--device auto|cpu|cuda`` picks the retrieval backend (:func:`complement.retrieval.get_backend`);
``--engine ray`` wraps it in the Ray engine (``complement[ray]``; Ray is imported only then),
joining ``--ray-address``, else ``$RAY_ADDRESS``, else a local instance on this machine. Ray
is checked at once (installed and importable, the address well-formed and answering) and
started or joined on the first retrieval, so that bad inputs are reported without waiting for
it; an address from a config file is named by where it was set.
"""

from __future__ import annotations

from complement.config import Settings
from complement.errors import UsageError
from complement.retrieval import Backend, get_backend

__all__ = ["backend_for"]


def backend_for(settings: Settings) -> Backend:
    """The retrieval backend of the settings' device and engine."""
    local = get_backend(settings.get("device", "auto"))
    engine = settings.get("engine") or "local"
    if engine == "local":
        return local
    if engine != "ray":
        raise UsageError(f"unknown --engine {engine!r}: choose local or ray")
    from complement.retrieval.ray import ray_backend

    source = settings.sources.get("ray_address", "flag")
    return ray_backend(
        local,
        address=settings.get("ray_address"),
        join=False,
        source="" if source in ("flag", "default") else source,
    )
