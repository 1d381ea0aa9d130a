"""One NETCONF session: hello exchange, framing, the ``<rpc>`` loop, and
notification delivery (RFC 6241 sections 4 and 8.1, RFC 6242).

The session knows nothing of SSH: it reads and writes bytes through a
:class:`Transport`.  Requests are answered one at a time and in order; while
an answer is pending, at most ``max_queued`` further messages are accepted
before the session stops reading from the transport (back-pressure), so a
client cannot make the agent buffer without bound.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import deque
from typing import TYPE_CHECKING, Callable, Protocol

from lxml import etree

from agent.datastore.store import Origin
from agent.monitoring import Counters

from .capabilities import base_versions
from .errors import RpcError, RpcErrors
from .framing import FrameDecoder, FramingError, Oversized, encode_chunked, encode_eom
from .xml import BASE_NS, XmlError, escape, parse_message, quoteattr

if TYPE_CHECKING:
    from .server import NetconfServer

log = logging.getLogger(__name__)

_MESSAGE_ID = re.compile(rb"""<(?:[\w.-]+:)?rpc\b[^>]*?\bmessage-id\s*=\s*(["'])(.*?)\1""", re.S)
_RPC = f"{{{BASE_NS}}}rpc"
_HELLO = f"{{{BASE_NS}}}hello"


class Transport(Protocol):
    def write(self, data: bytes) -> None: ...

    def close(self) -> None: ...

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...

    def get_write_buffer_size(self) -> int: ...


class NetconfSession:
    def __init__(
        self,
        server: "NetconfServer",
        transport: Transport,
        username: str,
        source_host: str | None,
    ) -> None:
        self.server = server
        self.transport = transport
        self.username = username
        self.source_host = source_host
        self.session_id = server.sessions.allocate()
        self.origin = Origin(self.session_id, username, source_host)
        self.login_time = time.time()
        self.counters = Counters()
        self.base: str | None = None  # "1.0" or "1.1" once hellos are exchanged
        self._decoder = FrameDecoder(server.limits.max_message_bytes)
        self._queue: deque[bytes | Oversized] = deque()
        self._wakeup = asyncio.Event()
        self._paused = False
        self._worker: asyncio.Task[None] | None = None
        self._hello_timer: asyncio.TimerHandle | None = None
        self._after_reply: list[Callable[[], None]] = []
        self._close_after_reply = False
        self._closed = False
        self._ended = asyncio.Event()
        self.termination_reason = "dropped"
        self.killed_by: int | None = None

    # -- transport events ------------------------------------------------------

    def start(self) -> None:
        """The subsystem is open: greet, and wait for the client's hello."""
        self.server.sessions.add(self)
        hello = (
            f'<?xml version="1.0" encoding="UTF-8"?><hello xmlns="{BASE_NS}"><capabilities>'
            + "".join(f"<capability>{escape(c)}</capability>" for c in self.server.capabilities)
            + f"</capabilities><session-id>{self.session_id}</session-id></hello>"
        )
        self.transport.write(encode_eom(hello.encode()))
        loop = asyncio.get_running_loop()
        self._hello_timer = loop.call_later(self.server.limits.hello_timeout, self._hello_timed_out)
        self._worker = loop.create_task(self._run(), name=f"netconf-session-{self.session_id}")

    def data_received(self, data: bytes) -> None:
        if self._closed:
            return
        self._decoder.feed(data)
        try:
            while (msg := self._decoder.next()) is not None:
                if self.base is None:
                    if not self._hello(msg):
                        return
                    continue
                self._queue.append(msg)
        except FramingError as exc:
            log.warning("session %s: %s; closing", self.session_id, exc)
            self.counters.in_bad_rpcs += 1
            self.server.stats.in_bad_rpcs += 1
            self._terminate("other")
            return
        if self._queue:
            self._wakeup.set()
            if len(self._queue) >= self.server.limits.max_queued and not self._paused:
                self._paused = True
                self.transport.pause_reading()

    def connection_lost(self) -> None:
        """The transport is gone, for whatever reason."""
        if self._closed:
            return
        self._closed = True
        if self._hello_timer:
            self._hello_timer.cancel()
        self._wakeup.set()
        self.server.loop.create_task(self._finish())

    # -- hello -----------------------------------------------------------------------

    def _hello(self, msg: bytes | Oversized) -> bool:
        """Handle the client's hello; False if the session is over."""
        if self._hello_timer:
            self._hello_timer.cancel()
        try:
            if isinstance(msg, Oversized):
                raise XmlError("hello too big")
            root = parse_message(msg)
            if root.tag != _HELLO:
                raise XmlError("expected <hello>")
            if root.find(f"{{{BASE_NS}}}session-id") is not None:
                raise XmlError("a client hello must not carry a session-id")
            caps = [(c.text or "").strip() for c in root.iterfind(f"{{{BASE_NS}}}capabilities/{{{BASE_NS}}}capability")]
            versions = base_versions(caps)
            if not versions:
                raise XmlError("no common base protocol version")
        except XmlError as exc:
            log.info("session %s: bad hello: %s", self.session_id, exc)
            self.server.stats.in_bad_hellos += 1
            self._terminate("bad-hello")
            return False
        self.base = "1.1" if "1.1" in versions else "1.0"
        if self.base == "1.1":
            self._decoder.use_chunked()
        self.server.session_established(self)
        return True

    def _hello_timed_out(self) -> None:
        if self.base is None and not self._closed:
            log.info("session %s: no hello within %ss", self.session_id, self.server.limits.hello_timeout)
            self._terminate("timeout")

    # -- the rpc loop ---------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            while not self._queue:
                if self._closed:
                    return
                self._wakeup.clear()
                await self._wakeup.wait()
            if self._closed:
                return
            msg = self._queue.popleft()
            if self._paused and len(self._queue) < self.server.limits.max_queued // 2 + 1:
                self._paused = False
                self.transport.resume_reading()
            await self._handle(msg)
            if self._close_after_reply:
                self.termination_reason = "closed"
                self._terminate("closed")
                return

    async def _handle(self, msg: bytes | Oversized) -> None:
        self.counters.in_rpcs += 1
        self.server.stats.in_rpcs += 1
        if isinstance(msg, Oversized):
            m = _MESSAGE_ID.search(msg.head)
            attrs = f" message-id={quoteattr(m.group(2).decode('utf-8', 'replace'))}" if m else ""
            self._bad_rpc()
            limit = self.server.limits.max_message_bytes
            self._reply(
                attrs,
                [RpcError("too-big", f"The request of {msg.size} bytes exceeds the limit of {limit} bytes.", type="rpc")],
            )
            return
        try:
            root = parse_message(msg)
        except XmlError as exc:
            m = _MESSAGE_ID.search(msg[:4096])
            attrs = f" message-id={quoteattr(m.group(2).decode('utf-8', 'replace'))}" if m else ""
            self._bad_rpc()
            tag = "malformed-message" if self.base == "1.1" else "operation-failed"
            self._reply(attrs, [RpcError(tag, str(exc), type="rpc")])
            return
        if root.tag != _RPC:
            self._bad_rpc()
            name = etree.QName(root).localname
            self._reply("", [RpcError("unknown-element", f"Expected <rpc>, got <{name}>.", type="rpc").with_info("bad-element", name)])
            return
        attrs = _reply_attributes(root)
        if root.get("message-id") is None:
            self._bad_rpc()
            err = RpcError("missing-attribute", "The <rpc> has no message-id.", type="rpc")
            self._reply(attrs, [err.with_info("bad-attribute", "message-id").with_info("bad-element", "rpc")])
            return
        op = next((c for c in root if isinstance(c.tag, str)), None)
        if op is None:
            self._bad_rpc()
            self._reply(attrs, [RpcError("missing-element", "The <rpc> names no operation.", type="rpc").with_info("bad-element", "rpc")])
            return
        try:
            body = await self.server.operations.dispatch(self, op)
        except RpcError as err:
            self._reply(attrs, [err])
        except RpcErrors as errs:
            self._reply(attrs, errs.errors)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # keep serving; a bug is reported, not fatal
            log.exception("session %s: %s failed", self.session_id, etree.QName(op).localname)
            self._reply(attrs, [RpcError("operation-failed", f"Internal error: {exc}")])
        else:
            self._reply(attrs, body)
        callbacks, self._after_reply = self._after_reply, []
        for cb in callbacks:
            cb()

    def _bad_rpc(self) -> None:
        self.counters.in_bad_rpcs += 1
        self.server.stats.in_bad_rpcs += 1

    def _reply(self, attrs: str, body: str | list[RpcError]) -> None:
        if isinstance(body, list):
            self.counters.out_rpc_errors += 1
            self.server.stats.out_rpc_errors += 1
            ns = self.server.schema.namespace_of
            body = "".join(e.to_xml(ns) for e in body)
        self._send(f'<rpc-reply xmlns="{BASE_NS}"{attrs}>{body}</rpc-reply>'.encode())

    def _send(self, message: bytes) -> None:
        if self._closed:
            return
        self.transport.write(encode_chunked(message) if self.base == "1.1" else encode_eom(message))

    # -- used by operations ----------------------------------------------------------

    def after_reply(self, callback: Callable[[], None]) -> None:
        self._after_reply.append(callback)

    def close_after_reply(self) -> None:
        self._close_after_reply = True

    def send_notification(self, message: bytes) -> None:
        if self._closed:
            return
        if self.transport.get_write_buffer_size() > self.server.limits.max_write_buffer:
            log.warning("session %s does not read its notifications; closing it", self.session_id)
            self._terminate("other")
            return
        self.counters.out_notifications += 1
        self.server.stats.out_notifications += 1
        self._send(message)

    async def kill(self, by: int) -> None:
        """Terminate at another session's request; return once cleaned up."""
        self.killed_by = by
        self._terminate("killed")
        await self._ended.wait()

    # -- ending ------------------------------------------------------------------------

    def _terminate(self, reason: str) -> None:
        if self._closed:
            return
        self.termination_reason = reason
        self.transport.close()
        self.connection_lost()

    async def _finish(self) -> None:
        try:
            if self._worker is not None:
                # Let an operation in progress finish rather than cancel it
                # half-way through a backend apply; its reply goes nowhere.
                # (Bounded: two sessions killing each other wait on each other.)
                try:
                    await asyncio.wait_for(asyncio.shield(self._worker), self.server.limits.drain_timeout)
                except asyncio.TimeoutError:
                    log.warning("session %s: operation still running after %ss; cancelling it",
                                self.session_id, self.server.limits.drain_timeout)
                    self._worker.cancel()
                except Exception:
                    log.exception("session %s: worker failed", self.session_id)
            await self.server.session_ended(self)
        finally:
            self._ended.set()

    async def wait_closed(self) -> None:
        await self._ended.wait()


def _reply_attributes(rpc: etree._Element) -> str:
    """The <rpc>'s attributes, echoed on the <rpc-reply> (RFC 6241 4.2)."""
    parts = []
    prefixes = {ns: p for p, ns in rpc.nsmap.items() if p}
    declared = set()
    for key, value in rpc.attrib.items():
        if key.startswith("{"):
            ns, local = key[1:].split("}", 1)
            prefix = prefixes.get(ns)
            if prefix is None:
                continue
            if prefix not in declared:
                parts.append(f" xmlns:{prefix}={quoteattr(ns)}")
                declared.add(prefix)
            parts.append(f" {prefix}:{local}={quoteattr(value)}")
        else:
            parts.append(f" {key}={quoteattr(value)}")
    return "".join(parts)
