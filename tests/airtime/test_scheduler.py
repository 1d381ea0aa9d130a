"""The control loop on hand-made telemetry: the 2-AP seed case, SLA
hysteresis and causes, policy swaps and bad input."""

from __future__ import annotations

import dataclasses

import pytest

from ransdn.airtime import GlobalScheduler, TelemetryError, UnknownPolicyError

from .layouts import CounterFeed, Layout

# AP0 and AP1 hear each other on one channel.  Slice A has 30 % and slice
# B 70 % on both; A sends only through AP0, B only through AP1.
SEED = Layout(2, [(0, 1)], [{"A": 30, "B": 70}, {"A": 30, "B": 70}])
A_ON_AP0 = (0, "A")
B_ON_AP1 = (1, "B")


def _records(decision):
    return {r.slice: r for r in decision.sla_records()}


def _setting(decision, node, vif):
    return next(s for s in decision.settings() if s.node_id == node and s.vif == vif)


def test_first_period_only_primes_the_counters():
    scheduler = GlobalScheduler("contention-aware")
    decision = scheduler.step(CounterFeed(SEED).telemetry({A_ON_AP0: (0.5, 1.0), B_ON_AP1: (0.5, 1.0)}))
    # Nothing measured yet: every vif keeps its contract, no SLA verdict.
    assert [(s.guaranteed_share, s.cap) for s in decision.settings()] == [(30, None), (70, None)] * 2
    assert all(r.state == "ok" and r.cause is None for r in decision.sla_records())


def test_contention_aware_caps_the_smaller_share_so_the_other_ap_gets_the_rest():
    feed = CounterFeed(SEED)
    scheduler = GlobalScheduler("contention-aware")
    scheduler.step(feed.telemetry({A_ON_AP0: (0.5, 1.0), B_ON_AP1: (0.5, 1.0)}))
    decision = scheduler.step(feed.telemetry({A_ON_AP0: (0.5, 1.0), B_ON_AP1: (0.5, 1.0)}))

    sla = _records(decision)
    assert (sla["A"].entitlement, sla["A"].achieved, sla["A"].error) == (30.0, 50.0, -20.0)
    assert (sla["B"].entitlement, sla["B"].achieved, sla["B"].error) == (70.0, 50.0, 20.0)
    assert sla["B"].state == "ok"  # one bad period is not yet a violation

    a_ap0 = _setting(decision, "ap0", "wlan-A")
    assert (a_ap0.guaranteed_share, a_ap0.cap) == (30.0, 30.0)
    # AP1 is the residual taker: B stays uncapped and gets what AP0 leaves.
    b_ap1 = _setting(decision, "ap1", "wlan-B")
    assert (b_ap1.guaranteed_share, b_ap1.cap) == (70.0, None)
    # The guarantee nobody needs on AP0 is head-room for B's idle vif there.
    assert _setting(decision, "ap0", "wlan-B").guaranteed_share == 70.0
    assert _setting(decision, "ap1", "wlan-A").guaranteed_share == 30.0

    # The caps work: 30/70, no violation is ever raised.
    for _ in range(3):
        decision = scheduler.step(feed.telemetry({A_ON_AP0: (0.3, 1.0), B_ON_AP1: (0.7, 1.0)}, throttled={A_ON_AP0: 0.4}))
        assert all(r.state == "ok" for r in decision.sla_records())
        assert abs(_records(decision)["B"].error) < 0.01
        assert _setting(decision, "ap0", "wlan-A").cap == 30.0
    assert not decision.events


