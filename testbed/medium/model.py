"""The interface between simulated nodes and the shared medium.

The agent's sim backend owns the NETCONF-facing bookkeeping of a node
(which vifs and stations exist, notifications).  The medium owns physics:
who hears whom, how co-channel radios share channel time, which frames
each radio's local airtime scheduler (the kernel module's core library)
lets out, and therefore every traffic, airtime and survey counter.

One medium instance may serve one agent (standalone) or every agent of an
agent farm hosted in the same process (a shared city), which is how
co-channel contention between nodes arises.

Units: airtime in microseconds, bitrates in kbit/s, shares in percent,
positions in metres.  Counters are cumulative since the radio was added.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

TrafficPattern = Literal["idle", "saturating", "constant", "on-off", "poisson"]
OverheadModel = Literal["none", "dcf"]


@dataclass(frozen=True)
class RadioSpec:
    """A radio as it physically exists: where it is and its address."""

    node_id: str
    radio: str
    mac: str
    band: str
    channel: int
    position: tuple[float, float] = (0.0, 0.0)


@dataclass(frozen=True)
class SchedulerSpec:
    """Parameters of a radio's local airtime scheduler."""

    interval_us: int = 100_000
    inflight_budget_us: int = 4_000
    overhead_model: OverheadModel = "dcf"


@dataclass(frozen=True)
class VifSpec:
    """A configured vif, as the local scheduler sees it."""

    name: str
    bssid: str
    ssid: str
    tenant: str
    guaranteed_share: float
    cap: float | None = None
    enabled: bool = True


@dataclass(frozen=True)
class StationSpec:
    """A station associated to a vif, with the bitrate the AP uses to it."""

    mac: str
    vif: str
    tx_bitrate_kbps: int = 54_000
    signal_dbm: int = -50


@dataclass(frozen=True)
class TrafficSpec:
    """Downstream demand of one vif."""

    pattern: TrafficPattern = "idle"
    rate_kbps: int = 0
    on_ms: int = 1000
    off_ms: int = 1000


@dataclass(frozen=True)
class VifCounters:
    estimated_us: int = 0
    measured_us: int = 0
    borrowed_us: int = 0
    credit_us: int = 0
    congestion_factor: float = 1.0
    throttled_us: int = 0
    backlogged_us: int = 0
    tx_packets: int = 0
    tx_bytes: int = 0
    tx_drops: int = 0
    backlog_packets: int = 0
    backlog_bytes: int = 0
    source: Literal["tx-status", "estimate"] = "estimate"


@dataclass(frozen=True)
class StationCounters:
    mac: str
    vif: str
    tx_bitrate_kbps: int
    signal_dbm: int
    frame_airtime_estimate_us: int = 0
    tx_airtime_us: int = 0
    tx_packets: int = 0
    tx_bytes: int = 0


@dataclass(frozen=True)
class Neighbour:
    """A BSS of another radio that this radio hears."""

    bssid: str
    ssid: str
    channel: int
    signal_dbm: int


@dataclass(frozen=True)
class Survey:
    channel_time_us: int = 0
    busy_time_us: int = 0
    tx_time_us: int = 0
    rx_time_us: int = 0


@dataclass(frozen=True)
class RadioSnapshot:
    """Everything the medium knows about one radio, at one instant."""

    radio: str
    channel: int
    survey: Survey
    inflight_us: int = 0
    vifs: dict[str, VifCounters] = field(default_factory=dict)
    stations: dict[str, StationCounters] = field(default_factory=dict)
    neighbours: tuple[Neighbour, ...] = ()


class Medium(Protocol):
    """What the sim backend may ask of the medium.

    Every method is a coroutine so that an implementation may run the
    medium elsewhere; an unknown node/radio/vif raises ``KeyError``.
    """

    async def add_radio(self, spec: RadioSpec) -> None: ...

    async def remove_radio(self, node_id: str, radio: str) -> None: ...

    async def set_channel(self, node_id: str, radio: str, band: str, channel: int) -> None: ...

    async def set_scheduler(self, node_id: str, radio: str, spec: SchedulerSpec) -> None: ...

    async def set_vifs(self, node_id: str, radio: str, vifs: list[VifSpec]) -> None:
        """Replace the radio's vifs.  Counters of vifs that remain are kept."""

    async def attach_station(self, node_id: str, radio: str, station: StationSpec) -> None: ...

    async def detach_station(self, node_id: str, radio: str, mac: str) -> None: ...

    async def set_traffic(self, node_id: str, radio: str, vif: str, traffic: TrafficSpec) -> None: ...

    async def snapshot(self, node_id: str) -> dict[str, RadioSnapshot]:
        """Counters and neighbours of every radio of the node."""
