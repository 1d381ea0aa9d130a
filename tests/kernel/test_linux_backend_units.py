"""Pure parts of the linux backend: configuration parsing, hostapd files,
iw output parsing, the operational-state tree and control-interface
events.  No radios needed; the kernel tests drive the real thing."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.backends.base import BackendError
from agent.backends.linux.airtime import AirtimeSnapshot
from agent.backends.linux.airtime_netlink import PhyState, StationEstimate, VifState
from agent.backends.linux.airtime_uapi import Overhead, RateSource, Source
from agent.backends.linux.backend import bss_key
from agent.backends.linux.hostapd_config import BssConfig, ConfigError, HostapdRadio, render_bss_file
from agent.backends.linux.options import parse_options
from agent.backends.linux.state import Observed, radio_state
from agent.backends.linux.wireless import (
    VifInfo,
    parse_iw_dev,
    parse_phy_info,
    parse_station_dump,
    parse_survey_dump,
)
from agent.backends.linux.wpa_ctrl import parse_event, parse_status
from agent.backends.wifi_config import basis_points, parse_wifi_node, psk_sha256
from tests.kernel.iw_captures import IW_DEV, PHY_INFO, STATION_DUMP, SURVEY

PSK = "8F4A1F9B36E5D0C2A7B1E4F6D9C3A2B5E8F1D4C7A0B3E6F9C2D5A8B1E4F7C0D3"

CONFIG = {"ransdn-wifi:wifi-node": {"radio": [{
    "name": "phy0", "band": "2.4ghz", "channel": 1, "tx-power": 17,
    "scheduler": {"interval": 50000},
    "vif": [
        {"name": "sl-a", "ssid": "city a", "tenant": "a", "slice-id": "s1",
         "airtime": {"guaranteed-share": "20.5", "cap": "40"}},
        {"name": "sl-b", "ssid": "city-b", "tenant": "b", "vlan": 101, "enabled": False,
         "security": {"mode": "wpa2-psk", "psk": PSK}},
    ],
}]}}

def test_config_defaults_and_units() -> None:
    radio = parse_wifi_node(CONFIG)["phy0"]
    assert radio.scheduler.interval_us == 50000 and radio.scheduler.inflight_budget_us == 4000
    assert radio.scheduler.overhead_model == "dcf" and radio.tx_power == 17
    assert radio.channel_width == "20mhz"
    a, b = radio.vifs
    assert (a.share_bp, a.cap_bp, a.psk, a.enabled, a.security_mode) == (2050, 4000, None, True, "open")
    assert (b.share_bp, b.cap_bp, b.psk, b.vlan, b.enabled) == (0, None, PSK.lower(), 101, False)
    assert radio.active_vifs() == (a,)
    assert parse_wifi_node({}) == {}


def test_bss_key_ignores_hex_case_but_not_ssid() -> None:
    b = parse_wifi_node(CONFIG)["phy0"].vifs[1]
    lower = parse_wifi_node({"ransdn-wifi:wifi-node": {"radio": [{
        **CONFIG["ransdn-wifi:wifi-node"]["radio"][0],
        "vif": [{**CONFIG["ransdn-wifi:wifi-node"]["radio"][0]["vif"][1],
                 "security": {"mode": "wpa2-psk", "psk": PSK.lower()}}]}]}})["phy0"].vifs[0]
    assert bss_key(b) == bss_key(lower)
    assert bss_key(b) != bss_key(parse_wifi_node({"ransdn-wifi:wifi-node": {"radio": [{
        **CONFIG["ransdn-wifi:wifi-node"]["radio"][0],
        "vif": [{**CONFIG["ransdn-wifi:wifi-node"]["radio"][0]["vif"][1], "vlan": 102}]}]}})["phy0"].vifs[0])
    assert psk_sha256(PSK) == psk_sha256(PSK.lower())


@pytest.mark.parametrize("text,bp", [("0", 0), ("20", 2000), ("20.5", 2050), ("33.33", 3333), ("100", 10000)])
def test_basis_points(text: str, bp: int) -> None:
    assert basis_points(text) == bp


def test_hostapd_file_for_wpa2_with_vlan_bridge() -> None:
    text = render_bss_file(
        HostapdRadio(phy="phy0", band="2.4ghz", channel=6, legacy_ofdm_only=True),
        BssConfig(ifname="sl-b", ssid="city\nb", psk=PSK, bssid="02:00:00:00:00:01", bridge="br0"),
        "/run/ctrl")
    lines = text.splitlines()
    assert "interface=sl-b" in lines and "channel=6" in lines and "hw_mode=g" in lines
    assert "ieee80211n=0" in lines and "basic_rates=60" in lines
    assert f"ssid2={'city' .encode().hex()}0a{'b'.encode().hex()}" in lines
    assert "wpa=2" in lines and f"wpa_psk={PSK.lower()}" in lines
    assert "bridge=br0" in lines and "bssid=02:00:00:00:00:01" in lines


def test_hostapd_file_open_ht40() -> None:
    text = render_bss_file(HostapdRadio(phy="phy1", band="5ghz", channel=36, width="40mhz"),
                           BssConfig(ifname="x", ssid="open"), "/c")
    assert "hw_mode=a" in text and "ht_capab=[HT40+]" in text and "wpa=" not in text


@pytest.mark.parametrize("radio,bss", [
    (HostapdRadio(phy="p", band="2.4ghz", channel=1, width="160mhz"), BssConfig(ifname="x", ssid="s")),
    (HostapdRadio(phy="p", band="2.4ghz", channel=1), BssConfig(ifname="x", ssid="s", psk="00")),
    (HostapdRadio(phy="p", band="2.4ghz", channel=1), BssConfig(ifname="x", ssid="")),
    (HostapdRadio(phy="p", band="2.4ghz", channel=1, country="D\nE"), BssConfig(ifname="x", ssid="s")),
])
def test_hostapd_file_refuses_what_it_cannot_express(radio: HostapdRadio, bss: BssConfig) -> None:
    with pytest.raises(ConfigError):
        render_bss_file(radio, bss, "/c")


def test_options(tmp_path: Path) -> None:
    o = parse_options({"radios": {"phy0": {"legacy_ofdm_only": True}}, "scheduler_stall_us": 50000},
                      tmp_path)
    assert o.radio("phy0").legacy_ofdm_only and not o.radio("phy9").legacy_ofdm_only
    assert o.run_dir == tmp_path / "run" and o.require_airtime_module
    for bad in ({"nope": 1}, {"scheduler_stall_us": 5}, {"radios": {"phy0": {"x": 1}}},
                {"hostapd": 3}):
        with pytest.raises(BackendError):
            parse_options(bad, tmp_path)


def test_station_dump() -> None:
    a, b = parse_station_dump(STATION_DUMP)
    assert (a.mac, a.ifname, a.rx_bytes, a.tx_packets) == ("02:00:00:00:01:00", "wlan0", 2667, 1316)
    assert (a.signal_dbm, a.tx_bitrate_kbps, a.rx_bitrate_kbps, a.connected_s) == (-30, 6000, 54000, 9)
    assert (b.tx_bitrate_kbps, b.signal_dbm, b.connected_s) == (24000, None, None)


def test_iw_dev() -> None:
    vifs = parse_iw_dev(IW_DEV)
    assert sorted(vifs) == ["sl-c", "wlan1"]
    c = vifs["sl-c"]
    assert (c.mac, c.ssid, c.channel, c.frequency, c.width_mhz) == ("02:00:00:00:00:02", "tenant-c2", 1, 2412, 20)
    assert vifs["wlan1"].channel is None


def test_phy_info() -> None:
    info = parse_phy_info("phy0", "02:00:00:00:00:00", PHY_INFO)
    assert info.channels == {"2.4ghz": {1: 2412}, "5ghz": {36: 5180}}
    assert info.max_ap_vifs == 2048


def test_survey_takes_the_channel_in_use() -> None:
    s = parse_survey_dump(SURVEY)
    assert (s.frequency, s.active_ms, s.busy_ms, s.rx_ms, s.tx_ms) == (2412, 1000, 300, 100, 150)
    assert parse_survey_dump("") is None


def test_control_interface_events() -> None:
    e = parse_event("IFNAME=wlan0_1 <3>AP-STA-CONNECTED 02:00:00:00:02:00")
    assert (e.ifname, e.text) == ("wlan0_1", "AP-STA-CONNECTED 02:00:00:00:02:00")
    assert parse_event("<3>AP-ENABLED ").text == "AP-ENABLED"
    assert parse_event("OK\n") is None and parse_event("state=ENABLED\nphy=phy0") is None
    assert parse_status("state=ENABLED\nphy=phy0\nbss[0]=wlan0") == {
        "state": "ENABLED", "phy": "phy0", "bss[0]": "wlan0"}


def test_radio_state_tree() -> None:
    radio = parse_wifi_node(CONFIG)["phy0"]
    airtime = VifState(
        ifindex=5, ifname="sl-a", phy="phy0", share=2050, cap=4000, queue_limit=1000,
        estimated_us=100, measured_us=2**40, status_us=0, borrowed_us=3, credit_us=-5,
        congestion=1.2345, source=Source.ESTIMATE, backlog_packets=2, backlog_bytes=3000,
        tx_packets=9, tx_bytes=2**33, drops=1, throttled_us=4, backlogged_us=6,
        bypass_packets=0, status_packets=0, estimate_packets=9, untracked_packets=0)
    phy = PhyState(name="phy0", interval_us=50000, inflight_budget_us=4000, overhead=Overhead.DCF,
                   stall_us=10000, inflight_us=7, inflight_packets=1, num_vifs=1, intervals=3,
                   aged_packets=0, tx_status_seen=True)
    sta = parse_station_dump(STATION_DUMP.replace("wlan0", "sl-a"))[0]
    estimate = StationEstimate(ifindex=5, ifname="sl-a", mac=sta.mac, rate_kbps=54000,
                               rate_source=RateSource.TABLE, frame_us=403)
    seen = Observed(
        phy_macs={"phy0": "02:00:00:00:00:00"},
        live={"sl-a": "02:00:00:00:00:02"},
        rx={"sl-a": (10, 1)},
        phy_info={"phy0": parse_phy_info("phy0", "02:00:00:00:00:00", PHY_INFO)},
        channels={"phy0": parse_iw_dev(IW_DEV.replace("sl-c", "sl-a"))["sl-a"]},
        airtime=AirtimeSnapshot(loaded=True, phys={"phy0": phy}, vifs={"sl-a": airtime},
                                stations={("sl-a", sta.mac): estimate}),
        hostapd={"sl-a": {"state": "ENABLED"}},
        stations={"sl-a": [sta]},
        all_stations=True,
        surveys={"phy0": parse_survey_dump(SURVEY)},
    )
    out = radio_state("phy0", radio, seen)
    assert (out["band"], out["channel"], out["frequency"], out["channel-width"]) == ("2.4ghz", 1, 2412, "20mhz")
    assert out["capabilities"] == {"airtime-scheduler": True, "tx-status": True, "max-vifs": 2048}
    assert out["scheduler"]["interval"] == 50000 and out["survey"]["busy-time"] == "300000"
    va, vb = out["vif"]
    assert va["oper-status"] == "up" and "psk-sha256" not in va and va["bssid"] == "02:00:00:00:00:02"
    assert va["airtime"]["guaranteed-share"] == "20.50" and va["airtime"]["cap"] == "40.00"
    assert va["airtime"]["measured"] == str(2**40) and va["airtime"]["credit"] == "-5"
    assert va["airtime"]["congestion-factor"] == "1.234" or va["airtime"]["congestion-factor"] == "1.235"
    assert va["counters"]["tx-bytes"] == str(2**33) and va["counters"]["backlog-packets"] == 2
    assert va["counters"]["rx-bytes"] == "10" and va["station-count"] == 1
    assert vb["oper-status"] == "down" and vb["psk-sha256"] == psk_sha256(PSK) and vb["vlan"] == 101
    assert "bssid" not in vb and vb["station-count"] == 0 and vb["counters"]["tx-packets"] == "0"
    (station,) = out["station"]
    assert station["frame-airtime-estimate"] == 403 and station["tx-bitrate"] == 6000
    assert station["tx-bytes"] == "1953668"

    # The tree is what the YANG says (libyang parses it as state data).
    from agent.datastore.schema import SchemaLibrary
    from agent.datastore.tree import DataTree

    schema = SchemaLibrary().get("wifi")
    tree = {"ransdn-wifi:wifi-node-state": {"node-id": "n1", "radio": [out]}}
    parsed = DataTree.from_json(schema, tree, validate=False).to_json()
    assert parsed["ransdn-wifi:wifi-node-state"]["radio"][0]["vif"][0]["airtime"]["credit"] == "-5"


def test_sources_not_read_leave_their_leaves_out() -> None:
    """What a skipped source would have said is absent, not guessed."""
    radio = parse_wifi_node(CONFIG)["phy0"]
    out = radio_state("phy0", radio, Observed(phy_macs={"phy0": "02:00:00:00:00:00"},
                                             live={"sl-a": "02:00:00:00:00:02"}, rx={}))
    assert set(out) == {"name", "mac-address", "capabilities", "vif"} and out["capabilities"] == {}
    va, vb = out["vif"]
    assert set(va) == {"name", "ssid", "tenant", "slice-id", "bssid", "airtime"}
    assert va["airtime"] == {"guaranteed-share": "20.50", "cap": "40.00"}
    assert set(vb) == {"name", "ssid", "tenant", "vlan", "psk-sha256", "airtime"}


def test_an_idle_unconfigured_radio_still_has_a_band_and_channel() -> None:
    """band and channel are mandatory in the YANG; a radio that is neither
    configured nor on a channel reports its first usable one."""
    info = parse_phy_info("phy1", "02:00:00:00:01:00", PHY_INFO)
    seen = Observed(phy_macs={"phy1": info.mac}, live={}, rx={}, phy_info={"phy1": info}, channels={})
    out = radio_state("phy1", None, seen)
    assert (out["band"], out["channel"]) == ("2.4ghz", 1) and out["vif"] == []
    # One of its interfaces on a channel (a station, say) tells where it is.
    on = VifInfo(ifname="wlan1", mac="02:00:00:00:01:00", iftype="managed", ssid="elsewhere",
                 channel=36, frequency=5180, width_mhz=20)
    out = radio_state("phy1", None, Observed(
        phy_macs={}, live={}, rx={}, phy_info={"phy1": info}, channels={"phy1": on}))
    assert (out["band"], out["channel"], out["frequency"]) == ("5ghz", 36, 5180)


def test_hostapd_events_become_notifications(tmp_path: Path) -> None:
    from agent.backends.base import BackendContext
    from agent.backends.linux.backend import LinuxBackend
    from agent.backends.linux.wpa_ctrl import Event

    backend = LinuxBackend(BackendContext("wifi", "n1", tmp_path, {}))
    got = []
    backend.notify = got.append
    backend.running = parse_wifi_node(CONFIG)
    backend._on_event(Event("AP-STA-CONNECTED 02:00:00:00:02:00", "sl-a"))
    backend._on_event(Event("AP-STA-DISCONNECTED 02:00:00:00:02:00", "sl-a"))
    backend._on_event(Event("AP-ENABLED", "sl-a"))
    backend._on_event(Event("AP-ENABLED", "sl-a"))        # told once
    backend._on_event(Event("CTRL-EVENT-EAP-STARTED 02:00:00:00:02:00", "sl-a"))
    backend._on_event(Event("AP-STA-CONNECTED 02:00:00:00:02:00", None))
    assert [(n.name, n.body.get("mac-address"), n.body.get("oper-status")) for n in got] == [
        ("ransdn-wifi:station-associated", "02:00:00:00:02:00", None),
        ("ransdn-wifi:station-disassociated", "02:00:00:00:02:00", None),
        ("ransdn-wifi:vif-state-change", None, "up"),
    ]
    assert all(n.body["radio"] == "phy0" and n.body["vif"] == "sl-a" for n in got)


def test_the_backend_drives_wifi_nodes_only(tmp_path: Path) -> None:
    from agent.backends.base import BackendContext
    from agent.backends.linux.backend import LinuxBackend

    with pytest.raises(BackendError):
        LinuxBackend(BackendContext("lte", "n1", tmp_path, {}))
