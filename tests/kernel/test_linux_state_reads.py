"""The linux backend's state reads consult only what a request selects.

The node is the fake one of tests/kernel/linux_world.py: iw answers with
output captured in the kernel test bed, sysfs is a directory tree, the
airtime module is in memory behind the real AirtimeLink.  Each source
counts its calls, which is how the tests see what a read cost.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from lxml import etree

from agent.backends.base import EVERYTHING, BackendError, StateSelection
from agent.backends.linux.observe import Reads, reads_for
from agent.backends.linux.wireless import WirelessError
from agent.backends.wifi_config import psk_sha256
from agent.datastore.schema import SchemaLibrary
from agent.netconf import filters
from tests.agent.state_filters import (
    AIRTIME_FILTER,
    PSK_FILTER,
    assert_selection_is_sound,
    leaf_values,
    subtree_filters,
    xpath_filter,
)
from tests.kernel.linux_world import NODE, PSK, World, make_world

W = "ransdn-wifi"
WIFI_NS = "urn:ransdn:params:xml:ns:yang:ransdn-wifi"
STATE = f"/{W}:wifi-node-state"
RADIO = f"{STATE}/radio"


@pytest.fixture(scope="module")
def schema():
    return SchemaLibrary().get("wifi")


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return make_world(tmp_path_factory.mktemp("linux-world"))


def read(world: World, loop: asyncio.AbstractEventLoop, selection: StateSelection) -> dict:
    return loop.run_until_complete(world.backend.operational_state_for(selection))


def selection_of(schema, text: str) -> StateSelection:
    flt = filters.parse(etree.fromstring(text), schema)
    assert flt is not None
    return flt.selection


def test_a_full_read_consults_every_source(world: World, loop, schema) -> None:
    world.forget_calls()
    state = read(world, loop, EVERYTHING)
    iw = sorted(" ".join(c) for c in world.iw.calls if c[1] != "phy")
    assert iw == ["iw dev", "iw dev sl-a station dump", "iw dev sl-a survey dump",
                  "iw dev sl-b station dump", "iw dev sl-c station dump"]
    # What a phy can do is read once (the module-scoped world may have read it).
    assert {c for c in world.iw.calls if c[1] == "phy"} <= {("iw", "phy", p, "info") for p in ("phy0", "phy1")}
    assert sorted(world.hostapd.status_calls) == ["sl-a", "sl-b", "sl-c"]
    assert world.module.requests == ["GET_PHY dump", "GET_VIF dump", "GET_STA dump"]

    # What it reports is valid state data, with every mandatory leaf.
    node = schema.ctx.parse_data_mem(json.dumps(state), "json", strict=True, validate_present=True)
    node.free()
    phy0, phy1 = state["ransdn-wifi:wifi-node-state"]["radio"]
    assert (phy1["name"], phy1["band"], phy1["channel"]) == ("phy1", "2.4ghz", 1)
    vifs = {v["name"]: v for v in phy0["vif"]}
    assert vifs["sl-b"]["psk-sha256"] == psk_sha256(PSK) and vifs["sl-a"]["station-count"] == 2
    assert vifs["sl-c"]["counters"]["tx-bytes"] == "1953668"     # from its station: no qdisc
    assert vifs["sl-a"]["counters"]["tx-bytes"] == "150000"       # from the module
    assert {s["mac-address"] for s in phy0["station"]} == {
        "02:00:00:00:01:00", "02:00:00:00:02:00", "02:00:00:00:03:00", "02:00:00:00:04:00"}


def test_the_controllers_psk_check_costs_no_process_and_no_socket(world: World, loop, schema) -> None:
    world.forget_calls()
    opens = world.module.opens
    state = read(world, loop, selection_of(schema, PSK_FILTER))
    assert world.iw.calls == [] and world.hostapd.status_calls == [] and world.module.requests == []
    assert world.module.opens == opens
    (vb,) = [v for v in state["ransdn-wifi:wifi-node-state"]["radio"][0]["vif"] if v["name"] == "sl-b"]
    assert vb["psk-sha256"] == psk_sha256(PSK)


def test_the_schedulers_telemetry_skips_stations_and_hostapd(world: World, loop, schema) -> None:
    read(world, loop, EVERYTHING)  # what a phy can do is read once and kept
    world.forget_calls()
    read(world, loop, selection_of(schema, AIRTIME_FILTER))
    # iw dev for the channel, the survey, and the station dump of the one
    # vif the module does not count (its tx counters are its stations').
    assert sorted(" ".join(c) for c in world.iw.calls) == [
        "iw dev", "iw dev sl-a survey dump", "iw dev sl-c station dump"]
    assert world.hostapd.status_calls == []
    assert world.module.requests == ["GET_PHY dump", "GET_VIF dump", "GET_STA dump"]


def test_a_filter_on_stations_dumps_stations_only(world: World, loop, schema) -> None:
    world.forget_calls()
    read(world, loop, StateSelection.of([f"{RADIO}/station/tx-bitrate"]))
    assert sorted(" ".join(c) for c in world.iw.calls) == [
        f"iw dev sl-{x} station dump" for x in "abc"]
    assert world.hostapd.status_calls == [] and world.module.requests == []


@pytest.mark.parametrize("paths,reads", [
    ([STATE], Reads()),
    ([f"{STATE}/node-id", f"{RADIO}/name", f"{RADIO}/vif/ssid"],
     Reads(False, False, False, False, False, False, False)),
    ([f"{RADIO}/vif/oper-status"], Reads(False, False, False, True, False, False, False)),
    ([f"{RADIO}/vif/airtime/guaranteed-share"], Reads(False, False, False, False, False, False, False)),
    ([f"{RADIO}/vif/airtime/measured"], Reads(False, False, True, False, False, False, False)),
    ([f"{RADIO}/vif/counters/rx-bytes"], Reads(False, False, True, False, False, True, False)),
    ([f"{RADIO}/survey/busy-time"], Reads(False, True, False, False, False, False, True)),
    ([f"{RADIO}/frequency"], Reads(True, True, False, False, False, False, False)),
    ([f"{RADIO}/capabilities/max-vifs"], Reads(True, False, False, False, False, False, False)),
    ([f"{RADIO}/station/frame-airtime-estimate"], Reads(False, False, True, False, True, False, False)),
    ([f"{RADIO}/vif/station-count"], Reads(False, False, False, False, True, False, False)),
])
def test_reads_for_a_selection(paths: list[str], reads: Reads) -> None:
    assert reads_for(StateSelection.of(paths)) == reads


NAMESPACES = {W: WIFI_NS}


def _values(world: World, loop) -> dict[str, set[str]]:
    return leaf_values(read(world, loop, EVERYTHING))


@pytest.fixture(scope="module")
def full_paths(world: World, loop) -> dict[str, set[str]]:
    return _values(world, loop)


def test_filtered_replies_match_filtering_the_full_state(world: World, loop, schema, full_paths) -> None:
    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(subtree_filters(NAMESPACES, full_paths))
    def check(elem: etree._Element) -> None:
        loop.run_until_complete(assert_selection_is_sound(
            schema, world.backend.operational_state_for, elem))

    check()


@pytest.mark.parametrize("text", [PSK_FILTER, AIRTIME_FILTER])
def test_the_controllers_filters_match_filtering_the_full_state(world: World, loop, schema,
                                                                 text: str) -> None:
    flt = loop.run_until_complete(assert_selection_is_sound(
        schema, world.backend.operational_state_for, etree.fromstring(text)))
    assert not flt.selection.everything


@pytest.mark.parametrize("select", [
    "/w:wifi-node-state/w:radio/w:vif/w:psk-sha256",
    "/w:wifi-node-state/w:radio[w:name='phy0']/w:vif[w:oper-status='up']/w:name",
    "/w:wifi-node-state/w:radio/w:vif[w:station-count > 1]/w:airtime/w:measured",
    "/w:wifi-node-state/w:radio/w:station[w:tx-bitrate = 6000]/w:mac-address | /w:wifi-node-state/w:node-id",
    "/w:wifi-node-state/w:radio/w:vif[w:counters/w:tx-packets > 150]/w:name",
    "/w:wifi-node-state/w:radio[w:band='2.4ghz']/w:survey",
    "/w:wifi-node-state/w:radio[1]/w:capabilities",
    "//w:psk-sha256",
    "/w:wifi-node-state/w:radio[count(w:station) > 1]/w:name",
])
def test_xpath_filters_match_filtering_the_full_state(world: World, loop, schema, select: str) -> None:
    loop.run_until_complete(assert_selection_is_sound(
        schema, world.backend.operational_state_for, xpath_filter(select, {"w": WIFI_NS})))


def test_the_node_id_is_always_there(world: World, loop) -> None:
    state = read(world, loop, StateSelection.of([f"{STATE}/node-id"]))
    assert state["ransdn-wifi:wifi-node-state"]["node-id"] == NODE


def test_a_world_with_no_module_reports_it(tmp_path: Path, loop) -> None:
    world = make_world(tmp_path)
    world.module.loaded = False
    state = loop.run_until_complete(world.backend.operational_state_for(
        StateSelection.of([f"{RADIO}/capabilities", f"{RADIO}/vif/counters"])))
    phy0 = state["ransdn-wifi:wifi-node-state"]["radio"][0]
    assert phy0["capabilities"]["airtime-scheduler"] is False
    # Without the module every live vif's tx counters are its stations'.
    assert {v["name"]: v["counters"]["tx-packets"] for v in phy0["vif"]} == {
        "sl-a": "1318", "sl-b": "2", "sl-c": "1316"}


def test_a_phy_that_leaves_during_a_read_is_left_out(tmp_path: Path, loop) -> None:
    """A station's phy moved into its namespace between listing the phys
    and asking iw about it (seen in the kernel test bed)."""
    import shutil

    world = make_world(tmp_path)
    real = world.iw.__call__

    async def moving(*argv: str, timeout: float = 15) -> str:
        if argv == ("iw", "phy", "phy1", "info"):
            shutil.rmtree(tmp_path / "sys" / "ieee80211" / "phy1")
            raise WirelessError("command failed: No such device (-19)")
        return await real(*argv)

    world.backend.wireless.run = moving
    state = loop.run_until_complete(world.backend.operational_state_for(EVERYTHING))
    assert [r["name"] for r in state["ransdn-wifi:wifi-node-state"]["radio"]] == ["phy0"]

    # A phy that is still there and cannot be read is an error, not a gap.
    world.iw.outputs.pop(("iw", "phy", "phy0", "info"))
    world.backend.wireless._phy_info.clear()
    with pytest.raises(BackendError, match="cannot read the Wi-Fi state"):
        loop.run_until_complete(world.backend.operational_state_for(EVERYTHING))
