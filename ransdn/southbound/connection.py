"""The life of one node's NETCONF session, as a visible state machine.

::

    connecting --ok--> connected --session lost--> connecting
        |                                               |
        +--fail--> unable-to-connect (reason) --backoff-+

Reconnects back off exponentially with jitter up to a cap; a connected
session is kept alive by an application-level RPC whenever it has been idle
for ``keepalive_interval`` (SSH keepalives alone do not prove the NETCONF
server answers).  A node must advertise the modules and revisions its kind
needs, candidate and confirmed-commit, or it stays unable-to-connect with
the missing items as the reason.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass, field
from typing import Awaitable, Callable, Literal

from ransdn.southbound.capabilities import (
    MONITORING_FILTER,
    YANG_LIBRARY_FILTER,
    NodeCapabilities,
)
from ransdn.southbound.netconf import (
    ConnectError,
    ConnectParams,
    NetconfError,
    NetconfExecutor,
    NetconfSession,
    RpcObserver,
)
from ransdn.yangdata import NAMESPACES, REQUIRED_MODULES

log = logging.getLogger(__name__)

ConnState = Literal["connecting", "connected", "unable-to-connect", "disabled"]
REQUIRED_FEATURES = (":candidate", ":confirmed-commit")

KEEPALIVE_FILTER = {
    "wifi": f'<wifi-node xmlns="{NAMESPACES["ransdn-wifi"]}"><radio><name/></radio></wifi-node>',
    "lte": f'<lte-cell xmlns="{NAMESPACES["ransdn-lte"]}"><cell><pci/></cell></lte-cell>',
}


@dataclass
class Backoff:
    """Exponential backoff with "equal jitter": half the step is fixed, half
    random, so retries of many nodes spread out but never hammer."""

    base: float = 0.5
    cap: float = 30.0
    factor: float = 2.0
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int) -> float:
        step = min(self.cap, self.base * self.factor ** attempt)
        return step / 2 + self.rng.uniform(0, step / 2)


OnConnected = Callable[["NodeConnection", NetconfSession], Awaitable[None]]
OnState = Callable[["NodeConnection", str, str], None]
OnNotification = Callable[["NodeConnection", str], None]


class NodeConnection:
    def __init__(self, name: str, kind: str, params: ConnectParams, executor: NetconfExecutor,
                 *, backoff: Backoff | None = None, keepalive_interval: float = 10.0,
                 observer: RpcObserver | None = None, on_connected: OnConnected | None = None,
                 on_ready: OnConnected | None = None,
                 on_state: OnState | None = None,
                 on_notification: OnNotification | None = None) -> None:
        self.name = name
        self.kind = kind
        self.params = params
        self._executor = executor
        self.backoff = backoff or Backoff()
        self.keepalive_interval = keepalive_interval
        self._observer = observer
        self._on_connected = on_connected
        self._on_ready = on_ready
        self._on_state = on_state
        self._on_notification = on_notification
        self.state: ConnState = "connecting"
        self.last_error: str | None = None
        self.since = time.time()
        self.attempts = 0
        self.next_retry_at: float | None = None
        self.connected_at: float | None = None
        self.capabilities: NodeCapabilities | None = None
        self.session: NetconfSession | None = None
        #: Held while a transaction or a repair runs on this node.
        self.lock = asyncio.Lock()
        self._kick = asyncio.Event()
        self._task: asyncio.Task | None = None

    # -- control ------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"netconf-{self.name}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
            self._task = None
        if self.session:
            await self.session.close()
            self.session = None
        self._set_state("disabled", None)

    def retry_now(self) -> None:
        """Cut a backoff wait short (for example after the node was fixed)."""
        self._kick.set()

    def usable_session(self) -> NetconfSession | None:
        s = self.session
        return s if s is not None and self.state == "connected" and s.connected else None

    def status(self) -> dict:
        return {
            "state": self.state,
            "since": self.since,
            "last_error": self.last_error,
            "attempts": self.attempts,
            "next_retry_at": self.next_retry_at,
            "session_id": self.session.session_id if self.session else None,
        }

    # -- the loop ------------------------------------------------------------

    def _set_state(self, state: ConnState, error: str | None) -> None:
        old = self.state
        self.last_error = error if error is not None else (self.last_error if state != "connected" else None)
        if old != state:
            self.state = state
            self.since = time.time()
            if self._on_state:
                self._on_state(self, old, state)

    async def _run(self) -> None:
        attempt = 0
        while True:
            self.next_retry_at = None
            self._set_state("connecting", None)
            self.attempts += 1
            error = await self._one_session()
            if error is None:  # had a working session that ended
                attempt = 0
                error = self.last_error
            self._set_state("unable-to-connect", error)
            delay = self.backoff.delay(attempt)
            attempt += 1
            self.next_retry_at = time.time() + delay
            self._kick.clear()
            try:
                await asyncio.wait_for(self._kick.wait(), delay)
            except asyncio.TimeoutError:
                pass

    async def _one_session(self) -> str | None:
        """Run one session to its end; return why it could not start, or
        None after a session that worked and was then lost."""
        try:
            session = await NetconfSession.connect(self.params, self._executor, self._observer)
        except ConnectError as e:
            return e.reason
        try:
            try:
                self.capabilities = await self._check_capabilities(session)
            except ConnectError as e:
                return e.reason
            except NetconfError as e:
                return f"reading capabilities failed: {e}"
            session.on_notification(self._notification)
            if self.capabilities.has(":notification"):
                try:
                    await session.create_subscription()
                except NetconfError as e:
                    log.warning("node %s: create-subscription failed: %s", self.name, e)
            self.session = session
            if self._on_ready:
                # Before "connected": whoever sees the node connected can rely
                # on what on_ready learnt (its radios, for admission).
                try:
                    await self._on_ready(self, session)
                except Exception:
                    log.exception("node %s: reading the node after connect failed", self.name)
            self.connected_at = time.time()
            self._set_state("connected", None)
            if self._on_connected:
                try:
                    await self._on_connected(self, session)
                except Exception:
                    log.exception("node %s: on-connect handling failed", self.name)
            await self._supervise(session)
            self.last_error = f"session lost: {session.lost_reason}"
            return None
        finally:
            self.session = None
            await session.close()

    async def _check_capabilities(self, session: NetconfSession) -> NodeCapabilities:
        caps = NodeCapabilities.from_hello(session.capabilities)
        required = REQUIRED_MODULES[self.kind]
        if caps.missing(required, ()) and caps.wants_yang_library():
            try:
                caps.add_from_yang_library(await session.get(YANG_LIBRARY_FILTER))
            except NetconfError as e:
                log.info("node %s: yang-library not readable: %s", self.name, e)
        if caps.missing(required, ()):
            try:
                caps.add_from_monitoring(await session.get(MONITORING_FILTER))
            except NetconfError as e:
                log.info("node %s: netconf-monitoring not readable: %s", self.name, e)
        missing = caps.missing(required, REQUIRED_FEATURES)
        if missing:
            raise ConnectError("node lacks " + ", ".join(missing))
        return caps

    async def _supervise(self, session: NetconfSession) -> None:
        while True:
            try:
                await asyncio.wait_for(session.lost.wait(), self.keepalive_interval)
                return
            except asyncio.TimeoutError:
                pass
            if time.monotonic() - session.last_activity < self.keepalive_interval:
                continue
            try:
                await asyncio.wait_for(
                    session.get_config("running", KEEPALIVE_FILTER[self.kind]),
                    self.params.rpc_timeout)
            except (NetconfError, asyncio.TimeoutError) as e:
                if isinstance(e, NetconfError) and e.tag not in ("transport", "timeout"):
                    continue  # the server answered: it is alive
                session._lost(f"keepalive failed: {e or 'timeout'}")
                return

    def _notification(self, raw: str) -> None:
        if self._on_notification:
            self._on_notification(self, raw)
