"""The scenario every kernel test starts from.

One hwsim AP radio (phy0, 2.4 GHz channel 1, OFDM-only rates) with three
BSSes, one per tenant slice, the airtime qdisc on each vif, and one
station per SSID in its own namespace with a pinned legacy rate, plus the
wan namespace that feeds downstream traffic.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from agent.backends.linux.hostapd_config import BssConfig, HostapdRadio
from testbed.kernel.shell import run
from testbed.kernel.traffic import setup_wan
from testbed.kernel.wifi import (
    AccessPoint,
    Station,
    add_station,
    hwsim_mac,
    load_hwsim,
    pin_legacy_rate,
)

CHANNEL = 1
PSK = "8f4a1f9b36e5d0c2a7b1e4f6d9c3a2b5e8f1d4c7a0b3e6f9c2d5a8b1e4f7c0d3"


@dataclass(frozen=True)
class Slice:
    vif: str
    ssid: str
    psk: str | None
    rate_mbps: int
    subnet: int              #: 10.0.<subnet>.0/24

    @property
    def ap_ip(self) -> str:
        return f"10.0.{self.subnet}.1"

    @property
    def sta_ip(self) -> str:
        return f"10.0.{self.subnet}.2"


SLICES = (
    Slice("wlan0", "tenant-a", None, 54, 1),
    Slice("wlan0_1", "tenant-b", PSK, 24, 2),
    Slice("wlan0_2", "tenant-c", None, 6, 3),
)

RADIO = HostapdRadio(phy="phy0", band="2.4ghz", channel=CHANNEL, legacy_ofdm_only=True)


@dataclass
class Bed:
    ap: AccessPoint | None
    stations: list[Station]


async def load_module(module: Path) -> None:
    """insmod the airtime module (mac80211, which it needs, is loaded first)."""
    await run("modprobe", "mac80211")
    await run("insmod", str(module))


async def attach_qdisc(vif: str) -> None:
    await run("tc", "qdisc", "replace", "dev", vif, "root", "airtime")


async def build(module: Path | None, *, attach: bool = True,
                slices: tuple[Slice, ...] = SLICES) -> Bed:
    """Bring up the AP, stations and wan; load ``module`` first if given."""
    await load_hwsim(1 + len(slices))
    if module is not None:
        await load_module(module)
    ap = AccessPoint(workdir=Path("/run/ransdn-ap"), radio=RADIO)
    await ap.start()
    for i, s in enumerate(slices):
        bssid = hwsim_mac(0)[:-2] + f"{i:02x}"
        await ap.add_bss(BssConfig(ifname=s.vif, ssid=s.ssid, psk=s.psk, bssid=bssid))
        if attach:
            await attach_qdisc(s.vif)
    return Bed(ap=ap, stations=await connect_stations(slices))


async def connect_stations(slices: tuple[Slice, ...]) -> list[Station]:
    """For BSSes already up on phy0: one station per slice on radios 1..n,
    the AP vifs addressed and pinned to their rates, and the wan namespace."""
    stations = []
    for radio, s in enumerate(slices, start=1):
        await run("ip", "addr", "add", f"{s.ap_ip}/24", "dev", s.vif)
        stations.append(await add_station(radio, s.ssid, s.psk, CHANNEL, s.sta_ip, s.ap_ip))
        await pin_legacy_rate(s.vif, s.rate_mbps)
    await setup_wan(["10.0.0.0/16"])
    return stations
