"""The controller's service layer, and the ``ransdn-controller`` command.

:class:`Controller` is what the REST API (and the global airtime scheduler's
control loop) call.  It keeps intents in the store, admits them, renders
per-node configuration and drives nodes through all-or-nothing provisioning
and reconciliation.  It knows no HTTP.

Interfaces for the global scheduler's control loop:

- :meth:`Controller.read_operational_state` - the config-false trees of all
  (or some) connected nodes, read concurrently;
- :meth:`Controller.apply_airtime` - per-vif guaranteed share / cap
  overrides, applied all-or-nothing and kept as an overlay on top of the
  slices so reconciliation does not undo them;
- :meth:`Controller.vif_map` - which vif on which node/radio belongs to
  which slice and tenant, with the slice's own share and cap.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import os
import re
import secrets
import signal
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ransdn.admission import admit
from ransdn.airtime import PolicyRegistry
from ransdn.airtime_control import AirtimeConfig, AirtimeControl
from ransdn.lte import cell_view, slice_cell_status
from ransdn.metrics import ControllerMetrics
from ransdn.model.errors import (
    AlreadyExists,
    InUse,
    InvalidRequest,
    FieldError,
    NodeUnavailable,
    NotFound,
    PreconditionFailed,
    ProvisioningFailed,
)
from ransdn.model.node import Node, RadioInfo
from ransdn.model.slice import Slice, WifiPart, slice_from_request
from ransdn.provisioning import Provisioner, TransactionResult
from ransdn.reconcile import CheckResult, Reconciler, config_change_author
from ransdn.render.desired import DesiredConfig, render_all, render_node, vif_airtime, vif_name
from ransdn.southbound.connection import Backoff, NodeConnection
from ransdn.southbound.keys import ClientKey, load_or_create_client_key
from ransdn.southbound.netconf import ConnectParams, NetconfError, NetconfExecutor
from ransdn.store.sqlite import AirtimeOverride, Event, Store
from ransdn.yangdata import NAMESPACES, YangDataError, YangModels

log = logging.getLogger(__name__)

#: What the global scheduler hands to :meth:`Controller.apply_airtime`.
AirtimeSetting = AirtimeOverride

WIFI_STATE_FILTER = f'<wifi-node-state xmlns="{NAMESPACES["ransdn-wifi"]}"/>'
LTE_STATE_FILTER = f'<lte-cell-state xmlns="{NAMESPACES["ransdn-lte"]}"/>'
LTE_CONFIG_FILTER = f'<lte-cell xmlns="{NAMESPACES["ransdn-lte"]}"/>'


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "ransdn"


@dataclass
class ControllerConfig:
    db: Path
    data_dir: Path | None = None
    client_key: Path | None = None
    reconcile_interval: float = 30.0
    keepalive_interval: float = 10.0
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    confirm_timeout: int = 60
    connect_timeout: float = 10.0
    rpc_timeout: float = 30.0
    netconf_workers: int = 64
    #: When set, node addresses must be IP literals inside these networks
    #: (the management networks); nodes elsewhere are refused at registration.
    node_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] | None = None
    #: The global airtime scheduler's control loop (off unless a period is set).
    airtime: AirtimeConfig = field(default_factory=AirtimeConfig)

    def resolved_data_dir(self) -> Path:
        return self.data_dir or self.db.parent


@dataclass
class NodeState:
    """Operational state of one node, for the scheduler and the API."""

    node: str
    kind: str
    state: dict[str, Any] | None
    error: str | None = None
    read_at: float = field(default_factory=time.time)


class Controller:
    def __init__(self, config: ControllerConfig) -> None:
        self.config = config
        self.store = Store(config.db)
        data_dir = config.resolved_data_dir()
        self.client_key: ClientKey = load_or_create_client_key(
            config.client_key or data_dir / "controller_ed25519")
        self.models = YangModels()
        self.metrics = ControllerMetrics()
        self.connections: dict[str, NodeConnection] = {}
        self._executor = NetconfExecutor(config.netconf_workers)
        self._intent_lock = asyncio.Lock()
        self.provisioner = Provisioner(self.connections, self.models,
                                       confirm_timeout=config.confirm_timeout)
        self.reconciler = Reconciler(self.connections, self.models, self.provisioner,
                                     self._intent_lock, self._render_one, self._on_check,
                                     interval=config.reconcile_interval)
        self._last_conn_event: dict[str, tuple[str, str | None]] = {}
        self._lte_cache: dict[str, dict[str, Any]] = {}
        self.metrics.watch_state(
            lambda: [self.slice_state(s) for s in self.store.list_slices()],
            lambda: [(n.kind, self.connection_state(n.name)) for n in self.store.list_nodes()])
        self.airtime = AirtimeControl(self, config.airtime)
        self.started = False

    # -- lifecycle -----------------------------------------------------------

    async def start(self) -> None:
        for node in self.store.list_nodes():
            self._connect(node)
        self.reconciler.start()
        self.airtime.start()
        self.started = True

    async def stop(self) -> None:
        await self.airtime.stop()
        await self.reconciler.stop()
        await asyncio.gather(*(c.stop() for c in self.connections.values()))
        self.connections.clear()
        self._executor.shutdown()
        self.store.close()

    def _connect(self, node: Node) -> NodeConnection:
        params = ConnectParams(
            host=node.address, port=node.port, username=node.username,
            key_file=str(self.client_key.private_path), host_key=node.host_key,
            connect_timeout=self.config.connect_timeout, rpc_timeout=self.config.rpc_timeout)
        conn = NodeConnection(
            node.name, node.kind, params, self._executor,
            backoff=Backoff(self.config.backoff_base, self.config.backoff_cap),
            keepalive_interval=self.config.keepalive_interval,
            observer=self.metrics.observe_rpc, on_ready=self._on_ready,
            on_connected=self._on_connected,
            on_state=self._on_state, on_notification=self._on_notification)
        self.connections[node.name] = conn
        conn.start()
        return conn

    # -- southbound callbacks --------------------------------------------------

    async def _on_ready(self, conn: NodeConnection, session: Any) -> None:
        await self._read_inventory(conn, session)

    async def _on_connected(self, conn: NodeConnection, session: Any) -> None:
        await self.reconciler.check(conn.name, "connect")

    def _on_state(self, conn: NodeConnection, old: str, new: str) -> None:
        if new == "connecting":
            return
        key = (new, conn.last_error)
        if self._last_conn_event.get(conn.name) == key:
            return
        self._last_conn_event[conn.name] = key
        if new == "connected":
            self.store.add_event("node.connected", f"node {conn.name} connected "
                                 f"(session {conn.session.session_id if conn.session else '?'})",
                                 node=conn.name)
        elif new == "unable-to-connect":
            self.store.add_event("node.unable-to-connect",
                                 f"node {conn.name}: {conn.last_error}", severity="warning",
                                 node=conn.name, details={"reason": conn.last_error})

    def _on_notification(self, conn: NodeConnection, raw: str) -> None:
        is_change, session_id, user = config_change_author(raw)
        if not is_change:
            return
        ours = conn.session.session_id if conn.session else None
        if session_id is not None and ours is not None and str(session_id) == str(ours):
            return
        self.reconciler.schedule(
            conn.name, f"out-of-band change by session {session_id or '?'} (user {user or '?'})")

    def _on_check(self, result: CheckResult, reason: str) -> None:
        conn = self.connections.get(result.node)
        kind = conn.kind if conn else "wifi"
        details = {"reason": reason, "changes": result.drift,
                   "transaction": result.transaction.to_dict() if result.transaction else None}
        if result.repaired:
            self.metrics.drift_repairs.labels(kind, "repaired").inc()
            self.store.add_event(
                "drift.repaired", f"node {result.node}: repaired {len(result.drift)} "
                f"difference(s) found on {reason}: " + "; ".join(result.drift),
                severity="warning", node=result.node, details=details)
        else:
            self.metrics.drift_repairs.labels(kind, "failed").inc()
            self.store.add_event(
                "drift.repair-failed", f"node {result.node}: could not repair drift found on "
                f"{reason}: {result.error}", severity="error", node=result.node, details=details)

    async def _read_inventory(self, conn: NodeConnection, session: Any) -> None:
        try:
            if conn.kind == "wifi":
                state = self.models.xml_to_json(await session.get(WIFI_STATE_FILTER))
                radios = []
                for r in (state.get("ransdn-wifi:wifi-node-state") or {}).get("radio", []):
                    if "band" not in r or "channel" not in r:
                        continue
                    caps = r.get("capabilities") or {}
                    radios.append(RadioInfo(r["name"], r["band"], int(r["channel"]),
                                            caps.get("airtime-scheduler"), caps.get("max-vifs")))
            else:
                radios = []
                running = self.models.xml_to_json(await session.get_config("running", LTE_CONFIG_FILTER))
                state = self.models.xml_to_json(await session.get(LTE_STATE_FILTER))
                self._lte_cache[conn.name] = cell_view(conn.name, running, state)
            caps = conn.capabilities.uris if conn.capabilities else []
            if self.store.get_node(conn.name):
                self.store.set_node_reported(conn.name, radios, caps)
        except NetconfError as e:
            log.warning("node %s: reading inventory failed: %s", conn.name, e)

    # -- rendering -----------------------------------------------------------

    def airtime_overrides(self) -> dict[tuple[str, str, str], AirtimeOverride]:
        """The global scheduler's per-vif settings, by (node, radio, vif)."""
        return {(o.node, o.radio, o.vif): o for o in self.store.airtime_overrides()}

    def _render_one(self, name: str) -> DesiredConfig | None:
        node = self.store.get_node(name)
        if node is None:
            return None
        return render_node(node, self.store.list_slices(), self.airtime_overrides())

    def _render_for(self, names: set[str], slices: list[Slice],
                    overrides: list[AirtimeOverride] | None = None) -> dict[str, DesiredConfig]:
        nodes = [n for n in self.store.list_nodes() if n.name in names]
        desired = render_all(nodes, slices,
                             overrides if overrides is not None else self.store.airtime_overrides())
        for name, d in desired.items():
            try:
                self.models.validate_config(d.tree())
            except YangDataError as e:
                raise InvalidRequest(f"the configuration of node {name} would be invalid: {e}",
                                     errors=[FieldError("", f"node {name}: {e}")]) from e
        return desired

    # -- nodes ---------------------------------------------------------------

    def connection_state(self, name: str) -> str:
        conn = self.connections.get(name)
        return conn.state if conn else "disabled"

    def node_view(self, node: Node) -> dict[str, Any]:
        conn = self.connections.get(node.name)
        status = conn.status() if conn else {"state": "disabled", "last_error": None}
        view = node.spec()
        del view["radios"]
        view.update(
            created_at=node.created_at,
            connection={
                "state": status["state"],
                "since": _iso(status.get("since")),
                "last_error": status.get("last_error"),
                "attempts": status.get("attempts", 0),
                "next_retry_at": _iso(status.get("next_retry_at")),
                "session_id": status.get("session_id"),
            },
            capabilities=list(node.capabilities),
            radios=[r.to_dict() for r in sorted(node.radios().values(), key=lambda r: r.name)],
            declared_radios=[r.to_dict() for r in node.declared_radios],
            cell=self._lte_cache.get(node.name) if node.kind == "lte" else None,
        )
        return view

    def list_nodes(self) -> list[Node]:
        return sorted(self.store.list_nodes(), key=lambda n: _natural(n.name))

    def get_node(self, name: str) -> Node:
        node = self.store.get_node(name)
        if node is None:
            raise NotFound(f"no node named {name!r}")
        return node

    async def register_node(self, spec: dict[str, Any]) -> Node:
        self._check_node_address(spec["address"])
        if self.store.get_node(spec["name"]):
            raise AlreadyExists(f"a node named {spec['name']!r} is already registered",
                                errors=[FieldError("/name", "already registered")])
        node = Node(
            name=spec["name"], kind=spec["kind"], address=spec["address"],
            port=spec.get("port", 830), host_key=spec["host_key"],
            username=spec.get("username", "ransdn"), description=spec.get("description", ""),
            declared_radios=tuple(RadioInfo.from_dict(r) for r in spec.get("radios", [])))
        if node.kind != "wifi" and node.declared_radios:
            raise InvalidRequest("only Wi-Fi nodes have radios",
                                 errors=[FieldError("/radios", "only Wi-Fi nodes have radios")])
        node = self.store.add_node(node)
        self.store.add_event("node.registered", f"node {node.name} ({node.kind}) registered at "
                             f"{node.address}:{node.port}", node=node.name)
        self._connect(node)
        return node

    def _check_node_address(self, address: str) -> None:
        nets = self.config.node_networks
        if nets is None:
            return
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            ip = None
        if ip is None or not any(ip in n for n in nets):
            allowed = ", ".join(str(n) for n in nets)
            raise InvalidRequest(f"node address {address!r} is outside the management networks",
                                 errors=[FieldError("/address", f"must be an IP address in {allowed}")])

    async def remove_node(self, name: str) -> None:
        self.get_node(name)
        users = sorted(s.id for s in self.store.list_slices() if name in s.nodes())
        if users:
            raise InUse(f"node {name!r} carries slices {', '.join(users)}; remove it from them first",
                        extra={"slices": users},
                        errors=[FieldError("name", f"used by slice {u!r}") for u in users])
        conn = self.connections.pop(name, None)
        if conn:
            await conn.stop()
        self.store.delete_node(name)
        self._lte_cache.pop(name, None)
        self.store.add_event("node.removed", f"node {name} removed", node=name)

    async def wait_connected(self, names: list[str], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(self.connection_state(n) == "connected" for n in names):
                return True
            await asyncio.sleep(0.05)
        return False

    # -- slices --------------------------------------------------------------

    def slice_state(self, s: Slice) -> str:
        if any(self.connection_state(n) != "connected" for n in s.nodes()):
            return "degraded"
        return s.state

    def slice_view(self, s: Slice,
                   overrides: dict[tuple[str, str, str], AirtimeOverride] | None = None) -> dict[str, Any]:
        """The API's view of a slice; ``overrides`` (from :meth:`airtime_overrides`)
        saves the lookup when viewing many."""
        out = s.public()
        out["state"] = self.slice_state(s)
        out["nodes"] = [{"node": n, "connection": self.connection_state(n)}
                        for n in sorted(s.nodes())]
        if s.wifi:
            if overrides is None:
                overrides = self.airtime_overrides()
            vifs = []
            for n, r in s.wifi.radios():
                vif = vif_name(s.id, r)
                vifs.append(self._vif_view(s.wifi, n, r, vif, overrides.get((n, r, vif))))
            out["wifi"]["vifs"] = vifs
        return out

    @staticmethod
    def _vif_view(wifi: WifiPart, node: str, radio: str, vif: str,
                  override: AirtimeOverride | None) -> dict[str, Any]:
        """A slice's vif with the airtime setting in force on it: the
        slice's own, or the global scheduler's correction of it."""
        share, cap = vif_airtime(wifi, override)
        return {"node": node, "radio": radio, "vif": vif, "airtime": {
            "guaranteed_share": float(share),
            "cap": None if cap is None else float(cap),
            "set_by": "slice" if override is None else "global-scheduler"}}

    def list_slices(self, tenant: str | None = None) -> list[Slice]:
        return [s for s in self.store.list_slices() if tenant is None or s.tenant == tenant]

    def get_slice(self, slice_id: str) -> Slice:
        s = self.store.get_slice(slice_id)
        if s is None:
            raise NotFound(f"no slice with id {slice_id!r}")
        return s

    async def create_slice(self, doc: dict[str, Any]) -> tuple[Slice, TransactionResult]:
        slice_id = doc.get("id") or f"{doc['tenant'][:40]}-{secrets.token_hex(4)}"
        async with self._intent_lock:
            if self.store.get_slice(slice_id):
                raise AlreadyExists(f"slice {slice_id!r} already exists",
                                    errors=[FieldError("/id", "already exists")])
            candidate = slice_from_request(doc, slice_id)
            candidate = admit(candidate, self.store.list_slices(), _by_name(self.store.list_nodes()))
            others = self.store.list_slices()
            desired = self._render_for(candidate.nodes(), [*others, candidate])
            tx = await self._transact(desired, f"create slice {slice_id}", slice_id)
            stored = self.store.put_slice(
                candidate.with_status(state="active", last_transaction=tx.to_dict()),
                expected_version=None)
            self.store.add_event("slice.created", f"slice {slice_id} of tenant {stored.tenant} "
                                 f"created on {', '.join(sorted(stored.nodes()))}",
                                 slice=slice_id, details={"transaction": tx.to_dict()})
            return stored, tx

    async def update_slice(self, slice_id: str, doc: dict[str, Any],
                           if_match: str | None) -> tuple[Slice, TransactionResult]:
        async with self._intent_lock:
            current = self.get_slice(slice_id)
            self._check_etag(current, if_match)
            if doc.get("id") not in (None, slice_id):
                raise InvalidRequest("the id of a slice cannot change",
                                     errors=[FieldError("/id", "must equal the slice's id")])
            if doc["tenant"] != current.tenant:
                raise InvalidRequest("the tenant of a slice cannot change",
                                     errors=[FieldError("/tenant", f"is {current.tenant!r}")])
            candidate = slice_from_request(doc, slice_id, previous=current)
            others = [s for s in self.store.list_slices() if s.id != slice_id]
            candidate = admit(candidate, others, _by_name(self.store.list_nodes()))
            desired = self._render_for(current.nodes() | candidate.nodes(), [*others, candidate])
            try:
                tx = await self._transact(desired, f"modify slice {slice_id}", slice_id)
            except ProvisioningFailed as e:
                self.store.set_slice_status(slice_id, current.state, e.extra.get("transaction"))
                raise
            stored = self.store.put_slice(
                candidate.with_status(state="active", created_at=current.created_at,
                                      last_transaction=tx.to_dict()),
                expected_version=current.version)
            self.store.add_event("slice.updated", f"slice {slice_id} modified (version "
                                 f"{stored.version})", slice=slice_id,
                                 details={"transaction": tx.to_dict()})
            return stored, tx

    async def delete_slice(self, slice_id: str, if_match: str | None,
                           force: bool = False) -> TransactionResult:
        """Remove a slice from its nodes, all-or-nothing, then forget it.

        With ``force`` the slice is forgotten even when some of its nodes
        are unreachable: the reachable ones are cleaned now (all-or-nothing
        among them), the others when they reconnect and are reconciled.
        """
        async with self._intent_lock:
            current = self.get_slice(slice_id)
            self._check_etag(current, if_match)
            others = [s for s in self.store.list_slices() if s.id != slice_id]
            names = current.nodes()
            if force:
                names = {n for n in names if self.connection_state(n) == "connected"}
            desired = self._render_for(names, others)
            tx = await self._transact(desired, f"delete slice {slice_id}", slice_id)
            self.store.delete_slice(slice_id)
            self._prune_overrides()
            self.store.add_event("slice.deleted", f"slice {slice_id} deleted", slice=slice_id,
                                 details={"transaction": tx.to_dict(), "force": force})
            return tx

    def _check_etag(self, s: Slice, if_match: str | None) -> None:
        if if_match is None or if_match.strip() == "*":
            return
        tags = [t.strip().removeprefix("W/") for t in if_match.split(",")]
        if s.etag() not in tags:
            raise PreconditionFailed(
                f"slice {s.id} is at version {s.version} ({s.etag()}); the request was made "
                f"against {if_match}. Read it again and retry.",
                errors=[FieldError("If-Match", f"stale; current ETag is {s.etag()}")])

    async def _transact(self, desired: dict[str, DesiredConfig], what: str,
                        slice_id: str | None) -> TransactionResult:
        tx = await self.provisioner.apply(desired)
        self.metrics.provisioning_seconds.labels("ok" if tx.ok else "failed").observe(tx.duration)
        if tx.ok:
            for name, d in desired.items():
                if d.kind == "lte":  # keep the PLMN manager's view current
                    asyncio.create_task(self._read_cell(name))
            return tx
        self.store.add_event("provisioning.failed", f"{what} failed, nothing changed: {tx.reason}",
                             severity="error", slice=slice_id, details={"transaction": tx.to_dict()})
        cls = NodeUnavailable if any(n.outcome == "unreachable" for n in tx.nodes) else ProvisioningFailed
        raise cls(f"{what}: {tx.reason}", extra={"transaction": tx.to_dict()},
                  errors=[FieldError(f"node:{n.node}", f"{n.outcome}: {n.error}")
                          for n in tx.nodes if n.error])

    # -- events --------------------------------------------------------------

    def events(self, **query: Any) -> list[Event]:
        return self.store.events(**query)

    # -- LTE slice/PLMN manager -------------------------------------------

    async def _read_cell(self, name: str) -> dict[str, Any] | None:
        conn = self.connections.get(name)
        session = conn.usable_session() if conn else None
        if session is None:
            return None
        try:
            running = self.models.xml_to_json(await session.get_config("running", LTE_CONFIG_FILTER))
            state = self.models.xml_to_json(await session.get(LTE_STATE_FILTER))
        except NetconfError as e:
            log.info("cell %s: reading state failed: %s", name, e)
            return None
        view = cell_view(name, running, state)
        self._lte_cache[name] = view
        return view

    async def lte_cells(self) -> list[dict[str, Any]]:
        cells = [n for n in self.store.list_nodes() if n.kind == "lte"]
        views = await asyncio.gather(*(self._read_cell(c.name) for c in cells))
        out = []
        for c, v in zip(cells, views):
            v = v or self._lte_cache.get(c.name) or cell_view(c.name, None, None)
            out.append({**v, "connection": self.connection_state(c.name), "live": v is not None})
        return out

    async def slice_lte_status(self, slice_id: str) -> list[dict[str, Any]]:
        s = self.get_slice(slice_id)
        if not s.lte:
            raise NotFound(f"slice {slice_id!r} has no LTE part")
        views = dict(zip(s.lte.cells, await asyncio.gather(*(self._read_cell(c) for c in s.lte.cells))))
        return slice_cell_status(s, views)

    # -- interfaces for the global airtime scheduler ---------------------

    def vif_map(self) -> list[dict[str, Any]]:
        """Every vif the slices put on the network, with the slice's share."""
        out = []
        for s in self.store.list_slices():
            if not s.wifi:
                continue
            for node, radio in s.wifi.radios():
                out.append({"node": node, "radio": radio, "vif": vif_name(s.id, radio),
                            "slice": s.id, "tenant": s.tenant,
                            "guaranteed_share": s.wifi.guaranteed_share, "cap": s.wifi.cap})
        return out

    async def read_operational_state(self, nodes: list[str] | None = None) -> dict[str, NodeState]:
        """The config-false tree of each connected node (RFC 7951 JSON).

        Nodes that are not connected, or whose read fails, are present with
        ``state`` None and the reason in ``error``.
        """
        names = nodes if nodes is not None else sorted(self.connections)

        async def one(name: str) -> NodeState:
            conn = self.connections.get(name)
            kind = conn.kind if conn else "unknown"
            session = conn.usable_session() if conn else None
            if session is None:
                return NodeState(name, kind, None, f"node is {self.connection_state(name)}")
            try:
                xml = await session.get(WIFI_STATE_FILTER if kind == "wifi" else LTE_STATE_FILTER)
                return NodeState(name, kind, self.models.xml_to_json(xml))
            except NetconfError as e:
                return NodeState(name, kind, None, str(e))

        return {s.node: s for s in await asyncio.gather(*(one(n) for n in names))}

    async def apply_airtime(self, settings: list[AirtimeSetting]) -> TransactionResult:
        """Apply per-vif airtime overrides all-or-nothing and keep them.

        Each setting names a vif the slices put on a node (see
        :meth:`vif_map`).  The resulting configuration of every touched
        radio must still satisfy the model (shares sum to at most 100 %).
        Raises :class:`InvalidRequest`, :class:`NodeUnavailable` or
        :class:`ProvisioningFailed`; on failure nothing is changed or kept.
        """
        async with self._intent_lock:
            known = {(v["node"], v["radio"], v["vif"]) for v in self.vif_map()}
            errs = [FieldError(f"/{i}", f"no vif {o.vif} on {o.node}/{o.radio}")
                    for i, o in enumerate(settings) if (o.node, o.radio, o.vif) not in known]
            if errs:
                raise InvalidRequest("unknown vifs in airtime settings", errors=errs)
            merged = self.airtime_overrides()
            for o in settings:
                merged[(o.node, o.radio, o.vif)] = o
            desired = self._render_for({o.node for o in settings}, self.store.list_slices(),
                                       list(merged.values()))
            tx = await self._transact(desired, "apply airtime settings", None)
            self.store.put_airtime_overrides(settings)
            return tx

    async def clear_airtime(self) -> TransactionResult:
        """Drop every override: vifs return to their slices' shares and caps."""
        async with self._intent_lock:
            touched = {o.node for o in self.store.airtime_overrides()}
            desired = self._render_for(touched, self.store.list_slices(), [])
            tx = await self._transact(desired, "clear airtime settings", None)
            self.store.clear_airtime_overrides()
            return tx

    def _prune_overrides(self) -> None:
        known = {(v["node"], v["radio"], v["vif"]) for v in self.vif_map()}
        stale = [o for o in self.store.airtime_overrides() if (o.node, o.radio, o.vif) not in known]
        if stale:
            keep = [o for o in self.store.airtime_overrides() if (o.node, o.radio, o.vif) in known]
            self.store.clear_airtime_overrides()
            self.store.put_airtime_overrides(keep)

    # -- SLA (filled by the global scheduler) -------------------------------

    def sla(self, slice_id: str | None = None) -> list[dict[str, Any]]:
        if slice_id is not None:
            self.get_slice(slice_id)
        return self.airtime.sla(slice_id, iso=_iso)

    def airtime_status(self) -> dict[str, Any]:
        return self.airtime.status(iso=_iso)

    def set_airtime_policy(self, name: str) -> None:
        self.airtime.set_policy(name)


def _natural(name: str) -> list[Any]:
    """Sort key putting wifi-2 before wifi-10."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


def _by_name(nodes: list[Node]) -> dict[str, Node]:
    return {n.name: n for n in nodes}


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    from datetime import datetime, timezone
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# -- the ransdn-controller command ---------------------------------------------

def parse_listen(value: str) -> tuple[str, int]:
    m = re.fullmatch(r"\[?([^\]]*?)\]?:(\d+)", value)
    if not m:
        raise argparse.ArgumentTypeError("expected HOST:PORT")
    return m.group(1) or "127.0.0.1", int(m.group(2))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ransdn-controller",
        description="Run the ransdn controller: REST API on --listen, SQLite store in --db, "
                    "NETCONF sessions to every registered node.")
    p.add_argument("--listen", type=parse_listen, default=("127.0.0.1", 8080),
                   metavar="HOST:PORT", help="where the REST API listens (default 127.0.0.1:8080)")
    p.add_argument("--db", type=Path, default=default_data_dir() / "ransdn.db",
                   help="SQLite database (default: $XDG_DATA_HOME/ransdn/ransdn.db)")
    p.add_argument("--data-dir", type=Path, help="where the client key lives (default: the db's directory)")
    p.add_argument("--client-key", type=Path,
                   help="SSH private key for nodes (default: DATA_DIR/controller_ed25519, created if absent)")
    p.add_argument("--token", default=os.environ.get("RANSDN_TOKEN"),
                   help="require 'Authorization: Bearer TOKEN' on the API (env RANSDN_TOKEN)")
    p.add_argument("--reconcile-interval", type=float, default=30.0, metavar="SECONDS")
    p.add_argument("--keepalive-interval", type=float, default=10.0, metavar="SECONDS")
    p.add_argument("--backoff-cap", type=float, default=30.0, metavar="SECONDS")
    p.add_argument("--confirm-timeout", type=int, default=60, metavar="SECONDS",
                   help="confirmed-commit timeout: nodes roll back by themselves after it")
    p.add_argument("--node-networks", metavar="CIDR[,CIDR...]",
                   type=lambda v: tuple(ipaddress.ip_network(x.strip()) for x in v.split(",")),
                   help="only accept nodes whose address is an IP in these networks")
    p.add_argument("--airtime-period", type=float, default=2.0, metavar="SECONDS",
                   help="run the global airtime scheduler every SECONDS (default 2; 0 turns it off)")
    p.add_argument("--airtime-policy", default="contention-aware", choices=PolicyRegistry().names(),
                   help="global airtime policy (default contention-aware); switchable at run time "
                        "through the API")
    p.add_argument("--airtime-min-delta", type=float, default=0.5, metavar="POINTS",
                   help="do not push airtime settings that moved by less than this (default 0.5)")
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    return p


def main(argv: list[str] | None = None) -> int:
    from aiohttp import web

    from ransdn.api.app import create_app

    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("ncclient").setLevel(logging.WARNING)
    logging.getLogger("paramiko").setLevel(logging.WARNING)
    config = ControllerConfig(db=args.db, data_dir=args.data_dir, client_key=args.client_key,
                              reconcile_interval=args.reconcile_interval,
                              keepalive_interval=args.keepalive_interval,
                              backoff_cap=args.backoff_cap, confirm_timeout=args.confirm_timeout,
                              node_networks=args.node_networks,
                              airtime=AirtimeConfig(period=args.airtime_period or None,
                                                    policy=args.airtime_policy,
                                                    min_delta=args.airtime_min_delta))

    async def run() -> None:
        controller = Controller(config)
        app = create_app(controller, token=args.token)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        host, port = args.listen
        site = web.TCPSite(runner, host, port)
        await site.start()
        await controller.start()
        bound = site._server.sockets[0].getsockname() if site._server else (host, port)  # type: ignore[union-attr]
        # One line on stdout so scripts that start us on port 0 learn the port.
        print(f"ransdn-controller listening on http://{bound[0]}:{bound[1]}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await runner.cleanup()
        await controller.stop()

    asyncio.run(run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
