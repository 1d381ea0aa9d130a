"""Properties of the grouped weighted water-filling."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ransdn.airtime.waterfill import waterfill

TOL = 1e-9


@st.composite
def groups(draw):
    n_groups = draw(st.integers(1, 6))
    n = draw(st.integers(1, 30))
    group = np.array(draw(st.lists(st.integers(0, n_groups - 1), min_size=n, max_size=n)), dtype=np.intp)
    weight = np.array(draw(st.lists(st.sampled_from([0.0, 0.05, 0.1, 0.3, 0.7, 1.0]) | st.floats(0.001, 1.0), min_size=n, max_size=n)))
    demand = np.array(draw(st.lists(st.sampled_from([0.0, 1.0]) | st.floats(0.0, 1.0), min_size=n, max_size=n)))
    capacity = np.array(draw(st.lists(st.floats(0.0, 1.5), min_size=n_groups, max_size=n_groups)))
    return group, weight, demand, capacity


@given(groups())
@settings(max_examples=400, deadline=None)
def test_waterfill_is_feasible_work_conserving_and_max_min(case):
    group, weight, demand, capacity = case
    alloc = waterfill(group, weight, demand, capacity)
    assert np.all(alloc >= -TOL)
    assert np.all(alloc <= demand + TOL)
    for g in range(capacity.shape[0]):
        items = group == g
        total = alloc[items].sum()
        assert total <= capacity[g] + 1e-9
        # Nothing idles while an item wants more.
        assert total == pytest.approx(min(capacity[g], demand[items].sum()), abs=1e-9)
        # Max-min: an item that got less than its demand has the highest
        # weight-normalised allocation among the items with real weights.
        real = items & (weight > 0)
        unsatisfied = real & (alloc < demand - 1e-9)
        if unsatisfied.any() and real.any():
            level = alloc / np.where(weight > 0, weight, 1.0)
            assert level[unsatisfied].min() >= level[real].max() - 1e-7


def test_seed_case_split():
    # One domain, A weighted 30, B 70, both saturating.
    alloc = waterfill(np.array([0, 0]), np.array([0.3, 0.7]), np.array([1.0, 1.0]), np.array([1.0]))
    assert alloc == pytest.approx([0.3, 0.7])


def test_unused_share_goes_to_the_tenant_with_demand():
    alloc = waterfill(np.array([0, 0]), np.array([0.3, 0.7]), np.array([1.0, 0.1]), np.array([1.0]))
    assert alloc == pytest.approx([0.9, 0.1])


def test_zero_weight_gets_only_what_is_left():
    alloc = waterfill(
        np.array([0, 0, 0]), np.array([0.5, 0.0, 0.0]), np.array([0.6, 1.0, 1.0]), np.array([1.0])
    )
    assert alloc == pytest.approx([0.6, 0.2, 0.2])
    alloc = waterfill(np.array([0, 0]), np.array([0.5, 0.0]), np.array([1.0, 1.0]), np.array([1.0]))
    assert alloc[0] == pytest.approx(1.0, abs=1e-5)


def test_mismatched_lengths_are_rejected():
    with pytest.raises(ValueError, match="same length"):
        waterfill(np.array([0, 0]), np.array([1.0]), np.array([1.0, 1.0]), np.array([1.0]))
