"""Run a scenario offline: the shared medium and the global scheduler in one
process, no NETCONF.

Each control period the medium runs for ``period_s`` of simulated time
(faster than real time), the runner reads every radio's counters the way an
agent would report them, hands them to :class:`~ransdn.airtime.GlobalScheduler`
and applies the settings it decides to the radios' local schedulers.
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from agent.backends.wifi_config import bss_address
from ransdn.airtime import Decision, GlobalScheduler, RadioSample, Telemetry, VifSample
from testbed.city import City
from testbed.medium.model import RadioSpec, StationSpec, VifSpec
from testbed.medium.propagation import Propagation
from testbed.medium.shared import SharedMedium

from . import Scenario


@dataclass(frozen=True)
class PeriodRecord:
    """What one control period measured and decided."""

    period: int
    policy: str
    #: CPU and wall time of the scheduler's array computation, and CPU time
    #: of turning the samples into arrays, seconds.
    compute_cpu_s: float
    compute_wall_s: float
    ingest_cpu_s: float
    #: Per (domain, slice) group, percent.
    group_domain: NDArray[np.intp]
    group_slice: tuple[str, ...]
    entitlement: NDArray[np.float64]
    achieved: NDArray[np.float64]
    error: NDArray[np.float64]
    backlogged: NDArray[np.bool_]
    measured: NDArray[np.bool_]
    violated: NDArray[np.bool_]
    #: Per domain: fraction of channel time used, and whether any vif in it
    #: was backlogged.
    utilisation: NDArray[np.float64]
    domain_backlogged: NDArray[np.bool_]

    def share_of(self, slice_: str) -> float:
        """Achieved share of a slice summed over groups (for one domain)."""
        return float(sum(a for s, a in zip(self.group_slice, self.achieved) if s == slice_))


def medium_for(city: City, *, seed: int = 0, step_ms: float = 2.0, **options) -> SharedMedium:
    propagation = (
        Propagation.with_graph(city.hearing, range_m=city.range_m)
        if city.hearing is not None
        else Propagation(range_m=city.range_m)
    )
    return SharedMedium(propagation=propagation, seed=seed, step_ms=step_ms, **options)


class OfflineRun:
    """A scenario's city in a medium, driven by a scheduler."""

    def __init__(self, scenario: Scenario, policy: str, *, seed: int = 0, **medium_options) -> None:
        self.scenario = scenario
        self.city = scenario.build()
        medium_options.setdefault("step_ms", scenario.step_ms)
        self.medium = medium_for(self.city, seed=seed, **medium_options)
        self.scheduler = GlobalScheduler(policy)
        self.period = 0
        self.records: list[PeriodRecord] = []
        self._vif_specs: dict[tuple[str, str], list[VifSpec]] = {}
        self._radio_mac = {r.key: r.mac for r in self.city.radios}

    async def setup(self) -> None:
        city = self.city
        for r in city.radios:
            await self.medium.add_radio(RadioSpec(r.node, r.radio, r.mac, r.band, r.channel, r.position))
        for r in city.radios:
            specs = []
            for slot, v in enumerate(city.vifs_on(r.key)):
                tenant = city.tenant(v.tenant)
                specs.append(VifSpec(v.vif, bss_address(r.mac, slot), tenant.ssid, tenant.name, tenant.share))
            self._vif_specs[r.key] = specs
            await self.medium.set_vifs(r.node, r.radio, specs)
        for v in city.vifs:
            for s in v.stations:
                await self.medium.attach_station(v.node, v.radio, StationSpec(s.mac, v.vif, s.tx_bitrate_kbps))
            await self.medium.set_traffic(v.node, v.radio, v.vif, v.traffic)

    def telemetry(self) -> Telemetry:
        radios: list[RadioSample] = []
        vifs: list[VifSample] = []
        shares = {t.name: t.share for t in self.city.tenants}
        for key in self.medium.radio_keys():
            node, radio = key
            snap = self.medium.snapshot_radio(node, radio)
            specs = self._vif_specs[key]
            radios.append(
                RadioSample(
                    node_id=node,
                    radio=radio,
                    band=self.medium.band_of(node, radio),
                    channel=snap.channel,
                    mac=self._radio_mac[key],
                    bssids=tuple(s.bssid for s in specs),
                    heard=tuple(n.bssid for n in snap.neighbours),
                    channel_time_us=snap.survey.channel_time_us,
                    busy_time_us=snap.survey.busy_time_us,
                    tx_time_us=snap.survey.tx_time_us,
                )
            )
            for spec in specs:
                c = snap.vifs[spec.name]
                vifs.append(
                    VifSample(
                        node_id=node,
                        radio=radio,
                        vif=spec.name,
                        slice=spec.tenant,
                        contract_share=shares[spec.tenant],
                        contract_cap=None,
                        measured_us=c.measured_us,
                        backlogged_us=c.backlogged_us,
                        throttled_us=c.throttled_us,
                        applied_share=spec.guaranteed_share,
                        applied_cap=spec.cap,
                        backlog_packets=c.backlog_packets,
                        drops=c.tx_drops,
                    )
                )
        return Telemetry(time=self.medium.now_ns / 1e9, radios=radios, vifs=vifs)

    async def apply(self, decision: Decision) -> None:
        for key, settings in decision.radio_changes().items():
            by_name = {s.vif: s for s in settings}
            specs = [
                replace(spec, guaranteed_share=by_name[spec.name].guaranteed_share, cap=by_name[spec.name].cap)
                for spec in self._vif_specs[key]
            ]
            await self.medium.set_vifs(key[0], key[1], specs)
            self._vif_specs[key] = specs

    async def _changes_for(self, period: int) -> None:
        for change in self.scenario.changes:
            if change.period == period:
                await self.medium.set_traffic(change.node, change.radio, change.vif, change.traffic)

    def _record(self, decision: Decision, cpu: float, wall: float, ingest: float) -> PeriodRecord:
        topology = decision.topology
        sla = decision.sla
        m = decision.measurement
        use = np.bincount(topology.pair_domain, weights=m.achieved[topology.pair_vif], minlength=topology.n_domains)
        backlogged = np.bincount(topology.pair_domain, weights=m.saturated[topology.pair_vif], minlength=topology.n_domains) > 0
        return PeriodRecord(
            period=self.period,
            policy=decision.policy,
            compute_cpu_s=cpu,
            compute_wall_s=wall,
            ingest_cpu_s=ingest,
            group_domain=topology.group_domain.copy(),
            group_slice=tuple(topology.slices[s] for s in topology.group_slice.tolist()),
            entitlement=sla.entitlement.copy(),
            achieved=sla.achieved.copy(),
            error=sla.error.copy(),
            backlogged=sla.backlogged.copy(),
            measured=sla.measured.copy(),
            violated=sla.violated.copy(),
            utilisation=use,
            domain_backlogged=backlogged,
        )

    async def run(self, periods: int | None = None) -> list[PeriodRecord]:
        if self.period == 0:
            await self.setup()
            # Prime the counters: the first sample is only a baseline.
            self.scheduler.step(self.telemetry())
        total = self.scenario.periods if periods is None else periods
        for _ in range(total):
            self.period += 1
            await self._changes_for(self.period)
            self.medium.run_for(self.scenario.period_s)
            telemetry = self.telemetry()
            # The medium's garbage is not the scheduler's compute time.
            gc.collect()
            started = time.process_time()
            ingested = self.scheduler.ingest(telemetry)
            ingested_at, wall = time.process_time(), time.perf_counter()
            decision = self.scheduler.decide(ingested)
            cpu, wall = time.process_time() - ingested_at, time.perf_counter() - wall
            ingest = ingested_at - started
            await self.apply(decision)
            self.records.append(self._record(decision, cpu, wall, ingest))
        return self.records
