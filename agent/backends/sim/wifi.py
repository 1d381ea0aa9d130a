"""A simulated Wi-Fi node: radios, the vifs configured on them, stations.

The node keeps the NETCONF-facing bookkeeping (which vifs exist, which
BSSID each has, which stations are associated, notifications) and
delegates everything physical to a :class:`~testbed.medium.model.Medium`:
channel time, airtime accounting, traffic counters and who hears whom.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Awaitable, Callable

from agent.backends.base import (
    EVERYTHING,
    BackendError,
    JsonTree,
    Notification,
    NotifySink,
    StateSelection,
)
from agent.backends import rfc7951 as enc
from agent.backends.sim.options import RadioHardware, SimOptions
from agent.backends.wifi_config import (
    RadioConfig,
    SchedulerConfig,
    VifConfig,
    bss_address,
    parse_wifi_node,
    psk_sha256,
)
from testbed.medium.model import (
    Medium,
    RadioSnapshot,
    RadioSpec,
    SchedulerSpec,
    StationSpec,
    TrafficSpec,
    VifCounters,
    VifSpec,
)

WIFI = "ransdn-wifi"


@dataclass(frozen=True)
class Station:
    mac: str
    radio: str
    vif: str
    tx_bitrate_kbps: int
    signal_dbm: int
    since: float


@dataclass(frozen=True)
class _RadioTarget:
    """What the medium is told about one radio."""

    band: str
    channel: int
    scheduler: SchedulerSpec
    vifs: tuple[VifSpec, ...]


Undo = Callable[[], Awaitable[None]]


def frequency_mhz(band: str, channel: int) -> int:
    if band == "2.4ghz":
        return 2484 if channel == 14 else 2407 + 5 * channel
    if band == "5ghz":
        return 5000 + 5 * channel
    return 5950 + 5 * channel


def scheduler_spec(config: SchedulerConfig) -> SchedulerSpec:
    return SchedulerSpec(
        interval_us=config.interval_us,
        inflight_budget_us=config.inflight_budget_us,
        overhead_model=config.overhead_model,
    )


class WifiNode:
    def __init__(
        self,
        node_id: str,
        options: SimOptions,
        medium: Medium,
        notify: NotifySink,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.node_id = node_id
        self._hardware = {r.name: r for r in options.radios}
        self._macs = {r.name: r.mac for r in options.radios}
        self._failures = options.failures
        self._medium = medium
        self._notify = notify
        self._clock = clock
        self._config: dict[str, RadioConfig] = {}
        self._targets: dict[str, _RadioTarget] = {}
        self._slots: dict[tuple[str, str], int] = {}
        self._stations: dict[str, Station] = {}

    # Lifecycle

    async def start(self) -> None:
        added: list[str] = []
        try:
            for hw in self._hardware.values():
                await self._medium.add_radio(
                    RadioSpec(self.node_id, hw.name, hw.mac, hw.band, hw.channel, hw.position)
                )
                added.append(hw.name)
                self._targets[hw.name] = _RadioTarget(hw.band, hw.channel, SchedulerSpec(), ())
        except BaseException:
            for name in added:
                await self._medium.remove_radio(self.node_id, name)
            raise

    async def stop(self) -> None:
        for name in self._hardware:
            try:
                await self._medium.remove_radio(self.node_id, name)
            except KeyError:
                pass
        self._stations.clear()

    # Configuration

    async def apply(self, old: JsonTree, new: JsonTree) -> None:
        del old  # the node knows what it runs; ``old`` is what the agent believes
        target = parse_wifi_node(new)
        self._check(target)
        slots = self._allocate_slots(target)
        dropped = [s for s in self._stations.values() if self._loses_station(s, target)]
        undo: list[Undo] = []
        try:
            for station in dropped:
                await self._medium.detach_station(self.node_id, station.radio, station.mac)
                undo.append(self._reattach(station))
            for hw in self._hardware.values():
                await self._push_radio(hw, self._radio_target(hw, target.get(hw.name), slots), undo)
        except Exception as exc:
            for step in reversed(undo):
                try:
                    await step()
                except Exception:  # noqa: BLE001 - best effort; the original error wins
                    pass
            raise BackendError(f"the medium refused the change: {exc!r}") from exc
        events = self._vif_events(self._config, target, slots)
        for station in dropped:
            del self._stations[station.mac]
            events.append(_station_event("station-disassociated", station))
        self._config, self._slots = target, slots
        for event in events:
            self._notify(event)

    def _check(self, target: dict[str, RadioConfig]) -> None:
        reason = self._failures.fault()
        if reason is not None:
            raise BackendError(f"node {self.node_id} is faulty: {reason}")
        for radio in target.values():
            path = f"/{WIFI}:wifi-node/radio[name='{radio.name}']"
            hw = self._hardware.get(radio.name)
            if hw is None:
                raise BackendError(
                    f"node {self.node_id} has no radio {radio.name}; "
                    f"it has {', '.join(self._hardware) or 'none'}",
                    path=f"{path}/name",
                )
            why = hw.supports(radio.band, radio.channel)
            if why:
                raise BackendError(why, path=f"{path}/channel")
            if len(radio.vifs) > hw.max_vifs:
                raise BackendError(
                    f"radio {hw.name} can carry at most {hw.max_vifs} vifs, "
                    f"not {len(radio.vifs)}",
                    path=f"{path}/vif",
                )
            for vif in radio.vifs:
                if vif.ssid in self._failures.ssids:
                    raise BackendError(
                        f"radio {hw.name} refused SSID {vif.ssid!r} (simulated failure)",
                        path=f"{path}/vif[name='{vif.name}']/ssid",
                    )

    def _allocate_slots(self, target: dict[str, RadioConfig]) -> dict[tuple[str, str], int]:
        """BSSID slots: kept while a vif exists, the lowest free one for a new vif."""
        slots: dict[tuple[str, str], int] = {}
        for radio in target.values():
            keep = {
                (radio.name, v.name): self._slots[(radio.name, v.name)]
                for v in radio.vifs
                if (radio.name, v.name) in self._slots
            }
            slots.update(keep)
            used = set(keep.values())
            for vif in radio.vifs:
                if (radio.name, vif.name) not in slots:
                    slot = next(i for i in range(len(radio.vifs) + len(used) + 1) if i not in used)
                    slots[(radio.name, vif.name)] = slot
                    used.add(slot)
        return slots

    def bssid(self, radio: str, slot: int) -> str:
        return bss_address(self._macs[radio], slot)

    def _loses_station(self, station: Station, target: dict[str, RadioConfig]) -> bool:
        radio = target.get(station.radio)
        vif = radio.vif(station.vif) if radio else None
        current = self._config[station.radio].vif(station.vif)
        return (
            vif is None
            or not vif.enabled
            or current is None
            or vif.association_key() != current.association_key()
        )

    def _radio_target(
        self, hw: RadioHardware, radio: RadioConfig | None, slots: dict[tuple[str, str], int]
    ) -> _RadioTarget:
        if radio is None:
            # An unconfigured radio stays on the channel it last used.
            current = self._targets[hw.name]
            return _RadioTarget(current.band, current.channel, SchedulerSpec(), ())
        vifs = tuple(
            VifSpec(
                name=v.name,
                bssid=self.bssid(hw.name, slots[(hw.name, v.name)]),
                ssid=v.ssid,
                tenant=v.tenant,
                guaranteed_share=float(v.guaranteed_share),
                cap=None if v.cap is None else float(v.cap),
                enabled=v.enabled,
            )
            for v in radio.vifs
        )
        return _RadioTarget(radio.band, radio.channel, scheduler_spec(radio.scheduler), vifs)

    async def _push_radio(self, hw: RadioHardware, want: _RadioTarget, undo: list[Undo]) -> None:
        have = self._targets[hw.name]
        node, name = self.node_id, hw.name

        def restore(**changes) -> Undo:
            async def step() -> None:
                if "channel" in changes:
                    await self._medium.set_channel(node, name, have.band, have.channel)
                if "scheduler" in changes:
                    await self._medium.set_scheduler(node, name, have.scheduler)
                if "vifs" in changes:
                    await self._medium.set_vifs(node, name, list(have.vifs))
                self._targets[name] = have

            return step

        if (want.band, want.channel) != (have.band, have.channel):
            await self._medium.set_channel(node, name, want.band, want.channel)
            undo.append(restore(channel=True))
        if want.scheduler != have.scheduler:
            await self._medium.set_scheduler(node, name, want.scheduler)
            undo.append(restore(channel=True, scheduler=True))
        if want.vifs != have.vifs:
            await self._medium.set_vifs(node, name, list(want.vifs))
            undo.append(restore(channel=True, scheduler=True, vifs=True))
        self._targets[name] = want

    def _reattach(self, station: Station) -> Undo:
        async def step() -> None:
            await self._medium.attach_station(
                self.node_id,
                station.radio,
                StationSpec(station.mac, station.vif, station.tx_bitrate_kbps, station.signal_dbm),
            )

        return step

    def _vif_events(
        self,
        old: dict[str, RadioConfig],
        new: dict[str, RadioConfig],
        slots: dict[tuple[str, str], int],
    ) -> list[Notification]:
        events = []
        for radio_name in sorted(set(old) | set(new)):
            before = {v.name: v for v in old[radio_name].vifs} if radio_name in old else {}
            after = {v.name: v for v in new[radio_name].vifs} if radio_name in new else {}
            for vif_name in sorted(set(before) | set(after)):
                was_up = vif_name in before and before[vif_name].enabled
                is_up = vif_name in after and after[vif_name].enabled
                if was_up == is_up:
                    continue
                slot = slots.get((radio_name, vif_name), self._slots.get((radio_name, vif_name), 0))
                events.append(
                    Notification(
                        f"{WIFI}:vif-state-change",
                        {
                            "radio": radio_name,
                            "vif": vif_name,
                            "bssid": self.bssid(radio_name, slot),
                            "oper-status": "up" if is_up else "down",
                        },
                    )
                )
        return events

    # Test-bed RPCs

    async def station_attach(self, args: JsonTree) -> JsonTree:
        radio_name = args["radio"]
        ssid = args["ssid"]
        mac = args["mac-address"].lower()
        if radio_name not in self._hardware:
            raise BackendError(
                f"node {self.node_id} has no radio {radio_name}", error_tag="invalid-value"
            )
        radio = self._config.get(radio_name)
        vif = next((v for v in radio.vifs if v.ssid == ssid), None) if radio else None
        if vif is None:
            raise BackendError(f"no vif on radio {radio_name} broadcasts SSID {ssid!r}")
        if not vif.enabled:
            raise BackendError(f"vif {vif.name} (SSID {ssid!r}) on radio {radio_name} is disabled")
        station = Station(
            mac=mac,
            radio=radio_name,
            vif=vif.name,
            tx_bitrate_kbps=enc.to_int(args.get("tx-bitrate"), 54_000),
            signal_dbm=enc.to_int(args.get("signal"), -50),
            since=self._clock(),
        )
        previous = self._stations.get(mac)
        if previous is not None:
            # A station joining another BSS leaves the one it was in.
            await self._medium.detach_station(self.node_id, previous.radio, mac)
            del self._stations[mac]
            self._notify(_station_event("station-disassociated", previous))
        try:
            await self._medium.attach_station(
                self.node_id,
                radio_name,
                StationSpec(mac, vif.name, station.tx_bitrate_kbps, station.signal_dbm),
            )
        except ValueError as exc:
            raise BackendError(str(exc), error_tag="invalid-value") from exc
        self._stations[mac] = station
        self._notify(_station_event("station-associated", station))
        return {"vif": vif.name}

    async def station_detach(self, args: JsonTree) -> JsonTree:
        mac = args["mac-address"].lower()
        station = self._stations.get(mac)
        if station is None:
            raise BackendError(f"station {mac} is not associated", error_tag="invalid-value")
        await self._medium.detach_station(self.node_id, station.radio, mac)
        del self._stations[mac]
        self._notify(_station_event("station-disassociated", station))
        return {}

    async def set_traffic(self, args: JsonTree) -> JsonTree:
        radio_name, vif_name = args["radio"], args["vif"]
        radio = self._config.get(radio_name)
        if radio is None or radio.vif(vif_name) is None:
            raise BackendError(
                f"no vif {vif_name} is configured on radio {radio_name}",
                error_tag="invalid-value",
            )
        pattern = args["pattern"]
        if pattern in ("constant", "poisson") and "rate" not in args:
            raise BackendError(f"pattern {pattern} needs a rate", error_tag="missing-element")
        traffic = TrafficSpec(
            pattern=pattern,
            rate_kbps=enc.to_int(args.get("rate"), 0),
            on_ms=enc.to_int(args.get("on-time"), 1000),
            off_ms=enc.to_int(args.get("off-time"), 1000),
        )
        try:
            await self._medium.set_traffic(self.node_id, radio_name, vif_name, traffic)
        except ValueError as exc:
            # The medium refuses demand it cannot model; say why.
            raise BackendError(str(exc), error_tag="invalid-value") from exc
        return {}

    # Operational state

    async def operational_state(self, selection: StateSelection = EVERYTHING) -> JsonTree:
        """The node's state; what comes from the medium (counters, survey,
        measured station figures, neighbours) only when ``selection``
        needs it."""
        observed = any(selection.wants(f"/{WIFI}:wifi-node-state/radio/{p}") for p in _FROM_MEDIUM)
        snapshots: dict[str, RadioSnapshot] = {}
        if observed:
            try:
                snapshots = await self._medium.snapshot(self.node_id)
            except KeyError:
                pass  # a node without radios
        now = self._clock()
        radios = [
            self._radio_state(hw, snapshots.get(hw.name), now, observed)
            for hw in self._hardware.values()
        ]
        return {f"{WIFI}:wifi-node-state": {"node-id": self.node_id, "radio": radios}}

    def _radio_state(
        self, hw: RadioHardware, snap: RadioSnapshot | None, now: float, observed: bool
    ) -> JsonTree:
        config = self._config.get(hw.name)
        target = self._targets[hw.name]
        sched = target.scheduler
        vif_counters = snap.vifs if snap else {}
        capabilities: JsonTree = {"airtime-scheduler": True, "max-vifs": hw.max_vifs}
        scheduler: JsonTree = {
            "interval": sched.interval_us,
            "inflight-budget": sched.inflight_budget_us,
            "overhead-model": sched.overhead_model,
        }
        state: JsonTree = {
            "name": hw.name,
            "mac-address": hw.mac,
            "band": target.band,
            "channel": target.channel,
            "channel-width": config.channel_width if config else "20mhz",
            "frequency": frequency_mhz(target.band, target.channel),
            "capabilities": capabilities,
            "scheduler": scheduler,
        }
        if config and config.tx_power is not None:
            state["tx-power"] = config.tx_power
        if observed:
            capabilities["tx-status"] = self._tx_status(vif_counters)
            scheduler["inflight"] = snap.inflight_us if snap else 0
            survey = snap.survey if snap else None
            state["survey"] = {
                "channel-time": enc.uint64(survey.channel_time_us if survey else 0),
                "busy-time": enc.uint64(survey.busy_time_us if survey else 0),
                "tx-time": enc.uint64(survey.tx_time_us if survey else 0),
                "rx-time": enc.uint64(survey.rx_time_us if survey else 0),
            }
        if config and config.vifs:
            counts: dict[str, int] = {}
            for s in self._stations.values():
                if s.radio == hw.name:
                    counts[s.vif] = counts.get(s.vif, 0) + 1
            state["vif"] = [
                self._vif_state(
                    hw.name, v, vif_counters.get(v.name, VifCounters()) if observed else None,
                    counts.get(v.name, 0),
                )
                for v in config.vifs
            ]
        stations = [s for s in self._stations.values() if s.radio == hw.name]
        if stations:
            measured = snap.stations if snap else {}
            state["station"] = [
                _station_state(s, measured.get(s.mac), now, observed) for s in stations
            ]
        if snap and snap.neighbours:
            state["neighbor"] = [
                {"bssid": n.bssid, "ssid": n.ssid, "channel": n.channel, "signal": n.signal_dbm}
                for n in snap.neighbours
            ]
        return state

    def _tx_status(self, counters: dict[str, VifCounters]) -> bool:
        # The shared medium says whether its radios report TX status; a
        # medium that does not say is judged by where its airtime comes from.
        declared = getattr(self._medium, "tx_status", None)
        if isinstance(declared, bool):
            return declared
        return any(c.source == "tx-status" for c in counters.values())

    def _vif_state(
        self, radio: str, vif: VifConfig, c: VifCounters | None, stations: int
    ) -> JsonTree:
        """``c`` None: the medium was not asked (the request does not need it)."""
        airtime: JsonTree = {"guaranteed-share": enc.decimal64(float(vif.guaranteed_share), 2, 0, 100)}
        if vif.cap is not None:
            airtime["cap"] = enc.decimal64(float(vif.cap), 2, 0, 100)
        if c is not None:
            airtime.update(
                {
                    "estimated": enc.uint64(c.estimated_us),
                    "measured": enc.uint64(c.measured_us),
                    "source": c.source,
                    "borrowed": enc.uint64(c.borrowed_us),
                    "credit": enc.int64(c.credit_us),
                    "congestion-factor": enc.decimal64(c.congestion_factor, 3, 0.001, 1000),
                    "throttled-time": enc.uint64(c.throttled_us),
                    "backlogged-time": enc.uint64(c.backlogged_us),
                }
            )
        state: JsonTree = {
            "name": vif.name,
            "bssid": self.bssid(radio, self._slots[(radio, vif.name)]),
            "ssid": vif.ssid,
            "tenant": vif.tenant,
        }
        if vif.slice_id is not None:
            state["slice-id"] = vif.slice_id
        if vif.vlan is not None:
            state["vlan"] = vif.vlan
        state["oper-status"] = "up" if vif.enabled else "down"
        if vif.psk is not None:
            state["psk-sha256"] = psk_sha256(vif.psk)
        state["station-count"] = enc.gauge32(stations)
        state["airtime"] = airtime
        if c is not None:
            # The medium models downstream traffic only, so rx counters are
            # not reported rather than reported as a misleading zero.
            state["counters"] = {
                "tx-packets": enc.uint64(c.tx_packets),
                "tx-bytes": enc.uint64(c.tx_bytes),
                "tx-drops": enc.uint64(c.tx_drops),
                "backlog-packets": enc.gauge32(c.backlog_packets),
                "backlog-bytes": enc.gauge32(c.backlog_bytes),
            }
        return state


#: What the medium knows, below ``wifi-node-state/radio``: the state read
#: asks it for a snapshot only when a request needs one of these.
_FROM_MEDIUM = (
    "capabilities/tx-status",
    "scheduler/inflight",
    "survey",
    *(f"vif/airtime/{leaf}" for leaf in (
        "estimated", "measured", "source", "borrowed", "credit", "congestion-factor",
        "throttled-time", "backlogged-time")),
    "vif/counters",
    *(f"station/{leaf}" for leaf in (
        "signal", "tx-bitrate", "frame-airtime-estimate", "tx-airtime", "tx-packets", "tx-bytes")),
    "neighbor",
)


def _station_state(station: Station, measured, now: float, observed: bool) -> JsonTree:
    """``observed`` False: the medium was not asked, so what it would have
    said (signal, rate, counters) is left out rather than guessed."""
    state: JsonTree = {"mac-address": station.mac, "vif": station.vif}
    if observed:
        state["signal"] = measured.signal_dbm if measured else station.signal_dbm
        state["tx-bitrate"] = measured.tx_bitrate_kbps if measured else station.tx_bitrate_kbps
    if measured:
        state.update(
            {
                "frame-airtime-estimate": min(measured.frame_airtime_estimate_us, 0xFFFFFFFF),
                "tx-airtime": enc.uint64(measured.tx_airtime_us),
                "tx-packets": enc.uint64(measured.tx_packets),
                "tx-bytes": enc.uint64(measured.tx_bytes),
            }
        )
    state["connected-time"] = int(max(0.0, now - station.since))
    return state


def _station_event(name: str, station: Station) -> Notification:
    return Notification(
        f"{WIFI}:{name}",
        {"radio": station.radio, "vif": station.vif, "mac-address": station.mac},
    )
