"""All-or-nothing provisioning of desired configuration onto many nodes.

For every node a change touches (those whose configuration differs):

1. ``<lock>`` the candidate datastore, then ``<discard-changes>`` so no
   stale edit of another client rides along;
2. read running and compute the edit (only the vifs / PLMN slices that
   differ), ``<edit-config>`` it into candidate;
3. validate: nodes offering ``:validate:1.1`` validate the whole resulting
   candidate as part of the edit (``test-option test-then-set``, RFC 6241
   8.6.4); nodes with only ``:validate:1.0`` get a separate ``<validate>``.
   (A separate ``<validate>`` makes Debian's netconfd ignore the next
   commit of the session, so it is not sent where the edit can carry it.)
4. ``<commit><confirmed/>`` with a timeout: the node runs the new
   configuration but will roll it back by itself unless confirmed; the
   controller reads running back and checks it now matches the desired
   configuration (a node that acknowledged a commit it did not carry out
   fails the transaction).

Nodes are prepared in parallel.  If every node got through step 4, each is
sent a confirming ``<commit>``; if any node failed at any step, every node
that committed is sent ``<cancel-commit>`` (it returns to its previous
running configuration) and every node with an edit in candidate gets
``<discard-changes>``.  Candidates are unlocked in both cases.

Before anything is sent, every node must have a connected session: a
change that needs an unreachable node fails at once, with no RPC sent to
any node.  Should the controller die between steps 4 and 5, the nodes roll
back by themselves when the confirm timeout expires or the session drops
(RFC 6241, 8.4), so a half-applied change does not survive.

The one window that cannot be closed is a confirming commit that reaches
some nodes and not others (the session to a node breaks right then); the
result then says ``partial`` per node, and reconciliation brings every node
back to the stored intent.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal, Mapping

from ransdn.render.desired import DesiredConfig
from ransdn.render.edit import NodeDiff, RenderError, diff_node, needs_psk_hashes
from ransdn.southbound.connection import NodeConnection
from ransdn.southbound.netconf import NetconfError, NetconfSession
from ransdn.yangdata import NAMESPACES, YangModels

log = logging.getLogger(__name__)

Outcome = Literal["applied", "unchanged", "failed", "rolled-back", "not-attempted",
                  "unreachable", "partial"]

RUNNING_FILTER = {
    "wifi": f'<wifi-node xmlns="{NAMESPACES["ransdn-wifi"]}"/>',
    "lte": f'<lte-cell xmlns="{NAMESPACES["ransdn-lte"]}"/>',
}
PSK_STATE_FILTER = (f'<wifi-node-state xmlns="{NAMESPACES["ransdn-wifi"]}"><radio><name/>'
                    '<vif><name/><psk-sha256/></vif></radio></wifi-node-state>')


@dataclass
class NodeOutcome:
    node: str
    outcome: Outcome = "not-attempted"
    changes: list[str] = field(default_factory=list)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"node": self.node, "outcome": self.outcome, "changes": self.changes,
                "error": self.error}


@dataclass
class TransactionResult:
    id: str
    ok: bool
    nodes: list[NodeOutcome]
    started_at: float
    duration: float = 0.0
    reason: str | None = None

    @property
    def changed(self) -> bool:
        return any(n.outcome == "applied" for n in self.nodes)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "ok": self.ok, "reason": self.reason,
                "started_at": self.started_at, "duration": round(self.duration, 6),
                "nodes": [n.to_dict() for n in self.nodes]}


async def read_running_config(session: NetconfSession, kind: str, models: YangModels) -> dict:
    """The part of running the controller owns on a node of ``kind``."""
    return models.xml_to_json(await session.get_config("running", RUNNING_FILTER[kind]))


async def read_running(session: NetconfSession, desired: DesiredConfig, models: YangModels
                       ) -> tuple[dict, dict]:
    """Running configuration and, when the comparison needs them, the PSK
    hashes from state (see :func:`needs_psk_hashes`)."""
    running = await read_running_config(session, desired.kind, models)
    state: dict = {}
    if needs_psk_hashes(desired, running):
        try:
            state = models.xml_to_json(await session.get(PSK_STATE_FILTER))
        except NetconfError as e:
            log.debug("no wifi-node-state: %s", e)
    return running, state


@dataclass
class _Prepared:
    conn: NodeConnection
    session: NetconfSession
    desired: DesiredConfig
    outcome: NodeOutcome
    locked: bool = False
    edited: bool = False
    committed: bool = False


class Provisioner:
    def __init__(self, connections: Mapping[str, NodeConnection], models: YangModels,
                 *, confirm_timeout: int = 60) -> None:
        self._connections = connections
        self._models = models
        self.confirm_timeout = confirm_timeout

    async def apply(self, desired: Mapping[str, DesiredConfig]) -> TransactionResult:
        """Make every node in ``desired`` run its desired configuration, or
        leave every one of them as it was."""
        result = TransactionResult(uuid.uuid4().hex[:12], True, [], time.time())
        started = time.monotonic()
        names = sorted(desired)
        outcomes = {n: NodeOutcome(n) for n in names}
        result.nodes = [outcomes[n] for n in names]

        unreachable = []
        for n in names:
            conn = self._connections.get(n)
            if conn is None or conn.usable_session() is None:
                outcomes[n].outcome = "unreachable"
                why = conn.last_error if conn else "not registered"
                outcomes[n].error = f"node is {conn.state if conn else 'unknown'}" + (
                    f": {why}" if why else "")
                unreachable.append(n)
        if unreachable:
            result.ok = False
            result.reason = "unreachable: " + ", ".join(unreachable) + "; nothing was sent"
            result.duration = time.monotonic() - started
            return result

        conns = [self._connections[n] for n in names]
        for c in conns:  # sorted order: no deadlock between transactions
            await c.lock.acquire()
        try:
            prepared = []
            for n, c in zip(names, conns):
                session = c.usable_session()
                if session is None:  # lost while waiting for the lock
                    outcomes[n].outcome = "unreachable"
                    outcomes[n].error = f"node is {c.state}: {c.last_error}"
                    result.ok = False
                    continue
                prepared.append(_Prepared(c, session, desired[n], outcomes[n]))
            if result.ok:
                await asyncio.gather(*(self._prepare(p) for p in prepared))
                result.ok = all(p.outcome.outcome != "failed" for p in prepared)
            if result.ok:
                await asyncio.gather(*(self._confirm(p) for p in prepared if p.committed))
                if any(p.outcome.outcome == "failed" for p in prepared):
                    result.ok = False
                    for p in prepared:
                        if p.outcome.outcome == "applied":
                            p.outcome.outcome = "partial"
                    result.reason = "a confirming commit failed; reconciliation will repair"
            else:
                await asyncio.gather(*(self._roll_back(p) for p in prepared))
                failed = [p.outcome for p in prepared if p.outcome.outcome == "failed"]
                if failed:
                    result.reason = "; ".join(f"{o.node}: {o.error}" for o in failed)
                else:
                    result.reason = "; ".join(f"{o.node}: {o.error}" for o in result.nodes
                                              if o.error)
            await asyncio.gather(*(self._unlock(p) for p in prepared if p.locked))
        finally:
            for c in conns:
                c.lock.release()
        result.duration = time.monotonic() - started
        return result

    async def _prepare(self, p: _Prepared) -> None:
        s = p.session
        step = "lock"
        try:
            await s.lock("candidate")
            p.locked = True
            step = "discard-changes"
            await s.discard_changes()
            step = "get-config"
            running, state = await read_running(s, p.desired, self._models)
            diff: NodeDiff = diff_node(p.desired, running, state)
            p.outcome.changes = diff.changes
            if diff.empty:
                p.outcome.outcome = "unchanged"
                return
            caps = p.conn.capabilities
            inline_validate = bool(caps and caps.has(":validate:1.1"))
            step = "edit-config"
            await s.edit_config(diff.edit, target="candidate",
                                test_option="test-then-set" if inline_validate else None)
            p.edited = True
            if not inline_validate and caps and caps.has(":validate"):
                step = "validate"
                await s.validate("candidate")
            step = "commit"
            await s.commit(confirmed=True, timeout=self.confirm_timeout)
            p.committed = True
            step = "verify"
            running, state = await read_running(s, p.desired, self._models)
            left = diff_node(p.desired, running, state)
            if not left.empty:
                p.outcome.outcome = "failed"
                p.outcome.error = ("the node acknowledged the commit but its running "
                                   "configuration still differs: " + "; ".join(left.changes))
                return
            p.outcome.outcome = "applied"
        except NetconfError as e:
            p.outcome.outcome = "failed"
            p.outcome.error = str(e) if e.operation else f"{step}: {e}"
        except RenderError as e:
            p.outcome.outcome = "failed"
            p.outcome.error = str(e)

    async def _confirm(self, p: _Prepared) -> None:
        try:
            await p.session.commit()
        except NetconfError as e:
            p.outcome.outcome = "failed"
            p.outcome.error = f"confirming commit: {e}"

    async def _roll_back(self, p: _Prepared) -> None:
        try:
            if p.committed:
                await p.session.cancel_commit()
            if p.edited or p.committed:
                await p.session.discard_changes()
            if p.outcome.outcome == "applied":
                p.outcome.outcome = "rolled-back"
        except NetconfError as e:
            # The confirmed commit still rolls back on its own at the
            # timeout or when the session closes.
            if p.outcome.outcome != "failed":
                p.outcome.outcome = "rolled-back"
            p.outcome.error = f"roll-back: {e} (the node reverts at the confirm timeout)"

    async def _unlock(self, p: _Prepared) -> None:
        try:
            await p.session.unlock("candidate")
        except NetconfError as e:
            log.warning("node %s: unlock failed: %s", p.outcome.node, e)
