"""The NETCONF operations, driven by ncclient against an in-process agent
whose backend records what it is asked to apply."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from ncclient.operations.rpc import RPCError

from agent.backends.base import BackendContext, BackendError, JsonTree
from agent.datastore.schema import PROJECT_YANG_DIR
from tests.support import configs as C
from tests.support.agent_thread import AgentThread
from tests.support.recording_backend import RecordingBackend

NS = {"w": C.WIFI_NS, "l": C.LTE_NS, "nc": C.BASE_NS,
      "ncm": "urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring",
      "wd": "urn:ietf:params:xml:ns:yang:ietf-netconf-with-defaults"}

TWO_RADIOS = C.wifi(
    C.radio(C.vif("w0", "alpha", 30, psk=C.PSK, vlan=10) + C.vif("w1", "beta", 20))
    + C.radio(C.vif("x0", "gamma", 50), name="phy1", band="5ghz", channel=36)
)


def data(reply: Any) -> etree._Element:
    return reply.data_ele


def texts(el: etree._Element, path: str) -> list[str]:
    return [e.text for e in el.xpath(path, namespaces=NS)]


@pytest.fixture
def seeded(wifi_agent: AgentThread) -> Any:
    with wifi_agent.connect() as m:
        m.edit_config(target="running", config=C.config(TWO_RADIOS))
        yield m


# -- hello -------------------------------------------------------------------------------


def test_hello_advertises_protocol_and_module_capabilities(wifi_agent: AgentThread, lte_agent: AgentThread) -> None:
    with wifi_agent.connect() as m:
        caps = set(m.server_capabilities)
        assert m.session_id and int(m.session_id) > 0
    for cap in (
        "urn:ietf:params:netconf:base:1.0",
        "urn:ietf:params:netconf:base:1.1",
        "urn:ietf:params:netconf:capability:writable-running:1.0",
        "urn:ietf:params:netconf:capability:candidate:1.0",
        "urn:ietf:params:netconf:capability:confirmed-commit:1.1",
        "urn:ietf:params:netconf:capability:rollback-on-error:1.0",
        "urn:ietf:params:netconf:capability:validate:1.1",
        "urn:ietf:params:netconf:capability:xpath:1.0",
        "urn:ietf:params:netconf:capability:notification:1.0",
        "urn:ietf:params:netconf:capability:interleave:1.0",
        "urn:ietf:params:netconf:capability:with-defaults:1.0?basic-mode=explicit"
        "&also-supported=report-all,report-all-tagged,trim",
        f"{C.WIFI_NS}?module=ransdn-wifi&revision=2026-11-21",
        "urn:ransdn:params:xml:ns:yang:ransdn-types?module=ransdn-types&revision=2026-11-21",
        "urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring?module=ietf-netconf-monitoring&revision=2010-10-04",
        "urn:ietf:params:xml:ns:yang:ietf-netconf-notifications?module=ietf-netconf-notifications"
        "&revision=2012-02-06",
    ):
        assert cap in caps, cap
    assert not any(":startup:" in c or ":url:" in c for c in caps)
    assert any(c.startswith("urn:ietf:params:xml:ns:netconf:base:1.0?module=ietf-netconf&revision=2011-06-01"
                            "&features=") and "confirmed-commit" in c for c in caps)
    with lte_agent.connect() as m:
        lte_caps = set(m.server_capabilities)
    assert f"{C.LTE_NS}?module=ransdn-lte&revision=2026-11-21" in lte_caps
    assert not any("ransdn-wifi" in c for c in lte_caps)


# -- retrieval ---------------------------------------------------------------------------


def test_psk_never_comes_back(wifi_agent: AgentThread, seeded: Any) -> None:
    for reply in (
        seeded.get_config(source="running"),
        seeded.get(),
        seeded.get_config(source="running", filter=("xpath", "/ransdn-wifi:wifi-node/radio/vif/security/psk")),
        seeded.get_config(source="running", filter=("subtree", f'<wifi-node xmlns="{C.WIFI_NS}"><radio><vif>'
                                                              "<security><psk/></security></vif></radio></wifi-node>")),
        seeded.get_config(source="running", with_defaults="report-all"),
    ):
        assert C.PSK not in reply.xml
        assert not data(reply).xpath("//w:psk", namespaces=NS)
    # the client still sees that the vif is WPA2, and the backend got the key
    assert texts(data(seeded.get_config(source="running")), "//w:vif[w:name='w0']/w:security/w:mode") == ["wpa2-psk"]
    new = wifi_agent.backend.applies[-1][1]
    vifs = new["ransdn-wifi:wifi-node"]["radio"][0]["vif"]
    assert next(v for v in vifs if v["name"] == "w0")["security"]["psk"] == C.PSK


def test_subtree_filters(seeded: Any) -> None:
    def get(flt: str) -> etree._Element:
        return data(seeded.get_config(source="running", filter=("subtree", flt)))

    # containment + key content match: the whole phy1 entry
    out = get(f'<wifi-node xmlns="{C.WIFI_NS}"><radio><name>phy1</name></radio></wifi-node>')
    assert texts(out, "//w:radio/w:name") == ["phy1"]
    assert texts(out, "//w:radio/w:vif/w:ssid") == ["gamma"]
    # selection nodes: only names and SSIDs of phy0's vifs (and the keys that locate them)
    out = get(f'<wifi-node xmlns="{C.WIFI_NS}"><radio><name>phy0</name><vif><ssid/></vif></radio></wifi-node>')
    assert sorted(texts(out, "//w:vif/w:ssid")) == ["alpha", "beta"]
    assert sorted(texts(out, "//w:vif/w:name")) == ["w0", "w1"]
    assert not out.xpath("//w:tenant|//w:vlan|//w:radio/w:band", namespaces=NS)
    # content match on a non-key leaf selects the matching entry only
    out = get(f'<wifi-node xmlns="{C.WIFI_NS}"><radio><vif><ssid>beta</ssid></vif></radio></wifi-node>')
    assert texts(out, "//w:vif/w:name") == ["w1"]
    assert texts(out, "//w:vif/w:tenant") == ["t-w1"]
    # a namespace the agent does not implement selects nothing (not an error)
    assert len(get('<wifi-node xmlns="urn:example:other"/>')) == 0
    # an empty filter selects nothing
    assert len(data(seeded.get_config(source="running", filter=f'<filter xmlns="{C.BASE_NS}" type="subtree"/>'))) == 0


def test_xpath_filters(seeded: Any) -> None:
    out = data(seeded.get_config(
        source="running",
        filter=("xpath", ({"r": C.WIFI_NS}, "/r:wifi-node/r:radio[r:name='phy1']/r:vif/r:ssid")),
    ))
    assert texts(out, "//w:ssid") == ["gamma"]
    assert texts(out, "//w:radio/w:name") == ["phy1"]
    out = data(seeded.get(filter=("xpath", ({"m": NS["ncm"]}, "/m:netconf-state/m:schemas/m:schema[m:identifier='ransdn-wifi']"))))
    assert texts(out, "//ncm:schema/ncm:version") == ["2026-11-21"]
    with pytest.raises(RPCError) as exc:
        seeded.get_config(source="running", filter=("xpath", "/ransdn-wifi:wifi-node/radio[")) 
    assert exc.value.tag == "invalid-value"


def test_with_defaults_modes(seeded: Any) -> None:
    def interval(mode: str | None) -> list[Any]:
        kw = {"with_defaults": mode} if mode else {}
        out = data(seeded.get_config(source="running", **kw))
        return out.xpath("//w:radio[w:name='phy0']/w:scheduler/w:interval", namespaces=NS)

    assert interval(None) == [] and interval("explicit") == [] and interval("trim") == []
    assert [e.text for e in interval("report-all")] == ["100000"]
    tagged = interval("report-all-tagged")
    assert tagged[0].get(f"{{{NS['wd']}}}default") == "true"


# -- edit-config ---------------------------------------------------------------------------


def test_edit_operations(wifi_agent: AgentThread, seeded: Any) -> None:
    running = lambda: data(seeded.get_config(source="running"))  # noqa: E731
    # replace: the entry becomes exactly what was sent (vlan and psk go)
    seeded.edit_config(target="running", config=C.config(C.wifi(C.radio(
        C.vif("w0", "alpha2", 30, attrs=' nc:operation="replace"')))))
    assert texts(running(), "//w:vif[w:name='w0']/w:ssid") == ["alpha2"]
    assert not running().xpath("//w:vif[w:name='w0']/w:vlan", namespaces=NS)
    # remove of something absent is fine; delete of it is not
    seeded.edit_config(target="running", config=C.config(C.wifi(C.radio(
        '<vif nc:operation="remove"><name>nope</name></vif>'))))
    # create a new vif, delete another, in one edit
    seeded.edit_config(target="running", config=C.config(C.wifi(C.radio(
        C.vif("w2", "delta", 5, attrs=' nc:operation="create"') + '<vif nc:operation="delete"><name>w1</name></vif>'))))
    assert sorted(texts(running(), "//w:radio[w:name='phy0']/w:vif/w:name")) == ["w0", "w2"]
    # default-operation none: untouched unless an operation says otherwise
    seeded.edit_config(target="running", default_operation="none", config=C.config(C.wifi(
        '<radio><name>phy1</name><channel>40</channel><vif><name>x0</name>'
        '<vlan nc:operation="merge">99</vlan></vif></radio>')))
    assert texts(running(), "//w:radio[w:name='phy1']/w:channel") == ["36"]
    assert texts(running(), "//w:vif[w:name='x0']/w:vlan") == ["99"]
    # a leaf delete without a value
    seeded.edit_config(target="running", config=C.config(C.wifi(
        '<radio><name>phy1</name><vif><name>x0</name><vlan nc:operation="delete"/></vif></radio>')))
    assert not running().xpath("//w:vif[w:name='x0']/w:vlan", namespaces=NS)
    # default-operation replace: the whole datastore is what was sent
    seeded.edit_config(target="running", default_operation="replace",
                       config=C.config(C.wifi(C.radio(C.vif("v9", "solo", 10), name="phy9"))))
    assert texts(running(), "//w:radio/w:name") == ["phy9"]
    assert wifi_agent.backend.config["ransdn-wifi:wifi-node"]["radio"][0]["name"] == "phy9"


def test_test_only_and_set(wifi_agent: AgentThread, seeded: Any) -> None:
    before = wifi_agent.running_xml()
    applies = len(wifi_agent.backend.applies)
    seeded.edit_config(target="running", test_option="test-only",
                       config=C.config(C.wifi(C.radio(C.vif("w9", "tested", 10)))))
    assert wifi_agent.running_xml() == before and len(wifi_agent.backend.applies) == applies
    # test-option set lets a candidate pass through an invalid state ...
    seeded.edit_config(target="candidate", test_option="set", config=C.config(C.wifi(C.radio(
        '<vif><name>w1</name><security><mode>wpa2-psk</mode></security></vif>'))))
    with pytest.raises(RPCError) as exc:
        seeded.validate(source="candidate")
    assert exc.value.message == "WPA2-PSK security needs a psk."
    # ... until it is fixed and committed
    seeded.edit_config(target="candidate", test_option="set", config=C.config(C.wifi(C.radio(
        f"<vif><name>w1</name><security><psk>{C.PSK}</psk></security></vif>"))))
    seeded.validate(source="candidate")
    seeded.commit()
    assert "wpa2-psk" in wifi_agent.running_xml()


def test_continue_on_error_applies_the_rest(wifi_agent: AgentThread, seeded: Any) -> None:
    with pytest.raises(RPCError) as exc:
        seeded.edit_config(target="running", error_option="continue-on-error", config=C.config(C.wifi(C.radio(
            '<vif nc:operation="delete"><name>nope1</name></vif>'
            + C.vif("w5", "epsilon", 5)
            + '<vif nc:operation="delete"><name>nope2</name></vif>'))))
    errors = exc.value.errlist or [exc.value]
    assert [e.tag for e in errors] == ["data-missing", "data-missing"]
    assert "epsilon" in wifi_agent.running_xml()


def test_copy_config_and_discard(wifi_agent: AgentThread, seeded: Any) -> None:
    seeded.edit_config(target="candidate", config=C.config(C.wifi(C.radio(C.vif("w5", "epsilon", 5)))))
    assert "epsilon" in seeded.get_config(source="candidate").xml
    seeded.discard_changes()
    assert "epsilon" not in seeded.get_config(source="candidate").xml
    # inline config into the candidate, then candidate -> running
    inline = C.config(C.wifi(C.radio(C.vif("c0", "copied", 40))))
    seeded.copy_config(source=f'<source xmlns="{C.BASE_NS}">{inline}</source>', target="candidate")
    assert "alpha" not in seeded.get_config(source="candidate").xml
    seeded.copy_config(source="candidate", target="running")
    assert "copied" in wifi_agent.running_xml() and "alpha" not in wifi_agent.running_xml()
    assert wifi_agent.backend.config["ransdn-wifi:wifi-node"]["radio"][0]["vif"][0]["ssid"] == "copied"
    # running -> candidate undoes a candidate edit
    seeded.edit_config(target="candidate", config=C.config(C.wifi(C.radio(C.vif("c1", "tmp", 1)))))
    seeded.copy_config(source="running", target="candidate")
    assert "tmp" not in seeded.get_config(source="candidate").xml


def test_backend_failure_on_commit_keeps_running_and_candidate(tmp_path: Path) -> None:
    with AgentThread(tmp_path, kind="lte", backend_options={"fail_on_plmn": "00199"}) as agent:
        with agent.connect() as m:
            m.edit_config(target="running", config=C.config(C.lte(C.plmn_slice("a", mnc="01"))))
            before = agent.running_xml()
            m.edit_config(target="candidate", config=C.config(C.lte(C.plmn_slice("b", mnc="99"))))
            with pytest.raises(RPCError) as exc:
                m.commit()
            assert exc.value.tag == "operation-failed"
            assert exc.value.message == "the eNB refused PLMN 00199"
            assert agent.running_xml() == before
            assert "<id>b</id>" in m.get_config(source="candidate").xml  # nothing lost


def test_lock_denied_names_the_holder(wifi_agent: AgentThread) -> None:
    with wifi_agent.connect() as a, wifi_agent.connect() as b:
        a.lock(target="candidate")
        with pytest.raises(RPCError) as exc:
            b.lock(target="candidate")
        assert exc.value.tag == "lock-denied"
        info = etree.fromstring(exc.value.info.encode())
        assert info.findtext(f"{{{C.BASE_NS}}}session-id") == str(a.session_id)
        with pytest.raises(RPCError) as exc:
            b.edit_config(target="candidate", config=C.config(C.wifi(C.radio())))
        assert exc.value.tag == "in-use"
        with pytest.raises(RPCError) as exc:
            b.unlock(target="candidate")
        assert exc.value.tag == "operation-failed"
        a.edit_config(target="candidate", config=C.config(C.wifi(C.radio())))
        a.unlock(target="candidate")  # releases and discards a's changes
        assert "phy0" not in b.get_config(source="candidate").xml
        b.lock(target="candidate")


def test_kill_session_releases_its_locks(wifi_agent: AgentThread) -> None:
    a = wifi_agent.connect()
    with wifi_agent.connect() as b:
        a.lock(target="running")
        b.kill_session(a.session_id)
        _wait(lambda: not a.connected)
        b.lock(target="running")
        with pytest.raises(RPCError) as exc:
            b.kill_session("9999")
        assert exc.value.tag == "invalid-value"


# -- confirmed commit ---------------------------------------------------------------------


def _pending(agent: AgentThread) -> Any:
    return agent.run(lambda: agent.server.store.pending)


def test_confirmed_commit_then_confirm(wifi_agent: AgentThread, seeded: Any) -> None:
    seeded.edit_config(target="candidate", config=C.config(C.wifi(C.radio(C.vif("w5", "epsilon", 5)))))
    seeded.commit(confirmed=True, timeout="600")
    assert _pending(wifi_agent) is not None
    assert (wifi_agent.state_dir / "rollback.json").exists()
    seeded.commit()
    assert _pending(wifi_agent) is None
    assert not (wifi_agent.state_dir / "rollback.json").exists()
    assert "epsilon" in wifi_agent.running_xml()


def test_confirmed_commit_cancel_and_follow_up(wifi_agent: AgentThread, seeded: Any) -> None:
    original = wifi_agent.running_xml()
    world = wifi_agent.backend.config
    seeded.edit_config(target="candidate", config=C.config(C.wifi(C.radio(C.vif("w5", "epsilon", 5)))))
    seeded.commit(confirmed=True, timeout="600")
    # a follow-up confirmed commit keeps the original rollback point
    seeded.edit_config(target="candidate", config=C.config(C.wifi(C.radio(C.vif("w6", "zeta", 5)))))
    seeded.commit(confirmed=True, timeout="600")
    assert "zeta" in wifi_agent.running_xml()
    seeded.cancel_commit()
    assert wifi_agent.running_xml() == original
    assert wifi_agent.backend.config == world


def test_closing_the_confirming_session_rolls_back(wifi_agent: AgentThread, seeded: Any) -> None:
    original = wifi_agent.running_xml()
    with wifi_agent.connect() as other:
        other.edit_config(target="candidate", config=C.config(C.wifi(C.radio(C.vif("w5", "epsilon", 5)))))
        other.commit(confirmed=True)
        with pytest.raises(RPCError) as exc:  # not this session's to confirm
            seeded.commit()
        assert exc.value.tag == "in-use"
    _wait(lambda: wifi_agent.running_xml() == original)


def test_persist_survives_the_session_and_another_confirms(wifi_agent: AgentThread, seeded: Any) -> None:
    with wifi_agent.connect() as other:
        other.edit_config(target="candidate", config=C.config(C.wifi(C.radio(C.vif("w5", "epsilon", 5)))))
        other.commit(confirmed=True, persist="ticket-42")
    assert _pending(wifi_agent) is not None  # the session is gone, the commit is not
    with pytest.raises(RPCError) as exc:
        seeded.commit()  # without the persist-id
    assert exc.value.tag == "in-use"
    seeded.commit(persist_id="ticket-42")
    assert _pending(wifi_agent) is None and "epsilon" in wifi_agent.running_xml()


def _wait(pred: Any, timeout: float = 15) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline
        time.sleep(0.05)


# -- monitoring -----------------------------------------------------------------------------


def test_get_schema_returns_the_yang_source(seeded: Any) -> None:
    reply = seeded.get_schema("ransdn-wifi", version="2026-11-21", format="yang")
    assert reply.data == (PROJECT_YANG_DIR / "ransdn-wifi@2026-11-21.yang").read_text()
    assert "module ietf-inet-types" in seeded.get_schema("ietf-inet-types").data
    with pytest.raises(RPCError) as exc:
        seeded.get_schema("no-such-module")
    assert exc.value.tag == "invalid-value"


def test_netconf_state(wifi_agent: AgentThread, seeded: Any) -> None:
    with wifi_agent.connect() as other:
        other.lock(target="running")
        flt = ("subtree", f'<netconf-state xmlns="{NS["ncm"]}"/>')
        state = data(seeded.get(filter=flt))
        other.unlock(target="running")
    assert {seeded.session_id, other.session_id} <= set(texts(state, "//ncm:session/ncm:session-id"))
    assert all(t.endswith(":netconf-ssh") for t in texts(state, "//ncm:session/ncm:transport"))
    assert texts(state, "//ncm:datastore[ncm:name='running']/ncm:locks/ncm:global-lock/ncm:locked-by-session") \
        == [other.session_id]
    assert "NETCONF" in texts(state, "//ncm:schema[ncm:identifier='ransdn-wifi']/ncm:location")
    assert "urn:ietf:params:netconf:base:1.1" in texts(state, "//ncm:capabilities/ncm:capability")
    assert int(texts(state, "//ncm:statistics/ncm:in-sessions")[0]) >= 2


# -- the node modules' RPCs ------------------------------------------------------------------


class _SimRpcBackend(RecordingBackend):
    extra_modules = ("ransdn-sim",)

    async def rpc(self, name: str, input: JsonTree) -> JsonTree:
        self.rpcs.append((name, input))
        if input.get("ssid") == "busy":
            raise BackendError("no such SSID on phy0", error_tag="invalid-value")
        return {"vif": "w0"} if name == "ransdn-sim:station-attach" else {}


def test_module_rpcs_reach_the_backend(tmp_path: Path) -> None:
    backend = _SimRpcBackend(BackendContext("wifi", "n", tmp_path / "state"))
    with AgentThread(tmp_path, kind="wifi", backend=backend) as agent, agent.connect() as m:
        assert any("ransdn-sim" in c for c in m.server_capabilities)
        rpc = (f'<station-attach xmlns="{C.SIM_NS}"><radio>phy0</radio><ssid>alpha</ssid>'
               "<mac-address>02:00:00:00:00:01</mac-address></station-attach>")
        reply = m.dispatch(etree.fromstring(rpc))
        assert etree.fromstring(reply.xml.encode()).findtext(f".//{{{C.SIM_NS}}}vif") == "w0"
        assert backend.rpcs[-1] == ("ransdn-sim:station-attach", {
            "radio": "phy0", "ssid": "alpha", "mac-address": "02:00:00:00:00:01",
            "tx-bitrate": 54000, "signal": -50})
        reply = m.dispatch(etree.fromstring(f'<station-detach xmlns="{C.SIM_NS}"><mac-address>'
                                            "02:00:00:00:00:01</mac-address></station-detach>"))
        assert reply.ok
        with pytest.raises(RPCError) as exc:
            m.dispatch(etree.fromstring(f'<station-attach xmlns="{C.SIM_NS}"><radio>phy0</radio></station-attach>'))
        assert exc.value.tag == "missing-element"
        with pytest.raises(RPCError) as exc:
            m.dispatch(etree.fromstring(rpc.replace("alpha", "busy")))
        assert (exc.value.tag, exc.value.message) == ("invalid-value", "no such SSID on phy0")


# -- concurrency ----------------------------------------------------------------------------


def test_two_sessions_edit_concurrently(wifi_agent: AgentThread) -> None:
    errors: list[BaseException] = []

    def worker(radio: str, band: str, channel: int) -> None:
        try:
            with wifi_agent.connect() as m:
                for i in range(15):
                    m.edit_config(target="running", config=C.config(C.wifi(C.radio(
                        C.vif(f"{radio}v{i}", f"{radio}-ssid-{i}", 1), name=radio, band=band, channel=channel))))
                    assert f"{radio}-ssid-{i}" in m.get_config(source="running").xml
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=a) for a in (("phy0", "2.4ghz", 1), ("phy1", "5ghz", 36))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    with wifi_agent.connect() as m:
        out = data(m.get_config(source="running"))
    assert len(texts(out, "//w:vif/w:name")) == 30
