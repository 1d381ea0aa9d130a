"""A Wi-Fi node for the linux backend's unit tests, without radios: a fake
sysfs tree, ``iw`` answering with output captured in the kernel test bed,
hostapd's STATUS and an in-memory airtime module behind the real
:class:`AirtimeLink`.  Every source counts what it is asked, so tests can
tell which reads and which changes a backend operation made.

phy0 carries three configured vifs: sl-a (open, 20 %, two stations),
sl-b (WPA2, 30 % capped at 40 %, one station) and sl-c (open, 10 %, no
airtime qdisc, so its tx counters come from its stations).  phy1 is a
station radio nobody configured.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from agent.backends.base import BackendContext
from agent.backends.linux.airtime import AirtimeLink
from agent.backends.linux.airtime_netlink import (
    AirtimeError,
    AirtimeUnavailable,
    PhyState,
    StationEstimate,
    VifState,
)
from agent.backends.linux.airtime_uapi import SHARE_FULL, Overhead, RateSource, Source
from agent.backends.linux.backend import LinuxBackend
from agent.backends.linux.wireless import Wireless, WirelessError
from agent.backends.wifi_config import parse_wifi_node
from tests.kernel.iw_captures import PHY_INFO, STATION_DUMP, SURVEY

PSK = "8f4a1f9b36e5d0c2a7b1e4f6d9c3a2b5e8f1d4c7a0b3e6f9c2d5a8b1e4f7c0d3"
NODE = "ap1"
IFINDEX = {"sl-a": 8, "sl-b": 9, "sl-c": 10}
MACS = {"phy0": "02:00:00:00:00:00", "phy1": "02:00:00:00:01:00"}
ADDRESSES = {"sl-a": "02:00:00:00:00:00", "sl-b": "02:00:00:00:00:01", "sl-c": "02:00:00:00:00:02",
             "wlan1": "02:00:00:00:01:00"}


def vif(name: str, ssid: str, share: str, **extra: object) -> dict:
    return {"name": name, "ssid": ssid, "tenant": f"t-{name}", "slice-id": f"s-{name}",
            "airtime": {"guaranteed-share": share, **extra.pop("airtime", {})}, **extra}


def config(a: str = "20", b: str = "30", c: str = "10", *, b_cap: str | None = "40",
           ssid_a: str = "city-a") -> dict:
    """The node's configuration, as libyang prints it (RFC 7951)."""
    return {"ransdn-wifi:wifi-node": {"radio": [{
        "name": "phy0", "band": "2.4ghz", "channel": 1,
        "vif": [
            vif("sl-a", ssid_a, a),
            vif("sl-b", "city-b", b, security={"mode": "wpa2-psk", "psk": PSK},
                airtime={"cap": b_cap} if b_cap is not None else {}),
            vif("sl-c", "city-c", c),
        ],
    }]}}


def _iw_dev() -> str:
    blocks = ["phy#1\n\tInterface wlan1\n\t\tifindex 3\n\t\twdev 0x100000001\n"
              "\t\taddr 02:00:00:00:01:00\n\t\ttype managed\n\t\ttxpower 0.00 dBm\n", "phy#0\n"]
    for name, ssid in (("sl-a", "city-a"), ("sl-b", "city-b"), ("sl-c", "city-c")):
        blocks.append(
            f"\tInterface {name}\n\t\tifindex {IFINDEX[name]}\n\t\twdev 0x5\n\t\taddr {ADDRESSES[name]}\n"
            f"\t\tssid {ssid}\n\t\ttype AP\n"
            "\t\tchannel 1 (2412 MHz), width: 20 MHz (no HT), center1: 2412 MHz\n"
            "\t\ttxpower 20.00 dBm\n")
    return "".join(blocks)


def _station_dumps() -> dict[str, str]:
    one, two = STATION_DUMP.split("Station 02:00:00:00:02:00")
    two = "Station 02:00:00:00:03:00" + two
    return {"sl-a": STATION_DUMP.replace("wlan0", "sl-a"), "sl-b": two.replace("wlan0", "sl-b"),
            "sl-c": one.replace("wlan0", "sl-c").replace("02:00:00:00:01:00", "02:00:00:00:04:00")}


