"""Entitlements: who should get how much of each contention domain.

Inside one domain the split is a weighted, demand-aware max-min (water-
filling) at two levels:

1. among slices, weighted by each slice's guaranteed share, capped by the
   slice's demand in the domain (the sum over its vifs there): a slice that
   wants less than its share keeps what it wants and the rest goes to the
   slices that want more;
2. inside a slice, among its vifs on the domain's radios, weighted by their
   per-radio guarantees and capped by each vif's demand.

A radio usually sits in several domains (overlapping cliques), and a vif can
use no more than its tightest domain allows.  The domains are reconciled by
a weighted max-min over vifs (progressive filling), where each vif's weight
is what the two-level split of its tightest domain gives it: in a single
domain that reproduces the two-level split exactly; across domains it is
feasible (no domain gets more than its channel time) and leaves nothing
idle (every vif that wants more sits in a full domain).  A vif that turns
out to be held back by one domain frees its share in the others; a couple
of refinement passes recompute the two-level splits with those vifs
bounded, so that their slices' other vifs, not other slices, get it first.

The progressive filling is done locally: each round, every domain whose
fill level is the lowest among the domains it shares vifs with freezes its
vifs at that level.  That is exactly what a single global water level would
give them (fill levels only rise as other domains freeze), and many domains
freeze in the same round, so the number of rounds stays small.

Shares here are fractions of channel time (0..1), not percent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .topology import Topology
from .waterfill import MIN_WEIGHT, fill_order, sorted_levels, waterfill

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

#: Amounts of airtime below this are noise (a millionth of the channel).
EPSILON = 1e-6


@dataclass(frozen=True)
class Allocation:
    #: Per vif: its entitled fraction of channel time.
    vif: FloatArray
    #: Per (domain, slice) group: the sum of its vifs' entitlements.
    group: FloatArray
    #: Per group: the slice's weight in the domain (a fraction).
    group_weight: FloatArray
    #: Rounds of progressive filling, over all passes.
    rounds: int


def _per_vif_min(topology: Topology, pair_values: FloatArray) -> FloatArray:
    """Per vif, the minimum of ``pair_values`` over its (domain, vif) pairs."""
    return np.minimum.reduceat(pair_values[topology.by_vif], topology.by_vif_starts)


def group_weights(topology: Topology, share: FloatArray, demand: FloatArray) -> FloatArray:
    """A slice's weight in a domain: the largest guarantee among its vifs
    there that have demand (all of them when none has)."""
    if topology.n_groups == 0:
        return np.zeros(0)
    pair_share = share[topology.pair_vif]
    wanting = np.where(demand[topology.pair_vif] > EPSILON, pair_share, -1.0)
    weight = np.maximum.reduceat(wanting, topology.group_starts)
    fallback = np.maximum.reduceat(pair_share, topology.group_starts)
    return np.where(weight < 0, fallback, weight)


def domain_split(
    topology: Topology,
    group_weight: FloatArray,
    pair_weight: FloatArray,
    pair_demand: FloatArray,
    capacity: FloatArray,
) -> FloatArray:
    """Every domain's two-level split on its own, per (domain, vif) pair."""
    group_demand = np.bincount(topology.pair_group, weights=pair_demand, minlength=topology.n_groups)
    group_alloc = waterfill(topology.group_domain, group_weight, group_demand, capacity)
    return waterfill(topology.pair_group, pair_weight, pair_demand, group_alloc)


def progressive_fill(
    topology: Topology,
    weight: FloatArray,
    demand: FloatArray,
    capacity: FloatArray,
) -> tuple[FloatArray, int]:
    """Weighted max-min over vifs subject to every domain's capacity.

    Returns the allocation and the number of rounds it took.
    """
    pair_domain = topology.pair_domain
    pair_vif = topology.pair_vif
    n_domains = topology.n_domains
    n_vifs = topology.n_vifs
    weight = np.maximum(weight, MIN_WEIGHT)
    x = np.zeros(n_vifs)
    frozen = demand <= EPSILON
    # Sorted once: each round takes the active pairs, in the same order.
    order = fill_order(pair_domain, weight[pair_vif], demand[pair_vif], n_domains)
    sorted_domain = pair_domain[order]
    sorted_vif = pair_vif[order]
    rounds = 0
    while not frozen.all():
        rounds += 1
        active = ~frozen[pair_vif]
        load = np.bincount(pair_domain[~active], weights=x[pair_vif[~active]], minlength=n_domains)
        room = np.maximum(capacity - load, 0.0)
        keep = ~frozen[sorted_vif]
        act_domain = sorted_domain[keep]
        act_vif = sorted_vif[keep]
        level = sorted_levels(act_domain, weight[act_vif], demand[act_vif], room)
        # Per vif, the lowest level among its domains; per domain, the
        # lowest level among the domains it shares an active vif with.
        pair_level = np.where(active, level[pair_domain], np.inf)
        vif_level = _per_vif_min(topology, pair_level)
        neighbour = np.full(n_domains, np.inf)
        np.minimum.at(neighbour, act_domain, vif_level[act_vif])
        freezing = level <= neighbour
        freeze_pair = active & freezing[pair_domain]
        to_freeze = np.zeros(n_vifs, dtype=bool)
        to_freeze[pair_vif[freeze_pair]] = True
        x = np.where(to_freeze, np.minimum(demand, weight * vif_level), x)
        frozen |= to_freeze
    return x, rounds


def allocate(
    topology: Topology,
    share: FloatArray,
    demand: FloatArray,
    capacity: FloatArray,
    *,
    refinements: int = 1,
) -> Allocation:
    """Entitle every vif to a fraction of channel time.

    ``share``: per vif, its guaranteed share (fraction); ``demand``: per
    vif, the fraction of channel time it would use if let (1 for a
    saturating vif); ``capacity``: per domain, the channel time the domain
    can carry (1 unless a policy learnt otherwise).
    """
    n_vifs = topology.n_vifs
    if n_vifs == 0:
        return Allocation(np.zeros(0), np.zeros(0), np.zeros(0), 0)
    demand = np.clip(demand, 0.0, 1.0)
    pair_vif = topology.pair_vif
    pair_domain = topology.pair_domain
    group_weight = group_weights(topology, share, demand)
    pair_weight = share[pair_vif]
    pair_demand = demand[pair_vif]

    split = domain_split(topology, group_weight, pair_weight, pair_demand, capacity)
    x, rounds = progressive_fill(topology, _per_vif_min(topology, split), demand, capacity)
    for _ in range(refinements):
        load = np.bincount(pair_domain, weights=x[pair_vif], minlength=topology.n_domains)
        full = (load >= capacity - EPSILON)[pair_domain]
        # Is the vif in a full domain other than this pair's?
        full_count = np.bincount(pair_vif, weights=full, minlength=n_vifs)
        held_elsewhere = (full_count[pair_vif] - full) > 0
        bounded = np.where(held_elsewhere, np.minimum(pair_demand, x[pair_vif]), pair_demand)
        split = domain_split(topology, group_weight, pair_weight, bounded, capacity)
        refined, more = progressive_fill(topology, _per_vif_min(topology, split), demand, capacity)
        rounds += more
        x = refined
    group = np.bincount(topology.pair_group, weights=x[pair_vif], minlength=topology.n_groups)
    return Allocation(x, group, group_weight, rounds)
