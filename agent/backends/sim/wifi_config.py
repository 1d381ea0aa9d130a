"""The ``ransdn-wifi:wifi-node`` configuration as value objects."""

from __future__ import annotations

from dataclasses import dataclass

from agent.backends.base import JsonTree
from agent.backends.sim.rfc7951 import to_float, to_int
from testbed.medium.model import SchedulerSpec

WIFI_NODE = "ransdn-wifi:wifi-node"


@dataclass(frozen=True)
class VifConfig:
    name: str
    ssid: str
    tenant: str
    slice_id: str | None
    vlan: int | None
    enabled: bool
    security_mode: str
    psk: str | None
    guaranteed_share: float
    cap: float | None

    def association_key(self) -> tuple:
        """What a station's association depends on: change it and they drop."""
        return (self.ssid, self.security_mode, self.psk)


@dataclass(frozen=True)
class RadioConfig:
    name: str
    band: str
    channel: int
    channel_width: str
    tx_power: int | None
    scheduler: SchedulerSpec
    vifs: tuple[VifConfig, ...]

    def vif(self, name: str) -> VifConfig | None:
        return next((v for v in self.vifs if v.name == name), None)


def parse_wifi_config(tree: JsonTree) -> dict[str, RadioConfig]:
    """Radios by name from a validated config tree (empty when absent).

    Defaults are applied here because the agent may hand over trees with
    or without them.
    """
    node = tree.get(WIFI_NODE) or {}
    radios: dict[str, RadioConfig] = {}
    for r in node.get("radio", []):
        sched = r.get("scheduler") or {}
        radios[r["name"]] = RadioConfig(
            name=r["name"],
            band=r["band"],
            channel=to_int(r["channel"]),
            channel_width=r.get("channel-width", "20mhz"),
            tx_power=to_int(r["tx-power"]) if "tx-power" in r else None,
            scheduler=SchedulerSpec(
                interval_us=to_int(sched.get("interval"), 100_000),
                inflight_budget_us=to_int(sched.get("inflight-budget"), 4_000),
                overhead_model=sched.get("overhead-model", "dcf"),
            ),
            vifs=tuple(_vif(v) for v in r.get("vif", [])),
        )
    return radios


def _vif(v: JsonTree) -> VifConfig:
    security = v.get("security") or {}
    airtime = v.get("airtime") or {}
    mode = security.get("mode", "open")
    return VifConfig(
        name=v["name"],
        ssid=v["ssid"],
        tenant=v["tenant"],
        slice_id=v.get("slice-id"),
        vlan=to_int(v["vlan"]) if "vlan" in v else None,
        enabled=bool(v.get("enabled", True)),
        security_mode=mode,
        psk=security.get("psk") if mode == "wpa2-psk" else None,
        guaranteed_share=to_float(airtime.get("guaranteed-share"), 0.0),
        cap=to_float(airtime["cap"]) if "cap" in airtime else None,
    )
