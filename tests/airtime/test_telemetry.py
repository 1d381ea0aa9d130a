"""Telemetry from the ransdn-wifi operational state tree."""

from __future__ import annotations

import json
from pathlib import Path

import libyang
import pytest

from ransdn.airtime import GlobalScheduler, Telemetry, TelemetryError, VifContract, radio_samples_from_state

YANG = Path(__file__).resolve().parents[2] / "yang"


def _state(measured_a: int, measured_b: int, time_us: int) -> dict:
    def vif(name, bssid, tenant, share, measured):
        return {
            "name": name,
            "bssid": bssid,
            "ssid": f"{tenant}-net",
            "tenant": tenant,
            "slice-id": f"slice-{tenant}",
            "oper-status": "up",
            "airtime": {
                "guaranteed-share": share,
                "measured": str(measured),
                "estimated": str(measured),
                "backlogged-time": str(time_us),
                "throttled-time": "0",
            },
        }

    return {
        "ransdn-wifi:wifi-node-state": {
            "node-id": "ap1",
            "radio": [
                {
                    "name": "phy0",
                    "mac-address": "02:00:00:00:01:00",
                    "band": "5ghz",
                    "channel": 36,
                    "survey": {
                        "channel-time": str(time_us),
                        "busy-time": str(time_us),
                        "tx-time": str(measured_a + measured_b),
                    },
                    "vif": [
                        vif("wlan0", "02:00:00:00:01:01", "A", "30.00", measured_a),
                        vif("wlan1", "02:00:00:00:01:02", "B", "70", measured_b),
                        vif("wlan9", "02:00:00:00:01:09", "C", "0", 0),
                    ],
                    "neighbor": [
                        {"bssid": "02:00:00:00:02:01", "ssid": "B-net", "channel": 36, "signal": -60},
                    ],
                }
            ],
        }
    }


def _validated(tree: dict) -> dict:
    """The tree as libyang prints it after validating it against the model,
    so the test uses the exact encoding nodes send."""
    ctx = libyang.Context(str(YANG))
    ctx.load_module("ransdn-wifi")
    node = ctx.parse_data_mem(json.dumps(tree), "json", strict=True, validate_present=True)
    try:
        return json.loads(node.print_mem("json", with_siblings=True))
    finally:
        node.free()
        ctx.destroy()


def _contracts(node, radio, vif, state):
    if state["tenant"] == "C":
        return None  # no intent owns it
    return VifContract(slice=state["slice-id"], share=float(state["airtime"]["guaranteed-share"]))


def test_samples_from_a_validated_state_tree():
    tree = _validated(_state(400_000, 600_000, 1_000_000))
    radios, vifs = radio_samples_from_state("ap1", tree, _contracts)
    (radio,) = radios
    assert radio.key == ("ap1", "phy0")
    assert (radio.band, radio.channel, radio.mac) == ("5ghz", 36, "02:00:00:00:01:00")
    assert radio.bssids == ("02:00:00:00:01:01", "02:00:00:00:01:02", "02:00:00:00:01:09")
    assert radio.heard == ("02:00:00:00:02:01",)
    assert (radio.channel_time_us, radio.busy_time_us, radio.tx_time_us) == (1_000_000, 1_000_000, 1_000_000)
    assert [v.vif for v in vifs] == ["wlan0", "wlan1"]
    a = vifs[0]
    assert (a.slice, a.contract_share, a.measured_us, a.backlogged_us, a.applied_share) == ("slice-A", 30.0, 400_000, 1_000_000, 30.0)
    assert a.applied_cap is None


def test_state_samples_drive_the_scheduler():
    scheduler = GlobalScheduler("contention-aware")
    for step, (a, b) in enumerate([(0, 0), (500_000, 500_000)], start=1):
        radios, vifs = radio_samples_from_state("ap1", _validated(_state(a, b, step * 1_000_000)), _contracts)
        decision = scheduler.step(Telemetry(time=float(step), radios=radios, vifs=vifs))
    records = {r.slice: r for r in decision.sla_records()}
    assert records["slice-A"].achieved == 50.0 and records["slice-B"].achieved == 50.0
    # A single radio: its local scheduler alone decides, entitlement 30/70.
    assert records["slice-B"].entitlement == 70.0


def test_a_tree_without_radios_gives_no_samples():
    assert radio_samples_from_state("ap1", {"ransdn-wifi:wifi-node-state": {"node-id": "ap1"}}, _contracts) == ([], [])


def test_a_malformed_counter_is_a_clear_error():
    tree = _state(1, 2, 3)
    tree["ransdn-wifi:wifi-node-state"]["radio"][0]["survey"]["busy-time"] = "lots"
    with pytest.raises(TelemetryError, match="ap1/phy0 survey busy-time: not an integer: 'lots'"):
        radio_samples_from_state("ap1", tree, _contracts)
