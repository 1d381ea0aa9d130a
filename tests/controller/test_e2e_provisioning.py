"""End to end: controller process + agent farm over NETCONF/SSH.

Slices are created, modified and deleted through REST and through the
CLI; every check of what a node runs is made with an independent ncclient
session to the agent."""

from __future__ import annotations

import json

import pytest

from ransdn.model.psk import derive_psk
from ransdn.render import vif_name

from . import nodes as agents
from .conftest import lte_plan, register_all, requires_agents, wait_connected, wait_for, wifi_plan
from .processes import run_cli

pytestmark = [requires_agents, pytest.mark.slow]

SLICE = {
    "id": "acme", "tenant": "acme",
    "wifi": {"ssid": "AcmeNet", "security": {"mode": "wpa2-psk", "passphrase": "correct horse"},
             "guaranteed_share": 30, "cap": 60, "vlan": 100,
             "nodes": [{"node": "ap1"}, {"node": "ap2"}]},
    "lte": {"plmn": {"mcc": "001", "mnc": "01"}, "mmes": [{"address": "127.0.0.10"}],
            "imsi_acl": {"imsis": ["001010000000001"], "prefixes": ["0010100001"]},
            "cells": ["cell1"]},
}


@pytest.fixture
def city(farm_factory, controller_factory):
    farm = farm_factory([wifi_plan("ap1", 1), wifi_plan("ap2", 6), lte_plan("cell1")])
    ctl = controller_factory("--reconcile-interval", "3600")
    register_all(ctl, farm.inventory)
    wait_connected(ctl, ["ap1", "ap2", "cell1"])
    return farm, ctl


def test_slice_create_modify_delete_via_rest(city, keys):
    farm, ctl = city
    key = keys["tester"]
    status, headers, body = ctl.request("POST", "/api/v1/slices", SLICE)
    assert status == 201, body
    assert headers["Location"] == "/api/v1/slices/acme" and headers["ETag"] == '"acme-v1"'
    assert body["state"] == "active" and body["version"] == 1
    outcomes = {n["node"]: n["outcome"] for n in body["last_transaction"]["nodes"]}
    assert outcomes == {"ap1": "applied", "ap2": "applied", "cell1": "applied"}
    text = json.dumps(body)
    assert "correct horse" not in text and derive_psk("correct horse", "AcmeNet") not in text, text

    for ap in ("ap1", "ap2"):
        vif = agents.vifs(farm.agent(ap), key)[vif_name("acme", "phy0")]
        assert (vif["ssid"], vif["tenant"], vif["vlan"], vif["slice-id"]) == ("AcmeNet", "acme", 100, "acme")
        assert float(vif["airtime"]["guaranteed-share"]) == 30 and float(vif["airtime"]["cap"]) == 60
        assert vif["security"]["mode"] == "wpa2-psk" and "psk" not in vif["security"]
    cell = agents.lte_slices(farm.agent("cell1"), key)["acme"]
    assert cell["plmn"] == {"mcc": "001", "mnc": "01"}
    assert cell["imsi-acl"]["imsi"] == ["001010000000001"]

    # Modify: a stale ETag is refused and changes nothing.
    before = agents.snapshot(farm.inventory, key)
    status, _, problem = ctl.request("PATCH", "/api/v1/slices/acme", {"wifi": {"guaranteed_share": 40}},
                                     headers={"If-Match": '"acme-v0"'},
                                     content_type="application/merge-patch+json")
    assert status == 412 and problem["status"] == 412
    assert agents.snapshot(farm.inventory, key) == before
    status, headers, body = ctl.request(
        "PATCH", "/api/v1/slices/acme",
        {"wifi": {"guaranteed_share": 40, "nodes": [{"node": "ap1"}]}},
        headers={"If-Match": '"acme-v1"'}, content_type="application/merge-patch+json")
    assert status == 200, body
    assert headers["ETag"] == '"acme-v2"' and body["wifi"]["guaranteed_share"] == 40
    assert float(agents.vifs(farm.agent("ap1"), key)[vif_name("acme", "phy0")]
                 ["airtime"]["guaranteed-share"]) == 40
    assert agents.vifs(farm.agent("ap2"), key) == {}, "ap2 left the slice: its vif must go"
    # The PSK survived a modify without the passphrase: state reports its hash.
    st = agents.state(farm.agent("ap1"), key)["ransdn-wifi:wifi-node-state"]
    reported = {v["name"]: v for r in st["radio"] for v in r.get("vif", [])}
    from ransdn.model.psk import psk_matches
    assert psk_matches(derive_psk("correct horse", "AcmeNet"),
                       reported[vif_name("acme", "phy0")]["psk-sha256"])

    status, _, body = ctl.request("DELETE", "/api/v1/slices/acme", headers={"If-Match": '"acme-v2"'})
    assert status == 200, body
    assert agents.vifs(farm.agent("ap1"), key) == {}
    assert agents.lte_slices(farm.agent("cell1"), key) == {}
    assert ctl.request("GET", "/api/v1/slices/acme")[0] == 404
    kinds = [e["kind"] for e in ctl.get("/api/v1/events?limit=1000")["items"]]
    assert {"slice.created", "slice.updated", "slice.deleted"} <= set(kinds)


