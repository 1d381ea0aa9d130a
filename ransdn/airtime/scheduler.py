"""The global airtime scheduler: one call per control period.

:meth:`GlobalScheduler.step` takes a :class:`~.telemetry.Telemetry` and
returns a :class:`Decision`: the contention domains, each vif's entitlement,
the SLA state per slice and domain, and the guaranteed share and cap every
vif should have.  It does no I/O; the controller's service layer gathers the
telemetry and pushes :meth:`Decision.changes` to the nodes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .allocation import Allocation, allocate
from .measurement import Counters, DemandModel, Measurement, counters_of, domain_capacity, measure, realign
from .policy import PeriodView, Policy, PolicyMemory, PolicyRegistry
from .sla import Hysteresis, SlaArrays, SlaEvent, SlaRecord, SlaTracker, sla_records
from .telemetry import Telemetry
from .topology import Topology, build_topology, layout_signature

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class SchedulerConfig:
    demand: DemandModel = field(default_factory=DemandModel)
    hysteresis: Hysteresis = field(default_factory=Hysteresis)
    #: Most maximal cliques enumerated before falling back to a greedy
    #: cover (default: 20 per radio + 1000).
    clique_budget: int | None = None


@dataclass(frozen=True)
class Ingested:
    """One period's samples as arrays, with their topology."""

    time: float
    topology: Topology
    counters: Counters


@dataclass(frozen=True)
class VifSetting:
    """What a vif's local scheduler should be given, percent."""

    node_id: str
    radio: str
    vif: str
    guaranteed_share: float
    cap: float | None


@dataclass(frozen=True)
class Decision:
    period: int
    time: float
    policy: str
    topology: Topology
    measurement: Measurement
    allocation: Allocation
    sla: SlaArrays
    events: tuple[SlaEvent, ...]
    #: Per vif, percent with two decimals; ``nan`` cap means none.
    guaranteed: FloatArray
    cap: FloatArray

    def _setting(self, v: int) -> VifSetting:
        node, radio, vif = self.topology.vif_keys[v]
        cap = float(self.cap[v])
        return VifSetting(node, radio, vif, float(self.guaranteed[v]), None if np.isnan(cap) else cap)

    def settings(self) -> list[VifSetting]:
        return [self._setting(v) for v in range(self.topology.n_vifs)]

    def changed(self, min_delta: float = 0.0) -> NDArray[np.bool_]:
        """Per vif: whether the decision differs from what is applied: a
        guarantee by more than ``min_delta`` points, a cap by more than a
        fifth of that (caps hold the split, guarantees only order the
        vifs of a radio); a cap appearing or going always counts."""
        m = self.measurement
        share_tolerance = max(min_delta, 0.005)
        cap_tolerance = max(min_delta / 5, 0.005)
        applied_share = np.round(m.applied_share * 100.0, 2)
        applied_cap = np.round(m.applied_cap * 100.0, 2)
        share_differs = np.isnan(applied_share) | (np.abs(applied_share - self.guaranteed) > share_tolerance)
        cap_differs = (np.isnan(applied_cap) != np.isnan(self.cap)) | (
            ~np.isnan(self.cap) & (np.abs(np.nan_to_num(applied_cap) - np.nan_to_num(self.cap)) > cap_tolerance)
        )
        return share_differs | cap_differs

    def changes(self, min_delta: float = 0.0) -> list[VifSetting]:
        """The settings that differ from what the nodes report applied."""
        return [self._setting(v) for v in np.flatnonzero(self.changed(min_delta)).tolist()]

    def radio_changes(self, min_delta: float = 0.0) -> dict[tuple[str, str], list[VifSetting]]:
        """Every vif's settings of each radio on which something changed.

        Push a radio's vifs together: guarantees only add up to at most
        100 % as a set, so applying part of a set can be refused (the
        ransdn-wifi model checks the sum).
        """
        radios = np.unique(self.topology.vif_radio[self.changed(min_delta)])
        out: dict[tuple[str, str], list[VifSetting]] = {}
        for r in radios.tolist():
            vifs = np.flatnonzero(self.topology.vif_radio == r)
            out[self.topology.radio_keys[r]] = [self._setting(v) for v in vifs.tolist()]
        return out

    def sla_records(self) -> list[SlaRecord]:
        return sla_records(self.topology, self.sla)


