"""Rendering desired configuration and diffing it against running."""

from __future__ import annotations

from decimal import Decimal

from ransdn.admission import admit
from ransdn.model.slice import slice_from_request
from ransdn.render import diff_node, render_all, vif_name
from ransdn.store.sqlite import AirtimeOverride
from ransdn.yangdata import YangModels

from .helpers import lte_doc, lte_node, wifi_doc, wifi_node

NODES = [wifi_node("ap1", radios=("phy0", "phy1")), lte_node("c1")]


def _slices():
    by = {n.name: n for n in NODES}
    a = admit(slice_from_request(wifi_doc("acme", "Acme", 30, ["ap1"], cap=50, vlan=10,
                                          security={"mode": "wpa2-psk", "passphrase": "p" * 10}),
                                 "acme"), [], by)
    b = admit(slice_from_request({**wifi_doc("city", "City", 20, ["ap1"]),
                                  **lte_doc("city", "02", ["c1"])}, "city"), [a], by)
    return [a, b]


def test_vif_names_are_stable_short_and_unique_per_radio():
    names = {vif_name(s, r) for s in ("a", "b", "x" * 64) for r in ("phy0", "phy1")}
    assert len(names) == 6
    assert all(len(n) <= 15 and n.isalnum() for n in names)
    assert vif_name("a", "phy0") == vif_name("a", "phy0")


def test_render_is_deterministic_and_valid_yang():
    models = YangModels()
    one = render_all(NODES, _slices())
    two = render_all(list(reversed(NODES)), list(reversed(_slices())))
    assert {k: v.tree() for k, v in one.items()} == {k: v.tree() for k, v in two.items()}
    for d in one.values():
        models.validate_config(d.tree())
    vifs = one["ap1"].tree()["ransdn-wifi:wifi-node"]["radio"][0]["vif"]
    assert [v["ssid"] for v in vifs] == sorted([v["ssid"] for v in vifs], key=lambda s: vif_name(
        {"Acme": "acme", "City": "city"}[s], "phy0"))
    assert one["c1"].tree()["ransdn-lte:lte-cell"]["slice"][0]["plmn"] == {"mcc": "001", "mnc": "02"}


def test_overlay_replaces_share_and_cap_of_one_vif():
    name = vif_name("acme", "phy1")
    d = render_all(NODES, _slices(), [AirtimeOverride("ap1", "phy1", name, Decimal("45"),
                                                       clear_cap=True)])["ap1"]
    assert d.vifs[("phy1", name)]["airtime"] == {"guaranteed-share": "45.00"}
    assert d.vifs[("phy0", vif_name("acme", "phy0"))]["airtime"] == {
        "guaranteed-share": "30.00", "cap": "50.00"}


def test_running_equal_modulo_defaults_and_decimal_format_is_not_drift():
    d = render_all(NODES, _slices())["ap1"]
    running = {"ransdn-wifi:wifi-node": {"radio": [
        {"name": r, "band": "2.4ghz", "channel": 6,
         "vif": [{**{k: v for k, v in vif.items() if k not in ("enabled", "security")},
                  "security": {"mode": vif["security"]["mode"]},
                  "airtime": {k: v.rstrip("0").rstrip(".") for k, v in vif["airtime"].items()}}
                 for (rr, _), vif in d.vifs.items() if rr == r]}
        for r in ("phy0", "phy1")]}}
    assert diff_node(d, running).empty


def test_diff_repairs_changed_missing_and_unwanted_vifs():
    d = render_all(NODES, _slices())["ap1"]
    acme0 = vif_name("acme", "phy0")
    running = {"ransdn-wifi:wifi-node": {"radio": [{"name": "phy0", "band": "2.4ghz", "channel": 6, "vif": [
        {**d.vifs[("phy0", acme0)], "ssid": "Evil"},
        {"name": "rogue", "ssid": "Rogue", "tenant": "x"}]}]}}
    diff = diff_node(d, running)
    text = diff.edit_xml()
    assert 'operation="remove"><name>rogue</name>' in text.replace("nc:", "")
    assert "<band>2.4ghz</band>" in text  # phy1 is not configured: created with its band
    assert any("settings differ" in c for c in diff.changes)
    assert any("rogue" in c and "not wanted" in c for c in diff.changes)


def test_psk_drift_is_seen_through_the_state_hash():
    import hashlib
    d = render_all(NODES, _slices())["ap1"]
    acme0 = vif_name("acme", "phy0")
    psk = d.vifs[("phy0", acme0)]["security"]["psk"]
    running_vifs = [{k: (v if k != "security" else {"mode": v["mode"]}) for k, v in vif.items()}
                    for (r, _), vif in d.vifs.items() if r == "phy0"]
    running = {"ransdn-wifi:wifi-node": {"radio": [
        {"name": "phy0", "band": "2.4ghz", "channel": 6, "vif": running_vifs},
        {"name": "phy1", "band": "2.4ghz", "channel": 6,
         "vif": [vif for (r, _), vif in d.vifs.items() if r == "phy1"]}]}}

    def state(h):
        return {"ransdn-wifi:wifi-node-state": {"radio": [{"name": "phy0", "vif": [
            {"name": acme0, "psk-sha256": h}]}]}}
    good = hashlib.sha256(bytes.fromhex(psk)).hexdigest()
    assert diff_node(d, running, state(good)).empty
    assert diff_node(d, running, state("f" * 64)).changes == [f"vif phy0/{acme0}: PSK differs"]


def test_state_is_read_only_when_a_psk_is_the_open_question():
    from ransdn.render.edit import needs_psk_hashes
    d = render_all(NODES, _slices())["ap1"]
    acme0, city0 = vif_name("acme", "phy0"), vif_name("city", "phy0")
    without_psk = {k: (v if k != "security" else {"mode": v["mode"]})
                   for k, v in d.vifs[("phy0", acme0)].items()}

    def running(*vifs):
        return {"ransdn-wifi:wifi-node": {"radio": [
            {"name": "phy0", "band": "2.4ghz", "channel": 6, "vif": list(vifs)}]}}

    # the WPA2 vif matches on everything else: only its key can tell
    assert needs_psk_hashes(d, running(without_psk, d.vifs[("phy0", city0)]))
    # it differs anyway (it will be replaced, key included), or is missing
    assert not needs_psk_hashes(d, running({**without_psk, "ssid": "Other"}))
    assert not needs_psk_hashes(d, running(d.vifs[("phy0", city0)]))
    # open vifs and LTE cells never need it
    open_only = render_all(NODES, _slices()[1:])
    assert not needs_psk_hashes(open_only["ap1"], running(d.vifs[("phy0", city0)]))
    assert not needs_psk_hashes(open_only["c1"], {})
