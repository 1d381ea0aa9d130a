"""All-or-nothing provisioning, restarts, lost agents and out-of-band edits,
with real agents over NETCONF/SSH."""

from __future__ import annotations

import time

import pytest

from ransdn.render import vif_name

from . import nodes as agents
from .conftest import lte_plan, register_all, requires_agents, wait_connected, wait_for, wifi_plan
from .processes import AgentProcess, free_port

pytestmark = [requires_agents, pytest.mark.slow]

WIFI_NS = "urn:ransdn:params:xml:ns:yang:ransdn-wifi"
LTE_NS = "urn:ransdn:params:xml:ns:yang:ransdn-lte"


def _slice(sid: str, nodes: list[str], share: float = 20, ssid: str | None = None) -> dict:
    return {"id": sid, "tenant": sid, "wifi": {"ssid": ssid or sid.upper(), "guaranteed_share": share,
                                               "nodes": [{"node": n} for n in nodes]}}


def test_one_node_rejecting_leaves_every_node_unchanged(farm_factory, controller_factory, keys,
                                                         tmp_path):
    fault = tmp_path / "ap3.fault"
    farm = farm_factory([wifi_plan("ap1"), wifi_plan("ap2"),
                         wifi_plan("ap3", fault_file=str(fault)), lte_plan("cell1")])
    ctl = controller_factory("--reconcile-interval", "3600")
    register_all(ctl, farm.inventory)
    wait_connected(ctl, ["ap1", "ap2", "ap3", "cell1"])
    status, _, body = ctl.request("POST", "/api/v1/slices", _slice("base", ["ap1", "ap2", "ap3"]))
    assert status == 201, body

    fault.write_text("radio firmware refuses the change")
    before = agents.snapshot(farm.inventory, keys["tester"])
    slices_before = ctl.get("/api/v1/slices")

    # A modify touching all three nodes: ap3 refuses, so nobody changes.
    status, _, problem = ctl.request("PATCH", "/api/v1/slices/base", {"wifi": {"guaranteed_share": 50}},
                                     headers={"If-Match": '"base-v1"'},
                                     content_type="application/merge-patch+json")
    assert status == 502, problem
    assert problem["type"].endswith("/provisioning-failed")
    outcome = {n["node"]: n for n in problem["transaction"]["nodes"]}
    assert outcome["ap3"]["outcome"] == "failed" and "firmware" in outcome["ap3"]["error"]
    assert {outcome["ap1"]["outcome"], outcome["ap2"]["outcome"]} <= {"rolled-back", "not-attempted"}
    assert agents.snapshot(farm.inventory, keys["tester"]) == before
    after = ctl.get("/api/v1/slices/base")
    assert after["version"] == 1 and after["wifi"]["guaranteed_share"] == 20
    assert after["last_transaction"]["ok"] is False  # the status shows the failed attempt

    # A create across the three plus the cell: refused, nothing stored.
    doc = {**_slice("new", ["ap1", "ap2", "ap3"]),
           "lte": {"plmn": {"mcc": "001", "mnc": "09"}, "mmes": [{"address": "127.0.0.9"}],
                   "cells": ["cell1"]}}
    status, _, problem = ctl.request("POST", "/api/v1/slices", doc)
    assert status == 502, problem
    assert agents.snapshot(farm.inventory, keys["tester"]) == before
    assert [s["id"] for s in ctl.get("/api/v1/slices")["items"]] == \
        [s["id"] for s in slices_before["items"]]
    events = ctl.get("/api/v1/events?kind=provisioning.failed")["items"]
    assert len(events) == 2

    # Once the node is healthy the same request goes through everywhere.
    fault.unlink()
    status, _, body = ctl.request("POST", "/api/v1/slices", doc)
    assert status == 201, body
    for ap in ("ap1", "ap2", "ap3"):
        assert vif_name("new", "phy0") in agents.vifs(farm.agent(ap), keys["tester"])
    assert "new" in agents.lte_slices(farm.agent("cell1"), keys["tester"])