def test_create_is_idempotent_and_metrics_count_it(city, keys):
    farm, ctl = city
    doc = {"id": "idem", "tenant": "idem",
           "wifi": {"ssid": "Idem", "guaranteed_share": 5, "nodes": [{"node": "ap1"}]}}
    first = ctl.request("POST", "/api/v1/slices", doc, {"Idempotency-Key": "create-idem-1"})
    again = ctl.request("POST", "/api/v1/slices", doc, {"Idempotency-Key": "create-idem-1"})
    assert first[0] == again[0] == 201
    assert again[2] == first[2] and again[1].get("Idempotent-Replayed") == "true"
    assert [e["slice"] for e in ctl.get("/api/v1/events?kind=slice.created")["items"]] == ["idem"]
    # Without the key, a repeat is a conflict, not a second slice.
    assert ctl.request("POST", "/api/v1/slices", doc)[0] == 409

    _, _, text = ctl.request("GET", "/metrics")
    samples = {l.split(" ")[0]: float(l.split(" ")[1]) for l in text.splitlines()
               if l and not l.startswith("#")}
    assert samples['ransdn_slices{state="active"}'] == 1
    assert samples['ransdn_nodes{kind="wifi",state="connected"}'] == 2
    assert samples['ransdn_nodes{kind="lte",state="connected"}'] == 1
    assert samples['ransdn_provisioning_seconds_count{result="ok"}'] == 1
    assert samples['ransdn_netconf_rpc_seconds_count{operation="commit"}'] >= 2
    assert "ransdn_drift_repairs_total" in text and "ransdn_netconf_rpc_errors_total" in text
    health = ctl.get("/healthz")
    assert health == {"status": "ok", "nodes": {"connected": 3}, "slices": 1}


