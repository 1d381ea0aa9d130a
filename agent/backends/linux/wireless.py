"""What the radios and vifs are doing, read through ``iw`` and sysfs.

``iw``'s output is stable enough to parse for the few facts needed here
(channel, stations, survey); the parsers are pure functions with unit
tests on captured output.  What sysfs tells (which interfaces exist, on
which phy, their addresses and counters) is read there: it costs no
process.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Awaitable, Callable

from agent.backends.linux.actions import record

SYS_NET = Path("/sys/class/net")
SYS_PHY = Path("/sys/class/ieee80211")


class WirelessError(RuntimeError):
    """An iw/ip/tc command failed."""


async def command(*argv: str, timeout: float = 15) -> str:
    """Run a command; return its output, raise WirelessError on failure."""
    record(" ".join(argv))
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )
    except FileNotFoundError:
        raise WirelessError(f"{argv[0]} is not installed") from None
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except asyncio.TimeoutError:
        proc.kill()
        await proc.wait()
        raise WirelessError(f"{' '.join(argv)} timed out") from None
    text = out.decode("utf-8", "replace")
    if proc.returncode != 0:
        raise WirelessError(f"{' '.join(argv)}: {text.strip() or f'exit {proc.returncode}'}")
    return text


@dataclass(frozen=True)
class PhyInfo:
    name: str
    mac: str
    #: Enabled frequencies (MHz) by channel number, per band.
    channels: dict[str, dict[int, int]] = field(default_factory=dict)
    max_ap_vifs: int = 1


@dataclass(frozen=True)
class VifInfo:
    ifname: str
    mac: str
    iftype: str
    ssid: str | None
    channel: int | None
    frequency: int | None
    width_mhz: int | None


@dataclass(frozen=True)
class StationInfo:
    mac: str
    ifname: str
    rx_bytes: int = 0
    rx_packets: int = 0
    tx_bytes: int = 0
    tx_packets: int = 0
    signal_dbm: int | None = None
    tx_bitrate_kbps: int | None = None
    rx_bitrate_kbps: int | None = None
    connected_s: int | None = None


@dataclass(frozen=True)
class Survey:
    frequency: int
    active_ms: int | None = None
    busy_ms: int | None = None
    rx_ms: int | None = None
    tx_ms: int | None = None


def band_of_frequency(mhz: int) -> str:
    if mhz < 3000:
        return "2.4ghz"
    if mhz < 5925:
        return "5ghz"
    return "6ghz"


def parse_phy_info(name: str, mac: str, text: str) -> PhyInfo:
    channels: dict[str, dict[int, int]] = {}
    for m in re.finditer(r"\*\s+(\d+)(?:\.\d+)?\s+MHz\s+\[(\d+)\](.*)", text):
        if "disabled" in m.group(3):
            continue
        freq, chan = int(m.group(1)), int(m.group(2))
        channels.setdefault(band_of_frequency(freq), {})[chan] = freq
    max_ap = 1
    for m in re.finditer(r"#\{([^}]*)\}\s*<=\s*(\d+)", text):
        if re.search(r"\bAP\b", m.group(1)):
            max_ap = max(max_ap, int(m.group(2)))
    total = re.search(r"total\s*<=\s*(\d+)", text)
    if total:
        max_ap = min(max_ap, int(total.group(1)))
    return PhyInfo(name=name, mac=mac, channels=channels, max_ap_vifs=max_ap)


def parse_vif_info(text: str) -> VifInfo:
    def find(pattern: str) -> str | None:
        m = re.search(pattern, text, re.M)
        return m.group(1) if m else None

    chan = re.search(r"channel (\d+) \((\d+)(?:\.\d+)? MHz\), width: (\d+)", text)
    return VifInfo(
        ifname=find(r"Interface (\S+)") or "",
        mac=find(r"addr (\S+)") or "",
        iftype=find(r"type (.+)$") or "",
        ssid=find(r"^\s*ssid (.*)$"),
        channel=int(chan.group(1)) if chan else None,
        frequency=int(chan.group(2)) if chan else None,
        width_mhz=int(chan.group(3)) if chan else None,
    )


def parse_iw_dev(text: str) -> dict[str, VifInfo]:
    """Every interface ``iw dev`` lists, by name."""
    return {info.ifname: info for info in
            (parse_vif_info(block) for block in re.split(r"(?m)^(?=\s*Interface )", text))
            if info.ifname}


def _kbps(value: str) -> int:
    return int(round(float(value) * 1000))


def parse_station_dump(text: str) -> list[StationInfo]:
    stations = []
    for block in re.split(r"(?m)^(?=Station )", text):
        head = re.match(r"Station (\S+) \(on (\S+)\)", block)
        if not head:
            continue
        fields: dict[str, str] = {}
        for line in block.splitlines()[1:]:
            key, sep, value = line.strip().partition(":")
            if sep:
                fields[key.strip()] = value.strip()

        def num(key: str) -> int:
            m = re.match(r"-?\d+", fields.get(key, ""))
            return int(m.group(0)) if m else 0

        def rate(key: str) -> int | None:
            m = re.match(r"([\d.]+) MBit/s", fields.get(key, ""))
            return _kbps(m.group(1)) if m else None

        signal = re.match(r"(-?\d+)", fields.get("signal", ""))
        connected = re.match(r"(\d+) seconds", fields.get("connected time", ""))
        stations.append(StationInfo(
            mac=head.group(1), ifname=head.group(2),
            rx_bytes=num("rx bytes"), rx_packets=num("rx packets"),
            tx_bytes=num("tx bytes"), tx_packets=num("tx packets"),
            signal_dbm=int(signal.group(1)) if signal else None,
            tx_bitrate_kbps=rate("tx bitrate"), rx_bitrate_kbps=rate("rx bitrate"),
            connected_s=int(connected.group(1)) if connected else None,
        ))
    return stations


def parse_survey_dump(text: str) -> Survey | None:
    """The entry of the channel in use, if the driver reports one."""
    for block in re.split(r"(?m)^(?=Survey data from )", text):
        if "[in use]" not in block:
            continue
        freq = re.search(r"frequency:\s+(\d+)", block)

        def ms(label: str) -> int | None:
            m = re.search(label + r":\s+(\d+) ms", block)
            return int(m.group(1)) if m else None

        return Survey(
            frequency=int(freq.group(1)) if freq else 0,
            active_ms=ms("channel active time"), busy_ms=ms("channel busy time"),
            rx_ms=ms("channel receive time"), tx_ms=ms("channel transmit time"),
        )
    return None


Runner = Callable[..., Awaitable[str]]


class Wireless:
    """The radios and interfaces as ``iw``, ``ip`` and sysfs show them.

    Commands go through ``run`` (``command`` by default) and sysfs is read
    under ``sys_net`` and ``sys_phy``, so that tests can stand in canned
    outputs and a fake sysfs tree.
    """

    def __init__(self, run: Runner = command, *, sys_net: Path = SYS_NET,
                 sys_phy: Path = SYS_PHY) -> None:
        self.run = run
        self.sys_net = sys_net
        self.sys_phy = sys_phy
        #: What a phy can do does not change while it exists.
        self._phy_info: dict[str, PhyInfo] = {}

    # ---- sysfs (cheap: no process, no netlink) --------------------------------

    def phy_names(self) -> list[str]:
        names = sorted(p.name for p in self.sys_phy.iterdir()) if self.sys_phy.is_dir() else []
        self._phy_info = {n: i for n, i in self._phy_info.items() if n in names}
        return names

    def phy_mac(self, phy: str) -> str | None:
        """The phy's permanent address; None if it has gone (to another
        network namespace, say)."""
        try:
            return (self.sys_phy / phy / "macaddress").read_text().strip()
        except OSError:
            return None

    def phy_of(self, ifname: str) -> str | None:
        """The wiphy of a wireless interface; None if there is no such one."""
        try:
            return (self.sys_net / ifname / "phy80211" / "name").read_text().strip()
        except OSError:
            return None

    def netdev_exists(self, ifname: str) -> bool:
        return (self.sys_net / ifname).exists()

    def netdev_address(self, ifname: str) -> str | None:
        try:
            return (self.sys_net / ifname / "address").read_text().strip()
        except OSError:
            return None

    def netdev_counter(self, ifname: str, name: str) -> int:
        try:
            return int((self.sys_net / ifname / "statistics" / name).read_text())
        except (OSError, ValueError):
            return 0

    def bridge_port(self, bridge: str, ifname: str) -> bool:
        return (self.sys_net / bridge / "brif" / ifname).exists()

    # ---- iw ------------------------------------------------------------------------

    async def phy_info(self, name: str) -> PhyInfo:
        if name not in self._phy_info:
            text = await self.run("iw", "phy", name, "info")
            mac = self.phy_mac(name)
            if mac is None:
                raise WirelessError(f"{name} has gone")
            self._phy_info[name] = parse_phy_info(name, mac, text)
        return self._phy_info[name]

    async def all_vifs(self) -> dict[str, VifInfo]:
        return parse_iw_dev(await self.run("iw", "dev"))

    async def stations(self, ifname: str) -> list[StationInfo]:
        return parse_station_dump(await self.run("iw", "dev", ifname, "station", "dump"))

    async def survey(self, ifname: str) -> Survey | None:
        try:
            return parse_survey_dump(await self.run("iw", "dev", ifname, "survey", "dump"))
        except WirelessError:
            return None
