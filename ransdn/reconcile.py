"""Reconciliation: keep each node's running configuration equal to the
desired one.

A node is checked when its session comes up, every ``interval`` seconds,
and shortly after it reports a ``netconf-config-change`` made by a session
other than the controller's (an out-of-band edit).  A check reads running
(and the PSK hashes from state) without locking; only when it differs does
it take the controller's intent lock, render the desired configuration
afresh and repair it through the provisioning path (lock, edit, validate,
confirmed commit, confirm).  Each repair is one event.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Awaitable, Callable, Mapping

from lxml import etree

from ransdn.provisioning import Provisioner, TransactionResult, read_running
from ransdn.render.desired import DesiredConfig
from ransdn.render.edit import RenderError, diff_node
from ransdn.southbound.connection import NodeConnection
from ransdn.southbound.netconf import NetconfError
from ransdn.yangdata import YangModels

log = logging.getLogger(__name__)

NOTIFICATIONS_NS = "urn:ietf:params:xml:ns:yang:ietf-netconf-notifications"
NOTIF_NS = "urn:ietf:params:xml:ns:netconf:notification:1.0"


@dataclass
class CheckResult:
    node: str
    drift: list[str] = field(default_factory=list)
    repaired: bool = False
    error: str | None = None
    transaction: TransactionResult | None = None


def config_change_author(raw: str) -> tuple[bool, str | None, str | None]:
    """Whether a notification is a netconf-config-change, and which session
    id and user made it."""
    try:
        root = etree.fromstring(raw.encode())
    except etree.XMLSyntaxError:
        return False, None, None
    change = root.find(f"{{{NOTIFICATIONS_NS}}}netconf-config-change")
    if change is None:
        return False, None, None
    by = change.find(f"{{{NOTIFICATIONS_NS}}}changed-by")
    if by is None:
        return True, None, None
    return (True, by.findtext(f"{{{NOTIFICATIONS_NS}}}session-id"),
            by.findtext(f"{{{NOTIFICATIONS_NS}}}username"))


class Reconciler:
    def __init__(self, connections: Mapping[str, NodeConnection], models: YangModels,
                 provisioner: Provisioner, intent_lock: asyncio.Lock,
                 render: Callable[[str], DesiredConfig | None],
                 on_result: Callable[[CheckResult, str], None],
                 *, interval: float = 30.0, debounce: float = 0.3,
                 concurrency: int = 32) -> None:
        self._connections = connections
        self._models = models
        self._provisioner = provisioner
        self._intent_lock = intent_lock
        self._render = render
        self._on_result = on_result
        self.interval = interval
        self.debounce = debounce
        self._sem = asyncio.Semaphore(concurrency)
        self._pending: dict[str, asyncio.Task] = {}
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._periodic(), name="reconcile")

    async def stop(self) -> None:
        tasks = [t for t in [self._task, *self._pending.values()] if t]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _periodic(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.check_all("periodic")

    async def check_all(self, reason: str) -> list[CheckResult]:
        names = [n for n, c in self._connections.items() if c.usable_session()]
        return list(await asyncio.gather(*(self.check(n, reason) for n in names)))

    def schedule(self, node: str, reason: str) -> None:
        """Check ``node`` soon; changes arriving together collapse into one check."""
        if node in self._pending and not self._pending[node].done():
            return

        async def later() -> None:
            await asyncio.sleep(self.debounce)
            self._pending.pop(node, None)
            await self.check(node, reason)

        self._pending[node] = asyncio.create_task(later())

    async def check(self, node: str, reason: str) -> CheckResult:
        result = CheckResult(node)
        conn = self._connections.get(node)
        session = conn.usable_session() if conn else None
        if session is None or conn is None:
            result.error = "not connected"
            return result
        async with self._sem:
            try:
                desired = self._render(node)
                if desired is None:
                    return result
                running, state = await read_running(session, desired, self._models)
                diff = diff_node(desired, running, state)
                if diff.empty:
                    return result
                async with self._intent_lock:
                    desired = self._render(node)
                    if desired is None:
                        return result
                    tx = await self._provisioner.apply({node: desired})
                node_outcome = tx.nodes[0]
                result.drift = node_outcome.changes or diff.changes
                result.transaction = tx
                if not result.drift:
                    return result  # fixed meanwhile (a transaction got there first)
                result.repaired = tx.ok and node_outcome.outcome == "applied"
                if not tx.ok:
                    result.error = tx.reason
            except (NetconfError, RenderError) as e:
                result.error = str(e)
            except Exception as e:  # keep the loop alive, report the bug
                log.exception("reconciling %s failed", node)
                result.error = f"{type(e).__name__}: {e}"
        if result.drift or result.error:
            self._on_result(result, reason)
        return result
