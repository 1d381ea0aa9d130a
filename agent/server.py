"""One node agent, in-process: the API the CLI, the farm and tests use.

    config = AgentConfig(kind="wifi", state_dir=Path("/var/lib/ransdn"),
                         authorized_keys=Path("/etc/ransdn/authorized_keys"))
    agent = AgentServer(config)
    host, port = await agent.start()
    ...
    await agent.stop()

An AgentServer holds no global state, so any number can run in one event
loop (give them one :class:`~agent.datastore.schema.SchemaLibrary` to share
the compiled YANG).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import asyncssh

from agent.backends import create_backend
from agent.backends.base import Backend, BackendContext, Notification, NodeKind
from agent.datastore.schema import SchemaLibrary
from agent.datastore.store import Datastores
from agent.netconf import ssh
from agent.netconf.server import Limits, NetconfServer
from agent.notifications import NotificationBus

log = logging.getLogger(__name__)


@dataclass
class AgentConfig:
    kind: NodeKind
    state_dir: Path
    #: An OpenSSH authorized_keys file (re-read when it changes), or the
    #: key lines themselves.
    authorized_keys: Path | str | Sequence[str]
    listen_host: str = "127.0.0.1"
    #: 0 picks a free port; :meth:`AgentServer.start` returns it.
    listen_port: int = 0
    #: Defaults to the host name.
    node_id: str | None = None
    #: A backend name ("sim", "linux", or "package.module:Class"), or a
    #: constructed Backend (then ``backend_options`` is unused).
    backend: str | Backend = "sim"
    backend_options: dict[str, Any] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)
    #: Share one library among many agents of a process.
    schema_library: SchemaLibrary | None = None
    #: Extra YANG search directories.
    yang_dirs: Sequence[Path] = ()
    #: Notifications kept for RFC 5277 replay.
    replay_limit: int = 1000


class AgentServer:
    def __init__(self, config: AgentConfig) -> None:
        self.config = config
        self.state_dir = Path(config.state_dir)
        self.node_id = config.node_id or socket.gethostname()
        self.backend: Backend | None = None
        self.store: Datastores | None = None
        self.netconf: NetconfServer | None = None
        self.bus: NotificationBus | None = None
        self._acceptor: asyncssh.SSHAcceptor | None = None
        self._host_key: asyncssh.SSHKey | None = None
        self._bound: tuple[str, int] | None = None
        self._backend_started = False

    # -- properties ----------------------------------------------------------------

    @property
    def kind(self) -> str:
        return self.config.kind

    @property
    def host(self) -> str:
        if self._bound is None:
            raise RuntimeError("the agent is not started")
        return self._bound[0]

    @property
    def port(self) -> int:
        if self._bound is None:
            raise RuntimeError("the agent is not started")
        return self._bound[1]

    @property
    def host_key_fingerprint(self) -> str:
        """OpenSSH-style ``SHA256:...`` fingerprint of the SSH host key."""
        if self._host_key is None:
            self._host_key = ssh.load_or_create_host_key(self.state_dir)
        return self._host_key.get_fingerprint("sha256")

    @property
    def host_public_key(self) -> str:
        """The host key as an OpenSSH public key line, for known_hosts."""
        if self._host_key is None:
            self._host_key = ssh.load_or_create_host_key(self.state_dir)
        return self._host_key.export_public_key().decode().strip()

    # -- life cycle ---------------------------------------------------------------

    async def start(self) -> tuple[str, int]:
        cfg = self.config
        self.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        keys = self._authorized_keys()
        if isinstance(cfg.backend, Backend):
            backend = cfg.backend
        else:
            context = BackendContext(cfg.kind, self.node_id, self.state_dir, dict(cfg.backend_options))
            backend = create_backend(cfg.backend, context)
        library = cfg.schema_library or SchemaLibrary(cfg.yang_dirs)
        schema = library.get(cfg.kind, backend.extra_modules)
        schema.claim()
        loop = asyncio.get_running_loop()
        self.backend = backend
        self.bus = NotificationBus(schema, cfg.replay_limit)
        self.store = Datastores(schema, backend, self.state_dir, listener=self.bus)
        bus = self.bus

        def notify(n: Notification) -> None:
            loop.call_soon_threadsafe(bus.publish, n.name, n.body, n.event_time)

        try:
            await backend.start(notify)
            self._backend_started = True
            await self.store.load()
            self.netconf = NetconfServer(schema, self.store, backend, self.bus, cfg.limits)
            if self._host_key is None:
                self._host_key = ssh.load_or_create_host_key(self.state_dir)
            self._acceptor = await ssh.listen(
                self.netconf, cfg.listen_host, cfg.listen_port, self._host_key, keys
            )
        except BaseException:
            await self.stop()
            raise
        sockname = self._acceptor.sockets[0].getsockname()
        self._bound = (sockname[0], sockname[1])
        log.info(
            "%s agent %s listening on %s:%s, host key %s",
            cfg.kind, self.node_id, *self._bound, self.host_key_fingerprint,
        )
        return self._bound

    async def stop(self) -> None:
        if self._acceptor is not None:
            self._acceptor.close()
            await self._acceptor.wait_closed()
            self._acceptor = None
        if self.netconf is not None:
            await self.netconf.close()
            self.netconf = None
        if self.store is not None:
            await self.store.close()
        if self.backend is not None and self._backend_started:
            self._backend_started = False
            await self.backend.stop()
        self._bound = None

    async def __aenter__(self) -> "AgentServer":
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _authorized_keys(self) -> ssh.AuthorizedKeys:
        keys = self.config.authorized_keys
        if isinstance(keys, (str, os.PathLike)):
            return ssh.AuthorizedKeys(Path(keys))
        return ssh.AuthorizedKeys(None, list(keys))
