"""Downstream UDP from a "wan" namespace, routed through the AP to stations.

Traffic enters the AP over a veth pair from another namespace, as it
would from an uplink: the frames reaching the vif qdiscs are forwarded
(no socket owns them), so the airtime module can follow each one to its
completion.  iperf3 paces the UDP; the receivers' interface counters
give what was delivered.
"""

from __future__ import annotations

import asyncio
import time
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
    with open("/proc/sys/net/ipv4/ip_forward", "w") as f:
        f.write("1")


@dataclass
class UdpFlow:
    """iperf3 UDP from the wan namespace to one station.

    Each start runs a fresh server and client pair on a fresh port: an
    iperf3 server takes a while to notice a killed client and refuses new
    tests until it does.
    """

    station: Station
    rate_bps: int
    base_port: int
    starts: int = 0
    server: asyncio.subprocess.Process | None = None
    client: asyncio.subprocess.Process | None = None
    log_dir: str = "/run"

    @property
    def port(self) -> int:
        return self.base_port + self.starts

    @property
    def client_log(self) -> str:
        return f"{self.log_dir}/iperf3-c-{self.port}.log"

    async def start(self, timeout: float = 10) -> None:
        await self.stop()
        self.starts += 1
        # Traffic generators yield to the control plane, as an AP's
        # forwarding path (softirq) would: nice does not slow the qdisc.
        self.server = await spawn("nice", "-n", "19", "iperf3", "-s", "-1", "-p", str(self.port),
                                  netns=self.station.netns,
                                  log=f"{self.log_dir}/iperf3-s-{self.port}.log")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            with open(self.client_log, "w"):
                pass
            self.client = await spawn(
                "nice", "-n", "19", "iperf3", "-c", self.station.ip, "-p", str(self.port), "-u",
                "-b", str(self.rate_bps), "-l", str(PAYLOAD), "-t", "86400",
                "--connect-timeout", "2000", "--forceflush", netns=WAN, log=self.client_log)
            while loop.time() < deadline and self.client.returncode is None:
                with open(self.client_log) as f:
                    if " connected to " in f.read():
                        return
                await asyncio.sleep(0.1)
            await stop(self.client)
            await asyncio.sleep(0.3)
        raise RuntimeError(f"iperf3 to {self.station.ip}:{self.port} does not start")

    async def stop(self) -> None:
        for proc in (self.client, self.server):
            if proc is not None:
                await stop(proc)
        self.client = self.server = None

    async def close(self) -> None:
        await self.stop()


@dataclass(frozen=True)
class RxSample:
    """Packets and octets each station (by radio number) had received at t."""

    t: float
    packets: dict[int, int] = field(default_factory=dict)
    bytes: dict[int, int] = field(default_factory=dict)


def rx_sample(stations: list[Station]) -> RxSample:
    return RxSample(
        t=time.monotonic(),
        packets={st.radio: st.counter("rx_packets") for st in stations},
        bytes={st.radio: st.counter("rx_bytes") for st in stations},
    )