def to_percent(guaranteed: FloatArray, cap: FloatArray, vif_radio: NDArray[np.intp], n_radios: int) -> tuple[FloatArray, FloatArray]:
    """Fractions to percent with two decimals, keeping each radio's
    guarantees at or below 100 and every cap at or above its guarantee."""
    hundredths = np.floor(np.clip(guaranteed, 0.0, 1.0) * 10_000 + 1e-6)
    total = np.bincount(vif_radio, weights=hundredths, minlength=n_radios)
    over = total > 10_000
    if over.any():
        # Only float noise can get here; take it off the largest guarantee.
        for r in np.flatnonzero(over).tolist():
            on_radio = np.flatnonzero(vif_radio == r)
            largest = on_radio[np.argmax(hundredths[on_radio])]
            hundredths[largest] -= total[r] - 10_000
    cap_hundredths = np.ceil(np.clip(cap, 0.0, 1.0) * 10_000 - 1e-6)
    cap_hundredths = np.where(np.isnan(cap), np.nan, np.maximum(cap_hundredths, hundredths))
    return hundredths / 100.0, cap_hundredths / 100.0


class GlobalScheduler:
    """Keeps the state of the control loop: previous counters, SLA
    hysteresis and each policy's memory."""

    def __init__(
        self,
        policy: str = "contention-aware",
        *,
        config: SchedulerConfig | None = None,
        registry: PolicyRegistry | None = None,
        **policy_options: Any,
    ) -> None:
        self.config = config or SchedulerConfig()
        self.registry = registry or PolicyRegistry()
        self._policy: Policy = self.registry.create(policy, **policy_options)
        self._memories: dict[str, PolicyMemory] = {}
        self._topology: Topology | None = None
        self._counters: Counters | None = None
        self._sla = SlaTracker(self.config.hysteresis)
        self._period = 0
        self.last: Decision | None = None

    @property
    def policy(self) -> str:
        return self._policy.name

    def set_policy(self, name: str, **options: Any) -> None:
        """Use another policy from the next period on.  Counters, SLA state
        and every policy's memory are kept.  Raises
        :class:`~.policy.UnknownPolicyError` and keeps the current policy
        if ``name`` is not registered."""
        self._policy = self.registry.create(name, **options)

    def step(self, telemetry: Telemetry) -> Decision:
        """One control period: :meth:`ingest`, then :meth:`decide`."""
        return self.decide(self.ingest(telemetry))

    def ingest(self, telemetry: Telemetry) -> Ingested:
        """The samples as arrays, and the topology they imply (re-used
        while the layout stays the same).  Changes no state; raises
        :class:`~.telemetry.TelemetryError` on inconsistent samples."""
        radios, vifs = telemetry.radios, telemetry.vifs
        signature = layout_signature(radios, vifs)
        topology = self._topology
        if topology is None or topology.signature != signature:
            topology = build_topology(radios, vifs, signature, self.config.clique_budget)
        return Ingested(telemetry.time, topology, counters_of(radios, vifs))

    def decide(self, ingested: Ingested) -> Decision:
        """The array computation of one period: measurement, entitlements,
        SLA, the policy's settings."""
        old, topology, now = self._topology, ingested.topology, ingested.counters
        if old is not None and old.signature != topology.signature:
            for memory in self._memories.values():
                memory.realign(old, topology)
        before = realign(self._counters, old, topology)
        measurement = measure(topology, now, before, self.config.demand)
        allocation = allocate(
            topology,
            measurement.contract_share,
            measurement.demand,
            domain_capacity(topology, measurement),
        )
        sla, events = self._sla.update(topology, measurement, allocation, ingested.time)
        self._period += 1
        view = PeriodView(self._period, topology, measurement, allocation)
        memory = self._memories.setdefault(self._policy.name, PolicyMemory())
        settings = self._policy.decide(view, memory)
        guaranteed, cap = to_percent(settings.guaranteed, settings.cap, topology.vif_radio, topology.n_radios)
        self._topology = topology
        self._counters = now
        self.last = Decision(
            period=self._period,
            time=ingested.time,
            policy=self._policy.name,
            topology=topology,
            measurement=measurement,
            allocation=allocation,
            sla=sla,
            events=tuple(events),
            guaranteed=guaranteed,
            cap=cap,
        )
        return self.last
