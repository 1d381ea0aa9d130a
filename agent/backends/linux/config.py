"""The ``ransdn-wifi:wifi-node`` configuration the linux backend applies.

Parsed from the RFC 7951 tree into value objects with the YANG defaults
filled in; shares become basis points (the kernel module's unit).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from agent.backends.base import JsonTree

WIFI_NODE = "ransdn-wifi:wifi-node"


def basis_points(value: Any) -> int:
    """A decimal64 percentage ("30.5") in hundredths of a percent (3050)."""
    return int(Decimal(str(value)) * 100)


def psk_sha256(psk: str) -> str:
    """SHA-256 over the 32 key octets (so upper- and lower-case hex agree)."""
    return hashlib.sha256(bytes.fromhex(psk)).hexdigest()


@dataclass(frozen=True)
class VifConf:
    name: str
    ssid: str
    tenant: str
    slice_id: str | None
    vlan: int | None
    enabled: bool
    psk: str | None              #: WPA2-PSK key in hex; None for an open vif
    share: int                   #: guaranteed, basis points
    cap: int | None              #: basis points; None: no cap

    def bss_key(self) -> tuple:
        """What hostapd needs to know: a change means re-creating the BSS."""
        return (self.ssid, self.psk.lower() if self.psk else None, self.vlan)


@dataclass(frozen=True)
class SchedulerConf:
    interval_us: int = 100_000
    inflight_budget_us: int = 4_000
    overhead: str = "dcf"


@dataclass(frozen=True)
class RadioConf:
    name: str
    band: str
    channel: int
    width: str
    tx_power: int | None
    scheduler: SchedulerConf
    vifs: tuple[VifConf, ...]

    def radio_key(self) -> tuple:
        """Radio-level hostapd settings: a change means restarting all BSSes."""
        return (self.band, self.channel, self.width)

    def active_vifs(self) -> tuple[VifConf, ...]:
        return tuple(v for v in self.vifs if v.enabled)

    def vif(self, name: str) -> VifConf | None:
        return next((v for v in self.vifs if v.name == name), None)


def parse_wifi_node(tree: JsonTree) -> dict[str, RadioConf]:
    """Radios by name; an empty dict when the tree holds no wifi-node."""
    node = tree.get(WIFI_NODE) or {}
    radios: dict[str, RadioConf] = {}
    for r in node.get("radio", []):
        sched = r.get("scheduler") or {}
        radios[r["name"]] = RadioConf(
            name=r["name"],
            band=r["band"],
            channel=int(r["channel"]),
            width=r.get("channel-width", "20mhz"),
            tx_power=int(r["tx-power"]) if "tx-power" in r else None,
            scheduler=SchedulerConf(
                interval_us=int(sched.get("interval", 100_000)),
                inflight_budget_us=int(sched.get("inflight-budget", 4_000)),
                overhead=sched.get("overhead-model", "dcf"),
            ),
            vifs=tuple(_vif(v) for v in r.get("vif", [])),
        )
    return radios


def _vif(v: JsonTree) -> VifConf:
    security = v.get("security") or {}
    airtime = v.get("airtime") or {}
    mode = security.get("mode", "open")
    return VifConf(
        name=v["name"],
        ssid=v["ssid"],
        tenant=v["tenant"],
        slice_id=v.get("slice-id"),
        vlan=int(v["vlan"]) if "vlan" in v else None,
        enabled=bool(v.get("enabled", True)),
        psk=security.get("psk") if mode == "wpa2-psk" else None,
        share=basis_points(airtime.get("guaranteed-share", "0")),
        cap=basis_points(airtime["cap"]) if "cap" in airtime else None,
    )
