"""A medium in which nothing is transmitted.

It records radios, vifs and stations and reports them with every counter
at zero and no neighbours.  It stands in for the shared-medium simulator
of :mod:`testbed.medium` where that is not available, so that a sim node
can run (configuration, stations, notifications) without traffic.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from testbed.medium.model import (
    RadioSnapshot,
    RadioSpec,
    SchedulerSpec,
    StationCounters,
    StationSpec,
    Survey,
    TrafficSpec,
    VifCounters,
    VifSpec,
)


@dataclass
class _Radio:
    spec: RadioSpec
    channel: int
    vifs: dict[str, VifSpec] = field(default_factory=dict)
    stations: dict[str, StationSpec] = field(default_factory=dict)


class QuietMedium:
    """Implements :class:`testbed.medium.model.Medium` without physics."""

    def __init__(self) -> None:
        self._radios: dict[tuple[str, str], _Radio] = {}

    async def add_radio(self, spec: RadioSpec) -> None:
        self._radios[(spec.node_id, spec.radio)] = _Radio(spec, spec.channel)

    async def remove_radio(self, node_id: str, radio: str) -> None:
        del self._radios[(node_id, radio)]

    async def set_channel(self, node_id: str, radio: str, band: str, channel: int) -> None:
        self._radios[(node_id, radio)].channel = channel

    async def set_scheduler(self, node_id: str, radio: str, spec: SchedulerSpec) -> None:
        self._radios[(node_id, radio)]

    async def set_vifs(self, node_id: str, radio: str, vifs: list[VifSpec]) -> None:
        r = self._radios[(node_id, radio)]
        r.vifs = {v.name: v for v in vifs}
        r.stations = {m: s for m, s in r.stations.items() if s.vif in r.vifs}

    async def attach_station(self, node_id: str, radio: str, station: StationSpec) -> None:
        r = self._radios[(node_id, radio)]
        if station.vif not in r.vifs:
            raise KeyError(station.vif)
        r.stations[station.mac] = station

    async def detach_station(self, node_id: str, radio: str, mac: str) -> None:
        del self._radios[(node_id, radio)].stations[mac]

    async def set_traffic(self, node_id: str, radio: str, vif: str, traffic: TrafficSpec) -> None:
        self._radios[(node_id, radio)].vifs[vif]

    async def snapshot(self, node_id: str) -> dict[str, RadioSnapshot]:
        return {
            name: RadioSnapshot(
                radio=name,
                channel=r.channel,
                survey=Survey(),
                vifs={v: VifCounters() for v in r.vifs},
                stations={
                    m: StationCounters(m, s.vif, s.tx_bitrate_kbps, s.signal_dbm)
                    for m, s in r.stations.items()
                },
            )
            for (node, name), r in self._radios.items()
            if node == node_id
        }
