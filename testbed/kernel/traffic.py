"""Downstream UDP from a "wan" namespace, routed through the AP to stations.

Traffic enters the AP over a veth pair from another namespace, as it
would from an uplink: the frames reaching the vif qdiscs are forwarded
(no socket owns them), so the airtime module can follow each one to its
completion.  iperf3 paces the UDP; the receivers' interface counters
give what was delivered.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from testbed.kernel.shell import Netns, run, spawn, stop
from testbed.kernel.wifi import Station

WAN = Netns("wan")
WAN_IP = "10.99.0.2"
WAN_GW = "10.99.0.1"
#: UDP payload per datagram; an Ethernet frame of 1400 + 8 + 20 + 14 octets.
PAYLOAD = 1400
FRAME_BYTES = PAYLOAD + 8 + 20 + 14


async def setup_wan(routes: list[str]) -> None:
    """Create the wan namespace and route ``routes`` (CIDRs) through the AP."""
    await run("ip", "netns", "add", WAN.name)
    await run("ip", "link", "add", "wanh", "type", "veth", "peer", "name", "wan0",
              "netns", WAN.name)
    await run("ip", "addr", "add", f"{WAN_GW}/24", "dev", "wanh")
    await run("ip", "link", "set", "wanh", "up")
    await run("ip", "link", "set", "lo", "up", netns=WAN)
    await run("ip", "addr", "add", f"{WAN_IP}/24", "dev", "wan0", netns=WAN)
    await run("ip", "link", "set", "wan0", "up", netns=WAN)
    for cidr in routes:
        await run("ip", "route", "add", cidr, "via", WAN_GW, netns=WAN)
    await run("sysctl", "-qw", "net.ipv4.ip_forward=1")


@dataclass
class UdpFlow:
    """iperf3 UDP from the wan namespace to one station."""

    station: Station
    rate_bps: int
    port: int
    server: asyncio.subprocess.Process | None = None
    client: asyncio.subprocess.Process | None = None
    log_dir: str = "/run"

    async def start_server(self) -> None:
        self.server = await spawn("iperf3", "-s", "-p", str(self.port),
                                  netns=self.station.netns,
                                  log=f"{self.log_dir}/iperf3-s-{self.port}.log")
        await asyncio.sleep(0.3)

    async def start(self) -> None:
        if self.server is None:
            await self.start_server()
        for _ in range(5):
            self.client = await spawn(
                "iperf3", "-c", self.station.ip, "-p", str(self.port), "-u",
                "-b", str(self.rate_bps), "-l", str(PAYLOAD), "-t", "86400",
                netns=WAN, log=f"{self.log_dir}/iperf3-c-{self.port}.log")
            await asyncio.sleep(0.5)
            if self.client.returncode is None:
                return
        raise RuntimeError(f"iperf3 to {self.station.ip} does not start")

    async def stop(self) -> None:
        if self.client is not None:
            await stop(self.client)
            self.client = None

    async def close(self) -> None:
        await self.stop()
        if self.server is not None:
            await stop(self.server)
            self.server = None


@dataclass(frozen=True)
class RxSample:
    t: float
    packets: dict[int, int] = field(default_factory=dict)
    bytes: dict[int, int] = field(default_factory=dict)


async def rx_sample(stations: list[Station]) -> RxSample:
    """Received packets and bytes of each station (by radio), now."""
    loop = asyncio.get_running_loop()
    pk, by = {}, {}
    for st in stations:
        out = await run("cat", f"/sys/class/net/{st.ifname}/statistics/rx_packets",
                        f"/sys/class/net/{st.ifname}/statistics/rx_bytes", netns=st.netns)
        p, b = out.split()
        pk[st.radio], by[st.radio] = int(p), int(b)
    return RxSample(t=loop.time(), packets=pk, bytes=by)


