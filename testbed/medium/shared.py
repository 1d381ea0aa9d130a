"""The shared medium: every simulated radio of a city on one set of channels.

Implements :class:`testbed.medium.model.Medium`.  Time advances in steps
(1 ms for up to 32 radios, 2 ms up to 256, 5 ms beyond, unless given).  Each step:

1. every vif's traffic source offers bytes (:mod:`.traffic`);
2. radios with frames their local scheduler would release contend for the
   channel, slot by slot, the way DCF shares it (:mod:`.access`);
3. the kernel module's scheduling core, one instance per radio, turns the
   channel time each radio won and the offered traffic into frames sent,
   airtime charged and every counter: the core's batch radio driver
   (:func:`testbed.airtime_core.step_many`) runs every frame of every
   radio through the same enqueue, dequeue and completion code the kernel
   module runs, in C, in one call per step;
4. survey counters (channel, busy, transmit and receive time) advance.

A radio contends when it has backlog or arrivals, unless in an earlier
step its driver ran dry while frames queued before that step stayed
queued: its scheduler held them back (a cap or spent credit), so it stays
quiet until its next scheduler interval begins (or its configuration
changes).  Demand that arrives meanwhile on another of its vifs waits for
that, at most one interval.

Two ways to run: :meth:`SharedMedium.start` runs a task in the asyncio
loop that keeps simulated time on wall-clock time (what the agent farm
does), and :meth:`SharedMedium.run_for` advances it as fast as possible
(benchmarks, scenarios run offline).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from testbed import airtime_core as core

from .access import ChannelAccess, ContentionGraph
from .model import (
    Neighbour,
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
from .propagation import Propagation
from .traffic import FRAME_BYTES, TrafficError, check

log = logging.getLogger(__name__)

RadioKey = tuple[str, str]

PATTERNS = ("idle", "saturating", "constant", "on-off", "poisson")
#: Rate used to drain frames still queued for a vif whose stations left.
FALLBACK_RATE_KBPS = 6_000
#: A driver that had frames for less than this share of a step ran dry.
USED_ENOUGH = 0.9
#: Offered bytes that keep a vif's queue full.
SATURATED = -1


class MediumError(ValueError):
    """A request the medium refuses; nothing was changed."""


def _vif_counters(st: core.VifStats) -> VifCounters:
    return VifCounters(
        estimated_us=st.estimated_ns // 1000,
        measured_us=st.charged_ns // 1000,
        borrowed_us=st.borrowed_ns // 1000,
        credit_us=int(st.credit_ns / 1000),
        congestion_factor=min(max(st.congestion_factor, 0.001), 1000.0),
        throttled_us=st.throttled_ns // 1000,
        backlogged_us=st.backlogged_ns // 1000,
        tx_packets=st.tx_packets,
        tx_bytes=st.tx_bytes,
        tx_drops=st.drop_packets,
        backlog_packets=st.backlog_packets,
        backlog_bytes=st.backlog_bytes,
        source=st.source,  # type: ignore[arg-type]
    )


def _params(spec: SchedulerSpec, band: str) -> core.SchedulerParams:
    return core.SchedulerParams.from_us(
        spec.interval_us,
        spec.inflight_budget_us,
        spec.overhead_model,
        band=core.Band.GHZ2 if band == "2.4ghz" else core.Band.GHZ5,
    )


@dataclass
class _Station:
    spec: StationSpec
    airtime_ns: int = 0
    packets: int = 0
    bytes: int = 0


@dataclass
class _Vif:
    spec: VifSpec
    slot: int
    traffic: TrafficSpec = field(default_factory=TrafficSpec)
    phase_ms: float = 0.0
    carry_bits: float = 0.0
    stations: dict[str, _Station] = field(default_factory=dict)
    #: Counters as of the radio's last scheduler-interval boundary.
    reported: VifCounters | None = None


@dataclass
class _Radio:
    spec: RadioSpec
    sim: core.SimRadio
    band: str
    channel: int
    scheduler: SchedulerSpec
    interval_origin_ns: int
    vifs: dict[str, _Vif] = field(default_factory=dict)
    channel_ns: int = 0
    busy_ns: int = 0
    tx_ns: int = 0
    # Last step, for the contention decision.
    backlog: bool = False
    quiet_until_ns: int = 0
    #: Channel, busy and transmit time at the last interval boundary.
    reported_survey: tuple[int, int, int] | None = None

    @property
    def key(self) -> RadioKey:
        return (self.spec.node_id, self.spec.radio)


def _geometry_key(radios: list[_Radio]) -> tuple:
    return tuple(
        (
            r.key,
            r.band,
            r.channel,
            tuple(r.spec.position),
            tuple((v.spec.bssid, v.spec.ssid, v.spec.enabled) for v in r.vifs.values()),
        )
        for r in radios
    )


class _Geometry:
    """Who hears whom and who contends with whom; rebuilt only when radios,
    channels or BSSes change, not when shares, stations or traffic do."""

    def __init__(self, radios: list[_Radio], propagation: Propagation) -> None:
        n = len(radios)
        positions = np.array([r.spec.position for r in radios], dtype=float).reshape(n, 2)
        bands = [r.band for r in radios]
        hears = propagation.hears([r.key for r in radios], bands, positions)
        channels = np.array([hash((r.band, r.channel)) for r in radios])
        contends = hears & (channels[:, None] == channels[None, :])
        self.graph = ContentionGraph.from_matrix(contends)
        self.neighbours: list[tuple[Neighbour, ...]] = []
        for i, radio in enumerate(radios):
            heard = []
            for j in np.flatnonzero(hears[i]).tolist():
                other = radios[j]
                distance = float(np.hypot(*(positions[i] - positions[j])))
                signal = propagation.signal_dbm(radio.band, distance)
                for vif in other.vifs.values():
                    if vif.spec.enabled:
                        heard.append(Neighbour(vif.spec.bssid, vif.spec.ssid, other.channel, signal))
            self.neighbours.append(tuple(sorted(heard, key=lambda nb: nb.bssid)))


class _Layout:
    """Flat arrays over every radio and vif, rebuilt when something changes."""

    def __init__(self, radios: list[_Radio], geometry: _Geometry) -> None:
        self.radios = radios
        self.index = {r.key: i for i, r in enumerate(radios)}
        self.sims = core.SimBatch([r.sim for r in radios])
        self.columns = 1 + max((v.slot for r in radios for v in r.vifs.values()), default=0)
        self.graph = geometry.graph
        self.neighbours = geometry.neighbours
        # Per vif rows.
        self.vifs: list[_Vif] = [v for r in radios for v in r.vifs.values()]
        self.vif_radio = np.array([i for i, r in enumerate(radios) for _ in r.vifs], dtype=np.intp)
        self.vif_slot = np.array([v.slot for v in self.vifs], dtype=np.intp)
        self.pattern = np.array([PATTERNS.index(v.traffic.pattern) if v.spec.enabled else 0 for v in self.vifs], dtype=np.intp)
        self.rate_kbps = np.array([v.traffic.rate_kbps for v in self.vifs], dtype=float)
        self.on_ms = np.array([v.traffic.on_ms for v in self.vifs], dtype=float)
        self.off_ms = np.array([v.traffic.off_ms for v in self.vifs], dtype=float)
        self.phase_ms = np.array([v.phase_ms for v in self.vifs], dtype=float)
        self.carry_bits = np.array([v.carry_bits for v in self.vifs], dtype=float)
        self.n_stations = np.array([len(v.stations) for v in self.vifs], dtype=np.intp)
        #: No vif can be offered a frame: nothing will arrive until the
        #: layout changes.
        self.no_traffic = not bool(((self.pattern != 0) & (self.n_stations > 0)).any())
        width = max(1, int(self.n_stations.max(initial=0)))
        self.station_rates = np.full((len(self.vifs), width), FALLBACK_RATE_KBPS, dtype=np.int64)
        self.station_objects: list[list[_Station]] = []
        for k, vif in enumerate(self.vifs):
            stations = list(vif.stations.values())
            self.station_objects.append(stations)
            for s, station in enumerate(stations):
                self.station_rates[k, s] = station.spec.tx_bitrate_kbps

        # Per radio counters and contention state, stepped as arrays.
        self.channel_ns = np.array([r.channel_ns for r in radios], dtype=np.int64)
        self.busy_ns = np.array([r.busy_ns for r in radios], dtype=np.int64)
        self.tx_ns = np.array([r.tx_ns for r in radios], dtype=np.int64)
        self.backlog = np.array([r.backlog for r in radios], dtype=bool)
        self.quiet_until_ns = np.array([r.quiet_until_ns for r in radios], dtype=np.int64)
        self.interval_ns = np.array([r.scheduler.interval_us * 1000 for r in radios], dtype=np.int64)
        self.interval_origin_ns = np.array([r.interval_origin_ns for r in radios], dtype=np.int64)

    def store(self) -> None:
        """Write the stepped state back to the radio and vif objects."""
        for k, vif in enumerate(self.vifs):
            vif.carry_bits = float(self.carry_bits[k])
        for i, r in enumerate(self.radios):
            r.channel_ns = int(self.channel_ns[i])
            r.busy_ns = int(self.busy_ns[i])
            r.tx_ns = int(self.tx_ns[i])
            r.backlog = bool(self.backlog[i])
            r.quiet_until_ns = int(self.quiet_until_ns[i])


class SharedMedium:
    """A city's radio medium; see the module documentation."""

    def __init__(
        self,
        *,
        propagation: Propagation | None = None,
        step_ms: float | None = None,
        slot_us: float = 500.0,
        seed: int = 0,
        tx_status: bool = True,
        measured_scale: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if step_ms is not None and not 0 < step_ms <= 1000:
            raise MediumError("step_ms must be in (0, 1000]")
        if not 0 < measured_scale <= 1000:
            raise MediumError("measured_scale must be in (0, 1000]")
        self.propagation = propagation or Propagation()
        self._step_ns = None if step_ms is None else int(step_ms * 1e6)
        self.rng = np.random.default_rng(seed)
        self.access = ChannelAccess(self.rng, slot_us)
        self.tx_status = tx_status
        self.measured_scale = measured_scale
        self.clock = clock
        self.now_ns = 0
        self.steps = 0
        self._radios: dict[RadioKey, _Radio] = {}
        self._layout: _Layout | None = None
        self._geometry: tuple[tuple, _Geometry] | None = None
        self._task: asyncio.Task[None] | None = None
        #: Simulated time skipped because the loop fell behind wall time.
        self.lag_ns = 0

    @property
    def step_ns(self) -> int:
        """The step: as given, or by the size of the city -- short steps
        waste less channel time when a radio's scheduler holds its frames
        mid-step, long ones keep a big city in real time."""
        if self._step_ns is not None:
            return self._step_ns
        n = len(self._radios)
        return 1_000_000 if n <= 32 else 2_000_000 if n <= 256 else 5_000_000

    # -- the Medium protocol ------------------------------------------------

    async def add_radio(self, spec: RadioSpec) -> None:
        key = (spec.node_id, spec.radio)
        if key in self._radios:
            raise MediumError(f"radio {spec.node_id}/{spec.radio} exists already")
        scheduler = SchedulerSpec()
        sim = core.SimRadio(_params(scheduler, spec.band), self.now_ns)
        self._radios[key] = _Radio(spec, sim, spec.band, spec.channel, scheduler, self.now_ns)
        self._layout = None

    async def remove_radio(self, node_id: str, radio: str) -> None:
        r = self._radio(node_id, radio)
        self._sync()
        r.sim.close()
        del self._radios[r.key]
        self._layout = None

    async def set_channel(self, node_id: str, radio: str, band: str, channel: int) -> None:
        r = self._radio(node_id, radio)
        self._sync()
        if band != r.band:
            r.sim.set_params(_params(r.scheduler, band))
            r.interval_origin_ns = self.now_ns
        r.band, r.channel = band, channel
        r.quiet_until_ns = 0
        self._layout = None

    async def set_scheduler(self, node_id: str, radio: str, spec: SchedulerSpec) -> None:
        r = self._radio(node_id, radio)
        if spec.overhead_model not in ("none", "dcf"):
            raise MediumError(f"unknown overhead model {spec.overhead_model!r}")
        try:
            params = _params(spec, r.band)
            params.validate()
        except (core.AirtimeError, KeyError) as exc:
            raise MediumError(f"radio {node_id}/{radio}: bad scheduler parameters {spec}: {exc}") from exc
        self._sync()
        r.sim.set_params(params)
        r.scheduler = spec
        r.interval_origin_ns = self.now_ns
        r.quiet_until_ns = 0
        self._layout = None

    async def set_vifs(self, node_id: str, radio: str, vifs: list[VifSpec]) -> None:
        r = self._radio(node_id, radio)
        names = [v.name for v in vifs]
        if len(set(names)) != len(names):
            raise MediumError(f"radio {node_id}/{radio}: vif names are not unique")
        for v in vifs:
            if not 0 <= v.guaranteed_share <= 100 or (v.cap is not None and not v.guaranteed_share <= v.cap <= 100):
                raise MediumError(f"radio {node_id}/{radio} vif {v.name}: bad shares {v.guaranteed_share}/{v.cap}")
        if len(vifs) > core.MAX_VIFS:
            raise MediumError(f"radio {node_id}/{radio}: at most {core.MAX_VIFS} vifs")
        for v in vifs:
            try:
                core.share_to_bp(v.guaranteed_share)
                if v.cap is not None:
                    core.share_to_bp(v.cap)
            except core.AirtimeError as exc:
                raise MediumError(f"radio {node_id}/{radio} vif {v.name}: {exc}") from exc
        current_shape = [(v.spec.name, v.spec.bssid, v.spec.ssid, v.spec.enabled, v.spec.tenant) for v in r.vifs.values()]
        if current_shape == [(v.name, v.bssid, v.ssid, v.enabled, v.tenant) for v in vifs]:
            # Only shares change (the global scheduler's usual push): no
            # need to rebuild anything.
            for v in vifs:
                current = r.vifs[v.name]
                if (current.spec.guaranteed_share, current.spec.cap) != (v.guaranteed_share, v.cap):
                    r.sim.set_share(current.slot, v.guaranteed_share, v.cap)
                current.spec = v
            r.quiet_until_ns = 0
            if self._layout is not None:
                self._layout.quiet_until_ns[self._layout.index[r.key]] = 0
            return
        self._sync()
        wanted = {v.name: v for v in vifs}
        for name in [n for n in r.vifs if n not in wanted]:
            r.sim.remove_vif(r.vifs.pop(name).slot)
        for v in vifs:
            current = r.vifs.get(v.name)
            if current is None:
                slot = r.sim.add_vif(v.guaranteed_share, v.cap)
                r.vifs[v.name] = _Vif(v, slot)
            else:
                if (current.spec.guaranteed_share, current.spec.cap) != (v.guaranteed_share, v.cap):
                    r.sim.set_share(current.slot, v.guaranteed_share, v.cap)
                current.spec = v
                if not v.enabled:
                    current.stations.clear()
        # Keep the vifs in the order given.
        r.vifs = {v.name: r.vifs[v.name] for v in vifs}
        r.quiet_until_ns = 0
        self._layout = None

    async def attach_station(self, node_id: str, radio: str, station: StationSpec) -> None:
        r = self._radio(node_id, radio)
        vif = r.vifs.get(station.vif)
        if vif is None:
            raise KeyError(station.vif)
        if station.tx_bitrate_kbps <= 0:
            raise MediumError(f"station {station.mac}: bitrate must be positive")
        self._sync()
        for other in r.vifs.values():
            other.stations.pop(station.mac.lower(), None)
        vif.stations[station.mac.lower()] = _Station(station)
        self._layout = None

    async def detach_station(self, node_id: str, radio: str, mac: str) -> None:
        r = self._radio(node_id, radio)
        for vif in r.vifs.values():
            if vif.stations.pop(mac.lower(), None) is not None:
                self._sync()
                self._layout = None
                return
        raise KeyError(mac)

    async def set_traffic(self, node_id: str, radio: str, vif: str, traffic: TrafficSpec) -> None:
        r = self._radio(node_id, radio)
        target = r.vifs.get(vif)
        if target is None:
            raise KeyError(vif)
        try:
            check(traffic)
        except TrafficError as exc:
            raise MediumError(str(exc)) from exc
        self._sync()
        target.traffic = traffic
        target.carry_bits = 0.0
        cycle = traffic.on_ms + traffic.off_ms
        target.phase_ms = float(self.rng.uniform(0.0, cycle)) if traffic.pattern == "on-off" else 0.0
        self._layout = None

    async def snapshot(self, node_id: str) -> dict[str, RadioSnapshot]:
        radios = {name: r for (node, name), r in self._radios.items() if node == node_id}
        if not radios:
            raise KeyError(node_id)
        return {name: self.radio_snapshot(r) for name, r in radios.items()}

    # -- running ---------------------------------------------------------

    async def start(self) -> None:
        """Keep simulated time on wall-clock time, in a task of the running
        loop, until :meth:`aclose`."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="shared-medium")

    async def aclose(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    async def __aenter__(self) -> "SharedMedium":
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _run(self) -> None:
        # Wake every few milliseconds and simulate the steps that are due;
        # never more than a tenth of a second's worth at once: if the loop
        # was blocked for longer, that time is skipped (and counted as lag).
        last = self.clock()
        owed = 0.0
        while True:
            step_s = self.step_ns / 1e9
            await asyncio.sleep(max(step_s, 0.005))
            now = self.clock()
            owed += now - last
            last = now
            due = int(owed / step_s)
            max_behind = max(1, int(0.1 / step_s))
            if due > max_behind:
                self.lag_ns += (due - max_behind) * self.step_ns
                owed -= (due - max_behind) * step_s
                due = max_behind
            if due > 1 and self._quiet():
                self._pass_quiet_time(due * self.step_ns)
            else:
                for _ in range(due):
                    self.step()
            owed -= due * step_s

    def _quiet(self) -> bool:
        """Whether no frame is queued and none can arrive."""
        layout = self._current_layout()
        return layout.no_traffic and not layout.backlog.any()

    def _pass_quiet_time(self, duration_ns: int) -> None:
        """What short steps would do while the medium is quiet, in as few
        long ones as the radios' reports allow: each report falls on a
        scheduler-interval boundary, so no step runs across one."""
        layout = self._current_layout()
        end = self.now_ns + duration_ns
        while self.now_ns < end:
            into = (self.now_ns - layout.interval_origin_ns) % layout.interval_ns
            to_boundary = int((layout.interval_ns - into).min(initial=end - self.now_ns))
            self.step(min(end - self.now_ns, to_boundary))

    def run_for(self, seconds: float) -> None:
        """Advance simulated time by ``seconds`` as fast as possible."""
        for _ in range(max(0, int(round(seconds * 1e9 / self.step_ns)))):
            self.step()

    # -- one step ----------------------------------------------------------

    def _radio(self, node_id: str, radio: str) -> _Radio:
        return self._radios[(node_id, radio)]

    def _sync(self) -> None:
        if self._layout is not None:
            self._layout.store()

    def _current_layout(self) -> _Layout:
        if self._layout is None:
            radios = list(self._radios.values())
            key = _geometry_key(radios)
            if self._geometry is None or self._geometry[0] != key:
                self._geometry = (key, _Geometry(radios, self.propagation))
            self._layout = _Layout(radios, self._geometry[1])
        return self._layout

    def _offered(self, layout: _Layout, step_ms: float) -> np.ndarray:
        """Bytes each vif is offered this step (``SATURATED`` to keep its
        queue full)."""
        t = self.now_ns / 1e6 + step_ms / 2
        pattern = layout.pattern
        offered = np.zeros(pattern.shape[0], dtype=np.int64)
        offered[pattern == PATTERNS.index("saturating")] = SATURATED
        on_off = pattern == PATTERNS.index("on-off")
        if on_off.any():
            cycle = layout.on_ms + layout.off_ms
            on = ((t + layout.phase_ms) % np.where(cycle > 0, cycle, 1.0)) < layout.on_ms
            offered[on_off & on] = SATURATED
        frame_bits = 8 * FRAME_BYTES
        constant = pattern == PATTERNS.index("constant")
        if constant.any():
            bits = layout.rate_kbps[constant] * step_ms + layout.carry_bits[constant]
            frames = np.floor(bits / frame_bits)
            layout.carry_bits[constant] = bits - frames * frame_bits
            offered[constant] = frames.astype(np.int64) * FRAME_BYTES
        poisson = pattern == PATTERNS.index("poisson")
        if poisson.any():
            frames = self.rng.poisson(layout.rate_kbps[poisson] * step_ms / frame_bits)
            offered[poisson] = frames.astype(np.int64) * FRAME_BYTES
        # No station, nobody to send to.
        offered[layout.n_stations == 0] = 0
        return offered

    def step(self, duration_ns: int | None = None) -> None:
        """Advance the medium by one step (of ``duration_ns``, or the
        medium's own step)."""
        layout = self._current_layout()
        radios = layout.radios
        n = len(radios)
        duration = self.step_ns if duration_ns is None else duration_ns
        step_ms = duration / 1e6
        if n == 0:
            self.now_ns += duration
            self.steps += 1
            return
        offered = self._offered(layout, step_ms)
        arrivals = np.zeros(n, dtype=bool)
        arrivals[layout.vif_radio[offered != 0]] = True

        # Who contends: radios with frames their scheduler would release.
        backlog = layout.backlog
        quiet = self.now_ns + duration <= layout.quiet_until_ns
        contending = (backlog | arrivals) & ~quiet

        n_slots = self.access.slots(duration / 1000)
        slot_ns = duration // n_slots
        transmitting = self.access.transmitters(layout.graph, contending, n_slots)
        won = transmitting.sum(axis=0).astype(np.int64) * slot_ns

        # The local schedulers (the kmod core) fill what each radio won.
        columns = layout.columns
        steps = np.zeros(n, core.STEP_IN_DTYPE)
        steps["duration_ns"] = duration
        steps["airtime_ns"] = won
        steps["measured_q16"] = round(self.measured_scale * core.CF_ONE)
        steps["tx_status"] = int(self.tx_status)
        vif_in = np.zeros((n, columns), core.VIF_IN_DTYPE)
        vif_in["frame_bytes"] = FRAME_BYTES
        vif_in["rate_kbps"] = FALLBACK_RATE_KBPS
        pick = np.where(layout.n_stations > 0, self.steps % np.maximum(layout.n_stations, 1), 0)
        rows, cols = layout.vif_radio, layout.vif_slot
        vif_in["rate_kbps"][rows, cols] = layout.station_rates[np.arange(len(layout.vifs)), pick]
        vif_in["offered_bytes"][rows, cols] = np.where(offered == SATURATED, 0, offered).astype(np.uint64)
        saturated = offered == SATURATED
        vif_in["offered_bytes"][rows[saturated], cols[saturated]] = core.SATURATED
        out, vout = core.step_many(layout.sims, steps, vif_in)

        # Survey: transmissions spread over the slots each radio won.
        used = out["airtime_ns"].astype(np.int64)
        with np.errstate(divide="ignore", invalid="ignore"):
            fill = np.where(won > 0, used / np.maximum(won, 1), 0.0)
        on_air = transmitting * (fill * slot_ns)[None, :]
        busy = ChannelAccess.busy_time(layout.graph, on_air)
        vif_backlog = vout["backlog_packets"][rows, cols].astype(np.int64)
        radio_backlog = np.bincount(rows, weights=vif_backlog > 0, minlength=n) > 0
        # Frames that were already queued before this step's arrivals and
        # are still queued, while the driver ran dry: the scheduler held them.
        arrived = np.where(saturated, 0, offered // FRAME_BYTES)
        carried = np.bincount(rows, weights=vif_backlog > arrived, minlength=n) > 0
        held = carried & (out["busy_ns"] < USED_ENOUGH * duration)
        layout.channel_ns += duration
        layout.tx_ns += used
        layout.busy_ns += np.maximum(busy, used).astype(np.int64)
        layout.backlog = radio_backlog
        # Held back by its scheduler: quiet until the interval in which it
        # was held ends.
        interval = layout.interval_ns
        next_interval = self.now_ns + interval - (self.now_ns - layout.interval_origin_ns) % interval
        layout.quiet_until_ns = np.where(held, next_interval, layout.quiet_until_ns)
        # Radios whose scheduler interval ended in this step report.
        origin = layout.interval_origin_ns
        crossed = (self.now_ns + duration - origin) // interval > (self.now_ns - origin) // interval
        for i in np.flatnonzero(crossed).tolist():
            r = radios[i]
            r.reported_survey = (int(layout.channel_ns[i]), int(layout.busy_ns[i]), int(layout.tx_ns[i]))
            for vif in r.vifs.values():
                vif.reported = _vif_counters(r.sim.vif_stats(vif.slot))
        # Per station: this step's frames went to the station picked.
        sent = vout["tx_packets"][rows, cols]
        for k in np.flatnonzero(sent > 0).tolist():
            station = layout.station_objects[k][int(pick[k])] if layout.n_stations[k] else None
            if station is not None:
                row = vout[rows[k], cols[k]]
                station.airtime_ns += int(row["airtime_ns"])
                station.packets += int(row["tx_packets"])
                station.bytes += int(row["tx_bytes"])
        self.now_ns += duration
        self.steps += 1

    # -- reports -------------------------------------------------------------

    def radio_snapshot(self, r: _Radio) -> RadioSnapshot:
        """Counters as of the radio's last scheduler-interval boundary, the
        way the kernel module reports them each interval: a reader then
        always sees whole intervals, whenever it samples, and a cap the
        scheduler reaches early in each interval does not show as noise."""
        layout = self._current_layout()
        index = layout.index[r.key]
        live = (int(layout.channel_ns[index]), int(layout.busy_ns[index]), int(layout.tx_ns[index]))
        channel_ns, busy_ns, tx_ns = r.reported_survey or live
        vifs = {
            name: vif.reported or _vif_counters(r.sim.vif_stats(vif.slot))
            for name, vif in r.vifs.items()
        }
        stations = {}
        for vif in r.vifs.values():
            for mac, station in vif.stations.items():
                spec = station.spec
                stations[mac] = StationCounters(
                    mac=mac,
                    vif=vif.spec.name,
                    tx_bitrate_kbps=spec.tx_bitrate_kbps,
                    signal_dbm=spec.signal_dbm,
                    frame_airtime_estimate_us=r.sim.estimate_ns(1500, spec.tx_bitrate_kbps) // 1000,
                    tx_airtime_us=station.airtime_ns // 1000,
                    tx_packets=station.packets,
                    tx_bytes=station.bytes,
                )
        return RadioSnapshot(
            radio=r.spec.radio,
            channel=r.channel,
            survey=Survey(
                channel_time_us=channel_ns // 1000,
                busy_time_us=busy_ns // 1000,
                tx_time_us=tx_ns // 1000,
                rx_time_us=max(0, busy_ns - tx_ns) // 1000,
            ),
            inflight_us=r.sim.radio_stats().inflight_ns // 1000,
            vifs=vifs,
            stations=stations,
            neighbours=layout.neighbours[index],
        )

    def radio_keys(self) -> list[RadioKey]:
        return list(self._radios)

    def snapshot_radio(self, node_id: str, radio: str) -> RadioSnapshot:
        """One radio's snapshot, without awaiting (for offline runs)."""
        return self.radio_snapshot(self._radio(node_id, radio))

    def band_of(self, node_id: str, radio: str) -> str:
        return self._radio(node_id, radio).band
