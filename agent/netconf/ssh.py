"""NETCONF over SSH (RFC 6242): an asyncssh server offering only the
``netconf`` subsystem, with public-key authentication only.

Any user name is accepted; what authenticates a client is that its key is
in the authorized keys.  The authorized_keys file is re-read whenever it
changes, so keys can be added or revoked without restarting the agent.
"""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import asyncssh

from .session import NetconfSession

if TYPE_CHECKING:
    from .server import NetconfServer

log = logging.getLogger(__name__)

HOST_KEY_FILE = "ssh_host_ed25519_key"
_QUICKACK = getattr(socket, "TCP_QUICKACK", None)


def load_or_create_host_key(state_dir: Path) -> asyncssh.SSHKey:
    """The agent's ed25519 host key, generated on first start."""
    path = Path(state_dir) / HOST_KEY_FILE
    if path.exists():
        return asyncssh.read_private_key(str(path))
    key = asyncssh.generate_private_key("ssh-ed25519", comment="ransdn-agent")
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key.export_private_key())
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    pub = path.with_name(path.name + ".pub")
    pub.write_bytes(key.export_public_key())
    log.info("generated SSH host key %s (%s)", path, key.get_fingerprint("sha256"))
    return key


class AuthorizedKeys:
    """Client keys: an OpenSSH authorized_keys file and/or fixed key lines."""

    def __init__(self, path: Path | None = None, lines: Sequence[str] = ()) -> None:
        if path is None and not lines:
            raise ValueError("no authorized keys given")
        self.path = Path(path) if path is not None else None
        self.lines = tuple(lines)
        self._stamp: tuple[int, int] | None = None
        self._keys: asyncssh.SSHAuthorizedKeys | None = None
        self.current()  # fail early on a missing or malformed file

    def current(self) -> asyncssh.SSHAuthorizedKeys:
        stamp = None
        if self.path is not None:
            st = self.path.stat()
            stamp = (st.st_mtime_ns, st.st_size)
        if self._keys is None or stamp != self._stamp:
            text = self.path.read_text() if self.path is not None else ""
            text += "".join(line.rstrip("\n") + "\n" for line in self.lines)
            self._keys = asyncssh.import_authorized_keys(text)
            self._stamp = stamp
        return self._keys


class _Channel:
    """Adapts an asyncssh channel to the session's Transport."""

    __slots__ = ("chan",)

    def __init__(self, chan: asyncssh.SSHServerChannel) -> None:
        self.chan = chan

    def write(self, data: bytes) -> None:
        self.chan.write(data)

    def close(self) -> None:
        self.chan.close()

    def pause_reading(self) -> None:
        self.chan.pause_reading()

    def resume_reading(self) -> None:
        self.chan.resume_reading()

    def get_write_buffer_size(self) -> int:
        return self.chan.get_write_buffer_size()


class _NetconfSubsystem(asyncssh.SSHServerSession):  # type: ignore[misc]
    def __init__(self, netconf: "NetconfServer", conn: asyncssh.SSHServerConnection) -> None:
        self._netconf = netconf
        self._conn = conn
        self._chan: asyncssh.SSHServerChannel | None = None
        self._session: NetconfSession | None = None
        self._sock = conn.get_extra_info("socket") if _QUICKACK is not None else None

    def connection_made(self, chan: asyncssh.SSHServerChannel) -> None:
        self._chan = chan

    def pty_requested(self, *args: object) -> bool:
        return False

    def subsystem_requested(self, subsystem: str) -> bool:
        return subsystem == "netconf"

    def session_started(self) -> None:
        assert self._chan is not None
        peer = self._conn.get_extra_info("peername")
        self._session = NetconfSession(
            self._netconf,
            _Channel(self._chan),
            username=self._conn.get_extra_info("username") or "",
            source_host=peer[0] if peer else None,
        )
        self._session.start()

    def data_received(self, data: bytes, datatype: object) -> None:
        if self._sock is not None:
            # Acknowledge at once.  A client whose socket uses Nagle (paramiko,
            # hence ncclient) holds back the tail of a large request until
            # the first part is acknowledged, and Linux would delay that
            # acknowledgement by up to 40 ms.
            try:
                self._sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
            except OSError:
                self._sock = None
        if self._session is not None:
            self._session.data_received(data)

    def eof_received(self) -> bool:
        if self._session is not None:
            self._session.connection_lost()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if self._session is not None:
            self._session.connection_lost()
            # One NETCONF session per SSH connection: when it ends, so does SSH.
            self._conn.close()


class _SshServer(asyncssh.SSHServer):  # type: ignore[misc]
    def __init__(self, netconf: "NetconfServer", keys: AuthorizedKeys) -> None:
        self._netconf = netconf
        self._keys = keys
        self._conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn

    def begin_auth(self, username: str) -> bool:
        assert self._conn is not None
        try:
            self._conn.set_authorized_keys(self._keys.current())
        except (OSError, ValueError) as exc:
            log.error("cannot read authorized keys: %s", exc)
            self._conn.set_authorized_keys(asyncssh.import_authorized_keys(""))
        return True

    def public_key_auth_supported(self) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return False

    def session_requested(self) -> _NetconfSubsystem:
        assert self._conn is not None
        return _NetconfSubsystem(self._netconf, self._conn)


async def listen(
    netconf: "NetconfServer",
    host: str,
    port: int,
    host_key: asyncssh.SSHKey,
    keys: AuthorizedKeys,
) -> asyncssh.SSHAcceptor:
    return await asyncssh.listen(
        host,
        port,
        server_factory=lambda: _SshServer(netconf, keys),
        server_host_keys=[host_key],
        encoding=None,
        gss_host=None,
        allow_pty=False,
        x11_forwarding=False,
        agent_forwarding=False,
        login_timeout=30,
        reuse_address=True,
    )
