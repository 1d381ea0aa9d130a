"""Properties of the entitlements on arbitrary contention graphs."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ransdn.airtime.allocation import allocate
from ransdn.airtime.topology import build_topology

from .layouts import Layout

TOL = 1e-6
SLICES = ("a", "b", "c", "d")


@st.composite
def layouts(draw, max_radios: int = 8, clique: bool = False):
    n = draw(st.integers(1, max_radios))
    all_pairs = list(itertools.combinations(range(n), 2))
    if clique:
        edges = all_pairs
    else:
        edges = [p for p in all_pairs if draw(st.booleans())]
    vifs = []
    for _ in range(n):
        present = draw(st.lists(st.sampled_from(SLICES), min_size=1, max_size=4, unique=True))
        # Contract shares on a radio add up to at most 100.
        raw = draw(st.lists(st.integers(0, 100), min_size=len(present), max_size=len(present)))
        scale = max(1.0, sum(raw) / 100.0)
        vifs.append({s: math.floor(share / scale * 100) / 100 for s, share in zip(present, raw)})
    layout = Layout(n, edges, vifs)
    n_vifs = sum(len(v) for v in vifs)
    demand = np.array(
        draw(st.lists(st.sampled_from([0.0, 1.0, 1.0]) | st.floats(0.0, 1.0), min_size=n_vifs, max_size=n_vifs))
    )
    return layout, demand


def _solve(layout: Layout, demand: np.ndarray):
    topology = build_topology(layout.radio_samples(), layout.vif_samples())
    share = np.array([v.contract_share / 100.0 for v in layout.vif_samples()])
    capacity = np.ones(topology.n_domains)
    return topology, share, capacity, allocate(topology, share, demand, capacity)


def _domain_load(topology, x):
    return np.bincount(topology.pair_domain, weights=x[topology.pair_vif], minlength=topology.n_domains)


@given(layouts())
@settings(max_examples=300, deadline=None)
def test_allocations_are_feasible_and_leave_nothing_idle(case):
    layout, demand = case
    topology, share, capacity, alloc = _solve(layout, demand)
    x = alloc.vif
    assert np.all(x >= -TOL) and np.all(x <= demand + TOL)
    load = _domain_load(topology, x)
    # Every domain's allocations add up to at most its channel time.
    assert np.all(load <= capacity + TOL)
    # No airtime idles while demand exists: a vif that wants more sits in
    # at least one full domain.
    full = load >= capacity - 1e-5
    pair_full = full[topology.pair_domain]
    vif_in_full = np.bincount(topology.pair_vif, weights=pair_full, minlength=topology.n_vifs) > 0
    wanting = x < demand - 1e-5
    assert np.all(vif_in_full[wanting])


def _reference_waterfill(weights, demands, capacity):
    """Water-filling the slow, obvious way: raise a common level until the
    capacity is used up, retiring items as their demand is met."""
    weights = [max(w, 1e-6) for w in weights]
    alloc = [0.0] * len(weights)
    active = {i for i, d in enumerate(demands) if d > 0}
    remaining = capacity
    while active and remaining > 1e-12:
        level = remaining / sum(weights[i] for i in active)
        done = [i for i in active if demands[i] <= weights[i] * level]
        if not done:
            for i in active:
                alloc[i] = weights[i] * level
            break
        for i in done:
            alloc[i] = demands[i]
            remaining -= demands[i]
            active.discard(i)
    return alloc


def _stand_alone_shares(layout: Layout, demand: np.ndarray) -> list[list[float]]:
    """Per vif, its two-level fair share of each of its domains, each domain
    considered alone: slices weighted by their largest guarantee among
    vifs with demand, then the slice's share split over its vifs by their
    guarantees."""
    topology = build_topology(layout.radio_samples(), layout.vif_samples())
    samples = layout.vif_samples()
    shares: list[list[float]] = [[] for _ in samples]
    for d in range(topology.n_domains):
        radios = set(topology.domains.radios(d).tolist())
        members = [v for v in range(len(samples)) if topology.vif_radio[v] in radios]
        slices = sorted({samples[v].slice for v in members})
        by_slice = {s: [v for v in members if samples[v].slice == s] for s in slices}
        weights, wants = [], []
        for s in slices:
            vifs = by_slice[s]
            active = [samples[v].contract_share / 100 for v in vifs if demand[v] > 1e-6]
            weights.append(max(active) if active else max(samples[v].contract_share / 100 for v in vifs))
            wants.append(sum(demand[v] for v in vifs))
        slice_alloc = _reference_waterfill(weights, wants, 1.0)
        for s, got in zip(slices, slice_alloc):
            vifs = by_slice[s]
            split = _reference_waterfill([samples[v].contract_share / 100 for v in vifs], [demand[v] for v in vifs], got)
            for v, y in zip(vifs, split):
                shares[v].append(y)
    return shares


@given(layouts())
@settings(max_examples=300, deadline=None)
def test_every_backlogged_vif_gets_its_fair_share_of_its_tightest_domain(case):
    """Each vif gets at least min(demand, entitlement), the entitlement
    being the two-level weighted max-min share of its most crowded domain
    (computed here independently, the slow way)."""
    layout, demand = case
    topology, share, capacity, alloc = _solve(layout, demand)
    fair = _stand_alone_shares(layout, demand)
    for v, shares in enumerate(fair):
        assert alloc.vif[v] >= min(demand[v], min(shares)) - 1e-5


@given(layouts(max_radios=6, clique=True))
@settings(max_examples=300, deadline=None)
def test_single_domain_is_exact_weighted_max_min_among_slices(case):
    layout, demand = case
    topology, share, capacity, alloc = _solve(layout, demand)
    assert topology.n_domains == 1
    x = alloc.vif
    groups = topology.pair_group
    slice_demand = np.bincount(groups, weights=demand[topology.pair_vif])
    slice_alloc = alloc.group
    # Demands of a millionth of the channel or less are noise and ignored.
    assert slice_alloc.sum() == pytest.approx(min(1.0, slice_demand.sum()), abs=1e-5)
    weight = alloc.group_weight
    level = slice_alloc / np.maximum(weight, 1e-6)
    # The scheduler drops each vif's demand of a millionth or less as noise,
    # so a slice of several vifs may fall short by a few millionths.
    unsatisfied = slice_alloc < slice_demand - 1e-5
    real = weight > 0
    if unsatisfied.any() and (real & (slice_demand > 0)).any():
        top = level[real & (slice_demand > 0)].max()
        assert level[unsatisfied & real].min(initial=np.inf) >= top * (1 - 1e-4) - 1e-4
    assert np.all(x <= demand + 1e-9)


def test_seed_case_two_aps():
    layout = Layout(2, [(0, 1)], [{"A": 30, "B": 70}, {"A": 30, "B": 70}])
    # A saturates on AP0 only, B on AP1 only.
    demand = np.array([1.0, 0.0, 0.0, 1.0])
    topology, _, _, alloc = _solve(layout, demand)
    assert alloc.vif == pytest.approx([0.3, 0.0, 0.0, 0.7])
    # B idle: A may have the whole channel.
    _, _, _, alloc = _solve(layout, np.array([1.0, 0.0, 0.0, 0.0]))
    assert alloc.vif == pytest.approx([1.0, 0.0, 0.0, 0.0])


def test_chain_gives_the_middle_its_share_of_both_sides():
    # a - b - c, weights 30/70/50: b is bottlenecked by c's side.
    layout = Layout(3, [(0, 1), (1, 2)], [{"A": 30}, {"B": 70}, {"C": 50}])
    topology, _, _, alloc = _solve(layout, np.ones(3))
    assert topology.n_domains == 2
    assert alloc.vif == pytest.approx([5 / 12, 7 / 12, 5 / 12])


def test_tenant_share_is_per_slice_not_per_vif():
    # One clique of 3 radios; A is on all three, B on one.  Equal weights
    # give each slice half the channel, A's half split over its radios.
    layout = Layout(3, [(0, 1), (0, 2), (1, 2)], [{"A": 50, "B": 50}, {"A": 50}, {"A": 50}])
    _, _, _, alloc = _solve(layout, np.ones(4))
    assert alloc.group == pytest.approx([0.5, 0.5])
    assert alloc.vif == pytest.approx([1 / 6, 0.5, 1 / 6, 1 / 6])


def test_radios_on_other_channels_do_not_contend():
    layout = Layout(2, [(0, 1)], [{"A": 30}, {"B": 70}], channel=[36, 40])
    topology, _, _, alloc = _solve(layout, np.ones(2))
    assert topology.n_domains == 2
    assert alloc.vif == pytest.approx([1.0, 1.0])
