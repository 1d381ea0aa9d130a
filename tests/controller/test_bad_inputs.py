"""Bad input gets a clear 4xx problem and changes nothing: neither the
controller's intents nor any agent's running configuration.

One city (agents + controller) serves every case; each case snapshots the
controller (slices, nodes, slice and node events) and every agent before
and after the request."""

from __future__ import annotations

import json
from typing import Any

import pytest

from . import nodes as agents
from .conftest import lte_plan, register_all, requires_agents, wait_connected, wifi_plan
from .processes import ControllerProcess, FarmProcess, free_port

pytestmark = [requires_agents, pytest.mark.slow]

TOKEN = "t0ken"


def wifi(tenant: str = "newco", **w: Any) -> dict:
    part = {"ssid": "NewNet", "guaranteed_share": 10, "nodes": [{"node": "ap2"}]}
    part.update(w)
    return {"tenant": tenant, "wifi": part}


def lte(tenant: str = "newco", **l: Any) -> dict:
    part = {"plmn": {"mcc": "001", "mnc": "50"}, "mmes": [{"address": "127.0.0.50"}],
            "cells": ["cell2"]}
    part.update(l)
    return {"tenant": tenant, "lte": part}


# name -> (method, path, body or raw bytes, headers, status, field or detail fragment)
CASES: dict[str, tuple[str, str, Any, dict[str, str], int, str]] = {
    "plmn mcc with a letter": ("POST", "/api/v1/slices", lte(plmn={"mcc": "00a", "mnc": "01"}), {}, 422, "/lte/plmn/mcc"),
    "plmn mnc of four digits": ("POST", "/api/v1/slices", lte(plmn={"mcc": "001", "mnc": "0101"}), {}, 422, "/lte/plmn/mnc"),
    "plmn mnc of one digit": ("POST", "/api/v1/slices", lte(plmn={"mcc": "001", "mnc": "1"}), {}, 422, "/lte/plmn/mnc"),
    "imsi with letters": ("POST", "/api/v1/slices", lte(imsi_acl={"imsis": ["00101abc000"]}), {}, 422, "/lte/imsi_acl/imsis/0"),
    "imsi of sixteen digits": ("POST", "/api/v1/slices", lte(imsi_acl={"imsis": ["0" * 16]}), {}, 422, "/lte/imsi_acl/imsis/0"),
    "empty imsi prefix": ("POST", "/api/v1/slices", lte(imsi_acl={"prefixes": [""]}), {}, 422, "/lte/imsi_acl/prefixes/0"),
    "duplicate imsi": ("POST", "/api/v1/slices", lte(imsi_acl={"imsis": ["001010000000001"] * 2}), {}, 422, "/lte/imsi_acl/imsis"),
    "mme address not an ip": ("POST", "/api/v1/slices", lte(mmes=[{"address": "999.1.1.1"}]), {}, 422, "/lte/mmes/0/address"),
    "seventh plmn on a cell": ("POST", "/api/v1/slices", lte(cells=["cell1"]), {}, 409, "already broadcasts 6 PLMNs"),
    "plmn of another tenant": ("POST", "/api/v1/slices", lte(plmn={"mcc": "001", "mnc": "01"}), {}, 409, "belongs to tenant"),
    "negative share": ("POST", "/api/v1/slices", wifi(guaranteed_share=-1), {}, 422, "/wifi/guaranteed_share"),
    "share above 100": ("POST", "/api/v1/slices", wifi(guaranteed_share=100.5), {}, 422, "/wifi/guaranteed_share"),
    "share with three decimals": ("POST", "/api/v1/slices", wifi(guaranteed_share=10.005), {}, 422, "/wifi/guaranteed_share"),
    "cap below share": ("POST", "/api/v1/slices", wifi(guaranteed_share=30, cap=20), {}, 422, "/wifi/cap"),
    "over-subscribed radio": ("POST", "/api/v1/slices", wifi(guaranteed_share=50, nodes=[{"node": "ap1"}]), {}, 409, "over-subscribed"),
    "vlan 0": ("POST", "/api/v1/slices", wifi(vlan=0), {}, 422, "/wifi/vlan"),
    "vlan 4095": ("POST", "/api/v1/slices", wifi(vlan=4095), {}, 422, "/wifi/vlan"),
    "vlan of another tenant": ("POST", "/api/v1/slices", wifi(vlan=10), {}, 409, "VLAN 10 belongs to tenant"),
    "ssid of 33 bytes": ("POST", "/api/v1/slices", wifi(ssid="x" * 33), {}, 422, "/wifi/ssid"),
    "ssid not printable ascii": ("POST", "/api/v1/slices", wifi(ssid="Caf\u00e9"), {}, 422, "/wifi/ssid"),
    "empty ssid": ("POST", "/api/v1/slices", wifi(ssid=""), {}, 422, "/wifi/ssid"),
    "ssid of another tenant": ("POST", "/api/v1/slices", wifi(ssid="BaseNet"), {}, 409, "belongs to tenant"),
    "passphrase of 7 characters": ("POST", "/api/v1/slices", wifi(security={"mode": "wpa2-psk", "passphrase": "short77"}), {}, 422, "/wifi/security/passphrase"),
    "wpa2 without passphrase": ("POST", "/api/v1/slices", wifi(security={"mode": "wpa2-psk"}), {}, 422, "/wifi/security/passphrase"),
    "unknown node": ("POST", "/api/v1/slices", wifi(nodes=[{"node": "ap9"}]), {}, 409, "unknown node 'ap9'"),
    "unknown radio": ("POST", "/api/v1/slices", wifi(nodes=[{"node": "ap2", "radios": ["phy7"]}]), {}, 409, "has no radio 'phy7'"),
    "wifi on an lte cell": ("POST", "/api/v1/slices", wifi(nodes=[{"node": "cell1"}]), {}, 409, "not a Wi-Fi node"),
    "lte on a wifi node": ("POST", "/api/v1/slices", lte(cells=["ap1"]), {}, 409, "not an LTE small cell"),
    "unreachable node": ("POST", "/api/v1/slices", wifi(nodes=[{"node": "ap2"}, {"node": "ghost"}]), {}, 409, "unreachable"),
    "share as a string": ("POST", "/api/v1/slices", wifi(guaranteed_share="30"), {}, 422, "/wifi/guaranteed_share"),
    "nodes as an object": ("POST", "/api/v1/slices", wifi(nodes={"node": "ap2"}), {}, 422, "/wifi/nodes"),
    "vlan as a float": ("POST", "/api/v1/slices", wifi(vlan=10.5), {}, 422, "/wifi/vlan"),
    "unknown field": ("POST", "/api/v1/slices", {**wifi(), "colour": "red"}, {}, 422, "unknown field"),
    "missing tenant": ("POST", "/api/v1/slices", {"wifi": wifi()["wifi"]}, {}, 422, "/tenant"),
    "neither wifi nor lte": ("POST", "/api/v1/slices", {"tenant": "t"}, {}, 422, "'wifi' part"),
    "body is a list": ("POST", "/api/v1/slices", [wifi()], {}, 422, ""),
    "huge body": ("POST", "/api/v1/slices", b'{"tenant": "t", "description": "' + b"x" * 400_000 + b'"}', {}, 413, ""),
    "not json": ("POST", "/api/v1/slices", b"{tenant: t", {}, 400, ""),
    "NaN share": ("POST", "/api/v1/slices", b'{"tenant": "t", "wifi": {"ssid": "a", "guaranteed_share": NaN, "nodes": [{"node": "ap2"}]}}', {}, 400, ""),
    "text/plain body": ("POST", "/api/v1/slices", b"{}", {"Content-Type": "text/plain"}, 415, "Content-Type"),
    "duplicate slice id": ("POST", "/api/v1/slices", {**wifi(), "id": "base"}, {}, 409, "/id"),
    "bad slice id": ("POST", "/api/v1/slices", {**wifi(), "id": "-bad id"}, {}, 422, "/id"),
    "stale if-match": ("PUT", "/api/v1/slices/base", wifi("base", ssid="BaseNet", guaranteed_share=5, nodes=[{"node": "ap1"}]), {"If-Match": '"base-v0"'}, 412, "If-Match"),
    "missing if-match": ("PUT", "/api/v1/slices/base", wifi("base", ssid="BaseNet", guaranteed_share=5, nodes=[{"node": "ap1"}]), {}, 428, "If-Match"),
    "tenant change on modify": ("PUT", "/api/v1/slices/base", wifi("other", ssid="BaseNet", nodes=[{"node": "ap1"}]), {"If-Match": '"base-v1"'}, 422, "/tenant"),
    "patch to an invalid share": ("PATCH", "/api/v1/slices/base", {"wifi": {"guaranteed_share": 101}}, {"If-Match": '"base-v1"', "Content-Type": "application/merge-patch+json"}, 422, "/wifi/guaranteed_share"),
    "modify unknown slice": ("PUT", "/api/v1/slices/nope", wifi(), {"If-Match": '"nope-v1"'}, 404, ""),
    "delete unknown slice": ("DELETE", "/api/v1/slices/nope", None, {}, 404, ""),
    "delete with stale if-match": ("DELETE", "/api/v1/slices/base", None, {"If-Match": '"base-v7"'}, 412, "If-Match"),
    "idempotency key reused for another body": ("POST", "/api/v1/slices", wifi(ssid="Other"), {"Idempotency-Key": "k-base"}, 422, "Idempotency-Key"),
    "remove a node in use": ("DELETE", "/api/v1/nodes/ap1", None, {}, 409, "carries slices"),
    "node with a malformed host key": ("POST", "/api/v1/nodes", {"name": "x", "kind": "wifi", "address": "127.0.0.1", "host_key": "MD5:aa"}, {}, 422, "/host_key"),
    "node outside the management network": ("POST", "/api/v1/nodes", {"name": "x", "kind": "wifi", "address": "192.0.2.1", "host_key": "SHA256:" + "A" * 43}, {}, 422, "/address"),
    "node registered twice": ("POST", "/api/v1/nodes", {"name": "ap1", "kind": "wifi", "address": "127.0.0.1", "host_key": "SHA256:" + "A" * 43}, {}, 409, "/name"),
    "events limit out of range": ("GET", "/api/v1/events?limit=0", None, {}, 400, "limit"),
    "missing token": ("GET", "/api/v1/slices", None, {"Authorization": ""}, 401, ""),
    "wrong token": ("POST", "/api/v1/slices", wifi(), {"Authorization": "Bearer nope"}, 401, ""),
}


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    from ransdn.southbound.keys import load_or_create_client_key

    tmp = tmp_path_factory.mktemp("bad-inputs")
    ctl_key = load_or_create_client_key(tmp / "keys" / "controller_ed25519")
    tester = load_or_create_client_key(tmp / "keys" / "tester_ed25519")
    auth = tmp / "keys" / "authorized_keys"
    auth.write_text(ctl_key.public_line + "\n" + tester.public_line + "\n")
    farm = FarmProcess(tmp / "farm", [wifi_plan("ap1"), wifi_plan("ap2"), lte_plan("cell1"),
                                      lte_plan("cell2")], auth).start()
    ctl = ControllerProcess(tmp / "c.db", client_key=ctl_key.private_path, token=TOKEN,
                            extra=["--reconcile-interval", "3600"]).start()
    try:
        register_all(ctl, farm.inventory)
        # A node that never answers, for the unreachable case.
        status, _, body = ctl.request("POST", "/api/v1/nodes", {
            "name": "ghost", "kind": "wifi", "address": "127.0.0.1", "port": free_port(),
            "host_key": "SHA256:" + "G" * 43,
            "radios": [{"name": "phy0", "band": "2.4ghz", "channel": 6}]})
        assert status == 201, body
        wait_connected(ctl, ["ap1", "ap2", "cell1", "cell2"])
        base = {"id": "base", "tenant": "base",
                "wifi": {"ssid": "BaseNet", "guaranteed_share": 60, "vlan": 10,
                         "nodes": [{"node": "ap1"}]}}
        assert ctl.request("POST", "/api/v1/slices", base, {"Idempotency-Key": "k-base"})[0] == 201
        for i in range(6):
            doc = {"id": f"plmn{i}", "tenant": f"op{i}",
                   "lte": {"plmn": {"mcc": "001", "mnc": f"{i + 1:02d}"},
                           "mmes": [{"address": "127.0.0.1"}], "cells": ["cell1"]}}
            status, _, body = ctl.request("POST", "/api/v1/slices", doc)
            assert status == 201, body
        yield farm, ctl, tester.private_path
    finally:
        ctl.stop()
        farm.stop()


