"""Slice model rules and admission control, each rejection naming its conflict."""

from __future__ import annotations

import pytest

from ransdn.admission import admit
from ransdn.model.errors import AdmissionRejected, InvalidRequest
from ransdn.model.psk import derive_psk, psk_matches, psk_sha256
from ransdn.model.slice import slice_from_request, slice_from_stored

from .helpers import lte_doc, lte_node, wifi_doc, wifi_node

NODES = {n.name: n for n in [wifi_node("ap1"), wifi_node("ap2", radios=("phy0", "phy1")),
                             wifi_node("ap3", scheduler=False), lte_node("c1"), lte_node("c2")]}


def _admitted(doc: dict, sid: str, others=()):
    return admit(slice_from_request(doc, sid), list(others), NODES)


def test_psk_is_pbkdf2_of_passphrase_and_ssid():
    # IEEE 802.11-2020 J.4.2 test vector.
    assert derive_psk("password", "IEEE") == \
        "f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e"


def test_passphrase_is_never_stored_only_the_psk():
    s = slice_from_request(wifi_doc("acme", "Acme", 10, ["ap1"],
                                    security={"mode": "wpa2-psk", "passphrase": "hunter2hunter2"}), "a")
    assert "hunter2hunter2" not in repr(s.spec()) and "hunter2hunter2" not in repr(s.public())
    assert s.spec()["wifi"]["security"]["psk"] == derive_psk("hunter2hunter2", "Acme")
    assert "psk" not in s.public()["wifi"]["security"]
    assert s.public()["wifi"]["security"]["psk_sha256"] == psk_sha256(derive_psk("hunter2hunter2", "Acme"))
    assert slice_from_stored(s.spec()).wifi == s.wifi


def test_psk_hash_is_over_the_key_octets():
    psk = derive_psk("password", "IEEE")
    import hashlib
    assert psk_matches(psk, hashlib.sha256(bytes.fromhex(psk)).hexdigest())
    assert not psk_matches(psk, hashlib.sha256(psk.encode()).hexdigest())  # hash of the hex text is not the leaf
    assert not psk_matches(psk, "0" * 64)


def test_modify_keeps_psk_without_passphrase_unless_ssid_changes():
    old = slice_from_request(wifi_doc("acme", "Acme", 10, ["ap1"],
                                      security={"mode": "wpa2-psk", "passphrase": "hunter2hunter2"}), "a")
    same = slice_from_request(wifi_doc("acme", "Acme", 20, ["ap1"], security={"mode": "wpa2-psk"}),
                              "a", previous=old)
    assert same.wifi.security.psk == old.wifi.security.psk
    with pytest.raises(InvalidRequest) as e:
        slice_from_request(wifi_doc("acme", "Other", 20, ["ap1"], security={"mode": "wpa2-psk"}),
                           "a", previous=old)
    assert e.value.errors[0].field == "/wifi/security/passphrase"


@pytest.mark.parametrize("doc, field", [
    (wifi_doc("t", "x", 30.123, ["ap1"]), "/wifi/guaranteed_share"),
    (wifi_doc("t", "x", 30, ["ap1"], cap=20), "/wifi/cap"),
    (wifi_doc("t", "x", 30, ["ap1", "ap1"]), "/wifi/nodes/1/node"),
    ({"tenant": "t"}, ""),
])
def test_model_rules_name_the_field(doc, field):
    with pytest.raises(InvalidRequest) as e:
        slice_from_request(doc, "s")
    assert field in [x.field for x in e.value.errors]


def test_all_radios_resolved_at_admission():
    s = _admitted(wifi_doc("t", "x", 10, ["ap2"]), "s")
    assert s.wifi.radios() == [("ap2", "phy0"), ("ap2", "phy1")]


def test_share_sum_per_radio_counts_existing_slices():
    a = _admitted(wifi_doc("a", "A", 60, ["ap1"]), "a")
    b = _admitted(wifi_doc("b", "B", 40, ["ap1"]), "b", [a])
    with pytest.raises(AdmissionRejected) as e:
        _admitted(wifi_doc("c", "C", 0.01, ["ap1"]), "c", [a, b])
    reason = e.value.errors[0].reason
    assert "ap1/phy0" in reason and "a (60.00%)" in reason and "b (40.00%)" in reason
    # A modify of "a" does not count its own old share.
    _admitted(wifi_doc("a", "A", 60, ["ap1"]), "a", [a, b])


@pytest.mark.parametrize("doc, others, field, words", [
    (wifi_doc("t2", "Shared", 10, ["ap2"]), [("t1", wifi_doc("t1", "Shared", 10, ["ap1"]))],
     "/wifi/ssid", "belongs to tenant 't1'"),
    (wifi_doc("t2", "B", 10, ["ap2"], vlan=7), [("t1", wifi_doc("t1", "A", 10, ["ap1"], vlan=7))],
     "/wifi/vlan", "VLAN 7 belongs to tenant 't1'"),
    (lte_doc("t2", "01", ["c2"]), [("t1", lte_doc("t1", "01", ["c1"]))],
     "/lte/plmn", "PLMN 001-01 belongs to tenant 't1'"),
    (wifi_doc("t", "X", 10, ["nope"]), [], "/wifi/nodes/0/node", "unknown node 'nope'"),
    (wifi_doc("t", "X", 10, ["c1"]), [], "/wifi/nodes/0/node", "not a Wi-Fi node"),
    (lte_doc("t", "01", ["ap1"]), [], "/lte/cells/0", "not an LTE small cell"),
    (wifi_doc("t", "X", 10, ["ap3"]), [], "/wifi/nodes/0/radios", "no airtime scheduler"),
    ({"tenant": "t", "wifi": {"ssid": "X", "nodes": [{"node": "ap1", "radios": ["phy9"]}]}}, [],
     "/wifi/nodes/0/radios", "has no radio 'phy9'"),
])
def test_conflicts_are_named(doc, others, field, words):
    existing = [_admitted(d, f"o{i}") for i, (_, d) in enumerate(others)]
    with pytest.raises(AdmissionRejected) as e:
        _admitted(doc, "new", existing)
    hits = [x for x in e.value.errors if x.field == field]
    assert hits and words in hits[0].reason, e.value.errors


def test_seventh_plmn_on_a_cell_is_rejected_naming_the_six():
    six = [_admitted(lte_doc(f"t{i}", f"{i:02d}", ["c1"]), f"s{i}") for i in range(6)]
    with pytest.raises(AdmissionRejected) as e:
        _admitted(lte_doc("t9", "99", ["c1"]), "s9", six)
    reason = e.value.errors[0].reason
    assert "cell 'c1' already broadcasts 6 PLMNs" in reason and "001-05 (s5)" in reason
    # Another cell still has room.
    _admitted(lte_doc("t9", "99", ["c2"]), "s9", six)


def test_same_tenant_may_reuse_its_ssid_and_vlan_on_other_nodes():
    a = _admitted(wifi_doc("t", "Net", 10, ["ap1"], vlan=5), "a")
    _admitted(wifi_doc("t", "Net", 10, ["ap2"], vlan=5), "b", [a])
    with pytest.raises(AdmissionRejected):  # but not twice on one radio
        _admitted(wifi_doc("t", "Net", 10, ["ap1"], vlan=5), "c", [a])
