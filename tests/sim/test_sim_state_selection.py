"""The sim backend's Wi-Fi state for a request's selection: it asks the
medium for a snapshot only when the selection needs what the medium knows,
and what it returns, filtered, is what its full state filtered is.

The node runs on a medium that is not started (simulated time moves only
when the test steps it) and a stopped clock, so a full and a narrow read
see the same world.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from lxml import etree

from agent.backends.base import EVERYTHING, StateSelection
from agent.backends.sim.options import parse_options
from agent.backends.sim.wifi import WifiNode
from agent.datastore.schema import SchemaLibrary
from testbed.medium.shared import SharedMedium
from tests.agent.state_filters import (
    PSK_FILTER,
    assert_selection_is_sound,
    leaf_values,
    subtree_filters,
    xpath_filter,
)

from .builders import radio, vif, wifi

WIFI_NS = "urn:ransdn:params:xml:ns:yang:ransdn-wifi"
STATE = "/ransdn-wifi:wifi-node-state"
PSK = "0123456789abcdef" * 4


class CountingMedium(SharedMedium):
    snapshots = 0

    async def snapshot(self, node_id: str):
        self.snapshots += 1
        return await super().snapshot(node_id)


@pytest.fixture
async def node():
    medium = CountingMedium()
    node = WifiNode("ap1", parse_options("ap1", {}), medium, lambda n: None, clock=lambda: 1_000_000.0)
    await node.start()
    await node.apply({}, wifi(
        radio("phy0", vif("wlan0", "city", share="20"), vif("wlan1", "guest", psk=PSK, share="30",
                                                             airtime={"guaranteed-share": "30", "cap": "60"}),
              vif("wlan2", "off", enabled=False)),
        radio("phy1", vif("x0", "five", share="50"), band="5ghz", channel=36)))
    await node.station_attach({"radio": "phy0", "ssid": "city", "mac-address": "aa:bb:cc:00:00:01",
                               "tx-bitrate": 54000})
    await node.station_attach({"radio": "phy0", "ssid": "guest", "mac-address": "aa:bb:cc:00:00:02",
                               "tx-bitrate": 6000})
    await node.set_traffic({"radio": "phy0", "vif": "wlan0", "pattern": "saturating"})
    await node.set_traffic({"radio": "phy0", "vif": "wlan1", "pattern": "saturating"})
    medium.run_for(0.5)
    yield node, medium
    await node.stop()


@pytest.fixture(scope="module")
def schema():
    return SchemaLibrary().get("wifi")


async def test_the_psk_check_does_not_ask_the_medium(node, schema) -> None:
    wifi_node, medium = node
    flt = await assert_selection_is_sound(schema, wifi_node.operational_state, etree.fromstring(PSK_FILTER))
    assert medium.snapshots == 1  # the full read only
    medium.snapshots = 0
    state = await wifi_node.operational_state(flt.selection)
    assert medium.snapshots == 0
    vifs = state["ransdn-wifi:wifi-node-state"]["radio"][0]["vif"]
    assert [("psk-sha256" in v) for v in vifs] == [False, True, False]


async def test_counters_and_survey_do_ask_the_medium(node) -> None:
    wifi_node, medium = node
    for path in ("radio/survey/busy-time", "radio/vif/counters", "radio/vif/airtime/measured",
                 "radio/station/tx-bytes", "radio/neighbor", "radio/capabilities/tx-status"):
        medium.snapshots = 0
        await wifi_node.operational_state(StateSelection.of([f"{STATE}/{path}"]))
        assert medium.snapshots == 1, path
    for path in ("radio/vif/airtime/guaranteed-share", "radio/vif/oper-status", "radio/station/mac-address",
                 "radio/channel", "node-id"):
        medium.snapshots = 0
        await wifi_node.operational_state(StateSelection.of([f"{STATE}/{path}"]))
        assert medium.snapshots == 0, path


async def test_filtered_replies_match_filtering_the_full_state(node, schema) -> None:
    wifi_node, _ = node
    full = await wifi_node.operational_state(EVERYTHING)
    values = leaf_values(full)
    assert values[f"{STATE}/radio/vif/counters/tx-bytes"] - {"0"}, "the medium carried traffic"
    examples: list[etree._Element] = []

    @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
    @given(subtree_filters({"ransdn-wifi": WIFI_NS}, values))
    def collect(elem: etree._Element) -> None:
        examples.append(elem)

    collect()
    for elem in examples:
        await assert_selection_is_sound(schema, wifi_node.operational_state, elem)


@pytest.mark.parametrize("select", [
    "/w:wifi-node-state/w:radio/w:vif/w:psk-sha256",
    "/w:wifi-node-state/w:radio[w:name='phy0']/w:station[w:tx-bitrate=6000]/w:tx-bytes",
    "/w:wifi-node-state/w:radio/w:vif[w:station-count > 0]/w:counters",
    "/w:wifi-node-state/w:radio[w:band='5ghz']/w:survey | /w:wifi-node-state/w:node-id",
    "//w:airtime[w:cap]",
])
async def test_xpath_filters_match_filtering_the_full_state(node, schema, select: str) -> None:
    wifi_node, _ = node
    await assert_selection_is_sound(schema, wifi_node.operational_state, xpath_filter(select, {"w": WIFI_NS}))
