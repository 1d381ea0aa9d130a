"""Run a scenario against a live controller and agent farm.

The controller sees the city only through NETCONF, as it would a real one.
A run plays two parts:

- the operator's, through the controller's REST API: register the farm's
  nodes (:func:`register_nodes`), create one slice per tenant, and read the
  SLA back period by period (:func:`wait_period`);
- the world's, through the agents' ``ransdn-sim`` RPCs
  (:class:`~.world.CityWorld`): stations associate, traffic starts and
  stops, while the controller's global airtime scheduler runs its control
  periods.

``ransdn scenario run NAME`` starts a controller and a farm and runs this;
the end-to-end tests use it against processes they start; ``ransdn demo``
uses the same two parts on its own city.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ransdn.cli.client import ApiClient
from testbed.city import City
from testbed.medium.model import TrafficSpec

from . import Scenario
from .world import CityWorld, SimWorld


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

    def entry(self, slice_id: str, radios: Iterable[str]) -> dict[str, Any] | None:
        """The slice's record in the domain of exactly these radios
        (``node/radio``), if there is one."""
        wanted = sorted(radios)
        return next((e for e in self.items if e["slice"] == slice_id and sorted(e["radios"]) == wanted), None)


def slice_id(tenant: str) -> str:
    return f"slice-{tenant.lower()}"


def register_nodes(api: ApiClient, inventory: Iterable[dict[str, Any]], timeout: float = 60.0,
                   stop: threading.Event | None = None) -> list[str]:
    """Register every agent of ``inventory`` (its kind, address, port and
    pinned host key) and wait until the controller is connected to all of
    them.  Returns their names."""
    agents = list(inventory)
    for a in agents:
        api.request("POST", "/api/v1/nodes", {
            "name": a["name"], "kind": a["kind"], "address": a["address"], "port": a["port"],
            "host_key": a["host_key_fingerprint"]})
    names = [a["name"] for a in agents]
    states: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = {n["name"]: n["connection"]["state"] for n in api.get("/api/v1/nodes")["items"]}
        if all(states.get(n) == "connected" for n in names):
            return names
        pause(0.1, stop)
    waiting = {n: states.get(n) for n in names if states.get(n) != "connected"}
    raise LiveError(f"nodes did not connect in {timeout:.0f} s: {waiting}")


def wait_period(api: ApiClient, after: int, timeout: float = 30.0,
                stop: threading.Event | None = None) -> PeriodSla:
    """The SLA once the controller has finished a control period after
    period ``after``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = api.get("/api/v1/airtime")
        if status["periods_run"] > after:
            return PeriodSla(status["periods_run"], status["policy"], api.get("/api/v1/sla")["items"])
        pause(0.05, stop)
    raise LiveError(f"the controller ran no control period in {timeout:.0f} s")


class Stopped(Exception):
    """The caller asked a wait to give up (``stop`` was set)."""


def pause(seconds: float, stop: threading.Event | None) -> None:
    """Sleep, or raise :class:`Stopped` as soon as ``stop`` is set."""
    if stop is None:
        time.sleep(seconds)
    elif stop.wait(seconds):
        raise Stopped


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
        self.inventory = inventory
        self.world = CityWorld(self.city, SimWorld(inventory, key, username=username))

    def close(self) -> None:
        self.world.world.close()

    # -- set-up through the controller's API ------------------------------------

    def register(self, timeout: float = 60.0) -> None:
        nodes = {r.node for r in self.city.radios} | {c.name for c in self.city.cells}
        register_nodes(self.api, [a for a in self.inventory if a["name"] in nodes], timeout)

    def create_slices(self) -> None:
        for tenant in self.city.tenants:
            placement: dict[str, list[str]] = {}
            for v in self.city.vifs:
                if v.tenant == tenant.name:
                    placement.setdefault(v.node, []).append(v.radio)
            if not placement:
                continue
            self.api.request("POST", "/api/v1/slices", {
                "id": slice_id(tenant.name), "tenant": tenant.name,
                "wifi": {"ssid": tenant.ssid, "security": {"mode": "open"},
                         "guaranteed_share": tenant.share,
                         "nodes": [{"node": n, "radios": sorted(r)} for n, r in sorted(placement.items())]}})

    def start_world(self) -> None:
        """Stations associate and every vif gets its initial traffic."""
        self.world.start()

    def set_traffic(self, node: str, radio: str, tenant: str, traffic: TrafficSpec) -> None:
        self.world.set_traffic(node, radio, tenant, traffic)

    def setup(self) -> None:
        self.register()
        self.create_slices()
        self.start_world()

    # -- running -------------------------------------------------------------------

    def periods_run(self) -> int:
        return int(self.api.get("/api/v1/airtime")["periods_run"])

    def wait_period(self, after: int, timeout: float = 30.0) -> PeriodSla:
        """The SLA once the controller has finished a period after ``after``."""
        return wait_period(self.api, after, timeout)

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
