"""ietf-netconf-monitoring (RFC 6022): what the server tells clients about
itself, and ``<get-schema>``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Protocol

from agent.netconf.errors import RpcError
from agent.notifications import format_time

if TYPE_CHECKING:
    from agent.datastore.schema import Schema
    from agent.datastore.store import Datastores

NCM = "ietf-netconf-monitoring"


@dataclass
class Counters:
    """Per-session and global counters of RFC 6022."""

    in_rpcs: int = 0
    in_bad_rpcs: int = 0
    out_rpc_errors: int = 0
    out_notifications: int = 0

    def as_json(self) -> dict[str, int]:
        return {
            "in-rpcs": self.in_rpcs,
            "in-bad-rpcs": self.in_bad_rpcs,
            "out-rpc-errors": self.out_rpc_errors,
            "out-notifications": self.out_notifications,
        }


@dataclass
class Statistics(Counters):
    start_time: float = field(default_factory=time.time)
    in_bad_hellos: int = 0
    in_sessions: int = 0
    dropped_sessions: int = 0


class SessionView(Protocol):
    session_id: int
    username: str
    source_host: str | None
    login_time: float
    counters: Counters


class Monitoring:
    def __init__(
        self,
        schema: "Schema",
        capabilities: list[str],
        store: "Datastores",
        sessions: "SessionsView",
        stats: Statistics,
    ) -> None:
        self.schema = schema
        self.capabilities = capabilities
        self.store = store
        self.sessions = sessions
        self.stats = stats

    def state(self) -> dict[str, Any]:
        """The ``/netconf-state`` tree as RFC 7951 JSON."""
        datastores = []
        for name in ("running", "candidate"):
            entry: dict[str, Any] = {"name": name}
            held = self.store.locks.get(name)
            if held:
                entry["locks"] = {
                    "global-lock": {"locked-by-session": held[0], "locked-time": format_time(held[1])}
                }
            datastores.append(entry)
        schemas = [
            {
                "identifier": m.name,
                "version": m.revision or "",
                "format": "yang",
                "namespace": m.namespace,
                "location": ["NETCONF"],
            }
            for m in self.schema.modules
        ]
        sessions = []
        for s in self.sessions.active():
            entry = {
                "session-id": s.session_id,
                "transport": "netconf-ssh",
                "username": s.username,
                "login-time": format_time(s.login_time),
                **s.counters.as_json(),
            }
            if s.source_host:
                entry["source-host"] = s.source_host
            sessions.append(entry)
        st = self.stats
        return {
            f"{NCM}:netconf-state": {
                "capabilities": {"capability": self.capabilities},
                "datastores": {"datastore": datastores},
                "schemas": {"schema": schemas},
                "sessions": {"session": sessions} if sessions else {},
                "statistics": {
                    "netconf-start-time": format_time(st.start_time),
                    "in-bad-hellos": st.in_bad_hellos,
                    "in-sessions": st.in_sessions,
                    "dropped-sessions": st.dropped_sessions,
                    **st.as_json(),
                },
            }
        }

    def get_schema(self, identifier: str, version: str | None, fmt: str | None) -> str:
        """The YANG text of a module (RFC 6022 section 3.1)."""
        if fmt not in (None, "", "yang") and not fmt.endswith(":yang"):
            raise RpcError("invalid-value", f'Schema format "{fmt}" is not available; only yang is.').with_info(
                "bad-element", "format"
            )
        matches = [m for m in self.schema.modules if m.name == identifier]
        if version:
            matches = [m for m in matches if (m.revision or "") == version]
        if not matches:
            raise RpcError(
                "invalid-value", f'No schema "{identifier}"{" revision " + version if version else ""}.'
            ).with_info("bad-element", "identifier")
        if len(matches) > 1:
            raise RpcError(
                "operation-failed", "More than one revision matches; give a version.", app_tag="data-not-unique"
            )
        text = self.schema.yang_text(matches[0].name, matches[0].revision)
        if text is None:
            raise RpcError("operation-failed", f'The source of "{identifier}" is not available.')
        return text


class SessionsView(Protocol):
    def active(self) -> Iterable[SessionView]: ...