def test_controller_restart_keeps_state_reconnects_and_reconciles(farm_factory, controller_factory,
                                                                  keys, tmp_path):
    farm = farm_factory([wifi_plan("ap1"), lte_plan("cell1")])
    db = tmp_path / "restart.db"
    ctl = controller_factory("--reconcile-interval", "3600", db=db)
    register_all(ctl, farm.inventory)
    wait_connected(ctl, ["ap1", "cell1"])
    doc = {**_slice("keep", ["ap1"], ssid="KeepNet"),
           "lte": {"plmn": {"mcc": "001", "mnc": "11"}, "mmes": [{"address": "127.0.0.11"}],
                   "cells": ["cell1"]}}
    assert ctl.request("POST", "/api/v1/slices", doc)[0] == 201
    slices = ctl.get("/api/v1/slices")
    ctl.kill()  # kill -9

    # While the controller is away, someone edits both nodes.
    vif = vif_name("keep", "phy0")
    agents.edit(farm.agent("ap1"), keys["tester"],
                f'<config><wifi-node xmlns="{WIFI_NS}"><radio><name>phy0</name><vif>'
                f'<name>{vif}</name><ssid>Tampered</ssid></vif></radio></wifi-node></config>')
    agents.edit(farm.agent("cell1"), keys["tester"],
                f'<config xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0"><lte-cell xmlns="{LTE_NS}">'
                '<slice nc:operation="delete"><id>keep</id></slice></lte-cell></config>')

    ctl2 = controller_factory("--reconcile-interval", "3600", db=db)
    kept = ctl2.get("/api/v1/slices")["items"]
    assert [(s["id"], s["version"], s.get("wifi"), s.get("lte")) for s in kept] == \
        [(s["id"], s["version"], s.get("wifi"), s.get("lte")) for s in slices["items"]]
    wait_connected(ctl2, ["ap1", "cell1"])
    wait_for(lambda: len(ctl2.get("/api/v1/events?kind=drift.repaired")["items"]) >= 2, 30,
             "both nodes repaired on reconnect")
    assert agents.vifs(farm.agent("ap1"), keys["tester"])[vif]["ssid"] == "KeepNet"
    assert "keep" in agents.lte_slices(farm.agent("cell1"), keys["tester"])
    s = ctl2.get("/api/v1/slices/keep")
    assert s["version"] == 1 and s["state"] == "active"


def test_agent_killed_and_restarted_backoff_reconnect_repair(controller_factory, keys, tmp_path):
    port = free_port()
    agent = AgentProcess(tmp_path / "agent", "wifi", keys["authorized"], port,
                         {"radios": [{"name": "phy0", "band": "2.4ghz", "channel": 11}]}).start()
    try:
        period = 2.0
        ctl = controller_factory("--reconcile-interval", str(period), "--backoff-cap", "2")
        fp = agent.ready["fingerprint"]
        assert fp == _host_key(agent), "the ready file names the key the agent presents"
        assert ctl.request("POST", "/api/v1/nodes", {"name": "ap", "kind": "wifi",
                                                     "address": "127.0.0.1", "port": port,
                                                     "host_key": fp})[0] == 201
        wait_connected(ctl, ["ap"])
        assert ctl.request("POST", "/api/v1/slices", _slice("gone", ["ap"]))[0] == 201
        info = {"name": "ap", "kind": "wifi", "address": "127.0.0.1", "port": port}
        assert vif_name("gone", "phy0") in agents.vifs(info, keys["tester"])

        agent.kill()
        def retrying():
            conn = ctl.get("/api/v1/nodes/ap")["connection"]
            return conn if conn["state"] == "unable-to-connect" and conn["attempts"] >= 3 else None
        try:
            conn = wait_for(retrying, 30, "reconnect attempts with backoff")
        except AssertionError:
            raise AssertionError(ctl.get("/api/v1/nodes/ap")["connection"]) from None
        assert "cannot reach" in conn["last_error"] and conn["next_retry_at"]
        assert ctl.get("/api/v1/slices/gone")["state"] == "degraded"
        # All-or-nothing refuses to touch an unreachable node ...
        status, _, problem = ctl.request("DELETE", "/api/v1/slices/gone")
        assert status == 409 and problem["type"].endswith("/node-unavailable")
        # ... unless told to forget the slice and clean up later.
        status, _, body = ctl.request("DELETE", "/api/v1/slices/gone?force=true")
        assert status == 200, body

        agent.start()  # same port, same state (host key and the stale vif)
        t0 = time.monotonic()
        wait_connected(ctl, ["ap"], timeout=10)
        wait_for(lambda: vif_name("gone", "phy0") not in agents.vifs(info, keys["tester"]),
                 2 * period + 5, "the stale vif removed")
        assert time.monotonic() - t0 <= 2 * period + 5
        ev = ctl.get("/api/v1/events?kind=drift.repaired&node=ap")["items"]
        assert ev and "not wanted" in ev[-1]["message"]
        assert ctl.get("/api/v1/events?kind=node.unable-to-connect&node=ap")["items"]
    finally:
        agent.stop()


