"""Async client of the hostapd / wpa_supplicant control interface.

Both daemons speak the same protocol over UNIX datagram sockets: the
client binds its own socket, sends a command, and reads one reply; after
``ATTACH`` the daemon also sends unsolicited events, prefixed ``<N>``.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path

_counter = itertools.count()


class WpaCtrlError(Exception):
    """The daemon is unreachable, answered FAIL, or did not answer."""


class WpaCtrl:
    """One control connection (to a per-interface or the global socket)."""

    def __init__(self, path: str | Path, *, timeout: float = 5.0) -> None:
        self.path = str(path)
        self.timeout = timeout
        self._sock: socket.socket | None = None
        self._local: str | None = None
        self._events: asyncio.Queue[Event] = asyncio.Queue()
        self._replies: asyncio.Queue[str] = asyncio.Queue()
        self._lock = asyncio.Lock()
        self._reader_added = False

    async def __aenter__(self) -> "WpaCtrl":
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    async def open(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        local = os.path.join(tempfile.gettempdir(),
                             f"ransdn-wpactrl-{os.getpid()}-{next(_counter)}")
        try:
            os.unlink(local)
        except FileNotFoundError:
            pass
        sock.bind(local)
        try:
            sock.connect(self.path)
        except OSError as err:
            sock.close()
            os.unlink(local)
            raise WpaCtrlError(f"cannot connect to {self.path}: {err}") from None
        sock.setblocking(False)
        self._sock, self._local = sock, local
        asyncio.get_running_loop().add_reader(sock.fileno(), self._on_readable)
        self._reader_added = True

    def close(self) -> None:
        if self._sock is None:
            return
        if self._reader_added:
            asyncio.get_running_loop().remove_reader(self._sock.fileno())
            self._reader_added = False
        self._sock.close()
        self._sock = None
        if self._local:
            try:
                os.unlink(self._local)
            except FileNotFoundError:
                pass

    def _on_readable(self) -> None:
        assert self._sock is not None
        while True:
            try:
                data = self._sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            text = data.decode("utf-8", "replace")
            event = parse_event(text)
            if event is not None:
                self._events.put_nowait(event)
            else:
                self._replies.put_nowait(text)

    async def request(self, command: str, *, timeout: float | None = None) -> str:
        """Send a command and return the reply text (raises on FAIL)."""
        if self._sock is None:
            raise WpaCtrlError("control connection is not open")
        async with self._lock:
            while not self._replies.empty():
                self._replies.get_nowait()
            try:
                self._sock.send(command.encode())
            except OSError as err:
                raise WpaCtrlError(f"{self.path}: {command.split()[0]}: {err}") from None
            try:
                reply = await asyncio.wait_for(self._replies.get(), timeout or self.timeout)
            except asyncio.TimeoutError:
                raise WpaCtrlError(f"{self.path}: no reply to {command.split()[0]}") from None
        if reply.startswith("FAIL") or reply.startswith("UNKNOWN COMMAND"):
            raise WpaCtrlError(f"{self.path}: {command.split()[0]} failed: {reply.strip()}")
        return reply

    async def attach(self) -> None:
        """Ask for unsolicited events (see :meth:`next_event`)."""
        await self.request("ATTACH")

    async def next_event(self) -> Event:
        """The next unsolicited event (after :meth:`attach`)."""
        return await self._events.get()


@dataclass(frozen=True)
class Event:
    """An unsolicited message: ``[IFNAME=<ifname> ]<level>text``."""

    text: str
    ifname: str | None = None


def parse_event(message: str) -> Event | None:
    """The event in a received message, or None if it is a reply.

    The global control interface prefixes events with ``IFNAME=<name> ``.
    """
    ifname = None
    if message.startswith("IFNAME="):
        head, sep, rest = message.partition(" ")
        if not sep:
            return None
        ifname, message = head[len("IFNAME="):], rest
    if message.startswith("<") and ">" in message[:4]:
        return Event(text=message[message.index(">") + 1:].strip(), ifname=ifname)
    return None


def parse_status(text: str) -> dict[str, str]:
    """Parse ``key=value`` lines (STATUS, STA, GET_CONFIG replies)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            out[key.strip()] = value.strip()
    return out
