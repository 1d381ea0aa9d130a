"""From cumulative counters to one period's shares, backlog and demand.

Nodes report cumulative counters.  The difference between two samples,
divided by the radio's channel time over the same span (its survey's
``channel-time``), gives fractions of channel time that do not depend on
when exactly the controller read each node.

A vif's **demand** is what it would use if let.  A vif wanted more than it
got -- it is *saturated*, its demand is the whole channel -- when its
local scheduler held it back (throttled by its credit or cap) after it used
what it was allowed, when frames were dropped because its queue
overflowed, or when a standing queue is left at the sample (it wants more
now, even if it only started late in the period).  Being backlogged alone
is not enough: on a busy radio every vif's frames wait behind the driver's
queue, and a light flow that gets all it asks for is still "backlogged"
most of the time.  (Nodes that do not report their queue fall back to
"backlogged for nearly the whole period".)  Any other vif got everything it
asked for: its demand is what it used.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .telemetry import RadioSample, VifSample
from .topology import Topology

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class DemandModel:
    #: Backlogged for at least this fraction of the period means saturated.
    saturated_backlog: float = 0.9
    #: Throttled for at least this fraction of the period means saturated.
    saturated_throttle: float = 0.02
    #: Frames still queued at the sample that make a standing queue (used
    #: only when nodes report the queue length).
    standing_queue: int = 128
    #: A throttled vif counts as saturated once it used this share of its
    #: applied cap (or, without a cap, of its guarantee).
    at_limit: float = 0.9


@dataclass(frozen=True)
class Counters:
    """Cumulative counters of one sample, aligned to a topology."""

    radio: NDArray[np.int64]  # (R, 3): channel, busy, tx time
    vif: NDArray[np.int64]  # (V, 4): measured, backlogged, throttled, drops
    #: Frames queued per vif at the sample; -1 where not reported.
    queue: NDArray[np.int64]
    #: (V, 4) fractions: contract share, contract cap, applied share,
    #: applied cap; nan where absent.
    shares: FloatArray


@dataclass(frozen=True)
class Measurement:
    """One period, per vif and per radio, as fractions of channel time."""

    #: Counters that could be differenced (not the first sample, no reset).
    valid_radio: BoolArray
    valid_vif: BoolArray
    period_us: FloatArray
    achieved: FloatArray
    backlogged: FloatArray
    throttled: FloatArray
    saturated: BoolArray
    demand: FloatArray
    #: Per radio: fraction of time it transmitted, and fraction the channel
    #: was busy with anyone else.
    radio_tx: FloatArray
    radio_busy_other: FloatArray
    #: Per radio: fraction of time nobody it hears (itself included) sent.
    radio_idle: FloatArray
    #: Contract and what is applied, fractions; ``nan`` for "no cap" /
    #: "unknown".
    contract_share: FloatArray
    contract_cap: FloatArray
    applied_share: FloatArray
    applied_cap: FloatArray


def counters_of(radios: list[RadioSample] | tuple[RadioSample, ...], vifs: list[VifSample] | tuple[VifSample, ...]) -> Counters:
    """Every numeric field of the samples, in one pass over each list."""
    radio = np.array(
        [(r.channel_time_us, r.busy_time_us, r.tx_time_us) for r in radios], dtype=np.int64
    ).reshape(len(radios), 3)
    # float64 holds counters exactly up to 2^53 us (285 years); None
    # (no cap, not reported) becomes nan.
    columns = np.array(
        [
            (
                v.measured_us,
                v.backlogged_us,
                v.throttled_us,
                v.drops,
                v.backlog_packets,
                v.contract_share,
                v.contract_cap,
                v.applied_share,
                v.applied_cap,
            )
            for v in vifs
        ],
        dtype=float,
    ).reshape(len(vifs), 9)
    queue = columns[:, 4]
    return Counters(
        radio=radio,
        vif=columns[:, :4].astype(np.int64),
        queue=np.where(np.isnan(queue), -1, queue).astype(np.int64),
        shares=columns[:, 5:] / 100.0,
    )


def realign(
    previous: Counters | None,
    old: Topology | None,
    new: Topology,
) -> Counters | None:
    """Previous counters re-indexed to a new topology (``-1`` rows for
    radios and vifs that were not there)."""
    if previous is None or old is None:
        return None
    if old.signature == new.signature:
        return previous
    radio_row = {k: i for i, k in enumerate(old.radio_keys)}
    vif_row = {k: i for i, k in enumerate(old.vif_keys)}
    radio = np.full((new.n_radios, 3), -1, dtype=np.int64)
    vif = np.full((new.n_vifs, 4), -1, dtype=np.int64)
    for i, key in enumerate(new.radio_keys):
        j = radio_row.get(key)
        if j is not None:
            radio[i] = previous.radio[j]
    for i, key in enumerate(new.vif_keys):
        j = vif_row.get(key)
        if j is not None:
            vif[i] = previous.vif[j]
    return Counters(radio, vif, np.full(new.n_vifs, -1, dtype=np.int64), np.full((new.n_vifs, 4), np.nan))


def measure(
    topology: Topology,
    now: Counters,
    before: Counters | None,
    model: DemandModel,
) -> Measurement:
    n_radios, n_vifs = topology.n_radios, topology.n_vifs
    contract_share, contract_cap, applied_share, applied_cap = now.shares.T
    if before is None:
        radio_delta = np.zeros((n_radios, 3))
        vif_delta = np.zeros((n_vifs, 4))
        valid_radio = np.zeros(n_radios, dtype=bool)
        valid_vif = np.zeros(n_vifs, dtype=bool)
    else:
        radio_delta = (now.radio - before.radio).astype(float)
        vif_delta = (now.vif - before.vif).astype(float)
        # A counter that went backwards was reset (agent restart, vif
        # re-created): that period says nothing.
        valid_radio = (before.radio[:, 0] >= 0) & (radio_delta[:, 0] > 0) & np.all(radio_delta >= 0, axis=1)
        valid_vif = (
            (before.vif[:, 0] >= 0) & np.all(vif_delta >= 0, axis=1) & valid_radio[topology.vif_radio]
        )
    period = np.where(valid_radio, radio_delta[:, 0], 1.0)
    vif_period = period[topology.vif_radio]
    achieved = np.where(valid_vif, np.clip(vif_delta[:, 0] / vif_period, 0.0, 1.0), 0.0)
    backlogged = np.where(valid_vif, np.clip(vif_delta[:, 1] / vif_period, 0.0, 1.0), 0.0)
    throttled = np.where(valid_vif, np.clip(vif_delta[:, 2] / vif_period, 0.0, 1.0), 0.0)
    dropped = vif_delta[:, 3] > 0
    queue = now.queue
    reported = queue >= 0
    standing = reported & (queue >= model.standing_queue)
    # Held back by its own scheduler, having used what it was allowed: a
    # bursty flow that is throttled now and then below its guarantee is not
    # asking for more.
    limit = np.where(np.isnan(applied_cap), applied_share, applied_cap)
    at_limit = np.isnan(limit) | (achieved >= model.at_limit * limit)
    saturated = valid_vif & (
        # A standing queue at the sample: it wants more now, even if it
        # only started late in the period.
        (standing & (backlogged > 0))
        | (~reported & (backlogged >= model.saturated_backlog))
        | ((throttled >= model.saturated_throttle) & at_limit)
        | dropped
    )
    demand = np.where(saturated, 1.0, achieved)
    demand = np.where(np.isnan(contract_cap), demand, np.minimum(demand, contract_cap))
    radio_tx = np.where(valid_radio, np.clip(radio_delta[:, 2] / period, 0.0, 1.0), 0.0)
    busy = np.where(valid_radio, np.clip(radio_delta[:, 1] / period, 0.0, 1.0), 0.0)
    return Measurement(
        valid_radio=valid_radio,
        valid_vif=valid_vif,
        period_us=np.where(valid_radio, radio_delta[:, 0], 0.0),
        achieved=achieved,
        backlogged=backlogged,
        throttled=throttled,
        saturated=saturated,
        demand=demand,
        radio_tx=radio_tx,
        radio_busy_other=np.maximum(busy - radio_tx, 0.0),
        radio_idle=np.where(valid_radio, 1.0 - np.maximum(busy, radio_tx), 0.0),
        contract_share=contract_share,
        contract_cap=contract_cap,
        applied_share=applied_share,
        applied_cap=applied_cap,
    )


def domain_capacity(topology: Topology, m: Measurement) -> FloatArray:
    """The channel time each domain had to share this period.

    A domain's radios can use the time they used plus the time the channel
    sat idle around them; time taken by transmitters outside the domain
    (radios some members hear and others do not) was never theirs to
    split.  Without a measurement the whole channel counts.  So the
    entitlements say how what the domain could have carried should have
    been split, and idle airtime a policy causes with tight caps is still
    owed to the slices with backlog.
    """
    used = np.bincount(topology.pair_domain, weights=m.achieved[topology.pair_vif], minlength=topology.n_domains)
    members = topology.domains.members
    starts = topology.domains.ptr[:-1]
    if members.shape[0] == 0:
        return np.ones(topology.n_domains)
    idle = np.maximum.reduceat(m.radio_idle[members], starts)
    measured = np.minimum.reduceat(m.valid_radio[members].astype(np.intp), starts) > 0
    return np.where(measured, np.clip(used + idle, 0.0, 1.0), 1.0)
