"""Policy plug-ins, the integral correction and violation causes."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pytest

from ransdn.airtime import (
    BUILTIN_POLICIES,
    GlobalScheduler,
    PeriodView,
    PolicyMemory,
    PolicyRegistry,
    Settings,
)

from .layouts import CounterFeed, Layout
from .test_scheduler import A_ON_AP0, B_ON_AP1, SEED, _records, _setting


class HalfPolicy:
    """A test plug-in: every vif gets half its contract; counts its periods
    in its own memory."""

    name: ClassVar[str] = "half"

    def decide(self, view: PeriodView, memory: PolicyMemory) -> Settings:
        memory.other["periods"] = memory.other.get("periods", 0) + 1
        share = view.measurement.contract_share / 2
        return Settings(guaranteed=share, cap=np.full_like(share, np.nan))


def test_a_registered_plug_in_is_swapped_in_and_keeps_its_memory():
    registry = PolicyRegistry({**BUILTIN_POLICIES, "half": HalfPolicy}, entry_point_group=None)
    assert registry.names() == ["contention-aware", "half", "local-only"]
    feed = CounterFeed(SEED)
    even = {A_ON_AP0: (0.5, 1.0), B_ON_AP1: (0.5, 1.0)}
    scheduler = GlobalScheduler("half", registry=registry)
    scheduler.step(feed.telemetry(even))
    decision = scheduler.step(feed.telemetry(even))
    assert [s.guaranteed_share for s in decision.settings()] == [15.0, 35.0, 15.0, 35.0]
    scheduler.set_policy("local-only")
    scheduler.step(feed.telemetry(even))
    scheduler.set_policy("half")
    scheduler.step(feed.telemetry(even))
    assert scheduler._memories["half"].other["periods"] == 3


def test_policy_options_reach_the_policy():
    scheduler = GlobalScheduler("contention-aware", integral_gain=0.0)
    assert scheduler._policy.integral_gain == 0.0
    with pytest.raises(TypeError):
        GlobalScheduler("local-only", integral_gain=0.0)


def test_integral_term_corrects_a_cap_the_local_scheduler_overshoots():
    feed = CounterFeed(SEED)
    scheduler = GlobalScheduler("contention-aware", integral_gain=0.5)
    even = {A_ON_AP0: (0.5, 1.0), B_ON_AP1: (0.5, 1.0)}
    scheduler.step(feed.telemetry(even))
    decision = scheduler.step(feed.telemetry(even))
    assert _setting(decision, "ap0", "wlan-A").cap == 30.0
    # The local scheduler lets A through at 33 % although capped at 30.
    over = {A_ON_AP0: (0.33, 1.0), B_ON_AP1: (0.67, 1.0)}
    decision = scheduler.step(feed.telemetry(over, throttled={A_ON_AP0: 0.3}))
    assert _setting(decision, "ap0", "wlan-A").cap == 28.5
    # Now it lands on target: the correction is kept, not wound further.
    on_target = {A_ON_AP0: (0.30, 1.0), B_ON_AP1: (0.70, 1.0)}
    decision = scheduler.step(feed.telemetry(on_target, throttled={A_ON_AP0: 0.3}))
    assert _setting(decision, "ap0", "wlan-A").cap == 28.5
    # Under its target but not held back by the cap: no wind-up, the
    # correction decays.
    short = {A_ON_AP0: (0.25, 1.0), B_ON_AP1: (0.75, 1.0)}
    decision = scheduler.step(feed.telemetry(short))
    assert _setting(decision, "ap0", "wlan-A").cap == 29.25


def test_own_radio_saturated_and_throttled_causes():
    # One radio, no neighbours, two slices with 50 % each, both backlogged.
    lone = Layout(1, [], [{"A": 50, "B": 50}])
    feed = CounterFeed(lone)
    scheduler = GlobalScheduler("local-only")
    # B's vif takes 80 % of its own radio: A's shortfall is the radio's.
    hogged = {(0, "A"): (0.2, 1.0), (0, "B"): (0.8, 1.0)}
    scheduler.step(feed.telemetry(hogged))
    scheduler.step(feed.telemetry(hogged))
    decision = scheduler.step(feed.telemetry(hogged))
    a = _records(decision)["A"]
    assert (a.state, a.cause, a.error) == ("violated", "radio-saturated", 30.0)
    # A is held back by its own credit while 40 % of the channel idles.
    held = {(0, "A"): (0.2, 1.0), (0, "B"): (0.4, 0.2)}
    decision = scheduler.step(feed.telemetry(held, throttled={(0, "A"): 0.8}))
    a = _records(decision)["A"]
    assert a.entitlement == 60.0 and a.cause == "throttled"
