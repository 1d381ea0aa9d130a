"""End to end in a real kernel: the controller's REST API creates three
Wi-Fi slices (20/30/50 %) on a hwsim AP whose agent runs the linux backend
(hostapd multi-BSS + the airtime module), and the airtime the stations get
follows the API.

One guest boot runs testbed/kernel/e2e_scenario.py: controller, agent,
hostapd, stations in namespaces pinned to 54, 24 and 6 Mb/s, saturating
downstream UDP.  Shares are checked both by the module's own accounting
and independently from each station's received frames times the channel
time of one frame at its pinned rate.  hwsim's built-in medium gives no
TX status, so this exercises the module's estimate path.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.kernel.conftest import ScenarioRun, run_scenario

pytestmark = [pytest.mark.kernel, pytest.mark.slow, pytest.mark.timeout(1500)]

TOLERANCE = 0.03
#: How far one short window of the share-change test may stray.
WINDOW_TOLERANCE = 0.05
#: A window in which each vif had frames queued for at least this fraction
#: of the time the longest-queued one had (the module's own clock; the
#: window's length is only known to the guest's, which jitters under TCG).
BACKLOGGED = 0.95


@pytest.fixture(scope="module")
def scenario(module_ko: Path) -> ScenarioRun:
    return run_scenario("testbed.kernel.e2e_scenario", [str(module_ko)], timeout=1200)


def _vifs(scenario: ScenarioRun) -> list[str]:
    """The slices' vifs in slice order (a, b, c), as the controller named them."""
    by_ssid = scenario.check("setup")["vifs"]
    return [by_ssid["city-a"], by_ssid["city-b"], by_ssid["city-c"]]


def test_kernel_reports_no_trouble(scenario: ScenarioRun) -> None:
    assert scenario.guest.kernel_trouble() == []


def test_slices_are_provisioned_through_the_api(scenario: ScenarioRun) -> None:
    r = scenario.check("setup")
    assert all(c["status"] == 201 and c["state"] == "active" for c in r["created"].values())
    assert sorted(r["module_vifs"]) == sorted(_vifs(scenario))


def test_bss_and_station_events_reach_netconf(scenario: ScenarioRun) -> None:
    r = scenario.check("notifications")
    for vif, mac in zip(r["vifs"], r["stations"]):
        assert f"vif-state-change {vif} up" in r["seen"], r["seen"]
        assert f"station-associated {vif} {mac}" in r["seen"], r["seen"]


def test_shares_by_module_and_by_received_frames(scenario: ScenarioRun) -> None:
    r = scenario.check("shares")
    for vif, target in zip(_vifs(scenario), (0.2, 0.3, 0.5)):
        assert abs(r["module_shares"][vif] - target) <= TOLERANCE, r["module_shares"]
        assert abs(r["independent_shares"][vif] - target) <= TOLERANCE, r["independent_shares"]
    assert all(src == "ESTIMATE" for src in r["source"].values())


def test_work_conservation(scenario: ScenarioRun) -> None:
    c = _vifs(scenario)[2]
    alone = scenario.check("alone")["throughput_mbps"][c]
    after = scenario.check("work_conservation")["throughput_mbps"][c]
    assert after >= 0.95 * alone, (after, alone)


def test_cap_set_through_the_api_holds(scenario: ScenarioRun) -> None:
    r = scenario.check("cap")
    c = _vifs(scenario)[2]
    assert r["status"] == 200 and r["module_cap"] == 7000
    assert r["module_busy"][c] <= r["cap"] + TOLERANCE
    assert r["independent_busy"][c] <= r["cap"] + TOLERANCE
    assert r["independent_busy"][c] >= r["cap"] - 0.1


def test_share_change_through_the_api(scenario: ScenarioRun) -> None:
    r = scenario.check("share_change")
    assert r["status"] == [200, 200]
    targets, samples = r["targets"], r["samples"]
    assert r["module_applied_s"] is not None, samples

    def within(sample: dict) -> bool:
        return all(abs(sample["shares"][v] - t) <= TOLERANCE for v, t in targets.items())

    # From the moment the node applied the change (and from the moment the
    # API returned), the new split is there within 2 s and stays.
    reached = next((s["t"] for s in samples if s["t"] > r["module_applied_s"] and within(s)), None)
    assert reached is not None, samples
    assert reached - r["module_applied_s"] <= 2.0, (reached, r["module_applied_s"])
    assert reached - r["api_returned_s"] <= 2.0, (reached, r["api_returned_s"])
    # And it stays, judged on the later windows in which all three vifs had
    # frames queued throughout.  A window in which a sender in the guest
    # stalled (TCG on a loaded host) shows work conservation instead, as it
    # should; most windows must qualify, so the check cannot pass vacuously.
    # One 0.28 s window still jitters by a few points (the sampling runs in
    # the same TCG guest and the module's intervals straddle its edges), so
    # the split is held to the tolerance on average and loosely per window.
    later = [s for s in samples if s["t"] > reached]
    full = [s for s in later
            if min(s["backlogged"].values()) >= BACKLOGGED * max(s["backlogged"].values()) > 0]
    assert len(full) >= 0.6 * len(later), samples
    for v, t in targets.items():
        mean = sum(s["shares"][v] for s in full) / len(full)
        assert abs(mean - t) <= TOLERANCE, (v, mean, samples)
        assert all(abs(s["shares"][v] - t) <= WINDOW_TOLERANCE for s in full), (v, samples)


def test_a_share_change_is_only_set_vif_on_the_node(scenario: ScenarioRun) -> None:
    """The agent's linux backend logs each apply with what it did: a change
    of guarantees alone is one generic netlink request per vif, and no
    hostapd, iw or tc.  The time is reported, bounded only for sanity."""
    r = scenario.check("share_change")
    c = _vifs(scenario)[2]
    mine = [a for a in r["node_applies"] if f"SET_VIF {c} share=6000" in a["detail"]]
    assert len(mine) == 1, r["node_applies"]
    how, _, done = mine[0]["detail"].partition(": ")
    assert how.startswith("airtime only"), mine[0]
    assert all(action.startswith("genl SET_VIF ") for action in done.split("; ")), mine[0]
    assert mine[0]["seconds"] < 2.0, mine[0]


def test_narrow_state_reads_report_what_full_ones_do(scenario: ScenarioRun) -> None:
    r = scenario.check("state_reads")
    hashes = r["psk_hashes"]
    assert hashes["psk"] == hashes["full"] and len(hashes["psk"]) == 1, hashes
    assert r["reply_bytes"]["psk"] < r["reply_bytes"]["airtime"] < r["reply_bytes"]["full"]


def test_slice_deleted_under_traffic(scenario: ScenarioRun) -> None:
    r = scenario.check("delete_under_traffic")
    assert r["status"] == 200 and r["backlog_before"] > 0
    assert r["vifs_after"] == r["expected"] and r["netdev_gone"]


def test_vlan_slice_is_an_untagged_member_of_its_vlan(scenario: ScenarioRun) -> None:
    r = scenario.check("vlan_slice")
    assert r["status"] == 201 and r["master"] == "br-ransdn" and r["vlan_filtering"] == "1"
    (port,) = r["vlans"]
    assert port["vlans"] == [{"vlan": 101, "flags": ["PVID", "Egress Untagged"]}], port
    assert r["deleted"] == 200 and r["netdev_gone"]


def test_module_unloads_after_the_agent_stops(scenario: ScenarioRun) -> None:
    assert scenario.check("teardown")["unloaded"] is True