def _host_key(agent: AgentProcess) -> str | None:
    """The agent's host key fingerprint, read the way an operator would
    (ssh-keyscan-like): from the SSH handshake."""
    import paramiko
    import socket
    from ransdn.southbound.keys import fingerprint
    try:
        sock = socket.create_connection(("127.0.0.1", agent.port), timeout=5)
    except OSError:
        return None
    t = paramiko.Transport(sock)
    try:
        t.start_client(timeout=5)
        return fingerprint(t.get_remote_server_key().asbytes())
    finally:
        t.close()


def test_out_of_band_edit_is_repaired_and_reported(farm_factory, controller_factory, keys):
    farm = farm_factory([wifi_plan("ap1")])
    ctl = controller_factory("--reconcile-interval", "3600")
    register_all(ctl, farm.inventory)
    wait_connected(ctl, ["ap1"])
    assert ctl.request("POST", "/api/v1/slices", _slice("oob", ["ap1"], share=25))[0] == 201
    vif = vif_name("oob", "phy0")
    agents.edit(farm.agent("ap1"), keys["tester"],
                f'<config><wifi-node xmlns="{WIFI_NS}"><radio><name>phy0</name><vif><name>{vif}</name>'
                '<airtime><guaranteed-share>90</guaranteed-share></airtime></vif>'
                '<vif><name>rogue0</name><ssid>Rogue</ssid><tenant>x</tenant></vif>'
                '</radio></wifi-node></config>')
    # Only the netconf-config-change notification can trigger this (no periodic pass).
    ev = wait_for(lambda: ctl.get("/api/v1/events?kind=drift.repaired")["items"], 15,
                  "a drift repair event")
    assert "out-of-band change" in ev[-1]["details"]["reason"]
    assert any("rogue0" in c for c in ev[-1]["details"]["changes"])
    vifs = agents.vifs(farm.agent("ap1"), keys["tester"])
    assert set(vifs) == {vif} and float(vifs[vif]["airtime"]["guaranteed-share"]) == 25
    _, _, metrics = ctl.request("GET", "/metrics")
    line = next(l for l in metrics.splitlines()
                if l.startswith('ransdn_drift_repairs_total{kind="wifi",result="repaired"}'))
    assert float(line.split()[-1]) >= 1


def test_wrong_host_key_and_missing_modules_keep_a_node_out(farm_factory, controller_factory):
    farm = farm_factory([wifi_plan("ap1")])
    ctl = controller_factory("--reconcile-interval", "3600")
    a = farm.agent("ap1")
    bad_key = "SHA256:" + "Q" * 43
    assert ctl.request("POST", "/api/v1/nodes", {"name": "spoofed", "kind": "wifi", "address": a["address"],
                                                 "port": a["port"], "host_key": bad_key})[0] == 201
    # A Wi-Fi agent registered as a small cell lacks ransdn-lte.
    assert ctl.request("POST", "/api/v1/nodes", {"name": "not-a-cell", "kind": "lte", "address": a["address"],
                                                 "port": a["port"],
                                                 "host_key": a["host_key_fingerprint"]})[0] == 201

    def reason(name):
        conn = ctl.get(f"/api/v1/nodes/{name}")["connection"]
        return conn["last_error"] if conn["state"] == "unable-to-connect" else None
    spoofed = wait_for(lambda: reason("spoofed"), 30, "host key refusal")
    assert "host key mismatch" in spoofed and a["host_key_fingerprint"] in spoofed and bad_key in spoofed
    lacks = wait_for(lambda: reason("not-a-cell"), 30, "capability refusal")
    assert "lacks module ransdn-lte@2026-11-21" in lacks
    status, _, problem = ctl.request("POST", "/api/v1/slices", {
        "tenant": "t", "lte": {"plmn": {"mcc": "001", "mnc": "01"}, "mmes": [{"address": "127.0.0.1"}],
                               "cells": ["not-a-cell"]}})
    assert status == 409 and "unreachable" in problem["detail"]
