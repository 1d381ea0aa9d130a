"""Backends apply committed configuration to the world and report its state.

The registry maps a backend name to the class implementing it, imported
only when asked for, so that the linux backend's dependencies are not needed
to run the sim backend and the other way round.  A name of the form
``package.module:Class`` loads any other :class:`~agent.backends.base.Backend`.
"""

from __future__ import annotations

import importlib

from .base import Backend, BackendContext

BACKENDS: dict[str, str] = {
    "sim": "agent.backends.sim:SimBackend",
    "linux": "agent.backends.linux:LinuxBackend",
}


class UnknownBackend(LookupError):
    """No backend of that name, or it cannot be imported."""


def backend_class(name: str) -> type[Backend]:
    spec = BACKENDS.get(name, name)
    if ":" not in spec:
        raise UnknownBackend(f"unknown backend {name!r}; known: {', '.join(sorted(BACKENDS))}")
    module_name, _, class_name = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
        cls = getattr(module, class_name)
    except (ImportError, AttributeError) as exc:
        raise UnknownBackend(f"backend {name!r} ({spec}) cannot be loaded: {exc}") from exc
    if not (isinstance(cls, type) and issubclass(cls, Backend)):
        raise UnknownBackend(f"{spec} is not a Backend")
    return cls


def create_backend(name: str, context: BackendContext) -> Backend:
    return backend_class(name)(context)


__all__ = ["BACKENDS", "Backend", "BackendContext", "UnknownBackend", "backend_class", "create_backend"]
