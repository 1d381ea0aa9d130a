"""Airtime over a time window, two ways: the module's own accounting and,
independently, the frames each station received times the channel time
of one frame at the rate the station was pinned to."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Sequence

from agent.backends.linux.airtime_netlink import AirtimeNetlink, VifState
from testbed.kernel.airtime_model import frame_airtime_us
from testbed.kernel.setup import Slice
from testbed.kernel.traffic import rx_sample
from testbed.kernel.wifi import Station


@dataclass(frozen=True)
class Window:
    seconds: float
    module_us: dict[str, float]        #: airtime the module charged, per vif
    independent_us: dict[str, float]   #: received frames x frame airtime, per vif
    rx_bits: dict[str, float]          #: octets received x 8, per vif
    #: time each vif had frames queued, per the module
    backlogged_us: dict[str, float] = field(default_factory=dict)

    @staticmethod
    def _shares(values: dict[str, float]) -> dict[str, float]:
        total = sum(values.values())
        return {k: (v / total if total else 0.0) for k, v in values.items()}

    def module_shares(self) -> dict[str, float]:
        return self._shares(self.module_us)

    def independent_shares(self) -> dict[str, float]:
        return self._shares(self.independent_us)

    def module_busy(self) -> dict[str, float]:
        """Fraction of wall time each vif's charged airtime covers."""
        return {k: v / (self.seconds * 1e6) for k, v in self.module_us.items()}

    def independent_busy(self) -> dict[str, float]:
        return {k: v / (self.seconds * 1e6) for k, v in self.independent_us.items()}

    def backlogged(self) -> dict[str, float]:
        """Fraction of the window each vif had frames queued: a vif that
        ran dry lends its airtime, so its share says nothing of its
        guarantee."""
        return {k: v / (self.seconds * 1e6) for k, v in self.backlogged_us.items()}

    def throughput_mbps(self) -> dict[str, float]:
        return {k: v / self.seconds / 1e6 for k, v in self.rx_bits.items()}

    def as_dict(self) -> dict:
        return {
            "seconds": self.seconds,
            "module_us": self.module_us,
            "independent_us": self.independent_us,
            "module_shares": self.module_shares(),
            "independent_shares": self.independent_shares(),
            "module_busy": self.module_busy(),
            "independent_busy": self.independent_busy(),
            "throughput_mbps": self.throughput_mbps(),
        }


@dataclass(frozen=True)
class Snapshot:
    t: float
    vifs: dict[str, VifState]
    rx_packets: dict[int, int]
    rx_bytes: dict[int, int]


class Meter:
    """Takes module and station snapshots as close together as possible."""

    def __init__(self, nl: AirtimeNetlink, slices: Sequence[Slice],
                 stations: Sequence[Station]) -> None:
        self.nl = nl
        self.slices = list(slices)
        self.stations = list(stations)

    async def snapshot(self) -> Snapshot:
        vifs = {v.ifname: v for v in await self.nl.vifs()}
        rx = rx_sample(self.stations)
        return Snapshot(t=time.monotonic(), vifs=vifs, rx_packets=rx.packets, rx_bytes=rx.bytes)

    def between(self, a: Snapshot, b: Snapshot) -> Window:
        module, independent, bits, backlogged = {}, {}, {}, {}
        for s, st in zip(self.slices, self.stations):
            if s.vif in a.vifs and s.vif in b.vifs:
                module[s.vif] = float(b.vifs[s.vif].measured_us - a.vifs[s.vif].measured_us)
                backlogged[s.vif] = float(b.vifs[s.vif].backlogged_us - a.vifs[s.vif].backlogged_us)
            packets = b.rx_packets[st.radio] - a.rx_packets[st.radio]
            octets = b.rx_bytes[st.radio] - a.rx_bytes[st.radio]
            frame = round(octets / packets) if packets else 0
            independent[s.vif] = packets * frame_airtime_us(frame, s.rate_mbps * 1000) if packets else 0.0
            bits[s.vif] = octets * 8.0
        return Window(seconds=b.t - a.t, module_us=module, independent_us=independent, rx_bits=bits,
                      backlogged_us=backlogged)

    async def window(self, seconds: float) -> Window:
        a = await self.snapshot()
        await asyncio.sleep(seconds)
        b = await self.snapshot()
        return self.between(a, b)
