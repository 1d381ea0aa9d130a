"""The world's side of a simulated city: stations associate, traffic starts
and stops, UEs attach, all through the sim agents' ``ransdn-sim`` NETCONF
RPCs.

This is what radio waves and subscribers do to a real network, so it lives
in the test bed, never in the controller: the controller sees its effects
only as the nodes' operational state (airtime per vif, stations, S1, UE
counts) over its own NETCONF sessions.  It needs no controller either: the
vif a station joined is what the agent answers to ``station-attach``, so a
city can be played against any set of sim agents.

:class:`SimWorld` is the RPCs, one NETCONF session per node (ncclient,
blocking: call it from a thread when an event loop must keep running);
:class:`CityWorld` plays a :class:`~testbed.city.City` through it.  The
scenario driver (:mod:`.live`) and ``ransdn demo`` both use these.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree
from ncclient import manager
from ncclient.operations import RPCError

from testbed.city import City, CityUe
from testbed.medium.model import TrafficSpec

SIM_NS = "urn:ransdn:params:xml:ns:yang:ransdn-sim"


class WorldError(RuntimeError):
    """A sim agent refused what the world asked of it; the message says
    which node and why."""


@dataclass(frozen=True)
class UeAttach:
    """The outcome of one UE's attach, as the cell answered it."""

    imsi: str
    cell: str
    result: str
    slice: str | None = None
    cause: str | None = None

    @property
    def accepted(self) -> bool:
        return self.result == "accepted"


class SimWorld:
    """``ransdn-sim`` RPCs to the agents of an inventory (the farm's
    ``inventory.json`` entries: name, address, port)."""

    def __init__(self, inventory: Iterable[dict[str, Any]], key: Path, *, username: str = "world") -> None:
        self.agents = {a["name"]: a for a in inventory}
        self.key = key
        self.username = username
        self._sessions: dict[str, Any] = {}

    def _session(self, node: str) -> Any:
        m = self._sessions.get(node)
        if m is None or not m.connected:
            try:
                a = self.agents[node]
            except KeyError:
                raise WorldError(f"node {node} is not in the inventory") from None
            # Loopback test bed: the agents' host keys are in the inventory
            # and were pinned by the controller; this side only plays
            # stations, traffic and UEs.
            m = manager.connect(host=a["address"], port=a["port"], username=self.username,
                                key_filename=str(self.key), hostkey_verify=False,
                                allow_agent=False, look_for_keys=False, timeout=30)
            self._sessions[node] = m
        return m

    def connect(self, nodes: Iterable[str]) -> None:
        """Open the sessions to ``nodes`` side by side (each SSH handshake
        waits mostly on the agent), rather than one by one on first use."""
        todo = sorted(set(nodes))
        with ThreadPoolExecutor(max_workers=min(8, len(todo) or 1), thread_name_prefix="sim-world") as pool:
            for _ in pool.map(self._session, todo):
                pass

    def rpc(self, node: str, name: str, **leaves: Any) -> dict[str, str]:
        """Call RPC ``name`` with ``leaves`` (underscores become dashes; a
        dict value is a container).  Returns the output leaves."""
        rpc = etree.Element(f"{{{SIM_NS}}}{name}")
        _fill(rpc, leaves)
        try:
            reply = self._session(node).dispatch(rpc)
        except RPCError as exc:
            raise WorldError(f"{node}: {name} refused: {exc.message or exc}") from None
        root = etree.fromstring(reply.xml.encode())
        return {etree.QName(e).localname: (e.text or "") for e in root if etree.QName(e).namespace == SIM_NS}

    def close(self) -> None:
        for m in self._sessions.values():
            try:
                m.close_session()
            except Exception:  # noqa: BLE001 - closing what may already be gone
                pass
        self._sessions.clear()

    def __enter__(self) -> "SimWorld":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- Wi-Fi -------------------------------------------------------------------

    def station_attach(self, node: str, radio: str, ssid: str, mac: str, tx_bitrate_kbps: int = 54_000) -> str:
        """Associate a station with the vif broadcasting ``ssid``; returns
        that vif's name."""
        out = self.rpc(node, "station-attach", radio=radio, ssid=ssid, mac_address=mac,
                       tx_bitrate=tx_bitrate_kbps)
        return out["vif"]

    def station_detach(self, node: str, mac: str) -> None:
        self.rpc(node, "station-detach", mac_address=mac)

    def set_traffic(self, node: str, radio: str, vif: str, traffic: TrafficSpec) -> None:
        leaves: dict[str, Any] = {"radio": radio, "vif": vif, "pattern": traffic.pattern}
        if traffic.pattern in ("constant", "poisson"):
            leaves["rate"] = traffic.rate_kbps
        if traffic.pattern == "on-off":
            leaves["on_time"], leaves["off_time"] = traffic.on_ms, traffic.off_ms
        self.rpc(node, "set-traffic", **leaves)

    # -- LTE -----------------------------------------------------------------------

    def ue_attach(self, cell: str, imsi: str, plmn: tuple[str, str] | None = None) -> UeAttach:
        leaves: dict[str, Any] = {"imsi": imsi}
        if plmn is not None:
            leaves["plmn"] = {"mcc": plmn[0], "mnc": plmn[1]}
        out = self.rpc(cell, "ue-attach", **leaves)
        return UeAttach(imsi, cell, out.get("result", ""), out.get("slice"), out.get("cause"))

    def set_mme_reachable(self, cell: str, address: str, reachable: bool, port: int = 36412) -> None:
        self.rpc(cell, "set-mme-reachable", address=address, port=port, reachable=str(reachable).lower())