def test_work_conserving_when_b_goes_idle_and_capped_again_when_it_returns():
    feed = CounterFeed(SEED)
    scheduler = GlobalScheduler("contention-aware")
    scheduler.step(feed.telemetry({A_ON_AP0: (0.5, 1.0), B_ON_AP1: (0.5, 1.0)}))
    scheduler.step(feed.telemetry({A_ON_AP0: (0.5, 1.0), B_ON_AP1: (0.5, 1.0)}))
    # B stops: A, held at its 30 % cap, is backlogged; B sent nothing.
    decision = scheduler.step(feed.telemetry({A_ON_AP0: (0.3, 1.0)}, throttled={A_ON_AP0: 0.7}))
    sla = _records(decision)
    assert sla["A"].entitlement == 100.0
    assert sla["B"].cause == "no-backlog" and sla["B"].state == "ok"
    # A is not capped any more; B's idle vif on AP0 keeps a guarantee so
    # that B, should it start there, is served by the local scheduler at
    # once (while idle, its credit is lent to A).
    a_ap0 = _setting(decision, "ap0", "wlan-A")
    b_ap0 = _setting(decision, "ap0", "wlan-B")
    assert a_ap0.cap is None and b_ap0.cap is None
    assert a_ap0.guaranteed_share >= 30.0 and b_ap0.guaranteed_share > 0
    assert a_ap0.guaranteed_share + b_ap0.guaranteed_share <= 100.0
    # B is back; the uncapped AP0 and AP1 split the channel evenly.
    decision = scheduler.step(feed.telemetry({A_ON_AP0: (0.5, 1.0), B_ON_AP1: (0.5, 1.0)}))
    assert _setting(decision, "ap0", "wlan-A").cap == 30.0


def test_local_only_keeps_contracts_and_reports_the_violation_with_hysteresis():
    feed = CounterFeed(SEED)
    scheduler = GlobalScheduler("local-only")
    even = {A_ON_AP0: (0.5, 1.0), B_ON_AP1: (0.5, 1.0)}
    scheduler.step(feed.telemetry(even))
    first = scheduler.step(feed.telemetry(even))
    assert _records(first)["B"].state == "ok" and not first.events
    second = scheduler.step(feed.telemetry(even))
    b = _records(second)["B"]
    assert (b.state, b.cause, b.since) == ("violated", "co-channel-contention", second.time)
    assert [(e.kind, e.slice, e.cause) for e in second.events] == [("violation-start", "B", "co-channel-contention")]
    assert _records(second)["A"].state == "ok"  # over-served is not violated
    # Contracts untouched.
    assert [(s.guaranteed_share, s.cap) for s in second.settings()] == [(30, None), (70, None)] * 2

    # One good period does not end it; two do.
    fixed = {A_ON_AP0: (0.3, 1.0), B_ON_AP1: (0.7, 1.0)}
    third = scheduler.step(feed.telemetry(fixed))
    assert _records(third)["B"].state == "violated" and not third.events
    fourth = scheduler.step(feed.telemetry(fixed))
    assert _records(fourth)["B"].state == "ok"
    assert [(e.kind, e.slice) for e in fourth.events] == [("violation-end", "B")]
    assert _records(fourth)["B"].since == fourth.time


def test_policy_swap_keeps_state_and_loses_no_period():
    feed = CounterFeed(SEED)
    scheduler = GlobalScheduler("local-only")
    even = {A_ON_AP0: (0.5, 1.0), B_ON_AP1: (0.5, 1.0)}
    for _ in range(3):
        decision = scheduler.step(feed.telemetry(even))
    started = _records(decision)["B"].since
    assert _records(decision)["B"].state == "violated"

    scheduler.set_policy("contention-aware")
    assert scheduler.policy == "contention-aware"
    decision = scheduler.step(feed.telemetry(even))
    # Same period count, counters differenced against the sample taken
    # under the old policy, violation still open since the same time.
    assert decision.period == 4 and decision.policy == "contention-aware"
    assert _records(decision)["B"].state == "violated" and _records(decision)["B"].since == started
    assert _setting(decision, "ap0", "wlan-A").cap == 30.0