def _controller_state(ctl: ControllerProcess) -> str:
    slices = ctl.get("/api/v1/slices")
    nodes = [{k: n[k] for k in ("name", "kind", "address", "port", "host_key")}
             for n in ctl.get("/api/v1/nodes")["items"]]
    events = [e for e in ctl.get("/api/v1/events?limit=1000")["items"]
              if e["kind"].startswith(("slice.", "node.registered", "node.removed"))]
    return json.dumps([slices, nodes, events], sort_keys=True)


def test_there_are_at_least_25_named_bad_inputs():
    assert len(CASES) >= 25


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_a_4xx_problem_and_changes_nothing(city, name):
    farm, ctl, key = city
    method, path, body, headers, status, where = CASES[name]
    before_ctl = _controller_state(ctl)
    before_agents = agents.snapshot(farm.inventory, key)

    raw = body if isinstance(body, bytes) else None
    headers = dict(headers)
    content_type = headers.pop("Content-Type", "application/json")
    if headers.get("Authorization") == "":
        ctl_token, ctl.token = ctl.token, None
        headers.pop("Authorization")
    else:
        ctl_token = None
    try:
        got, resp_headers, problem = ctl.request(method, path, None if raw else body, headers=headers,
                                                 raw=raw, content_type=content_type)
    finally:
        if ctl_token:
            ctl.token = ctl_token

    assert got == status, problem
    assert resp_headers["Content-Type"].startswith("application/problem+json")
    assert problem["status"] == status and problem["title"] and problem["type"]
    text = json.dumps(problem)
    assert where in text, f"expected {where!r} in {text}"
    if status in (409, 422):
        assert problem["errors"], "a 409/422 names the field or conflict"
    assert _controller_state(ctl) == before_ctl
    assert agents.snapshot(farm.inventory, key) == before_agents