class CannedIw:
    """``iw`` (and ``tc``) as a command runner: canned output per argv."""

    def __init__(self) -> None:
        self.outputs: dict[tuple[str, ...], str] = {("iw", "dev"): _iw_dev()}
        for phy in MACS:
            self.outputs[("iw", "phy", phy, "info")] = PHY_INFO.replace("phy0", phy)
        for name, text in _station_dumps().items():
            self.outputs[("iw", "dev", name, "station", "dump")] = text
            self.outputs[("iw", "dev", name, "survey", "dump")] = SURVEY.replace("wlan0", name)
        self.calls: list[tuple[str, ...]] = []
        #: ``tc qdisc replace dev X root ransdn_airtime`` attaches the qdisc to X.
        self.on_attach: Callable[[str], None] = lambda ifname: None

    async def __call__(self, *argv: str, timeout: float = 15) -> str:
        self.calls.append(argv)
        if argv[:3] == ("tc", "qdisc", "replace"):
            self.on_attach(argv[4])
            return ""
        try:
            return self.outputs[argv]
        except KeyError:
            raise WirelessError(f"{' '.join(argv)}: not canned") from None


def make_sysfs(root: Path) -> tuple[Path, Path]:
    net, phy = root / "net", root / "ieee80211"
    for name, mac in MACS.items():
        (phy / name).mkdir(parents=True)
        (phy / name / "macaddress").write_text(mac + "\n")
    for name, address in ADDRESSES.items():
        d = net / name
        (d / "phy80211").mkdir(parents=True)
        (d / "phy80211" / "name").write_text(("phy1" if name == "wlan1" else "phy0") + "\n")
        (d / "address").write_text(address + "\n")
        (d / "statistics").mkdir()
        (d / "statistics" / "rx_bytes").write_text(f"{100 * len(name)}\n")
        (d / "statistics" / "rx_packets").write_text(f"{len(name)}\n")
    return net, phy


def _vif_state(ifname: str, share: int, cap: int | None, n: int) -> VifState:
    return VifState(
        ifindex=IFINDEX[ifname], ifname=ifname, phy="phy0", share=share, cap=cap, queue_limit=1000,
        estimated_us=1000 * n, measured_us=1100 * n, status_us=0, borrowed_us=10 * n, credit_us=-n,
        congestion=1.1, source=Source.ESTIMATE, backlog_packets=n, backlog_bytes=1500 * n,
        tx_packets=100 * n, tx_bytes=150_000 * n, drops=n, throttled_us=5 * n, backlogged_us=7 * n,
        bypass_packets=0, status_packets=0, estimate_packets=100 * n, untracked_packets=0)


@dataclass
class FakeModule:
    """The airtime module's generic netlink family, in memory: it checks
    what the real one checks on SET_VIF (share and cap within 100 %, cap
    not below the share) and can be told to fail requests."""

    loaded: bool = True
    vifs: dict[str, VifState] = field(default_factory=lambda: {
        "sl-a": _vif_state("sl-a", 2000, None, 1), "sl-b": _vif_state("sl-b", 3000, 4000, 2)})
    #: SET_VIF requests to fail, by ifname: how many more times.
    fail: dict[str, int] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    opens: int = 0

    def connect(self) -> "FakeSocket":
        return FakeSocket(self)

    def attach(self, ifname: str) -> None:
        self.vifs.setdefault(ifname, _vif_state(ifname, 0, None, 0))

    def ifindex(self, ifname: str) -> int:
        if ifname not in IFINDEX:
            raise OSError(errno.ENODEV, f"no such device {ifname}")
        return IFINDEX[ifname]

    def shares(self) -> dict[str, tuple[int, int | None]]:
        return {n: (v.share, v.cap) for n, v in sorted(self.vifs.items())}

    def set_vif(self, ifindex: int, share: int | None, cap: int | None, no_cap: bool) -> None:
        name = next((n for n, v in self.vifs.items() if v.ifindex == ifindex), None)
        self.requests.append(f"SET_VIF {name} {share} {'none' if no_cap else cap}")
        if name is None:
            raise AirtimeError(errno.ENODEV, "no airtime qdisc on this device")
        if self.fail.get(name):
            self.fail[name] -= 1
            raise AirtimeError(errno.EIO, "the scheduler rejected this share or cap")
        v = self.vifs[name]
        new_share = v.share if share is None else share
        new_cap = None if no_cap else (v.cap if cap is None else cap)
        if new_share > SHARE_FULL or (new_cap is not None and new_cap < new_share):
            raise AirtimeError(errno.EINVAL, "the cap is below the guaranteed share")
        self.vifs[name] = replace(v, share=new_share, cap=new_cap)


