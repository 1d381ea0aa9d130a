"""The TX-status path of the airtime module, with a user-space hwsim medium.

testbed/kernel/txstatus_scenario.py registers a medium on hwsim's
netlink interface that reports every unicast data frame as sent at
24 Mb/s in two attempts: the module must charge the measured airtime and
learn a congestion factor of about 2.  The medium then holds frames back
(no completions at all); aging must keep the vif sending, and the module
must refuse to unload until the frames it follows are freed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.kernel.conftest import ScenarioRun, run_scenario

pytestmark = [pytest.mark.kernel, pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def scenario(module_ko: Path) -> ScenarioRun:
    return run_scenario("testbed.kernel.txstatus_scenario", [str(module_ko)], timeout=600)


def test_kernel_reports_no_trouble(scenario: ScenarioRun) -> None:
    assert scenario.guest.kernel_trouble() == []


def test_measured_airtime_comes_from_tx_status(scenario: ScenarioRun) -> None:
    r = scenario.check("tx_status")
    assert r["tx_status_seen"] and r["source"] == "TX_STATUS"
    assert r["status_packets"] >= 100 and r["status_packets"] > 5 * r["estimate_packets"]
    # Two attempts per frame: charged airtime is about twice the estimate.
    assert 1.8 <= r["measured_us"] / r["estimated_us"] <= 2.1


def test_congestion_factor_learns_the_retries(scenario: ScenarioRun) -> None:
    assert 1.8 <= scenario.check("tx_status")["congestion"] <= 2.2


def test_frames_that_never_complete_do_not_stall_the_vif(scenario: ScenarioRun) -> None:
    r = scenario.check("frozen_medium")
    assert r["held_by_medium"] >= 50
    assert r["sent_while_frozen"] >= 50
    assert r["aged"] >= 50


def test_module_stays_while_frames_are_out_and_goes_after(scenario: ScenarioRun) -> None:
    r = scenario.check("unload_with_frames_out")
    assert "in use" in r["while_frames_out"]
    assert r["loaded_at_end"] is False
