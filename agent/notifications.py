"""The NETCONF event stream (RFC 5277) and the events the agent raises
itself (RFC 6470).

There is one stream, ``NETCONF``.  Every event, whether raised by the backend
(``ransdn-wifi:vif-state-change`` ...) or by the server
(``netconf-config-change`` ...), is parsed against the schema, kept in a
bounded in-memory replay log and delivered to each subscribed session whose
filter it passes.  Replay covers events since the agent started, up to
``replay_limit`` of them; the log does not survive a restart.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Protocol

from _libyang import ffi, lib

from agent.datastore.tree import DataTree, LyFailure, node_path, print_nodes, siblings, take_errors
from agent.netconf import filters
from agent.netconf.xml import NETMOD_NOTIF_NS, NOTIF_NS

if TYPE_CHECKING:
    from agent.datastore.schema import Schema
    from agent.datastore.store import Origin

log = logging.getLogger(__name__)

STREAM = "NETCONF"
NCN = "ietf-netconf-notifications"


def format_time(ts: float) -> str:
    """RFC 3339 date-time in UTC."""
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_time(text: str) -> float:
    """An RFC 3339 date-time as a POSIX timestamp; ValueError if malformed."""
    value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError("date-time without a time zone")
    return value.timestamp()


@dataclass
class Event:
    event_time: float
    name: str
    tree: DataTree
    xml: bytes


class Subscriber(Protocol):
    session_id: int

    def send_notification(self, message: bytes) -> None: ...


@dataclass
class Subscription:
    subscriber: Subscriber
    filter: filters.Filter | None
    start_time: float | None
    stop_time: float | None
    #: Events that arrive while the replay is still being sent wait here.
    replaying: bool = False
    backlog: list[Event] = field(default_factory=list)
    done: bool = False

    def wants(self, event: Event) -> bool:
        if self.stop_time is not None and event.event_time > self.stop_time:
            return False
        return self.filter is None or filters.matches(event.tree, self.filter)


def _notification_message(event_time: float, body: str) -> bytes:
    return (
        f'<notification xmlns="{NOTIF_NS}"><eventTime>{format_time(event_time)}</eventTime>'
        f"{body}</notification>"
    ).encode()


class NotificationBus:
    def __init__(self, schema: "Schema", replay_limit: int = 1000) -> None:
        self.schema = schema
        self.created = time.time()
        self._log: deque[Event] = deque(maxlen=replay_limit)
        self._subs: dict[int, Subscription] = {}
        self.sent = 0

    # -- publishing ------------------------------------------------------

    def publish(self, name: str, body: dict[str, Any], event_time: float | None = None) -> Event | None:
        """Raise a YANG notification ``name`` (module-qualified) with RFC 7951 ``body``."""
        when = time.time() if event_time is None else event_time
        try:
            tree = self._parse(name, body)
        except LyFailure as exc:
            log.error("dropping notification %s that does not match its YANG: %s", name, exc)
            return None
        xml = _notification_message(when, print_nodes(tree.root, "xml", 0, siblings=True))
        event = Event(when, name, tree, xml)
        self._log.append(event)
        for sub in list(self._subs.values()):
            if sub.replaying:
                sub.backlog.append(event)
            elif sub.wants(event):
                self._deliver(sub, event.xml)
        return event

    def _parse(self, name: str, body: dict[str, Any]) -> DataTree:
        data = json.dumps({name: body}).encode()
        return DataTree.parse_op(self.schema, data, "json", lib.LYD_TYPE_NOTIF_YANG)

    def _deliver(self, sub: Subscription, message: bytes) -> None:
        try:
            sub.subscriber.send_notification(message)
            self.sent += 1
        except Exception:  # a broken session must not stop the others
            log.exception("cannot deliver a notification to session %s", sub.subscriber.session_id)

    # -- subscriptions -------------------------------------------------------

    @property
    def replay_start(self) -> float:
        """Time of the oldest event the log still holds (or of its creation)."""
        return self._log[0].event_time if self._log and len(self._log) == self._log.maxlen else self.created

    def subscribed(self, session_id: int) -> bool:
        return session_id in self._subs

    def subscribe(
        self,
        subscriber: Subscriber,
        flt: filters.Filter | None,
        start_time: float | None,
        stop_time: float | None,
    ) -> Subscription:
        sub = Subscription(subscriber, flt, start_time, stop_time, replaying=start_time is not None)
        self._subs[subscriber.session_id] = sub
        return sub

    def replay(self, sub: Subscription) -> None:
        """Send the replayed events, then ``replayComplete``; call after the rpc-reply."""
        if sub.start_time is None:
            return
        for event in list(self._log):
            if event.event_time >= sub.start_time and sub.wants(event):
                self._deliver(sub, event.xml)
        now = time.time()
        self._deliver(sub, _notification_message(now, f'<replayComplete xmlns="{NETMOD_NOTIF_NS}"/>'))
        sub.replaying = False
        backlog, sub.backlog = sub.backlog, []
        for event in backlog:
            if sub.wants(event):
                self._deliver(sub, event.xml)
        if sub.stop_time is not None and sub.stop_time <= now:
            self.complete(sub)

    def complete(self, sub: Subscription) -> None:
        """End a subscription whose stopTime has passed."""
        if sub.done:
            return
        sub.done = True
        self._deliver(
            sub, _notification_message(time.time(), f'<notificationComplete xmlns="{NETMOD_NOTIF_NS}"/>')
        )
        self.unsubscribe(sub.subscriber.session_id)

    def unsubscribe(self, session_id: int) -> None:
        self._subs.pop(session_id, None)

    def subscriptions(self) -> Iterable[Subscription]:
        return self._subs.values()

    # -- RFC 6470 events -------------------------------------------------

    @staticmethod
    def _session_parms(origin: "Origin") -> dict[str, Any]:
        parms: dict[str, Any] = {"username": origin.username or "", "session-id": origin.session_id or 0}
        if origin.source_host:
            parms["source-host"] = origin.source_host
        return parms

    def running_changed(self, old: DataTree, new: DataTree, origin: "Origin") -> None:
        changed_by = {"server": [None]} if origin.session_id is None else self._session_parms(origin)
        edits = list(config_edits(old, new))
        body: dict[str, Any] = {"changed-by": changed_by, "datastore": "running"}
        if edits:
            body["edit"] = [{"target": path, "operation": op} for path, op in edits]
        self.publish(f"{NCN}:netconf-config-change", body)

    def confirmed_commit(
        self, event: str, origin: "Origin", timeout: int | None, persist_id: str | None
    ) -> None:
        body: dict[str, Any] = {"confirm-event": event}
        if event != "timeout" and origin.session_id is not None:
            body.update(self._session_parms(origin))
        elif event != "timeout":
            body.update({"username": "", "session-id": 0})
        if timeout is not None and event in ("start", "extend"):
            body["timeout"] = timeout
        self.publish(f"{NCN}:netconf-confirmed-commit", body)

    def session_started(self, origin: "Origin") -> None:
        self.publish(f"{NCN}:netconf-session-start", self._session_parms(origin))

    def session_ended(self, origin: "Origin", reason: str, killed_by: int | None = None) -> None:
        body = self._session_parms(origin)
        body["termination-reason"] = reason
        if reason == "killed" and killed_by:
            body["killed-by"] = killed_by
        self.publish(f"{NCN}:netconf-session-end", body)


_DIFF_OPS = {"create": "create", "delete": "delete", "replace": "replace"}


def config_edits(old: DataTree, new: DataTree) -> Iterable[tuple[str, str]]:
    """(instance path, operation) for each node that differs between two trees."""
    ctx = old.schema.ctx.cdata
    out = ffi.new("struct lyd_node **")
    if lib.lyd_diff_siblings(old.root, new.root, 0, out) != lib.LY_SUCCESS:
        take_errors(ctx)
        return []
    diff = DataTree(old.schema, out[0])
    edits: list[tuple[str, str]] = []

    def walk(node: Any) -> None:
        op = None
        meta = node.meta
        while meta != ffi.NULL:
            if ffi.string(meta.name) == b"operation":
                op = ffi.string(lib.lyd_value_get_canonical(ctx, ffi.addressof(meta.value))).decode()
                break
            meta = meta.next
        if op in _DIFF_OPS:
            edits.append((node_path(node), _DIFF_OPS[op]))
            return
        child = lib.lyd_child_no_keys(node)
        while child != ffi.NULL:
            walk(child)
            child = child.next

    for top in siblings(diff.root):
        walk(top)
    diff.free()
    return edits
