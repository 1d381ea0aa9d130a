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
from typing import Any, Awaitable, Callable, Hashable, Mapping, TypeVar

from agent.backends.base import JsonTree, StateSelection
from agent.backends.linux import state
from agent.backends.linux.airtime import AirtimeLink
from agent.backends.linux.wireless import PhyInfo, VifInfo, Wireless, WirelessError
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


K = TypeVar("K", bound=Hashable)


async def _gather(jobs: Mapping[K, Awaitable[Any]]) -> dict[K, Any]:
    values = await asyncio.gather(*jobs.values())
    return dict(zip(jobs, values))


class StateReader:
    def __init__(self, wireless: Wireless, airtime: AirtimeLink, hostapd_status: HostapdStatus) -> None:
        self.wireless = wireless
        self.airtime = airtime
        self.hostapd_status = hostapd_status

    async def read(self, node_id: str, running: Mapping[str, RadioConfig],
                   selection: StateSelection) -> JsonTree:
        w = self.wireless
        reads = reads_for(selection)
        # A phy moved to another network namespace meanwhile is not ours.
        macs = {p: mac for p in w.phy_names() if (mac := w.phy_mac(p)) is not None}
        phys = list(macs)
        configured = [v for r in running.values() for v in r.vifs]
        live = {v.name: w.netdev_address(v.name) or "" for v in configured
                if v.enabled and w.phy_of(v.name) is not None}
        rx = {name: (w.netdev_counter(name, "rx_bytes"), w.netdev_counter(name, "rx_packets"))
              for name in live}

        # Everything that does not depend on another read goes at once.
        first: dict[Hashable, Awaitable[Any]] = {}
        if reads.airtime:
            first["airtime"] = self.airtime.snapshot()
        if reads.channels:
            first["iw"] = w.all_vifs()
        if reads.phy_info:
            first.update({("phy", p): self._phy_info(p) for p in phys})
        if reads.stations:
            first.update({("stations", name): w.stations(name) for name in live})
        if reads.hostapd:
            first.update({("hostapd", name): self.hostapd_status(name) for name in live})
        if reads.survey:
            # The survey is the phy's: any of its running vifs will do.
            for radio in running.values():
                on = next((v.name for v in radio.vifs if v.name in live), None)
                if on is not None:
                    first[("survey", radio.name)] = w.survey(on)
        got = await _gather(first)

        snapshot = got.get("airtime")
        interfaces = got.get("iw")
        infos = [got[("phy", p)] for p in phys] if reads.phy_info else None
        if infos is not None:
            phys = [p for p, info in zip(phys, infos) if info is not None]
        channels = self._channels(running, live, interfaces) if interfaces is not None else None

        # Then what the first reads tell is needed: the stations of vifs the
        # module does not count, the survey of radios nobody configured.
        then: dict[Hashable, Awaitable[Any]] = {}
        if reads.counters and not reads.stations:
            then.update({("stations", name): w.stations(name) for name in live
                         if name not in snapshot.vifs})
        if reads.survey:
            then.update({("survey", radio): w.survey(info.ifname)
                         for radio, info in (channels or {}).items() if radio not in running})
        got.update(await _gather(then))

        stations, statuses, surveys = (
            {key[1]: value for key, value in got.items() if isinstance(key, tuple) and key[0] == kind}
            for kind in ("stations", "hostapd", "survey"))

        seen = state.Observed(
            phy_macs=macs,
            live=live,
            rx=rx,
            phy_info={i.name: i for i in infos if i is not None} if infos is not None else None,
            channels=channels,
            airtime=snapshot,
            hostapd=statuses if reads.hostapd else None,
            stations=stations,
            all_stations=reads.stations,
            surveys=surveys if reads.survey else None,
        )
        radios = [state.radio_state(p, running.get(p), seen) for p in phys]
        return {"ransdn-wifi:wifi-node-state": {"node-id": node_id, "radio": radios}}

    async def _phy_info(self, phy: str) -> PhyInfo | None:
        """What the phy can do; None if it went away while being asked."""
        try:
            return await self.wireless.phy_info(phy)
        except WirelessError:
            if self.wireless.phy_mac(phy) is not None:
                raise
            return None

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
