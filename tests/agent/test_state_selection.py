"""What a <get> tells the backend it needs: the StateSelection derived from
subtree and XPath filters, and its delivery to the backend through a real
NETCONF session."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from agent.backends.base import EVERYTHING, BackendContext, JsonTree, StateSelection
from agent.backends.sim import SimBackend
from agent.datastore.schema import SchemaLibrary
from agent.netconf import filters
from agent.netconf.filters import xpath_paths
from tests.support import configs as C
from tests.support.agent_thread import AgentThread

from .state_filters import PSK_FILTER, subtree_filter, xpath_filter

W = "ransdn-wifi"
STATE = f"/{W}:wifi-node-state"
NAMESPACES = {W: C.WIFI_NS, "ietf-netconf-monitoring": "urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring"}


@pytest.fixture(scope="module")
def schema():
    return SchemaLibrary().get("wifi")


def compile_filter(schema, text: str) -> filters.Filter:
    flt = filters.parse(etree.fromstring(text), schema)
    assert flt is not None
    return flt


def test_selection_wants_a_path_its_ancestors_and_what_is_below() -> None:
    s = StateSelection.of([f"{STATE}/radio/vif/psk-sha256", f"/{W}:wifi-node-state/{W}:radio/{W}:survey"])
    assert s.paths == {f"{STATE}/radio/vif/psk-sha256", f"{STATE}/radio/survey"}
    for wanted in (STATE, f"{STATE}/radio", f"{STATE}/radio/vif", f"{STATE}/radio/vif/psk-sha256",
                   f"{STATE}/radio/survey/busy-time", f"/{W}:wifi-node-state/{W}:radio"):
        assert s.wants(wanted), wanted
    for unwanted in (f"{STATE}/radio/station", f"{STATE}/radio/vif/airtime", f"{STATE}/radio/vif/psk",
                     f"{STATE}/node-id", f"/{W}:wifi-node", "/ransdn-lte:lte-cell-state"):
        assert not s.wants(unwanted), unwanted
    assert EVERYTHING.everything and EVERYTHING.wants(f"{STATE}/radio/station/signal")
    assert not StateSelection.of([]).wants(STATE)


def test_the_controllers_psk_filter_selects_three_leaves(schema) -> None:
    flt = compile_filter(schema, PSK_FILTER)
    assert flt.selection.paths == {f"{STATE}/radio/name", f"{STATE}/radio/vif/name",
                                   f"{STATE}/radio/vif/psk-sha256"}
    assert flt.modules == {W}


def test_content_match_nodes_are_part_of_the_selection(schema) -> None:
    text = (f'<filter xmlns="{C.BASE_NS}"><wifi-node-state xmlns="{C.WIFI_NS}"><radio><name>phy0</name>'
            '<vif><oper-status>up</oper-status><airtime/></vif></radio></wifi-node-state></filter>')
    flt = compile_filter(schema, text)
    assert flt.selection.paths == {f"{STATE}/radio/name", f"{STATE}/radio/vif/oper-status",
                                   f"{STATE}/radio/vif/airtime"}
    # Content match alone selects the whole parent, which covers the matched leaf.
    only = compile_filter(schema, f'<filter xmlns="{C.BASE_NS}"><wifi-node-state xmlns="{C.WIFI_NS}">'
                                  '<radio><name>phy0</name></radio></wifi-node-state></filter>')
    assert only.selection.paths == {f"{STATE}/radio"}


def test_a_filter_without_namespace_selects_in_every_module(schema) -> None:
    flt = compile_filter(schema, f'<filter xmlns="{C.BASE_NS}"><wifi-node-state xmlns=""/></filter>')
    assert flt.selection.paths == {STATE}


def test_a_filter_on_other_modules_selects_no_state(schema) -> None:
    flt = compile_filter(schema, f'<filter xmlns="{C.BASE_NS}"><netconf-state xmlns="'
                                 f'{NAMESPACES["ietf-netconf-monitoring"]}"/></filter>')
    assert not flt.selection.wants(STATE)


@pytest.mark.parametrize("select,paths", [
    ("/w:wifi-node-state/w:radio/w:vif/w:psk-sha256", {f"{STATE}/radio/vif/psk-sha256"}),
    ("/w:wifi-node-state/w:radio[w:name='phy0']/w:vif[w:oper-status = 'up']/w:name | /w:wifi-node-state/w:node-id",
     {f"{STATE}/radio/name", f"{STATE}/radio/vif/oper-status", f"{STATE}/radio/vif/name", f"{STATE}/node-id"}),
    ("/w:wifi-node-state/w:radio/w:vif[10 < w:airtime/w:measured]/w:name",
     {f"{STATE}/radio/vif/airtime/measured", f"{STATE}/radio/vif/name"}),
    ("/w:wifi-node-state/w:radio[1]/w:vif[w:name]", {f"{STATE}/radio/vif/name", f"{STATE}/radio/vif"}),
    ('/w:wifi-node-state/w:radio/w:vif/w:ssid[.="a]b|c"]', {f"{STATE}/radio/vif/ssid"}),
])
def test_simple_xpath_filters_get_a_selection(schema, select: str, paths: set[str]) -> None:
    flt = filters.parse(xpath_filter(select, {"w": C.WIFI_NS}), schema)
    assert flt is not None and flt.selection.paths == paths and flt.modules == {W}


@pytest.mark.parametrize("select", [
    "//w:psk-sha256",
    "/w:wifi-node-state/w:radio/*",
    "/w:wifi-node-state/w:radio[count(w:vif) > 1]/w:name",
    "/w:wifi-node-state/w:radio/w:vif/..",
    "/w:wifi-node-state/w:radio[w:name = w:vif/w:name]",
    "/w:wifi-node-state/w:radio[w:name='a' and w:band='5ghz']",
    "wifi-node-state",
    "/w:wifi-node-state/descendant::w:name",
])
def test_other_xpath_filters_ask_for_everything(schema, select: str) -> None:
    flt = filters.parse(xpath_filter(select, {"w": C.WIFI_NS}), schema)
    assert flt is not None and flt.selection.everything and flt.modules is None
    assert xpath_paths(flt.expressions[0]) is None


@pytest.mark.parametrize("select", ["/w:wifi-node-state/w:nosuch", "/x:wifi-node-state/x:radio"])
def test_an_xpath_naming_what_no_module_has_asks_for_everything(schema, select: str) -> None:
    flt = filters.parse(xpath_filter(select, {"w": C.WIFI_NS, "x": "urn:nowhere"}), schema)
    assert flt is not None and flt.selection.everything and flt.modules is None


def test_an_xpath_naming_what_no_module_has_is_answered_as_before(sim_agent) -> None:
    """An unknown module is an error; an unknown node selects nothing."""
    agent, _ = sim_agent
    from ncclient.operations.rpc import RPCError

    with agent.connect() as m:
        with pytest.raises(RPCError) as err:
            m.get(filter=("xpath", ({"x": "urn:nowhere"}, "/x:wifi-node-state/x:radio")))
        assert err.value.tag == "invalid-value" and "Invalid XPath filter" in err.value.message
        empty = m.get(filter=("xpath", ({"w": C.WIFI_NS}, "/w:wifi-node-state/w:nosuch")))
        assert len(empty.data_ele) == 0


def test_subtree_filter_builder(schema) -> None:
    elem = subtree_filter(NAMESPACES, [f"{STATE}/radio/vif/name", f"{STATE}/radio/vif"],
                          [(f"{STATE}/radio/name", "phy0")])
    flt = filters.parse(elem, schema)
    assert flt is not None and flt.selection.paths == {f"{STATE}/radio/name", f"{STATE}/radio/vif"}


# -- through NETCONF ------------------------------------------------------------------


class ObservedSim(SimBackend):
    """The sim backend, noting each selection it is asked for and each
    medium snapshot it takes."""

    def __init__(self, context: BackendContext) -> None:
        super().__init__(context)
        self.selections: list[StateSelection] = []
        self.snapshots = 0

    async def start(self, notify) -> None:
        await super().start(notify)
        medium = self._private_medium
        assert medium is not None
        take = medium.snapshot

        async def counted(node_id: str):
            self.snapshots += 1
            return await take(node_id)

        medium.snapshot = counted  # type: ignore[method-assign]

    async def operational_state_for(self, selection: StateSelection) -> JsonTree:
        self.selections.append(selection)
        return await super().operational_state_for(selection)


@pytest.fixture
def sim_agent(tmp_path: Path):
    backend = ObservedSim(BackendContext("wifi", "ap1", tmp_path / "state", {}))
    with AgentThread(tmp_path, backend=backend) as agent:
        yield agent, backend


def test_a_get_passes_the_filters_selection_to_the_backend(sim_agent) -> None:
    agent, backend = sim_agent
    with agent.connect() as m:
        m.edit_config(target="running", config=C.config(C.wifi(C.radio(
            C.vif("w0", "alpha", 30, psk=C.PSK) + C.vif("w1", "beta", 20)))))
        backend.selections.clear()
        backend.snapshots = 0
        narrow = m.get(filter=("subtree", etree.fromstring(PSK_FILTER)[0])).data_xml
        assert [s.paths for s in backend.selections] == [
            {f"{STATE}/radio/name", f"{STATE}/radio/vif/name", f"{STATE}/radio/vif/psk-sha256"}]
        assert backend.snapshots == 0, "the PSK check needs nothing from the medium"

        full = m.get(filter=("subtree", f'<wifi-node-state xmlns="{C.WIFI_NS}"/>'))
        assert backend.selections[-1].paths == {STATE} and backend.snapshots == 1
        m.get()
        assert backend.selections[-1] is EVERYTHING and backend.snapshots == 2
        m.get(filter=("xpath", "//*[local-name()='psk-sha256']"))
        assert backend.selections[-1].everything

    hashes = sorted(e.text for e in etree.fromstring(narrow.encode()).iter(f"{{{C.WIFI_NS}}}psk-sha256"))
    assert hashes == sorted(e.text for e in full.data_ele.iter(f"{{{C.WIFI_NS}}}psk-sha256")) and len(hashes) == 1
    names = {etree.QName(e).localname for e in etree.fromstring(narrow.encode()).iter()}
    assert names == {"data", "wifi-node-state", "radio", "name", "vif", "psk-sha256"}
