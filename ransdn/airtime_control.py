"""The global airtime scheduler's control loop, in the service layer.

Each control period :class:`AirtimeControl` reads every Wi-Fi node's
operational state over NETCONF (through the controller), joins it with the
slice intents (each vif's contract: its slice's guaranteed share and cap),
hands it to the pure :class:`~ransdn.airtime.GlobalScheduler`, and pushes
the per-vif settings that changed through the controller's normal
provisioning path (all-or-nothing, kept as an overlay that reconciliation
respects).  It keeps the SLA view the REST API serves, raises
``sla.violation-start`` / ``sla.violation-end`` events and exports the
Prometheus metrics.  The policy can be switched at any time; the switch
takes effect at the next period and loses no state.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np
from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily

from ransdn.airtime import (
    Decision,
    GlobalScheduler,
    RadioSample,
    Telemetry,
    TelemetryError,
    UnknownPolicyError,
    VifContract,
    VifSample,
    radio_samples_from_state,
)
from ransdn.model.errors import ControllerError, FieldError, InvalidRequest
from ransdn.store.sqlite import AirtimeOverride

if TYPE_CHECKING:
    from ransdn.service import Controller

log = logging.getLogger(__name__)

COMPUTE_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0)


@dataclass
class AirtimeConfig:
    """How the control loop runs.  ``period`` None (or 0) keeps it off: the
    SLA view stays empty and nothing is pushed."""

    period: float | None = None
    policy: str = "contention-aware"
    #: Settings moving by less than this many points are not pushed (caps
    #: appearing or going always are): without it nearly every radio of a
    #: busy city would be reconfigured every period for noise.
    min_delta: float = 0.5


class _SlaGauges:
    """SLA gauges of the last period, computed at scrape time."""

    def __init__(self, control: AirtimeControl) -> None:
        self._control = control

    def collect(self):  # noqa: ANN201 - prometheus collector protocol
        labels = ["slice", "domain"]
        target = GaugeMetricFamily("ransdn_sla_target_percent",
                                   "Airtime share a slice is entitled to in a contention domain.", labels=labels)
        achieved = GaugeMetricFamily("ransdn_sla_achieved_percent",
                                     "Airtime share a slice achieved in a contention domain.", labels=labels)
        error = GaugeMetricFamily("ransdn_sla_error_points",
                                  "Entitled minus achieved share, percentage points.", labels=labels)
        violated = GaugeMetricFamily("ransdn_sla_violated",
                                     "1 while a slice's SLA is violated in a domain.", labels=labels)
        decision = self._control.last
        if decision is not None:
            topology, sla = decision.topology, decision.sla
            for g, (d, s) in enumerate(zip(topology.group_domain.tolist(), topology.group_slice.tolist())):
                key = [topology.slices[s], topology.domain_ids[d]]
                target.add_metric(key, float(sla.entitlement[g]))
                achieved.add_metric(key, float(sla.achieved[g]))
                error.add_metric(key, float(sla.error[g]))
                violated.add_metric(key, float(sla.violated[g]))
        yield from (target, achieved, error, violated)


class AirtimeControl:
    def __init__(self, controller: Controller, config: AirtimeConfig | None = None) -> None:
        self.controller = controller
        self.config = config or AirtimeConfig()
        self.scheduler = GlobalScheduler(self.config.policy)
        self.last_push: dict[str, Any] | None = None
        self.period = 0
        self._task: asyncio.Task[None] | None = None
        self._tenants: dict[str, str] = {}
        r = controller.metrics.registry
        self.periods_total = Counter("ransdn_airtime_periods_total",
                                     "Control periods run by the global airtime scheduler.", ["policy"], registry=r)
        self.compute_seconds = Histogram("ransdn_airtime_compute_seconds",
                                         "CPU time of one scheduler step.", buckets=COMPUTE_BUCKETS, registry=r)
        self.pushes_total = Counter("ransdn_airtime_pushes_total",
                                    "Per-node pushes of airtime settings, by result.", ["result"], registry=r)
        self.violations_total = Counter("ransdn_sla_violations_total",
                                        "SLA violations started, by slice and cause.", ["slice", "cause"], registry=r)
        r.register(_SlaGauges(self))  # type: ignore[arg-type]

    # -- lifecycle -------------------------------------------------------

    @property
    def enabled(self) -> bool:
        return bool(self.config.period)

    def start(self) -> None:
        if self.enabled and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="airtime-control")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    async def _run(self) -> None:
        assert self.config.period
        period = self.config.period
        next_at = time.monotonic() + period
        while True:
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            next_at += period
            try:
                await self.run_period()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - one bad period must not end the loop
                log.exception("airtime: control period %d failed", self.period)
            # Late by more than a period (a slow push): skip, do not burst.
            if next_at < time.monotonic():
                next_at = time.monotonic() + period

    # -- policy ----------------------------------------------------------

    @property
    def policy(self) -> str:
        return self.scheduler.policy

    @property
    def last(self) -> Decision | None:
        """The last period's decision."""
        return self.scheduler.last

    def set_policy(self, name: str) -> None:
        """Use ``name`` from the next period on; raises InvalidRequest for
        an unknown policy (the current one stays)."""
        try:
            self.scheduler.set_policy(name)
        except UnknownPolicyError as exc:
            raise InvalidRequest(str(exc), errors=[FieldError("/policy", str(exc))]) from None
        self.controller.store.add_event("airtime.policy", f"airtime policy is now {name}",
                                        details={"policy": name})

    def policies(self) -> list[str]:
        return self.scheduler.registry.names()

    # -- one period ------------------------------------------------------------

    async def telemetry(self) -> Telemetry:
        """Every Wi-Fi node's state, joined with the slices' contracts."""
        ctl = self.controller
        contracts: dict[tuple[str, str, str], VifContract] = {}
        self._tenants = {}
        for v in ctl.vif_map():
            contracts[(v["node"], v["radio"], v["vif"])] = VifContract(
                slice=v["slice"],
                share=float(v["guaranteed_share"]),
                cap=None if v["cap"] is None else float(v["cap"]),
            )
            self._tenants[v["slice"]] = v["tenant"]
        wifi = [n.name for n in ctl.list_nodes() if n.kind == "wifi"]
        states = await ctl.read_operational_state(wifi)
        radios: list[RadioSample] = []
        vifs: list[VifSample] = []
        for name in wifi:
            st = states.get(name)
            if st is None or st.state is None:
                continue
            try:
                r, v = radio_samples_from_state(
                    name, st.state, lambda node, radio, vif, _state: contracts.get((node, radio, vif)))
            except (TelemetryError, KeyError, ValueError) as exc:
                log.warning("airtime: ignoring node %s this period: %s", name, exc)
                continue
            radios += r
            vifs += v
        return Telemetry(time=time.time(), radios=radios, vifs=vifs)

    async def run_period(self) -> Decision:
        telemetry = await self.telemetry()
        ingested = self.scheduler.ingest(telemetry)
        started = time.process_time()
        decision = self.scheduler.decide(ingested)
        self.compute_seconds.observe(time.process_time() - started)
        self.period += 1
        self.periods_total.labels(decision.policy).inc()
        self._record_events(decision)
        await self._push(decision)
        return decision

    def _record_events(self, decision: Decision) -> None:
        store = self.controller.store
        for e in decision.events:
            if e.kind == "violation-start":
                self.violations_total.labels(e.slice, e.cause or "unknown").inc()
                store.add_event("sla.violation-start",
                                f"slice {e.slice} gets {e.error:.1f} points less airtime than entitled "
                                f"in domain {e.domain} ({e.cause or 'cause unknown'})",
                                severity="warning", slice=e.slice,
                                details={"domain": e.domain, "cause": e.cause, "error": round(e.error, 2)})
            else:
                store.add_event("sla.violation-end", f"slice {e.slice} is back within its SLA in domain {e.domain}",
                                slice=e.slice, details={"domain": e.domain, "error": round(e.error, 2)})

    async def _push(self, decision: Decision) -> None:
        ctl = self.controller
        if decision.policy == "local-only":
            # The baseline runs on the slices' own settings: drop any
            # overlay a previous policy left.
            if ctl.store.airtime_overrides():
                await self._apply(None, "clear")
            return
        changes = decision.radio_changes(self.config.min_delta)
        if not changes:
            return
        settings = [
            AirtimeOverride(
                node=s.node_id,
                radio=s.radio,
                vif=s.vif,
                guaranteed_share=Decimal(f"{s.guaranteed_share:.2f}"),
                cap=None if s.cap is None else Decimal(f"{s.cap:.2f}"),
                clear_cap=s.cap is None,
            )
            for radio_settings in changes.values()
            for s in radio_settings
        ]
        if await self._apply(settings, "all"):
            return
        # One node refusing (or unreachable) must not hold back the others:
        # retry node by node.
        for node in sorted({s.node for s in settings}):
            await self._apply([s for s in settings if s.node == node], node)

    async def _apply(self, settings: list[AirtimeOverride] | None, what: str) -> bool:
        ctl = self.controller
        try:
            tx = await (ctl.clear_airtime() if settings is None else ctl.apply_airtime(settings))
        except ControllerError as exc:
            self.pushes_total.labels("failed").inc()
            self.last_push = {"time": time.time(), "ok": False, "what": what, "error": str(exc)}
            log.warning("airtime: push (%s) failed: %s", what, exc)
            return False
        self.pushes_total.labels("ok").inc()
        self.last_push = {"time": time.time(), "ok": True, "what": what,
                          "vifs": 0 if settings is None else len(settings),
                          "nodes": [n.node for n in tx.nodes]}
        return True

    # -- views for the API -------------------------------------------------------

    def sla(self, slice_id: str | None = None, iso: Any = None) -> list[dict[str, Any]]:
        """Per slice and contention domain, the last period's SLA."""
        decision = self.last
        if decision is None:
            return []
        fmt = iso or (lambda t: t)
        out = []
        for r in decision.sla_records():
            if slice_id is not None and r.slice != slice_id:
                continue
            violated = r.state == "violated"
            out.append({
                "slice": r.slice,
                "tenant": self._tenants.get(r.slice, r.slice),
                "domain": r.domain,
                "band": r.band,
                "channel": r.channel,
                "radios": list(r.radios),
                "guaranteed": r.guaranteed,
                "target": r.entitlement,
                "achieved": r.achieved,
                "error": r.error,
                "backlogged": r.backlogged,
                "state": r.state,
                "since": fmt(r.since),
                "cause": r.cause,
                "violation": {"since": fmt(r.since), "until": None, "cause": r.cause} if violated else None,
            })
        return out

    def status(self, iso: Any = None) -> dict[str, Any]:
        fmt = iso or (lambda t: t)
        decision = self.last
        out: dict[str, Any] = {
            "enabled": self.enabled,
            "period": self.config.period or 0,
            "policy": self.policy,
            "policies": self.policies(),
            "periods_run": self.period,
        }
        if decision is not None:
            sla = decision.sla
            out["last_period"] = {
                "time": fmt(decision.time),
                "policy": decision.policy,
                "radios": decision.topology.n_radios,
                "vifs": decision.topology.n_vifs,
                "domains": decision.topology.n_domains,
                "violations": int(sla.violated.sum()),
                "max_error": round(float(np.max(np.where(sla.backlogged, sla.error, 0.0), initial=0.0)), 2),
            }
        if self.last_push is not None:
            push = dict(self.last_push)
            push["time"] = fmt(push["time"])
            out["last_push"] = push
        return out