def _fill(parent: Any, leaves: dict[str, Any]) -> None:
    for leaf, value in leaves.items():
        child = etree.SubElement(parent, f"{{{SIM_NS}}}{leaf.replace('_', '-')}")
        if isinstance(value, dict):
            _fill(child, value)
        else:
            child.text = str(value)


@dataclass(frozen=True)
class WorldStarted:
    """What :meth:`CityWorld.start` did."""

    stations: int
    #: Vifs given a traffic pattern other than idle.
    busy_vifs: int


class CityWorld:
    """A :class:`City`'s stations, traffic and UEs, played through a
    :class:`SimWorld`.  The city's tenants name SSIDs: whoever configured
    the network (the controller, from its slices) must have put a vif with
    that SSID on each radio where the city has the tenant's stations."""

    def __init__(self, city: City, world: SimWorld) -> None:
        self.city = city
        self.world = world
        #: (node, radio, tenant) -> the vif the tenant's stations joined.
        self.vifs: dict[tuple[str, str, str], str] = {}

    def start(self) -> WorldStarted:
        """Every station associates, then every vif gets its traffic."""
        self.world.connect(v.node for v in self.city.vifs if v.stations or v.traffic.pattern != "idle")
        stations = busy = 0
        for v in self.city.vifs:
            ssid = self.city.tenant(v.tenant).ssid
            for s in v.stations:
                self.vifs[(v.node, v.radio, v.tenant)] = self.world.station_attach(
                    v.node, v.radio, ssid, s.mac, s.tx_bitrate_kbps)
                stations += 1
        for v in self.city.vifs:
            if v.traffic.pattern != "idle" or (v.node, v.radio, v.tenant) in self.vifs:
                self.set_traffic(v.node, v.radio, v.tenant, v.traffic)
                busy += v.traffic.pattern != "idle"
        return WorldStarted(stations, busy)

    def set_traffic(self, node: str, radio: str, tenant: str, traffic: TrafficSpec) -> None:
        """The demand of ``tenant``'s vif on ``node``/``radio`` becomes
        ``traffic``."""
        vif = self.vifs.get((node, radio, tenant))
        if vif is None:
            raise WorldError(f"no station of tenant {tenant} is associated on {node}/{radio}, "
                             "so there is no vif to send traffic through")
        self.world.set_traffic(node, radio, vif, traffic)

    def attach_ues(self, ues: Iterable[CityUe] | None = None) -> list[UeAttach]:
        """The city's UEs (or ``ues``) attach; each outcome as the cell
        answered it.  Attach only once the cells' S1 links are up: before
        that a cell rightly refuses every UE."""
        ues = list(self.city.ues if ues is None else ues)
        self.world.connect(u.cell for u in ues)
        return [self.world.ue_attach(u.cell, u.imsi, u.plmn_id())
                for u in ues]
