"""Run an in-process :class:`~agent.server.AgentServer` on its own event loop
thread, so that synchronous test code can drive it with ncclient (which
blocks) while still reaching into the agent (its backend, its datastores).

    with AgentThread(kind="wifi", workdir=tmp_path) as agent:
        with agent.connect() as m:
            m.edit_config(...)
        assert agent.backend.applies
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any, Awaitable, Callable, TypeVar

from agent.backends.base import Backend, BackendContext
from agent.netconf.server import Limits
from agent.server import AgentConfig, AgentServer

from .agent_process import ClientKey, make_client_key, ncclient_kwargs
from .recording_backend import RecordingBackend

T = TypeVar("T")


class AgentThread:
    def __init__(
        self,
        workdir: Path,
        *,
        kind: str = "wifi",
        backend: Backend | None = None,
        backend_options: dict[str, Any] | None = None,
        limits: Limits | None = None,
        client_key: ClientKey | None = None,
        state_dir: Path | None = None,
        **config: Any,
    ) -> None:
        self.workdir = workdir
        self.state_dir = state_dir or workdir / "state"
        self.client_key = client_key or make_client_key(workdir / "client")
        self.backend = backend or RecordingBackend(
            BackendContext(kind, f"test-{kind}", self.state_dir, backend_options or {})  # type: ignore[arg-type]
        )
        self.config = AgentConfig(
            kind=kind,  # type: ignore[arg-type]
            state_dir=self.state_dir,
            authorized_keys=config.pop("authorized_keys", [self.client_key.public_line]),
            backend=self.backend,
            limits=limits or Limits(),
            **config,
        )
        self.server = AgentServer(self.config)
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="agent-loop", daemon=True)

    def start(self) -> "AgentThread":
        self._thread.start()
        self.call(self.server.start)
        return self

    def stop(self) -> None:
        try:
            self.call(self.server.stop)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)
            self.loop.close()

    def __enter__(self) -> "AgentThread":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def call(self, fn: Callable[[], Awaitable[T]], timeout: float = 60) -> T:
        """Run a coroutine function on the agent's loop and wait for it."""

        async def wrapper() -> T:
            return await fn()

        return asyncio.run_coroutine_threadsafe(wrapper(), self.loop).result(timeout)

    def run(self, fn: Callable[[], T], timeout: float = 60) -> T:
        """Run a plain function on the agent's loop (for thread safety)."""

        async def wrapper() -> T:
            return fn()

        return asyncio.run_coroutine_threadsafe(wrapper(), self.loop).result(timeout)

    @property
    def port(self) -> int:
        return self.server.port

    def ncclient_kwargs(self, **overrides: Any) -> dict[str, Any]:
        return ncclient_kwargs(self.server.host, self.server.port, self.client_key,
                               self.server.host_public_key, **overrides)

    def connect(self, **overrides: Any) -> Any:
        from ncclient import manager

        return manager.connect(**self.ncclient_kwargs(**overrides))

    def running_xml(self) -> str:
        """The running datastore as the agent holds it (secrets included)."""
        return self.run(lambda: self.server.store.running.print("xml"))  # type: ignore[union-attr]
