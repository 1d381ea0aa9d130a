"""Properties of the per-vif settings the policies hand to the local
schedulers, on random layouts and random measurements."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ransdn.airtime import GlobalScheduler

from .layouts import CounterFeed
from .test_allocation import layouts


@st.composite
def measured(draw):
    layout, _ = draw(layouts())
    usage = {}
    for r in range(layout.n_radios):
        room = 1.0
        for slice_ in layout.vifs[r]:
            share = draw(st.floats(0.0, room))
            room -= share
            backlog = draw(st.sampled_from([0.0, 0.3, 1.0]))
            usage[(r, slice_)] = (share, backlog)
    policy = draw(st.sampled_from(["contention-aware", "local-only"]))
    return layout, usage, policy


@given(measured())
@settings(max_examples=200, deadline=None)
def test_settings_respect_the_local_scheduler_constraints(case):
    layout, usage, policy = case
    feed = CounterFeed(layout)
    scheduler = GlobalScheduler(policy, integral_gain=0.0) if policy == "contention-aware" else GlobalScheduler(policy)
    scheduler.step(feed.telemetry(usage))
    decision = scheduler.step(feed.telemetry(usage))
    topology = decision.topology
    g, cap = decision.guaranteed, decision.cap
    # Percent with two decimals.
    assert np.all(np.round(g, 2) == g)
    assert np.all((g >= 0) & (g <= 100))
    per_radio = np.bincount(topology.vif_radio, weights=g, minlength=topology.n_radios)
    assert np.all(per_radio <= 100.0 + 1e-9)
    has_cap = ~np.isnan(cap)
    assert np.all(cap[has_cap] >= g[has_cap]) and np.all(cap[has_cap] <= 100.0)

    if policy == "local-only":
        assert np.array_equal(g, np.round(decision.measurement.contract_share * 100, 2))
        assert not has_cap.any()
        return

    # A vif never gets a cap below its entitlement, so every backlogged
    # slice can reach min(demand, entitlement).
    x = decision.allocation.vif * 100
    assert np.all(cap[has_cap] >= np.floor(x[has_cap] * 100) / 100)
    # Vifs that get all they want are never capped.
    m = decision.measurement
    satisfied = x >= m.demand * 100 - 1e-4
    assert not (has_cap & satisfied).any()

    # No airtime idles while demand exists: in a domain the allocation
    # fills, either a vif that wants more is uncapped, or the caps of the
    # vifs that want more plus what the others use fill the channel.
    wanting = ~satisfied & m.valid_vif
    for d in range(topology.n_domains):
        radios = set(topology.domains.radios(d).tolist())
        in_d = np.array([r in radios for r in topology.vif_radio])
        if x[in_d].sum() < 100 - 1e-3 or not (wanting & in_d).any():
            continue
        uncapped_wanting = (wanting & in_d & ~has_cap).any()
        usable = np.where(has_cap, cap, x)[in_d].sum()
        assert uncapped_wanting or usable >= 100 - 0.01 * in_d.sum()
