"""The ``ransdn-wifi:wifi-node`` configuration as value objects, for every
Wi-Fi backend.

Parsed from the RFC 7951 tree the agent hands to ``Backend.apply``, with
the YANG defaults filled in (the agent may pass trees with or without
them).  Airtime shares stay exact decimals (``Decimal("30.5")``); backends
convert them to their own units (the kernel module's basis points, the
simulator's floats).  A PSK is normalised to lower-case hex, so that two
spellings of one key compare equal.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from agent.backends.base import JsonTree
from agent.backends.rfc7951 import to_int

WIFI_NODE = "ransdn-wifi:wifi-node"


def bss_address(radio_mac: str, slot: int) -> str:
    """The BSSID of a radio's ``slot``-th vif: the radio's address with
    ``slot`` added to its last octet (how mac80211 drivers hand out vif
    addresses)."""
    octets = bytes.fromhex(radio_mac.replace(":", ""))
    return ":".join(f"{o:02x}" for o in (*octets[:5], (octets[5] + slot) & 0xFF))


def basis_points(value: Any) -> int:
    """A percentage ("30.5", or a Decimal) in hundredths of a percent (3050)."""
    return int(Decimal(str(value)) * 100)


def psk_sha256(psk: str) -> str:
    """SHA-256 over the 32 key octets (so upper- and lower-case hex agree):
    what ``psk-sha256`` reports instead of the key."""
    return hashlib.sha256(bytes.fromhex(psk)).hexdigest()


@dataclass(frozen=True)
class SchedulerConfig:
    """A radio's local airtime scheduler parameters."""

    interval_us: int = 100_000
    inflight_budget_us: int = 4_000
    overhead_model: str = "dcf"


@dataclass(frozen=True)
class VifConfig:
    name: str
    ssid: str
    tenant: str
    slice_id: str | None
    vlan: int | None
    enabled: bool
    security_mode: str
    psk: str | None                 #: 64 lower-case hex digits; None for an open vif
    guaranteed_share: Decimal       #: percent
    cap: Decimal | None             #: percent; None: no cap

    @property
    def share_bp(self) -> int:
        """The guarantee in basis points (10000 = 100 %)."""
        return basis_points(self.guaranteed_share)

    @property
    def cap_bp(self) -> int | None:
        return None if self.cap is None else basis_points(self.cap)

    def association_key(self) -> tuple:
        """What a station's association depends on: change it and they drop."""
        return (self.ssid, self.security_mode, self.psk)

    def airtime_key(self) -> tuple:
        """What the airtime scheduler alone enforces."""
        return (self.guaranteed_share, self.cap)


@dataclass(frozen=True)
class RadioConfig:
    name: str
    band: str
    channel: int
    channel_width: str
    tx_power: int | None
    scheduler: SchedulerConfig
    vifs: tuple[VifConfig, ...]

    def vif(self, name: str) -> VifConfig | None:
        return next((v for v in self.vifs if v.name == name), None)

    def active_vifs(self) -> tuple[VifConfig, ...]:
        return tuple(v for v in self.vifs if v.enabled)


def _percent(value: Any) -> Decimal:
    return Decimal(str(value))


def parse_wifi_node(tree: JsonTree) -> dict[str, RadioConfig]:
    """Radios by name from a validated config tree; empty when it holds no
    ``wifi-node``."""
    node = tree.get(WIFI_NODE) or {}
    radios: dict[str, RadioConfig] = {}
    for r in node.get("radio", []):
        sched = r.get("scheduler") or {}
        radios[r["name"]] = RadioConfig(
            name=r["name"],
            band=r["band"],
            channel=int(r["channel"]),
            channel_width=r.get("channel-width", "20mhz"),
            tx_power=int(r["tx-power"]) if "tx-power" in r else None,
            scheduler=SchedulerConfig(
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
    psk = security.get("psk") if mode == "wpa2-psk" else None
    return VifConfig(
        name=v["name"],
        ssid=v["ssid"],
        tenant=v["tenant"],
        slice_id=v.get("slice-id"),
        vlan=int(v["vlan"]) if "vlan" in v else None,
        enabled=bool(v.get("enabled", True)),
        security_mode=mode,
        psk=psk.lower() if psk else None,
        guaranteed_share=_percent(airtime.get("guaranteed-share", "0")),
        cap=_percent(airtime["cap"]) if "cap" in airtime else None,
    )
