"""The airtime module in a real kernel: its qdisc and genetlink family on a
mac80211_hwsim AP with three slices, driven directly over netlink.

One guest boot runs testbed/kernel/module_scenario.py; the tests below
assert on what it measured.  hwsim's built-in medium gives no TX status
(it orphans each frame as it "transmits" it), so airtime here is the
module's estimate; the TX-status path has its own test (test_txstatus.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.kernel.conftest import ScenarioRun, run_scenario

pytestmark = [pytest.mark.kernel, pytest.mark.slow, pytest.mark.timeout(1200)]

TARGETS = {"wlan0": 0.20, "wlan0_1": 0.30, "wlan0_2": 0.50}
PINNED_KBPS = {"wlan0": 54000, "wlan0_1": 24000, "wlan0_2": 6000}
TOLERANCE = 0.03


@pytest.fixture(scope="module")
def scenario(module_ko: Path) -> ScenarioRun:
    return run_scenario("testbed.kernel.module_scenario", [str(module_ko)], timeout=900)


def test_kernel_reports_no_trouble(scenario: ScenarioRun) -> None:
    assert scenario.guest.kernel_trouble() == []


def test_qdisc_refuses_non_wifi_and_non_root(scenario: ScenarioRun) -> None:
    r = scenario.check("attach_errors")
    assert "mac80211" in r["dummy"]
    assert "root" in r["child"]
    assert r["vifs_after"] == ["wlan0", "wlan0_1", "wlan0_2"]


def test_genetlink_lists_phy_and_vifs(scenario: ScenarioRun) -> None:
    r = scenario.check("genl_basics")
    assert [p["name"] for p in r["phys"]] == ["phy0"]
    assert r["phys"][0]["num_vifs"] == 3
    assert r["vifs"] == ["wlan0", "wlan0_1", "wlan0_2"]
    assert r["phy_of_wlan0"] == "phy0"


@pytest.mark.parametrize("case,errno,text", [
    ("unknown_attr", 22, "Unknown attribute"),
    ("other_cmds_attr", 22, "Unsupported attribute"),
    ("output_only_attr", 22, "Unsupported attribute"),
    ("share_out_of_range", 34, "out of range"),
    ("cap_zero", 34, "out of range"),
    ("share_short", 22, "length"),
    ("truncated_tlv", 22, "leftover"),
    ("missing_ifindex", 22, "IFINDEX is required"),
    ("nothing_to_set", 22, "nothing to set"),
    ("not_airtime_dev", 19, "no airtime qdisc"),
    ("cap_below_share", 22, "cap is below"),
    ("interval_too_short", 34, "out of range"),
    ("overhead_unknown", 34, "out of range"),
    ("reserved_header", 22, "reserved"),
    ("unknown_cmd", 95, ""),
])
def test_malformed_requests_are_rejected(scenario: ScenarioRun, case: str, errno: int,
                                         text: str) -> None:
    r = scenario.check("genl_rejects")[case]
    assert r["errno"] == errno, r
    assert text in r["message"], r


def test_rejected_requests_change_nothing(scenario: ScenarioRun) -> None:
    assert scenario.check("genl_rejects")["unchanged"] is True


def test_set_needs_cap_net_admin_get_does_not(scenario: ScenarioRun) -> None:
    r = scenario.check("permissions")
    assert r["get_ok"] and r["set_vif_eperm"] and r["set_phy_eperm"], r
    assert r["share_after"] == 0


def test_multicast_report_every_interval(scenario: ScenarioRun) -> None:
    r = scenario.check("reports")
    assert r["count"] == 4 and r["phy"] == "phy0" and r["interval_us"] == 100000
    assert all(v == ["wlan0", "wlan0_1", "wlan0_2"] for v in r["vifs"])
    assert all(60 <= gap <= 140 for gap in r["gaps_ms"]), r["gaps_ms"]


def test_eapol_bypasses_a_throttled_queue(scenario: ScenarioRun) -> None:
    r = scenario.check("bypass")
    assert r["bypass_after"] - r["bypass_before"] == 5
    assert r["backlog_packets"] > 0 and r["throttled"]


def test_estimates_follow_the_pinned_rates(scenario: ScenarioRun) -> None:
    r = scenario.check("estimates")
    for vif, kbps in PINNED_KBPS.items():
        assert r[vif]["source"] == "TABLE"
        assert r[vif]["rate_kbps"] == kbps
        model = r[vif]["model_us"]
        assert min(abs(r[vif]["frame_us"] - m) for m in model.values()) <= 2, r[vif]


def test_station_info_fallback_gives_the_same_rates(scenario: ScenarioRun) -> None:
    r = scenario.check("station_info_fallback")
    assert r == {vif: ["STATION_INFO", kbps] for vif, kbps in PINNED_KBPS.items()}


def test_shares_hold_by_module_and_by_received_bytes(scenario: ScenarioRun) -> None:
    r = scenario.check("shares")
    for vif, target in TARGETS.items():
        assert abs(r["module_shares"][vif] - target) <= TOLERANCE, r["module_shares"]
        assert abs(r["independent_shares"][vif] - target) <= TOLERANCE, r["independent_shares"]
    # hwsim gives no TX status: every completion used the estimate.
    assert all(n == 0 for n in r["status_packets"].values())
    assert all(src == "ESTIMATE" for src in r["source"].values())


def test_share_change_takes_effect_within_two_seconds(scenario: ScenarioRun) -> None:
    r = scenario.check("share_change")
    targets, samples = r["targets"], r["samples"]

    def within(sample: dict) -> bool:
        return all(abs(sample["shares"][v] - t) <= TOLERANCE for v, t in targets.items())

    first = next((s["t"] for s in samples if within(s)), None)
    assert first is not None and first <= 2.0, samples
    assert all(within(s) for s in samples[-3:]), samples


def test_work_conserving_when_others_stop(scenario: ScenarioRun) -> None:
    alone = scenario.check("alone")["throughput_mbps"]["wlan0_2"]
    after = scenario.check("work_conservation")["throughput_mbps"]["wlan0_2"]
    assert after >= 0.95 * alone, (after, alone)


def test_cap_holds_on_an_idle_radio(scenario: ScenarioRun) -> None:
    r = scenario.check("cap")
    assert r["module_busy"]["wlan0_2"] <= r["cap"] + TOLERANCE
    assert r["independent_busy"]["wlan0_2"] <= r["cap"] + TOLERANCE
    assert r["independent_busy"]["wlan0_2"] >= r["cap"] - 0.1


def test_local_traffic_is_counted_untracked(scenario: ScenarioRun) -> None:
    r = scenario.check("untracked")
    assert r["untracked_after"] - r["untracked_before"] >= 5


def test_vif_deleted_under_traffic(scenario: ScenarioRun) -> None:
    r = scenario.check("vif_delete")
    assert r["backlog_before"] > 0
    assert r["vifs_after"] == ["wlan0", "wlan0_1"] and r["num_vifs"] == 2


def test_twenty_unload_cycles_under_traffic(scenario: ScenarioRun) -> None:
    r = scenario.check("unload_cycles")
    assert "in use" in r["refused_while_attached"]
    assert r["cycles"] == 20
    assert all(n > 0 for n in r["last_cycle_tx_packets"].values())
    assert r["loaded_at_end"] is False
