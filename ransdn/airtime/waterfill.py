"""Weighted, demand-aware max-min fair division (water-filling), many groups at once.

Every item belongs to one group; each group divides its capacity among its
items.  An item never gets more than its demand; the rest is shared in
proportion to weight, and whatever an item leaves unused goes to the items
that still want more.  Formally, group ``g`` finds the largest level
``lam[g]`` with ``sum(min(demand, lam[g] * weight)) <= capacity[g]`` and
every item gets ``min(demand, lam[g] * weight)``.

All groups are solved together with one sort, so the cost is
``O(n log n)`` in the number of items whatever the number of groups.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IndexArray = NDArray[np.intp]

#: Stands in for a zero weight: such items get almost nothing until every
#: item with a real weight is satisfied, and then share what is left equally.
#: Shares come in steps of 0.01 percent (1e-4), a hundred times this.
MIN_WEIGHT = 1e-6


def fill_order(group: IndexArray, weight: FloatArray, demand: FloatArray, n_groups: int) -> IndexArray:
    """Items ordered by group, then by the level at which they are
    satisfied (``demand / weight``), as :func:`sorted_levels` wants them."""
    ratio = np.maximum(demand, 0.0) / np.maximum(weight, MIN_WEIGHT)
    order = np.argsort(ratio)
    # A stable sort of 16-bit keys is a radix sort: much cheaper than a
    # second comparison sort.
    keys = group[order]
    if n_groups <= np.iinfo(np.uint16).max:
        keys = keys.astype(np.uint16)
    return order[np.argsort(keys, kind="stable")]


def sorted_levels(g: IndexArray, weight: FloatArray, demand: FloatArray, capacity: FloatArray) -> FloatArray:
    """:func:`waterfill_levels` for items already in :func:`fill_order`."""
    cap = np.maximum(capacity, 0.0)
    level = np.full(cap.shape[0], np.inf)
    if g.shape[0] == 0:
        return level
    ws = np.maximum(weight, MIN_WEIGHT)
    ds = np.maximum(demand, 0.0)
    rs = ds / ws
    counts = np.bincount(g, minlength=cap.shape[0])
    starts = np.cumsum(counts) - counts
    # Exclusive prefix sums inside each group.
    cum_d = np.cumsum(ds)
    cum_w = np.cumsum(ws)
    base = starts[g]
    before_d = cum_d - ds - (cum_d[base] - ds[base])
    before_w = cum_w - ws - (cum_w[base] - ws[base])
    total_w = np.bincount(g, weights=ws, minlength=cap.shape[0])
    from_here_w = total_w[g] - before_w
    # Total allocated if the level were exactly this item's ratio; it never
    # decreases along a group, so the items that fit form a prefix.
    at_level = before_d + rs * from_here_w
    fits = at_level <= cap[g]
    n_fit = np.bincount(g, weights=fits, minlength=cap.shape[0]).astype(np.intp)

    partial = n_fit < counts
    k = starts[partial] + n_fit[partial]
    level[partial] = np.maximum((cap[partial] - before_d[k]) / from_here_w[k], 0.0)
    return level


def waterfill_levels(
    group: IndexArray,
    weight: FloatArray,
    demand: FloatArray,
    capacity: FloatArray,
) -> FloatArray:
    """The level ``lam[g]`` of every group (``inf`` where all demand fits).

    ``group``, ``weight`` and ``demand`` have one entry per item; ``capacity``
    one per group (``group`` values index it).  Weights below
    :data:`MIN_WEIGHT` are raised to it; negative demands and capacities
    count as zero.
    """
    n = group.shape[0]
    if weight.shape != (n,) or demand.shape != (n,):
        raise ValueError("group, weight and demand must have the same length")
    order = fill_order(group, weight, demand, capacity.shape[0])
    return sorted_levels(group[order], weight[order], demand[order], capacity)


def waterfill(
    group: IndexArray,
    weight: FloatArray,
    demand: FloatArray,
    capacity: FloatArray,
) -> FloatArray:
    """Share ``capacity[g]`` among the items of each group ``g``; returns
    each item's allocation (see :func:`waterfill_levels` for the inputs)."""
    level = waterfill_levels(group, weight, demand, capacity)
    return np.minimum(np.maximum(demand, 0.0), level[group] * np.maximum(weight, MIN_WEIGHT))
