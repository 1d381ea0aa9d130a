"""One read of a Wi-Fi node's operational state, consulting only the
sources a request needs.

The costly sources are processes (``iw dev``, one ``iw station dump`` per
vif, ``iw survey dump``), hostapd's control sockets (one STATUS per vif)
and the airtime module's dumps; sysfs (which interfaces exist, their
addresses and counters) costs next to nothing and is always read.
:func:`reads_for` maps a :class:`~agent.backends.base.StateSelection` to
the sources whose leaves it selects.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Awaitable, Callable, Mapping

from agent.backends.base import JsonTree, StateSelection
from agent.backends.linux import state
from agent.backends.linux.airtime import AirtimeLink
from agent.backends.linux.wireless import VifInfo, Wireless
from agent.backends.wifi_config import RadioConfig

RADIO = "/ransdn-wifi:wifi-node-state/radio"

#: Airtime leaves of a vif that only the module knows.
MODULE_AIRTIME = ("estimated", "measured", "source", "borrowed", "credit", "congestion-factor",
                  "throttled-time", "backlogged-time")

HostapdStatus = Callable[[str], Awaitable[dict[str, str]]]


@dataclass(frozen=True)
class Reads:
    """The sources one state read consults."""

    phy_info: bool = True    #: ``iw phy info`` (cached per phy)
    channels: bool = True    #: ``iw dev``
    airtime: bool = True     #: the module's dumps
    hostapd: bool = True     #: STATUS per live vif
    stations: bool = True    #: ``iw station dump`` per live vif
    counters: bool = True    #: station dumps of the live vifs the module does not count
    survey: bool = True      #: ``iw survey dump`` per radio


def reads_for(selection: StateSelection) -> Reads:
    def wants(*paths: str) -> bool:
        return any(selection.wants(f"{RADIO}/{p}") for p in paths)

    channel = wants("band", "channel", "channel-width", "frequency")
    counters = wants("vif/counters")
    return Reads(
        # An idle radio reports its first usable channel.
        phy_info=channel or wants("capabilities/max-vifs"),
        channels=channel or wants("survey"),
        airtime=counters or wants("capabilities/airtime-scheduler", "capabilities/tx-status",
                                  "scheduler", "station/frame-airtime-estimate",
                                  *(f"vif/airtime/{leaf}" for leaf in MODULE_AIRTIME)),
        hostapd=wants("vif/oper-status"),
        stations=wants("vif/station-count", "station"),
        counters=counters,
        survey=wants("survey"),
    )


async def _nothing() -> None:
    return None


class StateReader:
    def __init__(self, wireless: Wireless, airtime: AirtimeLink, hostapd_status: HostapdStatus) -> None:
        self.wireless = wireless
        self.airtime = airtime
        self.hostapd_status = hostapd_status

    async def read(self, node_id: str, running: Mapping[str, RadioConfig],
                   selection: StateSelection) -> JsonTree:
        w = self.wireless
        reads = reads_for(selection)
        phys = w.phy_names()
        configured = [v for r in running.values() for v in r.vifs]
        live = {v.name: w.netdev_address(v.name) or "" for v in configured
                if v.enabled and w.phy_of(v.name) is not None}
        rx = {name: (w.netdev_counter(name, "rx_bytes"), w.netdev_counter(name, "rx_packets"))
              for name in live}

        snapshot, interfaces, infos = await asyncio.gather(
            self.airtime.snapshot() if reads.airtime else _nothing(),
            w.all_vifs() if reads.channels else _nothing(),
            asyncio.gather(*(w.phy_info(p) for p in phys)) if reads.phy_info else _nothing(),
        )
        channels = self._channels(running, live, interfaces) if interfaces is not None else None

        dumped = list(live) if reads.stations else [
            name for name in live if reads.counters and name not in snapshot.vifs]
        status = list(live) if reads.hostapd else []
        surveyed = [(radio, i.ifname) for radio, i in (channels or {}).items()] if reads.survey else []
        results = await asyncio.gather(
            *(w.stations(name) for name in dumped),
            *(self.hostapd_status(name) for name in status),
            *(w.survey(ifname) for _, ifname in surveyed),
        )
        stations = dict(zip(dumped, results[:len(dumped)]))
        statuses = dict(zip(status, results[len(dumped):len(dumped) + len(status)]))
        surveys = {radio: s for (radio, _), s in zip(surveyed, results[len(dumped) + len(status):])}

        seen = state.Observed(
            phy_macs={p: w.phy_mac(p) for p in phys},
            live=live,
            rx=rx,
            phy_info=dict(zip(phys, infos)) if infos is not None else None,
            channels=channels,
            airtime=snapshot,
            hostapd=statuses if reads.hostapd else None,
            stations=stations,
            all_stations=reads.stations,
            surveys=surveys if reads.survey else None,
        )
        radios = [state.radio_state(p, running.get(p), seen) for p in phys]
        return {"ransdn-wifi:wifi-node-state": {"node-id": node_id, "radio": radios}}

    def _channels(self, running: Mapping[str, RadioConfig], live: Mapping[str, str],
                  interfaces: Mapping[str, VifInfo]) -> dict[str, VifInfo]:
        """The interface each radio takes its channel from: its first
        running vif; for a radio without configuration, any interface of
        it that is on a channel (a station, say)."""
        out: dict[str, VifInfo] = {}
        for radio in running.values():
            on = next((interfaces[v.name] for v in radio.vifs
                       if v.name in live and v.name in interfaces and interfaces[v.name].frequency),
                      None)
            if on is not None:
                out[radio.name] = on
        for ifname, info in sorted(interfaces.items()):
            phy = self.wireless.phy_of(ifname) if info.frequency else None
            if phy is not None and phy not in running and phy not in out:
                out[phy] = info
        return out
