"""The sim backend's Wi-Fi node through the Backend interface: the model
behind what the NETCONF tests drive end to end."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from agent.backends.base import BackendError
from testbed.medium.shared import SharedMedium

from .builders import BackendHarness, radio, vif, wifi

PSK = "0123456789abcdef" * 4


class Node(BackendHarness):
    state_tree = "ransdn-wifi:wifi-node-state"

    def __init__(self, tmp_path: Path, options: dict | None = None, medium=None, node_id="ap1"):
        super().__init__("wifi", node_id, tmp_path, options or {}, medium)


def radio_state(state: dict, name: str = "phy0") -> dict:
    return next(r for r in state["radio"] if r["name"] == name)


async def test_default_hardware_is_two_radios_without_vifs(tmp_path, assert_valid_state):
    async with Node(tmp_path) as node:
        state = await node.state()
        assert_valid_state({"ransdn-wifi:wifi-node-state": state})
    assert state["node-id"] == "ap1"
    bands = {r["name"]: (r["band"], r["channel"], r["frequency"]) for r in state["radio"]}
    assert bands == {"phy0": ("2.4ghz", 6, 2437), "phy1": ("5ghz", 36, 5180)}
    assert all("vif" not in r for r in state["radio"])
    caps = radio_state(state)["capabilities"]
    # The shared medium models drivers that report TX status.
    assert caps == {"airtime-scheduler": True, "tx-status": True, "max-vifs": 8}


async def test_vifs_exist_only_when_configured(tmp_path, assert_valid_state):
    async with Node(tmp_path) as node:
        await node.commit(wifi(radio("phy0", vif("wlan0", "city"), vif("wlan1", "guest", psk=PSK), channel=11)))
        state = await node.state()
        assert_valid_state({"ransdn-wifi:wifi-node-state": state})
        phy0 = radio_state(state)
        assert phy0["channel"] == 11 and phy0["frequency"] == 2462
        vifs = {v["name"]: v for v in phy0["vif"]}
        assert set(vifs) == {"wlan0", "wlan1"}
        mac = phy0["mac-address"]
        assert vifs["wlan0"]["bssid"] == mac
        assert vifs["wlan1"]["bssid"] == mac[:-2] + "01"
        assert vifs["wlan1"]["psk-sha256"] == hashlib.sha256(bytes.fromhex(PSK)).hexdigest()
        assert "psk-sha256" not in vifs["wlan0"]
        assert PSK not in repr(state)
        up = node.take("ransdn-wifi:vif-state-change")
        assert sorted((e["vif"], e["oper-status"], e["bssid"]) for e in up) == [
            ("wlan0", "up", mac), ("wlan1", "up", mac[:-2] + "01")]

        await node.commit(wifi(radio("phy0", vif("wlan1", "guest", psk=PSK), channel=11)))
        phy0 = radio_state(await node.state())
        assert [v["name"] for v in phy0["vif"]] == ["wlan1"]
        assert phy0["vif"][0]["bssid"] == mac[:-2] + "01", "a remaining vif keeps its BSSID"
        assert node.take("ransdn-wifi:vif-state-change") == [
            {"radio": "phy0", "vif": "wlan0", "bssid": mac, "oper-status": "down"}]

        await node.commit(wifi(radio("phy0", vif("wlan1", "guest", psk=PSK), vif("wlan2", "new"), channel=11)))
        vifs = {v["name"]: v["bssid"] for v in radio_state(await node.state())["vif"]}
        assert vifs["wlan2"] == mac, "a new vif takes the lowest free BSSID"

        await node.commit({})
        assert "vif" not in radio_state(await node.state())
        assert len(node.take("ransdn-wifi:vif-state-change")) == 3


async def test_disabling_a_vif_takes_it_down(tmp_path):
    async with Node(tmp_path) as node:
        await node.commit(wifi(radio("phy0", vif("wlan0", "city"))))
        node.take("ransdn-wifi:vif-state-change")
        await node.commit(wifi(radio("phy0", vif("wlan0", "city", enabled=False))))
        assert radio_state(await node.state())["vif"][0]["oper-status"] == "down"
        assert [e["oper-status"] for e in node.take("ransdn-wifi:vif-state-change")] == ["down"]
        await node.commit(wifi(radio("phy0", vif("wlan0", "city", enabled=True))))
        assert [e["oper-status"] for e in node.take("ransdn-wifi:vif-state-change")] == ["up"]


async def test_station_attaches_by_ssid(tmp_path, assert_valid_state):
    async with Node(tmp_path) as node:
        await node.commit(wifi(radio("phy0", vif("wlan0", "city"), vif("wlan1", "guest", psk=PSK))))
        out = await node.rpc("station-attach", radio="phy0", ssid="guest",
                             mac_address="AA:BB:CC:00:00:01", tx_bitrate=130000, signal=-61)
        assert out == {"vif": "wlan1"}
        assert node.take("ransdn-wifi:station-associated") == [
            {"radio": "phy0", "vif": "wlan1", "mac-address": "aa:bb:cc:00:00:01"}]
        state = await node.state()
        assert_valid_state({"ransdn-wifi:wifi-node-state": state})
        phy0 = radio_state(state)
        (sta,) = phy0["station"]
        assert (sta["mac-address"], sta["vif"], sta["tx-bitrate"], sta["signal"]) == (
            "aa:bb:cc:00:00:01", "wlan1", 130000, -61)
        counts = {v["name"]: v["station-count"] for v in phy0["vif"]}
        assert counts == {"wlan0": 0, "wlan1": 1}

        # Joining another BSS leaves the first one.
        assert await node.rpc("station-attach", radio="phy0", ssid="city",
                              mac_address="aa:bb:cc:00:00:01") == {"vif": "wlan0"}
        assert node.take("ransdn-wifi:station-disassociated") == [
            {"radio": "phy0", "vif": "wlan1", "mac-address": "aa:bb:cc:00:00:01"}]
        await node.rpc("station-detach", mac_address="aa:bb:cc:00:00:01")
        assert "station" not in radio_state(await node.state())
        assert len(node.take("ransdn-wifi:station-disassociated")) == 1


@pytest.mark.parametrize(
    ("radio_name", "ssid", "message"),
    [
        ("phy0", "nobody", "no vif on radio phy0 broadcasts SSID 'nobody'"),
        ("phy1", "city", "no vif on radio phy1 broadcasts SSID 'city'"),
        ("phy0", "off", "vif wlan1 (SSID 'off') on radio phy0 is disabled"),
        ("phy9", "city", "node ap1 has no radio phy9"),
    ],
)
async def test_station_attach_is_refused(tmp_path, radio_name, ssid, message):
    async with Node(tmp_path) as node:
        await node.commit(wifi(radio("phy0", vif("wlan0", "city"), vif("wlan1", "off", enabled=False))))
        with pytest.raises(BackendError) as err:
            await node.rpc("station-attach", radio=radio_name, ssid=ssid, mac_address="aa:bb:cc:00:00:02")
        assert err.value.message == message
        assert "station" not in radio_state(await node.state())
        assert node.take("ransdn-wifi:station-associated") == []


async def test_removing_or_rekeying_a_vif_disassociates_its_stations(tmp_path):
    async with Node(tmp_path) as node:
        await node.commit(wifi(radio("phy0", vif("wlan0", "city"), vif("wlan1", "guest", psk=PSK))))
        await node.rpc("station-attach", radio="phy0", ssid="city", mac_address="02:00:00:00:00:01")
        await node.rpc("station-attach", radio="phy0", ssid="guest", mac_address="02:00:00:00:00:02")
        await node.rpc("station-attach", radio="phy0", ssid="guest", mac_address="02:00:00:00:00:03")
        node.take("ransdn-wifi:station-associated")
        # A changed airtime share keeps stations; a new key drops them.
        await node.commit(wifi(radio("phy0", vif("wlan0", "city", share="20"),
                                     vif("wlan1", "guest", psk="f" * 64))))
        gone = node.take("ransdn-wifi:station-disassociated")
        assert sorted(e["mac-address"] for e in gone) == ["02:00:00:00:00:02", "02:00:00:00:00:03"]
        await node.commit(wifi(radio("phy0", vif("wlan1", "guest", psk="f" * 64))))
        gone = node.take("ransdn-wifi:station-disassociated")
        assert [e["mac-address"] for e in gone] == ["02:00:00:00:00:01"]
        assert "station" not in radio_state(await node.state())


async def test_set_traffic_needs_a_configured_vif(tmp_path):
    async with Node(tmp_path) as node:
        await node.commit(wifi(radio("phy0", vif("wlan0", "city"))))
        await node.rpc("set-traffic", radio="phy0", vif="wlan0", pattern="saturating")
        with pytest.raises(BackendError, match="no vif wlan9 is configured on radio phy0"):
            await node.rpc("set-traffic", radio="phy0", vif="wlan9", pattern="saturating")
        with pytest.raises(BackendError, match="pattern constant needs a rate"):
            await node.rpc("set-traffic", radio="phy0", vif="wlan0", pattern="constant")


@pytest.mark.parametrize(
    ("options", "config", "message"),
    [
        ({"radios": [{"name": "phy0", "max_vifs": 2}]},
         wifi(radio("phy0", vif("a", "a"), vif("b", "b"), vif("c", "c"))),
         "radio phy0 can carry at most 2 vifs, not 3"),
        ({"radios": [{"name": "phy0", "supported_channels": [1, 6, 11]}]},
         wifi(radio("phy0", vif("a", "a"), channel=13)),
         "radio phy0 does not support channel 13 in the 2.4ghz band"),
        ({}, wifi(radio("phy0", band="5ghz", channel=36)),
         "radio phy0 supports only 2.4ghz, not 5ghz"),
        ({}, wifi(radio("phy7")), "node ap1 has no radio phy7; it has phy0, phy1"),
        ({"fail_apply_when": {"ssid": "reject-me"}},
         wifi(radio("phy0", vif("a", "reject-me"))),
         "radio phy0 refused SSID 'reject-me' (simulated failure)"),
    ],
)
async def test_apply_refuses_what_the_hardware_cannot_do_and_changes_nothing(
    tmp_path, options, config, message
):
    async with Node(tmp_path, options) as node:
        await node.commit(wifi(radio("phy0", vif("wlan0", "city"), channel=1)))
        await node.rpc("station-attach", radio="phy0", ssid="city", mac_address="02:00:00:00:00:01")
        before = await node.state()
        node.events.clear()
        with pytest.raises(BackendError) as err:
            await node.backend.apply(node.running, config)
        assert err.value.message == message
        assert await node.state() == before
        assert node.events == []


async def test_fault_file_fails_every_change_while_it_exists(tmp_path):
    fault = tmp_path / "fault"
    async with Node(tmp_path, {"fault_file": str(fault)}) as node:
        await node.commit(wifi(radio("phy0", vif("wlan0", "city"))))
        fault.write_text("power amplifier over temperature\n")
        with pytest.raises(BackendError, match="ap1 is faulty: power amplifier over temperature"):
            await node.backend.apply(node.running, {})
        fault.unlink()
        await node.commit({})


class FlakyMedium(SharedMedium):
    """Refuses vif changes on one radio, to prove apply rolls back."""

    async def set_vifs(self, node_id, radio, vifs):
        if radio == "phy1":
            raise RuntimeError("firmware crashed")
        await super().set_vifs(node_id, radio, vifs)


async def test_a_medium_failure_midway_rolls_everything_back(tmp_path):
    medium = FlakyMedium()
    async with Node(tmp_path, medium=medium) as node:
        await node.commit(wifi(radio("phy0", vif("wlan0", "city"))))
        await node.rpc("station-attach", radio="phy0", ssid="city", mac_address="02:00:00:00:00:01")
        before = await node.state()
        node.events.clear()
        with pytest.raises(BackendError, match="firmware crashed"):
            await node.backend.apply(node.running, wifi(
                radio("phy0", vif("wlan9", "other"), channel=11),
                radio("phy1", vif("wlan5", "five"), band="5ghz", channel=40)))
        assert await node.state() == before
        assert node.events == []
        snap = await medium.snapshot("ap1")
        assert snap["phy0"].channel == 6 and set(snap["phy0"].vifs) == {"wlan0"}
        assert set(snap["phy0"].stations) == {"02:00:00:00:00:01"}


async def test_nodes_sharing_a_medium_stay_apart(tmp_path):
    medium = SharedMedium()
    async with Node(tmp_path, medium=medium, node_id="ap1") as a, \
            Node(tmp_path, medium=medium, node_id="ap2") as b:
        await a.commit(wifi(radio("phy0", vif("wlan0", "city"))))
        assert "vif" not in radio_state(await b.state())
        assert radio_state(await a.state())["mac-address"] != radio_state(await b.state())["mac-address"]
    with pytest.raises(KeyError):
        await medium.snapshot("ap1")


async def test_tx_status_capability_follows_the_medium(tmp_path):
    async with Node(tmp_path, medium=SharedMedium(tx_status=False)) as node:
        assert radio_state(await node.state())["capabilities"]["tx-status"] is False


async def test_traffic_moves_the_counters(tmp_path, assert_valid_state):
    medium = SharedMedium()
    async with Node(tmp_path, medium=medium) as node:
        await node.commit(wifi(radio("phy0", vif("wlan0", "city", share="30"), vif("wlan1", "guest", share="20"))))
        await node.rpc("station-attach", radio="phy0", ssid="city", mac_address="02:00:00:00:00:01")
        await node.rpc("set-traffic", radio="phy0", vif="wlan0", pattern="saturating")
        medium.run_for(1.0)
        state = await node.state()
        assert_valid_state({"ransdn-wifi:wifi-node-state": state})
    phy0 = radio_state(state)
    wlan0, wlan1 = phy0["vif"]
    assert int(wlan0["counters"]["tx-bytes"]) > 0 and int(wlan0["airtime"]["measured"]) > 0
    assert wlan1["counters"]["tx-bytes"] == "0"
    assert int(phy0["survey"]["busy-time"]) > 0 and int(phy0["survey"]["channel-time"]) > 0
    (sta,) = phy0["station"]
    assert 0 < int(sta["tx-bytes"]) <= int(wlan0["counters"]["tx-bytes"])
    assert sta["frame-airtime-estimate"] > 0