class FakeSocket:
    """What :class:`AirtimeLink` uses of one AirtimeNetlink socket."""

    def __init__(self, module: FakeModule) -> None:
        self.module = module

    async def open(self) -> None:
        if not self.module.loaded:
            raise AirtimeUnavailable(errno.ENOENT, "the ransdn_airtime module is not loaded")
        self.module.opens += 1

    def close(self) -> None:
        pass

    async def phys(self) -> list[PhyState]:
        self.module.requests.append("GET_PHY dump")
        return [PhyState(name="phy0", interval_us=100_000, inflight_budget_us=4000,
                         overhead=Overhead.DCF, stall_us=50_000, inflight_us=300, inflight_packets=2,
                         num_vifs=len(self.module.vifs), intervals=42, aged_packets=0,
                         tx_status_seen=False)]

    async def vifs(self) -> list[VifState]:
        self.module.requests.append("GET_VIF dump")
        return list(self.module.vifs.values())

    async def stations(self) -> list[StationEstimate]:
        self.module.requests.append("GET_STA dump")
        return [StationEstimate(ifindex=IFINDEX["sl-a"], ifname="sl-a", mac="02:00:00:00:01:00",
                                rate_kbps=6000, rate_source=RateSource.TABLE, frame_us=2100)]

    async def set_phy(self, ifindex: int, **params: object) -> None:
        self.module.requests.append(f"SET_PHY {ifindex}")

    async def set_vif(self, ifindex: int, *, share: int | None = None, cap: int | None = None,
                      no_cap: bool = False, queue_limit: int | None = None) -> None:
        self.module.set_vif(ifindex, share, cap, no_cap)


class FakeHostapd:
    """hostapd's per-BSS STATUS, and a record of every change asked of it."""

    def __init__(self) -> None:
        self.status_calls: list[str] = []
        self.changes: list[str] = []

    async def status(self, ifname: str) -> dict[str, str]:
        self.status_calls.append(ifname)
        return {"state": "ENABLED", "phy": "phy0", "bss[0]": ifname}

    async def add_bss(self, radio: object, bss: object) -> None:
        self.changes.append(f"ADD {getattr(bss, 'ifname', bss)}")

    async def remove_bss(self, ifname: str) -> None:
        self.changes.append(f"REMOVE {ifname}")


@dataclass
class World:
    iw: CannedIw
    module: FakeModule
    hostapd: FakeHostapd
    backend: LinuxBackend

    def forget_calls(self) -> None:
        self.iw.calls.clear()
        self.module.requests.clear()
        self.hostapd.status_calls.clear()
        self.hostapd.changes.clear()


def make_world(tmp_path: Path, running: dict | None = None) -> World:
    """A linux backend on the fake node, running ``running`` (default:
    :func:`config`) as if it had applied it."""
    iw, module, hostapd = CannedIw(), FakeModule(), FakeHostapd()
    iw.on_attach = module.attach
    net, phy = make_sysfs(tmp_path / "sys")
    wireless = Wireless(iw, sys_net=net, sys_phy=phy)
    backend = LinuxBackend(BackendContext("wifi", NODE, tmp_path / "state", {}), wireless=wireless,
                           airtime=AirtimeLink(connect=module.connect, ifindex=module.ifindex, run=iw))
    backend.hostapd = hostapd  # type: ignore[assignment]
    backend.running = parse_wifi_node(running if running is not None else config())
    backend.primary = {"phy0": "sl-a"}
    return World(iw, module, hostapd, backend)