def test_unknown_policy_is_refused_and_the_current_one_kept():
    scheduler = GlobalScheduler("contention-aware")
    with pytest.raises(UnknownPolicyError, match="known: contention-aware, local-only"):
        scheduler.set_policy("round-robin")
    assert scheduler.policy == "contention-aware"
    with pytest.raises(UnknownPolicyError):
        GlobalScheduler("nonsense")


def test_bad_telemetry_is_refused_and_loses_nothing():
    feed = CounterFeed(SEED)
    scheduler = GlobalScheduler("local-only")
    even = {A_ON_AP0: (0.5, 1.0), B_ON_AP1: (0.5, 1.0)}
    scheduler.step(feed.telemetry(even))
    good = feed.telemetry(even)

    duplicated = dataclasses.replace(good, vifs=list(good.vifs) + [good.vifs[0]])
    with pytest.raises(TelemetryError, match="ap0/phy0/wlan-A sampled twice"):
        scheduler.step(duplicated)
    orphan = dataclasses.replace(good, radios=[good.radios[1]])
    with pytest.raises(TelemetryError, match="radio ap0/phy0, which was not sampled"):
        scheduler.step(orphan)
    twice = dataclasses.replace(good, radios=[good.radios[0], good.radios[0], good.radios[1]])
    with pytest.raises(TelemetryError, match="radio ap0/phy0 sampled twice"):
        scheduler.step(twice)

    # The refused samples changed nothing: the good one is measured against
    # the first sample, as if they never came.
    decision = scheduler.step(good)
    assert decision.period == 2
    assert _records(decision)["B"].achieved == 50.0


def test_counter_reset_makes_the_vif_unmeasured_not_violated():
    feed = CounterFeed(SEED)
    scheduler = GlobalScheduler("local-only")
    even = {A_ON_AP0: (0.5, 1.0), B_ON_AP1: (0.5, 1.0)}
    scheduler.step(feed.telemetry(even))
    scheduler.step(feed.telemetry(even))
    # The agent of AP1 restarted: its vif counters start again from zero.
    feed.vif[B_ON_AP1] = (0, 0, 0)
    decision = scheduler.step(feed.telemetry(even))
    assert not decision.measurement.valid_vif[3]
    b = _records(decision)["B"]
    assert b.state == "ok" and not decision.events


def test_only_changed_settings_are_pushed():
    feed = CounterFeed(SEED)
    scheduler = GlobalScheduler("contention-aware")
    even = {A_ON_AP0: (0.5, 1.0), B_ON_AP1: (0.5, 1.0)}
    scheduler.step(feed.telemetry(even))
    contract = {(r, s): (share, None) for r in range(2) for s, share in SEED.vifs[r].items()}
    decision = scheduler.step(feed.telemetry(even, applied=contract))
    changes = decision.changes()
    assert [(c.node_id, c.vif, c.guaranteed_share, c.cap) for c in changes] == [("ap0", "wlan-A", 30.0, 30.0)]
    # The whole radio is pushed together.
    assert {k: [(v.vif, v.guaranteed_share, v.cap) for v in vs] for k, vs in decision.radio_changes().items()} == {
        ("ap0", "phy0"): [("wlan-A", 30.0, 30.0), ("wlan-B", 70.0, None)]
    }
    applied = dict(contract)
    applied[A_ON_AP0] = (30.0, 30.0)
    decision = scheduler.step(feed.telemetry({A_ON_AP0: (0.3, 1.0), B_ON_AP1: (0.7, 1.0)}, applied=applied))
    assert decision.changes() == [] and decision.radio_changes() == {}
    # A dead-band ignores small moves of a guarantee.
    applied[B_ON_AP1] = (69.8, None)
    decision = scheduler.step(feed.telemetry({A_ON_AP0: (0.3, 1.0), B_ON_AP1: (0.7, 1.0)}, applied=applied))
    assert decision.radio_changes(min_delta=0.5) == {}
    assert list(decision.radio_changes()) == [("ap1", "phy0")]
