"""The NETCONF server of one agent, independent of the transport: its
sessions, capabilities, limits, statistics and operations."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

from agent.monitoring import Monitoring, Statistics

from .capabilities import server_capabilities
from .operations import Operations

if TYPE_CHECKING:
    from agent.backends.base import Backend
    from agent.datastore.schema import Schema
    from agent.datastore.store import Datastores
    from agent.notifications import NotificationBus

    from .session import NetconfSession

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    """Bounds on what one client can make the agent hold."""

    #: Largest message accepted; a larger one is discarded unread and
    #: answered with ``too-big``.
    max_message_bytes: int = 16 * 1024 * 1024
    #: Messages read ahead while one is being answered.
    max_queued: int = 8
    #: Seconds a client has to send its hello.
    hello_timeout: float = 60.0
    #: Unsent output after which a session that does not read is closed.
    max_write_buffer: int = 64 * 1024 * 1024
    #: Seconds an ending session's operation in progress may take to finish.
    drain_timeout: float = 30.0


class SessionRegistry:
    def __init__(self) -> None:
        self._next = 1
        self._sessions: dict[int, "NetconfSession"] = {}

    def allocate(self) -> int:
        sid = self._next
        self._next += 1
        return sid

    def add(self, session: "NetconfSession") -> None:
        self._sessions[session.session_id] = session

    def remove(self, session: "NetconfSession") -> None:
        self._sessions.pop(session.session_id, None)

    def get(self, sid: int) -> "NetconfSession | None":
        session = self._sessions.get(sid)
        return session if session is not None and session.base is not None else None

    def active(self) -> Iterable["NetconfSession"]:
        return [s for s in self._sessions.values() if s.base is not None]

    def all(self) -> list["NetconfSession"]:
        return list(self._sessions.values())


class NetconfServer:
    def __init__(
        self,
        schema: "Schema",
        store: "Datastores",
        backend: "Backend",
        bus: "NotificationBus",
        limits: Limits | None = None,
    ) -> None:
        self.schema = schema
        self.store = store
        self.backend = backend
        self.bus = bus
        self.limits = limits or Limits()
        self.loop = asyncio.get_running_loop()
        self.sessions = SessionRegistry()
        self.stats = Statistics()
        self.capabilities = server_capabilities(schema)
        self.monitoring = Monitoring(schema, self.capabilities, store, self.sessions, self.stats)
        self.operations = Operations(self)

    def session_established(self, session: "NetconfSession") -> None:
        self.stats.in_sessions += 1
        log.info(
            "session %s: %s from %s, base:%s",
            session.session_id, session.username, session.source_host, session.base,
        )
        self.bus.session_started(session.origin)

    async def session_ended(self, session: "NetconfSession") -> None:
        self.sessions.remove(session)
        self.bus.unsubscribe(session.session_id)
        if session.base is None:
            return
        if session.termination_reason in ("dropped", "other"):
            self.stats.dropped_sessions += 1
        await self.store.session_ended(session.origin)
        self.bus.session_ended(session.origin, session.termination_reason, session.killed_by)
        log.info("session %s ended: %s", session.session_id, session.termination_reason)

    async def close(self) -> None:
        """End every session."""
        sessions = self.sessions.all()
        for s in sessions:
            s._terminate("other")
        for s in sessions:
            await s.wait_closed()
