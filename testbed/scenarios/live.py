"""Run a scenario against a live controller and agent farm.

The controller sees the city only through NETCONF, as it would a real one:
this driver registers the farm's nodes through the REST API, creates one
slice per tenant, and then plays the world's part over NETCONF with the
``ransdn-sim`` RPCs (stations associate, traffic starts and stops) while the
controller's global airtime scheduler runs its control periods.  SLA
figures are read back through the REST API, period by period.

``ransdn scenario run NAME`` starts a controller and a farm and runs this;
the end-to-end tests use it against processes they start.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree
from ncclient import manager

from ransdn.cli.client import ApiClient
from testbed.city import City
from testbed.medium.model import TrafficSpec

from . import Scenario

SIM_NS = "urn:ransdn:params:xml:ns:yang:ransdn-sim"


class LiveError(RuntimeError):
    """The controller or the farm did not do what the scenario needs."""


@dataclass(frozen=True)
class PeriodSla:
    """The SLA the controller reported after one of its control periods."""

    period: int
    policy: str
    items: list[dict[str, Any]]

    def achieved(self, slice_id: str) -> float:
        return sum(float(e["achieved"]) for e in self.items if e["slice"] == slice_id)

    def state(self, slice_id: str) -> str:
        states = {e["state"] for e in self.items if e["slice"] == slice_id}
        return "violated" if "violated" in states else "ok"


def slice_id(tenant: str) -> str:
    return f"slice-{tenant.lower()}"


class LiveRun:
    def __init__(
        self,
        scenario: Scenario,
        api: ApiClient,
        inventory: list[dict[str, Any]],
        key: Path,
        *,
        username: str = "tester",
    ) -> None:
        self.scenario = scenario
        self.city: City = scenario.build()
        self.api = api
        self.agents = {a["name"]: a for a in inventory}
        self.key = key
        self.username = username
        self._sessions: dict[str, Any] = {}
        #: (node, radio, tenant) -> vif name, as the controller named it.
        self.vif_names: dict[tuple[str, str, str], str] = {}

    # -- NETCONF to the agents (the world's side) ---------------------------------

    def _session(self, node: str) -> Any:
        m = self._sessions.get(node)
        if m is None or not m.connected:
            a = self.agents[node]
            # Loopback test bed: the agents' host keys are in the inventory
            # and were pinned by the controller; this side only plays
            # stations and traffic.
            m = manager.connect(host=a["address"], port=a["port"], username=self.username,
                                key_filename=str(self.key), hostkey_verify=False,
                                allow_agent=False, look_for_keys=False, timeout=30)
            self._sessions[node] = m
        return m

    def _rpc(self, node: str, name: str, **leaves: Any) -> None:
        rpc = etree.Element(f"{{{SIM_NS}}}{name}")
        for leaf, value in leaves.items():
            etree.SubElement(rpc, f"{{{SIM_NS}}}{leaf.replace('_', '-')}").text = str(value)
        self._session(node).dispatch(rpc)

    def close(self) -> None:
        for m in self._sessions.values():
            try:
                m.close_session()
            except Exception:  # noqa: BLE001 - closing what may already be gone
                pass
        self._sessions.clear()

    # -- set-up through the controller's API ------------------------------------

    def register(self, timeout: float = 60.0) -> None:
        nodes = sorted({r.node for r in self.city.radios})
        for name in nodes:
            a = self.agents[name]
            self.api.request("POST", "/api/v1/nodes", {
                "name": name, "kind": "wifi", "address": a["address"], "port": a["port"],
                "host_key": a["host_key_fingerprint"]})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            states = {n["name"]: n["connection"]["state"] for n in self.api.get("/api/v1/nodes")["items"]}
            if all(states.get(n) == "connected" for n in nodes):
                return
            time.sleep(0.2)
        raise LiveError(f"nodes did not connect in {timeout:.0f} s: {states}")

    def create_slices(self) -> None:
        for tenant in self.city.tenants:
            placement: dict[str, list[str]] = {}
            for v in self.city.vifs:
                if v.tenant == tenant.name:
                    placement.setdefault(v.node, []).append(v.radio)
            if not placement:
                continue
            sid = slice_id(tenant.name)
            self.api.request("POST", "/api/v1/slices", {
                "id": sid, "tenant": tenant.name,
                "wifi": {"ssid": tenant.ssid, "security": {"mode": "open"},
                         "guaranteed_share": tenant.share,
                         "nodes": [{"node": n, "radios": sorted(r)} for n, r in sorted(placement.items())]}})
            view = self.api.get(f"/api/v1/slices/{sid}")
            for v in view["wifi"]["vifs"]:
                self.vif_names[(v["node"], v["radio"], tenant.name)] = v["vif"]

    def start_world(self) -> None:
        """Stations associate and every vif gets its initial traffic."""
        for v in self.city.vifs:
            ssid = self.city.tenant(v.tenant).ssid
            for s in v.stations:
                self._rpc(v.node, "station-attach", radio=v.radio, ssid=ssid, mac_address=s.mac,
                          tx_bitrate=s.tx_bitrate_kbps)
            self.set_traffic(v.node, v.radio, v.tenant, v.traffic)

    def set_traffic(self, node: str, radio: str, tenant: str, traffic: TrafficSpec) -> None:
        leaves: dict[str, Any] = {"radio": radio, "vif": self.vif_names[(node, radio, tenant)],
                                  "pattern": traffic.pattern}
        if traffic.pattern in ("constant", "poisson"):
            leaves["rate"] = traffic.rate_kbps
        if traffic.pattern == "on-off":
            leaves["on_time"], leaves["off_time"] = traffic.on_ms, traffic.off_ms
        self._rpc(node, "set-traffic", **leaves)

    def setup(self) -> None:
        self.register()
        self.create_slices()
        self.start_world()

    # -- running -------------------------------------------------------------------

    def periods_run(self) -> int:
        return int(self.api.get("/api/v1/airtime")["periods_run"])

    def wait_period(self, after: int, timeout: float = 30.0) -> PeriodSla:
        """The SLA once the controller has finished a period after ``after``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.api.get("/api/v1/airtime")
            if status["periods_run"] > after:
                return PeriodSla(status["periods_run"], status["policy"], self.api.get("/api/v1/sla")["items"])
            time.sleep(0.05)
        raise LiveError(f"the controller ran no control period in {timeout:.0f} s")

    def run(self, periods: int | None = None, on_period: Callable[[int, PeriodSla], None] | None = None
            ) -> list[PeriodSla]:
        """Play the scenario's timeline: scenario period ``k`` is the k-th
        control period after this call; its traffic changes are made as it
        starts."""
        total = self.scenario.periods if periods is None else periods
        seen = self.periods_run()
        out = []
        tenant_of = {(v.node, v.radio, v.vif): v.tenant for v in self.city.vifs}
        for k in range(1, total + 1):
            for change in self.scenario.changes:
                if change.period == k:
                    tenant = tenant_of[(change.node, change.radio, change.vif)]
                    self.set_traffic(change.node, change.radio, tenant, change.traffic)
            sample = self.wait_period(seen)
            seen = sample.period
            out.append(sample)
            if on_period is not None:
                on_period(k, sample)
        return out