def test_slice_create_modify_delete_via_cli(city, keys, tmp_path):
    farm, ctl = city
    key = keys["tester"]
    res = run_cli(ctl.url, "node", "list")
    assert res.returncode == 0 and "ap1" in res.stdout and "connected" in res.stdout, res.stderr

    doc = tmp_path / "slice.yaml"
    doc.write_text("id: city\ntenant: city\nlte:\n  plmn: {mcc: '001', mnc: '02'}\n"
                   "  mmes: [{address: 127.0.0.20}]\n  cells: [cell1]\n")
    res = run_cli(ctl.url, "slice", "create", "-f", str(doc), "--ssid", "CityWiFi", "--open",
                  "--share", "20", "--node", "ap1:phy0", "--node", "ap2")
    assert res.returncode == 0, res.stderr
    assert "slice city created" in res.stdout
    assert agents.vifs(farm.agent("ap2"), key)[vif_name("city", "phy0")]["ssid"] == "CityWiFi"
    assert "city" in agents.lte_slices(farm.agent("cell1"), key)

    res = run_cli(ctl.url, "-o", "json", "slice", "show", "city")
    assert res.returncode == 0 and json.loads(res.stdout)["wifi"]["guaranteed_share"] == 20

    res = run_cli(ctl.url, "slice", "update", "city", "--share", "35", "--vlan", "300")
    assert res.returncode == 0, res.stderr
    vif = agents.vifs(farm.agent("ap1"), key)[vif_name("city", "phy0")]
    assert float(vif["airtime"]["guaranteed-share"]) == 35 and vif["vlan"] == 300
    res = run_cli(ctl.url, "slice", "show", "city")
    assert res.returncode == 0, res.stderr
    rows = [line.split() for line in res.stdout.splitlines() if line.startswith(vif_name("city", "phy0"))]
    assert sorted(r[1] for r in rows) == ["ap1", "ap2"]
    assert all(r[3:] == ["35%", "-", "slice"] for r in rows), res.stdout

    # A refused request: non-zero exit and the conflict on stderr.
    res = run_cli(ctl.url, "slice", "update", "city", "--share", "101")
    assert res.returncode == 1 and "guaranteed_share" in res.stderr

    res = run_cli(ctl.url, "slice", "list")
    assert res.returncode == 0 and "city" in res.stdout and "001-02" in res.stdout
    res = run_cli(ctl.url, "events", "--kind", "slice")
    assert res.returncode == 0 and "slice.created" in res.stdout and "slice.updated" in res.stdout
    res = run_cli(ctl.url, "watch", "--count", "1")
    assert res.returncode == 0 and "nodes 3/3 connected" in res.stdout

    res = run_cli(ctl.url, "slice", "delete", "city")
    assert res.returncode == 0, res.stderr
    assert agents.vifs(farm.agent("ap1"), key) == {} and agents.lte_slices(farm.agent("cell1"), key) == {}
    res = run_cli(ctl.url, "slice", "show", "city")
    assert res.returncode == 1 and "404" in res.stderr


def test_lte_plmn_manager_reports_s1_and_ues(city, keys):
    farm, ctl = city
    key = keys["tester"]
    status, _, body = ctl.request("POST", "/api/v1/slices", {
        "id": "mvno", "tenant": "mvno",
        "lte": {"plmn": {"mcc": "001", "mnc": "07"}, "mmes": [{"address": "127.0.0.30"}],
                "imsi_acl": {"imsis": ["001070000000001"], "default_action": "reject"},
                "cells": ["cell1"]}})
    assert status == 201, body
    # A UE can attach only once the cell has S1 up with the slice's MME
    # (the sim rejects it with cause s1-down before that).
    wait_for(lambda: ctl.get("/api/v1/slices/mvno/lte")["cells"][0]["s1_state"] == "up", 20,
             "S1 up")
    ns = "urn:ransdn:params:xml:ns:yang:ransdn-sim"
    for imsi in ("001070000000001", "001070000000999"):
        agents.rpc(farm.agent("cell1"), key,
                   f'<ue-attach xmlns="{ns}"><imsi>{imsi}</imsi>'
                   '<plmn><mcc>001</mcc><mnc>07</mnc></plmn></ue-attach>')

    def status_ok():
        cells = ctl.get("/api/v1/slices/mvno/lte")["cells"]
        c = cells[0]
        return c if c["s1_state"] == "up" and c["attached_ues"] == 1 else None
    cell = wait_for(status_ok, 20, "S1 up and one UE attached")
    assert cell["attach_rejected"] == 1 and cell["broadcast"] is True
    view = ctl.get("/api/v1/lte/cells")["items"][0]
    assert view["plmns"] == ["001-07"]
    assert view["slices"][0]["imsi_acl"]["imsis"] == ["001070000000001"]
    res = run_cli(ctl.url, "lte")
    assert res.returncode == 0 and "001-07" in res.stdout
