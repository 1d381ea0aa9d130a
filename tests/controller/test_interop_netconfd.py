"""The southbound against a NETCONF server we did not write: Debian's
netconfd (yuma123) loading the project's YANG.  The controller provisions
slices onto it through the all-or-nothing path, reads them back, and
repairs an out-of-band edit it learns of through netconf-config-change."""

from __future__ import annotations

import asyncio

import pytest
from lxml import etree
from ncclient import manager

from ransdn.provisioning import read_running_config
from ransdn.render import vif_name

from ransdn.service import Controller, ControllerConfig
from testbed.netconfd import Netconfd, tools_missing

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(bool(tools_missing()), reason=f"missing {tools_missing()}"),
]

WIFI_NS = "urn:ransdn:params:xml:ns:yang:ransdn-wifi"


async def _wait(pred, timeout=20.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if pred():
            return True
        await asyncio.sleep(0.1)
    return False


def _controller(tmp_path, ep) -> Controller:
    # No periodic pass: a repair can only come from a notification or a test.
    return Controller(ControllerConfig(db=tmp_path / "c.db", client_key=ep.key_path,
                                       reconcile_interval=3600))


async def test_slice_provisioned_onto_netconfd_and_read_back(tmp_path):
    async with Netconfd() as ep:
        ctl = _controller(tmp_path, ep)
        await ctl.start()
        try:
            common = {"address": ep.address, "port": ep.port, "username": ep.username,
                      "host_key": ep.host_key_fingerprint}
            await ctl.register_node({"name": "ap1", "kind": "wifi", **common,
                                     "radios": [{"name": "phy0", "band": "2.4ghz", "channel": 6}]})
            await ctl.register_node({"name": "cell1", "kind": "lte", **common})
            assert await ctl.wait_connected(["ap1", "cell1"], 30), \
                [ctl.node_view(n)["connection"] for n in ctl.list_nodes()]

            # netconfd's XPath sum() over decimal64 counts in hundredths, so
            # a share above 1 % trips the radio's "sum <= 100" must there.
            wifi, tx = await ctl.create_slice({
                "id": "acme-wifi", "tenant": "acme",
                "wifi": {"ssid": "Acme", "guaranteed_share": 1, "cap": 50, "vlan": 10,
                         "security": {"mode": "wpa2-psk", "passphrase": "correct horse"},
                         "nodes": [{"node": "ap1"}]}})
            assert tx.ok and [n.outcome for n in tx.nodes] == ["applied"]
            lte, tx = await ctl.create_slice({
                "id": "acme-lte", "tenant": "acme",
                "lte": {"plmn": {"mcc": "001", "mnc": "01"}, "cells": ["cell1"],
                        "mmes": [{"address": "192.0.2.10", "port": 36412}],
                        "imsi_acl": {"imsis": ["001010000000001"], "prefixes": ["00101"]}}})
            assert tx.ok

            # Read back with a plain ncclient session of our own.
            m = manager.connect(host=ep.address, port=ep.port, username=ep.username,
                                key_filename=str(ep.key_path), hostkey_verify=False,
                                allow_agent=False, look_for_keys=False, timeout=30)
            try:
                running = ctl.models.xml_to_json(
                    "".join(etree.tostring(c, encoding="unicode")
                            for c in m.get_config("running").data_ele))
            finally:
                m.close_session()
            vif = running["ransdn-wifi:wifi-node"]["radio"][0]["vif"][0]
            assert vif["ssid"] == "Acme" and vif["tenant"] == "acme" and vif["vlan"] == 10
            assert vif["slice-id"] == "acme-wifi"
            assert vif["security"]["psk"] == wifi.wifi.security.psk
            assert float(vif["airtime"]["guaranteed-share"]) == 1.0
            cell = running["ransdn-lte:lte-cell"]["slice"][0]
            assert cell["id"] == "acme-lte" and cell["plmn"] == {"mcc": "001", "mnc": "01"}
            assert cell["imsi-acl"]["imsi"] == ["001010000000001"]

            # Running now matches desired: a reconciliation pass finds nothing.
            results = await ctl.reconciler.check_all("test")
            assert all(not r.drift and r.error is None for r in results), results
        finally:
            await ctl.stop()


async def test_out_of_band_edit_on_netconfd_is_repaired(tmp_path):
    async with Netconfd() as ep:
        ctl = _controller(tmp_path, ep)
        await ctl.start()
        try:
            await ctl.register_node({"name": "ap1", "kind": "wifi", "address": ep.address,
                                     "port": ep.port, "username": ep.username,
                                     "host_key": ep.host_key_fingerprint,
                                     "radios": [{"name": "phy0", "band": "2.4ghz", "channel": 1}]})
            assert await ctl.wait_connected(["ap1"], 30)
            await ctl.create_slice({"id": "city", "tenant": "city",
                                           "wifi": {"ssid": "CityNet", "guaranteed_share": 0.5,
                                                    "nodes": [{"node": "ap1"}]}})
            vif = vif_name("city", "phy0")

            def oob_edit() -> None:
                m = manager.connect(host=ep.address, port=ep.port, username=ep.username,
                                    key_filename=str(ep.key_path), hostkey_verify=False,
                                    allow_agent=False, look_for_keys=False, timeout=30)
                try:
                    m.edit_config(target="candidate", config=(
                        f'<config><wifi-node xmlns="{WIFI_NS}"><radio><name>phy0</name>'
                        f'<vif><name>{vif}</name><ssid>Hijacked</ssid></vif></radio>'
                        '</wifi-node></config>'))
                    m.commit()
                finally:
                    m.close_session()

            await asyncio.to_thread(oob_edit)
            # No periodic pass runs (interval 1 h): only the notification can
            # trigger the repair.
            assert await _wait(lambda: ctl.store.count_events("drift.repaired") >= 1, 30)
            ev = ctl.events(kind="drift.repaired")[-1]
            assert ev.node == "ap1" and "settings differ" in ev.message
            assert "out-of-band change" in ev.details["reason"]
            running = await read_running_config(ctl.connections["ap1"].usable_session(), "wifi",
                                                ctl.models)
            assert running["ransdn-wifi:wifi-node"]["radio"][0]["vif"][0]["ssid"] == "CityNet"
        finally:
            await ctl.stop()
