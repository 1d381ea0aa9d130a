"""The one seam between asyncio and ncclient.

ncclient is blocking; every call into it runs in this module's thread pool,
and everything it reports from its own reader thread (notifications, a lost
session) is handed back to the event loop with ``call_soon_threadsafe``.
Nothing outside this module imports ncclient.
"""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Protocol

from lxml import etree
from ncclient import manager as nc_manager
from ncclient.operations import RPCError, TimeoutExpiredError
from ncclient.transport import SSHSession
from ncclient.transport.errors import AuthenticationError, SSHUnknownHostError, TransportError
from ncclient.transport.session import NetconfBase, NotificationHandler, SessionListener
from ncclient.xml_ import qualify

from ransdn.southbound.keys import fingerprint

NOTIFICATION_NS = "urn:ietf:params:xml:ns:netconf:notification:1.0"
HELLO_SETTLE = 0.1  # seconds between the hello exchange and the first RPC


class NetconfError(Exception):
    """A NETCONF operation failed.  ``tag`` is the rpc-error error-tag, or
    ``transport`` / ``timeout`` when no reply came."""

    def __init__(self, message: str, *, tag: str = "operation-failed",
                 path: str | None = None, operation: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.tag = tag
        self.path = path
        self.operation = operation

    def __str__(self) -> str:
        where = f" at {self.path}" if self.path else ""
        op = f"{self.operation}: " if self.operation else ""
        return f"{op}{self.tag}: {self.message}{where}"


class ConnectError(Exception):
    """The session could not be set up; ``reason`` says why, for operators."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


@dataclass(frozen=True)
class ConnectParams:
    host: str
    port: int
    username: str
    key_file: str
    host_key: str  # SHA256:... of the node's host key
    connect_timeout: float = 10.0
    rpc_timeout: float = 30.0
    ssh_keepalive: int = 15


class RpcObserver(Protocol):
    def __call__(self, operation: str, seconds: float, error: str | None) -> None: ...


class _PinnedHostKeySession(SSHSession):
    """An SSH session that trusts exactly one host key fingerprint, and
    sends without waiting.

    known_hosts files are never read: with none loaded, ncclient asks
    ``unknown_host_cb`` about every server, and that callback compares the
    key's SHA256 fingerprint with the registered one before authenticating.

    ncclient queues outgoing messages for its reader thread, which picks
    them up only when its ``select`` times out (``TICK``, 0.1 s): every RPC
    would cost 100 ms on a fast link.  Here a message is framed and written
    to the SSH channel by the calling thread at once (paramiko channels
    allow one thread to write while another reads); a lock keeps messages
    from interleaving.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._send_lock = threading.Lock()

    def load_known_hosts(self, filename: str | None = None) -> None:
        return None

    def send(self, message: str) -> None:
        if not self.connected:
            raise TransportError("Not connected to NETCONF server")
        data = message.encode()
        if self._base == NetconfBase.BASE_11:
            data = b"\n#%d\n%s\n##\n" % (len(data), data)
        else:
            data = data + b"]]>]]>"
        with self._send_lock:
            self._channel.sendall(data)


class _Bridge(SessionListener):
    def __init__(self, loop: asyncio.AbstractEventLoop,
                 on_notification: Callable[[str], None],
                 on_lost: Callable[[str], None]) -> None:
        self._loop = loop
        self._on_notification = on_notification
        self._on_lost = on_lost

    def callback(self, root: tuple, raw: str) -> None:
        if root[0] == qualify("notification", NOTIFICATION_NS):
            self._loop.call_soon_threadsafe(self._on_notification, raw)

    def errback(self, ex: Exception) -> None:
        try:
            self._loop.call_soon_threadsafe(self._on_lost, str(ex) or type(ex).__name__)
        except RuntimeError:  # loop already closed at shutdown
            pass


class NetconfExecutor:
    """The thread pool every blocking NETCONF call runs in."""

    def __init__(self, max_workers: int = 64) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="netconf")

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class NetconfSession:
    """One NETCONF session to a node, with async operations."""

    def __init__(self, mgr: Any, executor: NetconfExecutor, observer: RpcObserver | None,
                 presented_key: str) -> None:
        self._mgr = mgr
        self._executor = executor
        self._observer = observer
        self.host_key = presented_key
        self.lost = asyncio.Event()
        self.lost_reason = ""
        self._notification_handlers: list[Callable[[str], None]] = []
        self.last_activity = time.monotonic()
        session = mgr._session
        # ncclient queues notifications for take_notification(); nobody
        # takes them here, so drop that queue to keep memory bounded.
        for listener in list(session._listeners):
            if isinstance(listener, NotificationHandler):
                session.remove_listener(listener)
        session.add_listener(_Bridge(asyncio.get_running_loop(), self._notification, self._lost))
        if not session.connected:
            self._lost("session closed during set-up")

    @classmethod
    async def connect(cls, params: ConnectParams, executor: NetconfExecutor,
                      observer: RpcObserver | None = None) -> NetconfSession:
        presented: list[str] = []

        def check_host_key(session: _PinnedHostKeySession) -> Callable[[str, str], bool]:
            def cb(host: str, _md5: str) -> bool:
                fp = fingerprint(session._transport.get_remote_server_key().asbytes())
                presented.append(fp)
                return fp == params.host_key
            return cb

        def blocking_connect() -> Any:
            handler = nc_manager.make_device_handler({"name": "default"})
            session = _PinnedHostKeySession(handler)
            try:
                session.connect(
                    params.host, params.port, username=params.username,
                    key_filename=params.key_file, hostkey_verify=True,
                    unknown_host_cb=check_host_key(session), allow_agent=False,
                    look_for_keys=False, timeout=params.connect_timeout,
                    keepalive=params.ssh_keepalive)
            except BaseException:
                if session.transport:
                    session.close()
                raise
            return nc_manager.Manager(session, handler, timeout=params.rpc_timeout)

        started = time.monotonic()
        try:
            mgr = await executor.run(blocking_connect)
        except SSHUnknownHostError:
            got = presented[0] if presented else "an unknown key"
            err = ConnectError(f"host key mismatch: the node presented {got}, "
                               f"registered is {params.host_key}", permanent=True)
        except AuthenticationError as e:
            err = ConnectError(f"authentication refused: {e} (is the controller's public key "
                               "in the node's authorized keys?)")
        except (TransportError, OSError, TimeoutExpiredError) as e:
            err = ConnectError(f"cannot reach {params.host}:{params.port}: {e}")
        except Exception as e:  # anything else ncclient/paramiko raise on set-up
            err = ConnectError(f"session set-up failed: {type(e).__name__}: {e}")
        else:
            if observer:
                observer("connect", time.monotonic() - started, None)
            # Debian's netconfd leaves a request that reaches it in the same
            # read as the client's <hello> unanswered until more input comes.
            # A short pause before the first RPC keeps the two apart (stock
            # ncclient gets the same pause from its 100 ms send tick).
            await asyncio.sleep(HELLO_SETTLE)
            return cls(mgr, executor, observer, presented[0] if presented else "")
        if observer:
            observer("connect", time.monotonic() - started, "connect")
        raise err

    # -- properties ---------------------------------------------------------

    @property
    def capabilities(self) -> list[str]:
        return list(self._mgr.server_capabilities)

    @property
    def session_id(self) -> str | None:
        return self._mgr.session_id

    @property
    def connected(self) -> bool:
        return not self.lost.is_set() and self._mgr.connected

    def on_notification(self, handler: Callable[[str], None]) -> None:
        self._notification_handlers.append(handler)

    def _notification(self, raw: str) -> None:
        for h in self._notification_handlers:
            h(raw)

    def _lost(self, reason: str) -> None:
        if not self.lost.is_set():
            self.lost_reason = reason
            self.lost.set()

    # -- operations ----------------------------------------------------------

    async def _call(self, operation: str, fn: Callable[[], Any]) -> Any:
        if self.lost.is_set():
            raise NetconfError(f"session lost: {self.lost_reason}", tag="transport",
                               operation=operation)
        started = time.monotonic()
        error: str | None = None
        try:
            return await self._executor.run(fn)
        except RPCError as e:
            errs = e.errlist or [e]
            first = errs[0]
            message = "; ".join((x.message or x.tag or "error").strip() for x in errs)
            error = first.tag or "operation-failed"
            raise NetconfError(message, tag=error, path=first.path, operation=operation) from e
        except TimeoutExpiredError as e:
            error = "timeout"
            raise NetconfError(f"no reply: {e}", tag="timeout", operation=operation) from e
        except (TransportError, OSError) as e:
            error = "transport"
            self._lost(str(e) or type(e).__name__)
            raise NetconfError(str(e) or "transport error", tag="transport",
                               operation=operation) from e
        finally:
            self.last_activity = time.monotonic()
            if self._observer:
                self._observer(operation, time.monotonic() - started, error)

    async def get_config(self, source: str = "running", subtree: str | None = None) -> str:
        """The children of the reply's ``<data>``, serialised."""
        filt = ("subtree", subtree) if subtree else None
        reply = await self._call("get-config",
                                 lambda: self._mgr.get_config(source=source, filter=filt))
        return _children_xml(reply.data_ele)

    async def get(self, subtree: str | None = None) -> str:
        """The children of the reply's ``<data>``, serialised."""
        filt = ("subtree", subtree) if subtree else None
        reply = await self._call("get", lambda: self._mgr.get(filter=filt))
        return _children_xml(reply.data_ele)

    async def edit_config(self, config: etree._Element, target: str = "candidate",
                          test_option: str | None = None) -> None:
        await self._call("edit-config", lambda: self._mgr.edit_config(
            config=config, target=target, test_option=test_option))

    async def lock(self, target: str = "candidate") -> None:
        await self._call("lock", lambda: self._mgr.lock(target=target))

    async def unlock(self, target: str = "candidate") -> None:
        await self._call("unlock", lambda: self._mgr.unlock(target=target))

    async def discard_changes(self) -> None:
        await self._call("discard-changes", self._mgr.discard_changes)

    async def validate(self, source: str = "candidate") -> None:
        await self._call("validate", lambda: self._mgr.validate(source=source))

    async def commit(self, *, confirmed: bool = False, timeout: int | None = None) -> None:
        kwargs: dict[str, Any] = {}
        if confirmed:
            kwargs = {"confirmed": True, "timeout": str(timeout) if timeout else None}
        await self._call("commit", lambda: self._mgr.commit(**kwargs))

    async def cancel_commit(self) -> None:
        await self._call("cancel-commit", self._mgr.cancel_commit)

    async def create_subscription(self) -> None:
        await self._call("create-subscription", lambda: self._mgr.create_subscription())

    async def dispatch(self, rpc: etree._Element) -> str:
        """Send any RPC; returns the reply XML."""
        reply = await self._call(etree.QName(rpc).localname, lambda: self._mgr.dispatch(rpc))
        return reply.xml

    async def close(self) -> None:
        self._lost("closed by the controller")
        try:
            await self._executor.run(self._close_blocking)
        except Exception:
            pass

    def _close_blocking(self) -> None:
        try:
            if self._mgr.connected:
                self._mgr.close_session()
        except Exception:
            pass
        try:
            self._mgr._session.close()
        except Exception:
            pass


def _children_xml(data: etree._Element | None) -> str:
    if data is None:
        return ""
    return "".join(etree.tostring(c, encoding="unicode") for c in data)
