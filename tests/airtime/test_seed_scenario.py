"""Scenario (a) closed loop, offline: the shared medium with the kmod core on
both APs, and the global scheduler, without NETCONF."""

from __future__ import annotations

import pytest

from testbed.scenarios import scenario
from testbed.scenarios.runner import OfflineRun

pytestmark = pytest.mark.slow


async def _run(policy: str):
    run = OfflineRun(scenario("seed"), policy, seed=3)
    records = await run.run()
    return {r.period: r for r in records}


async def test_local_only_splits_the_channel_evenly_and_reports_b_violated():
    by_period = await _run("local-only")
    for p in range(2, 10):
        assert by_period[p].share_of("A") == pytest.approx(50, abs=5)
        assert by_period[p].share_of("B") == pytest.approx(50, abs=5)
    b = by_period[9].group_slice.index("B")
    assert by_period[9].violated[b]


async def test_contention_aware_reaches_30_70_gives_way_and_recovers():
    by_period = await _run("contention-aware")
    # Period 1 measures the even split; the caps apply from period 2 on:
    # 30/70 within one point within three periods, and it holds.
    for p in range(2, 10):
        assert by_period[p].share_of("A") == pytest.approx(30, abs=1)
        assert by_period[p].share_of("B") == pytest.approx(70, abs=1)
    # B idle from period 10: A gets the channel (once B's queue drained).
    for p in range(11, 16):
        assert by_period[p].share_of("A") >= 95
    # B back in period 16: 30/70 again from period 17.
    for p in range(17, 23):
        assert by_period[p].share_of("A") == pytest.approx(30, abs=1)
        assert by_period[p].share_of("B") == pytest.approx(70, abs=1)
    assert not any(r.violated.any() for r in by_period.values())
