"""SLA monitoring per slice and contention domain.

For every (domain, slice) with a vif in the domain, each period:

- ``guaranteed``: the slice's contract share of the domain, i.e. its weight
  normalised so that the domain's weights add up to at most 100 percent;
- ``entitlement``: what the demand-aware max-min split gives it this
  period (equal to ``guaranteed`` when every slice is backlogged, more
  when others leave airtime unused, less when it wants less), counted
  for the part of the period its vifs had frames queued;
- ``achieved``: the channel time its vifs in the domain actually used;
- ``error`` = entitlement - achieved, in percentage points (positive:
  under-served).

A violation starts after ``enter_periods`` consecutive periods with the
error at or above ``enter_error`` while the slice is backlogged, and ends
after ``leave_periods`` consecutive periods at or below ``leave_error``
(hysteresis, so a noisy measurement does not flap the state).  Its cause
is that of the slice's vif with the largest shortfall:

- ``co-channel-contention``: other radios on the channel held the medium;
- ``radio-saturated``: the vif's own radio transmitted nearly all the time
  (its other vifs took the airtime);
- ``throttled``: the vif's own credit or cap held it back while the medium
  had room (a local-scheduler setting is too tight).

A slice that is not backlogged cannot be under-served; when it achieves
less than its guaranteed share the record says ``no-backlog`` instead, and
its state stays ``ok``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .allocation import Allocation
from .measurement import Measurement
from .topology import Topology

FloatArray = NDArray[np.float64]

CAUSES = ("", "co-channel-contention", "radio-saturated", "throttled", "no-backlog")
CAUSE_NONE, CAUSE_CONTENTION, CAUSE_RADIO, CAUSE_THROTTLED, CAUSE_NO_BACKLOG = range(5)
STATES = ("ok", "violated")


@dataclass(frozen=True)
class Hysteresis:
    enter_error: float = 2.0
    enter_periods: int = 2
    leave_error: float = 1.0
    leave_periods: int = 2


@dataclass(frozen=True)
class SlaRecord:
    domain: str
    slice: str
    band: str
    channel: int
    radios: tuple[str, ...]
    guaranteed: float
    entitlement: float
    achieved: float
    error: float
    backlogged: bool
    state: str
    since: float
    cause: str | None


@dataclass(frozen=True)
class SlaEvent:
    """A violation started or ended."""

    kind: str  # "violation-start" | "violation-end"
    domain: str
    slice: str
    time: float
    cause: str | None
    error: float


@dataclass(frozen=True)
class SlaArrays:
    """Per (domain, slice) group, percent."""

    guaranteed: FloatArray
    entitlement: FloatArray
    achieved: FloatArray
    error: FloatArray
    backlogged: NDArray[np.bool_]
    measured: NDArray[np.bool_]
    violated: NDArray[np.bool_]
    since: FloatArray
    cause: NDArray[np.int8]


def _group_keys(topology: Topology) -> list[tuple[str, str]]:
    return [
        (topology.domain_ids[d], topology.slices[s])
        for d, s in zip(topology.group_domain.tolist(), topology.group_slice.tolist())
    ]


class SlaTracker:
    """Hysteresis state per (domain, slice), carried across periods and
    across layout changes (a domain keeps its id while its radios do)."""

    def __init__(self, hysteresis: Hysteresis | None = None) -> None:
        self.hysteresis = hysteresis or Hysteresis()
        self._topology: Topology | None = None
        self._violated = np.zeros(0, dtype=bool)
        self._bad_streak = np.zeros(0, dtype=np.intp)
        self._good_streak = np.zeros(0, dtype=np.intp)
        self._since = np.zeros(0)
        self._cause = np.zeros(0, dtype=np.int8)

    def _realign(self, topology: Topology, now: float) -> None:
        old = self._topology
        n = topology.n_groups
        if old is not None and old.signature == topology.signature:
            return
        violated = np.zeros(n, dtype=bool)
        bad = np.zeros(n, dtype=np.intp)
        good = np.zeros(n, dtype=np.intp)
        since = np.full(n, now)
        cause = np.zeros(n, dtype=np.int8)
        if old is not None:
            row = {k: i for i, k in enumerate(_group_keys(old))}
            for i, key in enumerate(_group_keys(topology)):
                j = row.get(key)
                if j is not None:
                    violated[i] = self._violated[j]
                    bad[i] = self._bad_streak[j]
                    good[i] = self._good_streak[j]
                    since[i] = self._since[j]
                    cause[i] = self._cause[j]
        self._topology = topology
        self._violated, self._bad_streak, self._good_streak = violated, bad, good
        self._since, self._cause = since, cause

    def update(
        self,
        topology: Topology,
        measurement: Measurement,
        allocation: Allocation,
        now: float,
    ) -> tuple[SlaArrays, list[SlaEvent]]:
        self._realign(topology, now)
        hy = self.hysteresis
        pair_vif = topology.pair_vif
        pair_group = topology.pair_group
        n_groups = topology.n_groups
        m = measurement

        weight = np.maximum.reduceat(m.contract_share[pair_vif], topology.group_starts) if n_groups else np.zeros(0)
        domain_weight = np.bincount(topology.group_domain, weights=weight, minlength=topology.n_domains)
        guaranteed = 100.0 * weight / np.maximum(domain_weight[topology.group_domain], 1.0)
        # A saturated vif is owed its entitlement for the part of the period
        # it had frames: an on-off source that sent half the period is owed
        # its share of that half (the others had the rest meanwhile).
        owed = allocation.vif * np.where(m.saturated, m.backlogged, 1.0)
        entitlement = 100.0 * np.bincount(pair_group, weights=owed[pair_vif], minlength=n_groups)
        achieved = 100.0 * np.bincount(pair_group, weights=m.achieved[pair_vif], minlength=n_groups)
        error = entitlement - achieved
        backlogged = np.bincount(pair_group, weights=m.saturated[pair_vif], minlength=n_groups) > 0
        measured = np.bincount(pair_group, weights=~m.valid_vif[pair_vif], minlength=n_groups) == 0

        cause = np.where(measured, self._causes(topology, m, allocation, guaranteed, achieved, backlogged), CAUSE_NONE)

        bad = measured & backlogged & (error >= hy.enter_error)
        good = measured & ~bad & ((error <= hy.leave_error) | ~backlogged)
        self._bad_streak = np.where(measured, np.where(bad, self._bad_streak + 1, 0), self._bad_streak)
        self._good_streak = np.where(measured, np.where(good, self._good_streak + 1, 0), self._good_streak)
        start = ~self._violated & (self._bad_streak >= hy.enter_periods)
        end = self._violated & (self._good_streak >= hy.leave_periods)
        self._violated = (self._violated | start) & ~end
        changed = start | end
        self._since = np.where(changed, now, self._since)
        # The cause of a violation is kept up to date while it lasts; an
        # "ok" record explains a shortfall only if there is one.
        self._cause = np.where(
            self._violated,
            np.where(measured & (cause != CAUSE_NONE), cause, self._cause),
            np.where(cause == CAUSE_NO_BACKLOG, cause, CAUSE_NONE),
        ).astype(np.int8)

        events: list[SlaEvent] = []
        if changed.any():
            keys = _group_keys(topology)
            for g in np.flatnonzero(changed).tolist():
                domain, slice_ = keys[g]
                events.append(
                    SlaEvent(
                        kind="violation-start" if start[g] else "violation-end",
                        domain=domain,
                        slice=slice_,
                        time=now,
                        cause=CAUSES[int(self._cause[g])] or None,
                        error=float(error[g]),
                    )
                )
        arrays = SlaArrays(
            guaranteed=guaranteed,
            entitlement=entitlement,
            achieved=achieved,
            error=error,
            backlogged=backlogged,
            measured=measured,
            violated=self._violated.copy(),
            since=self._since.copy(),
            cause=self._cause.copy(),
        )
        return arrays, events

    def _causes(
        self,
        topology: Topology,
        m: Measurement,
        allocation: Allocation,
        guaranteed: FloatArray,
        achieved: FloatArray,
        backlogged: NDArray[np.bool_],
    ) -> NDArray[np.int8]:
        hy = self.hysteresis
        pair_vif = topology.pair_vif
        radio = topology.vif_radio
        shortfall = np.where(m.saturated, allocation.vif - m.achieved, -np.inf)
        others = m.radio_busy_other[radio]
        own = m.radio_tx[radio]
        vif_cause = np.where(
            (others >= 0.05) & (others >= 0.5 * shortfall),
            CAUSE_CONTENTION,
            np.where(own >= 0.9, CAUSE_RADIO, CAUSE_THROTTLED),
        )
        # The vif with the largest shortfall speaks for its group.
        n_groups = topology.n_groups
        cause = np.zeros(n_groups, dtype=np.int8)
        if n_groups == 0:
            return cause
        pair_short = shortfall[pair_vif]
        worst = np.maximum.reduceat(pair_short, topology.group_starts)
        is_worst = pair_short == worst[topology.pair_group]
        n_pairs = pair_short.shape[0]
        first = np.minimum.reduceat(np.where(is_worst, np.arange(n_pairs), n_pairs), topology.group_starts)
        cause[backlogged] = vif_cause[pair_vif[first[backlogged]]]
        idle = ~backlogged & (achieved < guaranteed - hy.enter_error)
        cause[idle] = CAUSE_NO_BACKLOG
        return cause


def sla_records(topology: Topology, arrays: SlaArrays) -> list[SlaRecord]:
    """Materialise the per-group arrays as records, for the API."""
    members = [
        tuple(f"{topology.radio_keys[r][0]}/{topology.radio_keys[r][1]}" for r in topology.domains.radios(d).tolist())
        for d in range(topology.n_domains)
    ]
    first_radio = topology.domains.members[topology.domains.ptr[:-1]]
    records = []
    for g, (d, s) in enumerate(zip(topology.group_domain.tolist(), topology.group_slice.tolist())):
        r = int(first_radio[d])
        records.append(
            SlaRecord(
                domain=topology.domain_ids[d],
                slice=topology.slices[s],
                band=topology.radio_band[r],
                channel=topology.radio_channel[r],
                radios=members[d],
                guaranteed=round(float(arrays.guaranteed[g]), 2),
                entitlement=round(float(arrays.entitlement[g]), 2),
                achieved=round(float(arrays.achieved[g]), 2),
                error=round(float(arrays.error[g]), 2),
                backlogged=bool(arrays.backlogged[g]),
                state=STATES[int(arrays.violated[g])],
                since=float(arrays.since[g]),
                cause=CAUSES[int(arrays.cause[g])] or None,
            )
        )
    return records
