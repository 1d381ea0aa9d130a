"""A deliberately bare NETCONF-over-SSH client (paramiko) for protocol
tests: it sends exactly the bytes it is given, so tests can send what no
well-behaved client library would (malformed XML, broken framing, oversized
messages, an <rpc> without message-id).
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import paramiko
from lxml import etree

BASE_NS = "urn:ietf:params:xml:ns:netconf:base:1.0"
BASE_10 = "urn:ietf:params:netconf:base:1.0"
BASE_11 = "urn:ietf:params:netconf:base:1.1"
EOM = b"]]>]]>"


class SessionClosed(Exception):
    """The server closed the channel."""


class RawNetconf:
    def __init__(self, host: str, port: int, key_path: Path, username: str = "raw-test",
                 timeout: float = 20) -> None:
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.transport = paramiko.Transport(self.sock)
        self.transport.start_client(timeout=timeout)
        key = paramiko.Ed25519Key.from_private_key_file(str(key_path))
        self.transport.auth_publickey(username, key)
        self.chan = self.transport.open_session(timeout=timeout)
        self.chan.settimeout(timeout)
        self.chan.invoke_subsystem("netconf")
        self.chunked = False
        self._buf = b""
        self.server_hello: etree._Element | None = None
        self.session_id: int | None = None

    # -- hello ---------------------------------------------------------------

    def read_server_hello(self) -> etree._Element:
        self.server_hello = etree.fromstring(self._read_eom())
        sid = self.server_hello.findtext(f"{{{BASE_NS}}}session-id")
        self.session_id = int(sid) if sid else None
        return self.server_hello

    def hello(self, versions: tuple[str, ...] = (BASE_10, BASE_11)) -> etree._Element:
        """Exchange hellos; use chunked framing if both sides offer 1.1."""
        server = self.read_server_hello()
        caps = "".join(f"<capability>{v}</capability>" for v in versions)
        self.send_raw(f'<hello xmlns="{BASE_NS}"><capabilities>{caps}</capabilities></hello>'.encode() + EOM)
        server_caps = {c.text for c in server.iter(f"{{{BASE_NS}}}capability")}
        self.chunked = BASE_11 in versions and BASE_11 in server_caps
        return server

    # -- bytes ----------------------------------------------------------------

    def send_raw(self, data: bytes) -> None:
        self.chan.sendall(data)

    def send(self, message: bytes | str) -> None:
        if isinstance(message, str):
            message = message.encode()
        if self.chunked:
            self.send_raw(b"\n#%d\n%s\n##\n" % (len(message), message))
        else:
            self.send_raw(message + EOM)

    def _fill(self) -> None:
        try:
            data = self.chan.recv(65536)
        except socket.timeout:
            raise TimeoutError("no data from the server") from None
        if not data:
            raise SessionClosed()
        self._buf += data

    def _read_eom(self) -> bytes:
        while EOM not in self._buf:
            self._fill()
        msg, _, self._buf = self._buf.partition(EOM)
        return msg

    def _read_chunked(self) -> bytes:
        out = b""
        while True:
            while b"\n" not in self._buf[1:] or len(self._buf) < 4:
                self._fill()
            if self._buf.startswith(b"\n##\n"):
                self._buf = self._buf[4:]
                return out
            assert self._buf.startswith(b"\n#"), self._buf[:20]
            header, _, rest = self._buf[2:].partition(b"\n")
            size = int(header)
            self._buf = rest
            while len(self._buf) < size:
                self._fill()
            out += self._buf[:size]
            self._buf = self._buf[size:]

    def recv(self) -> etree._Element:
        data = self._read_chunked() if self.chunked else self._read_eom()
        return etree.fromstring(data)

    def rpc(self, body: str, message_id: str = "1", attrs: str = "") -> etree._Element:
        self.send(f'<rpc xmlns="{BASE_NS}" message-id="{message_id}"{attrs}>{body}</rpc>')
        return self.recv()

    def wait_closed(self, timeout: float = 10) -> bool:
        """Whether the server closes the channel within ``timeout``."""
        deadline = time.monotonic() + timeout
        self.chan.settimeout(0.2)
        while time.monotonic() < deadline:
            try:
                if not self.chan.recv(65536):
                    return True
            except socket.timeout:
                continue
            except OSError:
                return True
            if self.chan.closed:
                return True
        return self.chan.closed

    def close(self) -> None:
        try:
            self.transport.close()
        finally:
            self.sock.close()

    def __enter__(self) -> "RawNetconf":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def errors_of(reply: etree._Element) -> list[dict[str, str]]:
    """The rpc-errors of a reply as dicts of their child elements' text."""
    out = []
    for err in reply.iter(f"{{{BASE_NS}}}rpc-error"):
        d: dict[str, str] = {}
        for child in err:
            name = etree.QName(child).localname
            if name == "error-info":
                for info in child:
                    d[etree.QName(info).localname] = info.text or ""
            else:
                d[name] = (child.text or "").strip()
        out.append(d)
    return out
