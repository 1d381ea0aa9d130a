"""A table of bad requests.  Each must be answered with exactly the expected
<rpc-error>, and must leave the running datastore (and the world the
backend manages) as it was.

The agent runs in-process with a recording backend; clients are ncclient
and, for what ncclient refuses to send, a raw NETCONF client.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest
from lxml import etree
from ncclient.operations.rpc import RPCError

from agent.backends.base import BackendContext
from agent.netconf.server import Limits
from tests.support import configs as C
from tests.support.agent_thread import AgentThread
from tests.support.raw_netconf import RawNetconf, errors_of
from tests.support.recording_backend import RecordingBackend

WIFI = "ransdn-wifi"
LTE = "ransdn-lte"
MAX_MESSAGE = 64 * 1024


def xp(module: str, *steps: str) -> str:
    """An error-path as the agent writes it: every name module-prefixed."""
    out = []
    for step in steps:
        name, bracket, rest = step.partition("[")
        pred = ""
        if bracket:
            key, _, value = rest.rstrip("]").partition("=")
            pred = f"[{module}:{key}={value}]"
        out.append(f"{module}:{name}{pred}")
    return "/" + "/".join(out)


VIF_W0 = ("wifi-node", "radio[name='phy0']", "vif[name='w0']")
WIFI_BASE = C.wifi(C.radio(C.vif("w0", "alpha", 30, psk=C.PSK, vlan=10) + C.vif("w1", "beta", 30)))
LTE_BASE = C.lte(
    "".join(C.plmn_slice(f"s{i}", mnc=f"{i + 1:02d}", imsis=[f"00101{i}000000001"]) for i in range(6))
)


@dataclass
class Ctx:
    agent: AgentThread
    m: Any  # the ncclient session that acts

    def other(self) -> Any:
        return self.agent.connect()

    def raw(self) -> RawNetconf:
        raw = RawNetconf("127.0.0.1", self.agent.port, self.agent.client_key.private_key)
        raw.hello()
        return raw


@dataclass
class Bad:
    kind: str
    act: Callable[[Ctx], dict[str, Any]]
    tag: str
    path: str | None = None
    message: str | None = None
    app_tag: str | None = None
    info: dict[str, str] = field(default_factory=dict)
    #: False for cases that change running and then restore it (confirmed
    #: commits): the backend then sees two applies but ends where it began.
    no_apply: bool = True


def _info(xml: str | None) -> dict[str, str]:
    if not xml:
        return {}
    root = etree.fromstring(xml.encode() if isinstance(xml, str) else xml)
    return {etree.QName(c).localname: (c.text or "") for c in root.iter() if len(c) == 0 and c is not root}


def ncclient_error(fn: Callable[[], Any]) -> dict[str, Any]:
    with pytest.raises(RPCError) as exc:
        fn()
    e = exc.value
    return {"tag": e.tag, "path": e.path, "message": e.message, "app_tag": e.app_tag, "info": _info(e.info)}


def raw_error(reply: etree._Element) -> dict[str, Any]:
    errs = errors_of(reply)
    assert len(errs) == 1, errs
    e = errs[0]
    info = {k: v for k, v in e.items() if not k.startswith("error-")}
    return {"tag": e["error-tag"], "path": e.get("error-path"), "message": e.get("error-message"),
            "app_tag": e.get("error-app-tag"), "info": info}


def edit(target: str = "running", **kw: Any) -> Callable[[str], Callable[[Ctx], dict[str, Any]]]:
    def with_content(content: str) -> Callable[[Ctx], dict[str, Any]]:
        return lambda c: ncclient_error(lambda: c.m.edit_config(target=target, config=C.config(content), **kw))
    return with_content


def wifi_vif(extra_vifs: str) -> str:
    return C.wifi(C.radio(extra_vifs))


def _locked_by_other(c: Ctx) -> dict[str, Any]:
    with c.other() as holder:
        holder.lock(target="running")
        try:
            return ncclient_error(lambda: c.m.edit_config(
                target="running", config=C.config(wifi_vif(C.vif("w2", "gamma", 10)))))
        finally:
            holder.unlock(target="running")


def _lock_held(c: Ctx) -> dict[str, Any]:
    with c.other() as holder:
        holder.lock(target="running")
        try:
            return ncclient_error(lambda: c.m.lock(target="running"))
        finally:
            holder.unlock(target="running")


def _invalid_candidate_commit(c: Ctx) -> dict[str, Any]:
    c.m.edit_config(target="candidate", test_option="set",
                    config=C.config(wifi_vif(C.vif("w2", "gamma", 50))))
    try:
        return ncclient_error(lambda: c.m.commit())
    finally:
        c.m.discard_changes()


def _wait_for(pred: Callable[[], bool], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


def _confirm_timeout(c: Ctx) -> dict[str, Any]:
    before = c.agent.running_xml()
    c.m.edit_config(target="candidate", config=C.config(wifi_vif(C.vif("w2", "gamma", 10))))
    c.m.commit(confirmed=True, timeout="1")
    assert "gamma" in c.agent.running_xml()
    _wait_for(lambda: c.agent.running_xml() == before)
    # The rollback left nothing to confirm.
    return ncclient_error(lambda: c.m.commit(persist_id="anything"))


def _kill_confirming_session(c: Ctx) -> dict[str, Any]:
    before = c.agent.running_xml()
    confirming = c.other()
    confirming.edit_config(target="candidate", config=C.config(wifi_vif(C.vif("w2", "gamma", 10))))
    confirming.commit(confirmed=True, timeout="600")
    assert "gamma" in c.agent.running_xml()
    c.m.kill_session(confirming.session_id)
    _wait_for(lambda: c.agent.running_xml() == before)
    return ncclient_error(lambda: c.m.cancel_commit())


def _persist_id_mismatch(c: Ctx) -> dict[str, Any]:
    with c.other() as first:
        first.edit_config(target="candidate", config=C.config(wifi_vif(C.vif("w2", "gamma", 10))))
        first.commit(confirmed=True, timeout="600", persist="txn-1")
    after_confirmed = c.agent.running_xml()
    err = ncclient_error(lambda: c.m.commit(persist_id="txn-2"))
    assert c.agent.running_xml() == after_confirmed  # the wrong id changed nothing
    c.m.cancel_commit(persist_id="txn-1")
    return err


def _malformed(c: Ctx) -> dict[str, Any]:
    with c.raw() as raw:
        raw.send(b'<rpc xmlns="urn:ietf:params:xml:ns:netconf:base:1.0" message-id="7"><get-config><source>')
        return raw_error(raw.recv())


def _oversized(c: Ctx) -> dict[str, Any]:
    with c.raw() as raw:
        pad = "<!-- " + "x" * (MAX_MESSAGE + 10) + " -->"
        raw.send(f'<rpc xmlns="urn:ietf:params:xml:ns:netconf:base:1.0" message-id="big">{pad}'
                 f"<get-config><source><running/></source></get-config></rpc>")
        err = raw_error(raw.recv())
        # The session survives, in sync.
        ok = raw.rpc("<get-config><source><running/></source></get-config>", message_id="after")
        assert ok.get("message-id") == "after" and not errors_of(ok)
        return err


def _no_message_id(c: Ctx) -> dict[str, Any]:
    with c.raw() as raw:
        raw.send('<rpc xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><get/></rpc>')
        return raw_error(raw.recv())


def _kill_self(c: Ctx) -> dict[str, Any]:
    return ncclient_error(lambda: c.m.kill_session(c.m.session_id))


def _unknown_rpc(c: Ctx) -> dict[str, Any]:
    return ncclient_error(lambda: c.m.dispatch(etree.fromstring(
        '<frobnicate xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"/>')))


def _lock_modified_candidate(c: Ctx) -> dict[str, Any]:
    with c.other() as editor:
        editor.edit_config(target="candidate", config=C.config(wifi_vif(C.vif("w2", "gamma", 10))))
        try:
            return ncclient_error(lambda: c.m.lock(target="candidate"))
        finally:
            editor.discard_changes()


def _backend_refuses(c: Ctx) -> dict[str, Any]:
    return ncclient_error(lambda: c.m.edit_config(
        target="running", config=C.config(wifi_vif(C.vif("w2", "refused-ssid", 10)))))


def _rollback_on_error(c: Ctx) -> dict[str, Any]:
    # The first vif is fine, the second's delete fails: nothing is kept.
    content = wifi_vif(C.vif("w2", "gamma", 10) + '<vif nc:operation="delete"><name>nope</name></vif>')
    return ncclient_error(lambda: c.m.edit_config(target="running", config=C.config(content),
                                                  error_option="rollback-on-error"))


def _startup_target(c: Ctx) -> dict[str, Any]:
    return ncclient_error(lambda: c.m.dispatch(etree.fromstring(
        '<edit-config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><target><startup/></target>'
        f"{C.config(wifi_vif(C.vif('w2', 'gamma', 10)))}</edit-config>")))


def _copy_invalid_inline(c: Ctx) -> dict[str, Any]:
    return ncclient_error(lambda: c.m.copy_config(
        source=f'<source xmlns="{C.BASE_NS}">{C.config(wifi_vif(C.vif("w0", "x" * 33)))}</source>',
        target="running"))


CASES: dict[str, Bad] = {
    # -- the model's own constraints ----------------------------------------
    "seventh PLMN slice": Bad(
        "lte", edit()(C.lte(C.plmn_slice("s6", mnc="07"))),
        "operation-failed", xp(LTE, "lte-cell", "slice[id='s6']"), 'Too many "slice" instances',
        app_tag="too-many-elements"),
    "duplicate PLMN": Bad(
        "lte", edit()(C.lte(C.plmn_slice("s0", mnc="02"))),
        "operation-failed", xp(LTE, "lte-cell", "slice[id='s0']"), 'Unique data leaf(s) "plmn/mcc plmn/mnc"',
        app_tag="data-not-unique"),
    "4-digit MNC": Bad(
        "lte", edit()(C.lte('<slice><id>s0</id><plmn><mnc>0101</mnc></plmn></slice>')),
        "invalid-value", xp(LTE, "lte-cell", "slice[id='s0']", "plmn", "mnc"), "Unsatisfied pattern",
        info={"bad-element": "mnc"}),
    "IMSI with letters": Bad(
        "lte", edit()(C.lte('<slice><id>s0</id><imsi-acl><imsi>00101abc</imsi></imsi-acl></slice>')),
        "invalid-value", xp(LTE, "lte-cell", "slice[id='s0']", "imsi-acl", "imsi"), "Unsatisfied pattern"),
    "IMSI prefix of 16 digits": Bad(
        "lte", edit()(C.lte('<slice><id>s0</id><imsi-acl><imsi-prefix>0010100000000001</imsi-prefix>'
                            "</imsi-acl></slice>")),
        "invalid-value", xp(LTE, "lte-cell", "slice[id='s0']", "imsi-acl", "imsi-prefix"), "Unsatisfied pattern"),
    "slice without MME": Bad(
        "lte", edit()(C.lte('<slice><id>s0</id><mme nc:operation="delete"><address>192.0.2.1</address>'
                            "<port>36412</port></mme></slice>")),
        "operation-failed", xp(LTE, "lte-cell", "slice[id='s0']"), 'Too few "mme" instances',
        app_tag="too-few-elements"),
    "guaranteed shares sum to 110%": Bad(
        "wifi", edit()(wifi_vif(C.vif("w2", "gamma", 50))),
        "operation-failed", xp(WIFI, "wifi-node", "radio[name='phy0']"),
        "The guaranteed airtime shares of a radio's vifs add up to more than 100 percent.",
        app_tag="must-violation"),
    "cap below guaranteed share": Bad(
        "wifi", edit()(wifi_vif(C.vif("w2", "gamma", 20, cap=10))),
        "operation-failed", xp(WIFI, "wifi-node", "radio[name='phy0']", "vif[name='w2']", "airtime", "cap"),
        "The airtime cap must not be below the guaranteed share.", app_tag="must-violation"),
    "channel 36 on 2.4 GHz": Bad(
        "wifi", edit()(C.wifi(C.radio(channel=36))),
        "operation-failed", xp(WIFI, "wifi-node", "radio[name='phy0']", "channel"),
        "The channel number does not exist in the radio's band.", app_tag="must-violation"),
    "VLAN 0": Bad(
        "wifi", edit()(wifi_vif('<vif><name>w0</name><vlan>0</vlan></vif>')),
        "invalid-value", xp(WIFI, *VIF_W0, "vlan"), 'Unsatisfied range - value "0" is out of the allowed range.',
        info={"bad-element": "vlan"}),
    "VLAN 4095": Bad(
        "wifi", edit()(wifi_vif('<vif><name>w0</name><vlan>4095</vlan></vif>')),
        "invalid-value", xp(WIFI, *VIF_W0, "vlan"), "Unsatisfied range"),
    "33-byte SSID": Bad(
        "wifi", edit()(wifi_vif(f"<vif><name>w0</name><ssid>{'x' * 33}</ssid></vif>")),
        "invalid-value", xp(WIFI, *VIF_W0, "ssid"), "Unsatisfied length"),
    "short PSK (not echoed back)": Bad(
        "wifi", edit()(wifi_vif("<vif><name>w0</name><security><psk>abcd1234</psk></security></vif>")),
        "invalid-value", xp(WIFI, *VIF_W0, "security", "psk"), 'Unsatisfied length - string "(secret)"'),
    "WPA2 without a PSK": Bad(
        "wifi", edit()(wifi_vif('<vif><name>w1</name><security><mode>wpa2-psk</mode></security></vif>')),
        "operation-failed", xp(WIFI, "wifi-node", "radio[name='phy0']", "vif[name='w1']", "security"),
        "WPA2-PSK security needs a psk.", app_tag="must-violation"),
    "PSK on an open vif": Bad(
        "wifi", edit()(wifi_vif(f"<vif><name>w1</name><security><psk>{C.PSK}</psk></security></vif>")),
        "unknown-element", xp(WIFI, "wifi-node", "radio[name='phy0']", "vif[name='w1']", "security", "psk"),
        "When condition", info={"bad-element": "psk"}),
    "vif without SSID": Bad(
        "wifi", edit()(wifi_vif("<vif><name>w2</name><tenant>t</tenant></vif>")),
        "missing-element", xp(WIFI, "wifi-node", "radio[name='phy0']", "vif[name='w2']"),
        'Mandatory node "ssid" instance does not exist.', info={"bad-element": "ssid"}),
    # -- XML and schema ---------------------------------------------------------
    "malformed XML": Bad("wifi", _malformed, "malformed-message", message="not well-formed XML"),
    "unknown element": Bad(
        "wifi", edit()(wifi_vif("<vif><name>w0</name><colour>red</colour></vif>")),
        "unknown-element", xp(WIFI, *VIF_W0), 'Node "colour" not found as a child of "vif" node.',
        info={"bad-element": "colour"}),
    "wrong namespace": Bad(
        "wifi", edit()('<wifi-node xmlns="urn:example:not-ransdn"><radio><name>phy0</name></radio></wifi-node>'),
        "unknown-namespace", message='No module with namespace "urn:example:not-ransdn"',
        info={"bad-element": "wifi-node", "bad-namespace": "urn:example:not-ransdn"}),
    "state data in a configuration": Bad(
        "wifi", edit()(f'<wifi-node-state xmlns="{C.WIFI_NS}"><node-id>x</node-id></wifi-node-state>'),
        "invalid-value", message='Unexpected data state node "wifi-node-state"'),
    "unknown edit operation": Bad(
        "wifi", edit()(wifi_vif('<vif nc:operation="upsert"><name>w0</name></vif>')),
        "bad-attribute", message='"upsert" is not a NETCONF edit operation',
        info={"bad-attribute": "operation", "bad-element": "vif"}),
    "create what exists": Bad(
        "wifi", edit()(wifi_vif(C.vif("w0", "alpha", 30, attrs=' nc:operation="create"'))),
        "data-exists", xp(WIFI, *VIF_W0)),
    "delete what does not exist": Bad(
        "wifi", edit()(wifi_vif('<vif nc:operation="delete"><name>w9</name></vif>')),
        "data-missing", xp(WIFI, "wifi-node", "radio[name='phy0']", "vif[name='w9']")),
    "rollback-on-error keeps nothing": Bad(
        "wifi", _rollback_on_error, "data-missing", xp(WIFI, "wifi-node", "radio[name='phy0']", "vif[name='nope']")),
    "inline copy-config with a 33-byte SSID": Bad(
        "wifi", _copy_invalid_inline, "invalid-value", xp(WIFI, *VIF_W0, "ssid"), "Unsatisfied length"),
    # -- protocol -------------------------------------------------------------------
    "rpc without message-id": Bad(
        "wifi", _no_message_id, "missing-attribute", info={"bad-attribute": "message-id", "bad-element": "rpc"}),
    "oversized RPC": Bad("wifi", _oversized, "too-big", message=f"exceeds the limit of {MAX_MESSAGE} bytes"),
    "unknown operation": Bad("wifi", _unknown_rpc, "operation-not-supported",
                             message='Operation "frobnicate" is not supported.'),
    "startup target (no :startup)": Bad("wifi", _startup_target, "operation-not-supported",
                                        message="The :startup capability is not supported."),
    "kill-session of oneself": Bad("wifi", _kill_self, "invalid-value", message="cannot kill itself"),
    # -- locks and transactions --------------------------------------------------
    "edit of running locked by another session": Bad(
        "wifi", _locked_by_other, "in-use", message="locked by session"),
    "lock held by another session": Bad("wifi", _lock_held, "lock-denied", message="already locked by session"),
    "lock of a modified candidate": Bad(
        "wifi", _lock_modified_candidate, "lock-denied", message="uncommitted changes"),
    "commit of an invalid candidate": Bad(
        "wifi", _invalid_candidate_commit, "operation-failed", xp(WIFI, "wifi-node", "radio[name='phy0']"),
        "add up to more than 100 percent", app_tag="must-violation"),
    "confirmed-commit timeout rolls back": Bad(
        "wifi", _confirm_timeout, "invalid-value", message="No confirmed commit is pending", no_apply=False),
    "kill-session of the confirming session": Bad(
        "wifi", _kill_confirming_session, "operation-failed", message="No confirmed commit is pending.",
        no_apply=False),
    "persist-id mismatch": Bad(
        "wifi", _persist_id_mismatch, "invalid-value",
        message="The persist-id does not match the pending confirmed commit.", no_apply=False),
    "backend refuses the configuration": Bad(
        "wifi", _backend_refuses, "operation-failed",
        xp(WIFI, "wifi-node", "radio[name='phy0']", "vif[name='w2']", "ssid"), "hostapd refused SSID"),
}


def test_the_table_is_big_enough() -> None:
    assert len(CASES) >= 25


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input(name: str, tmp_path: Path) -> None:
    case = CASES[name]
    backend = RecordingBackend(BackendContext(case.kind, "bad-inputs", tmp_path / "state",  # type: ignore[arg-type]
                                              {"fail_on_ssid": "refused-ssid"}))
    with AgentThread(tmp_path, kind=case.kind, backend=backend,
                     limits=Limits(max_message_bytes=MAX_MESSAGE)) as agent:
        with agent.connect() as m:
            m.edit_config(target="running", config=C.config(WIFI_BASE if case.kind == "wifi" else LTE_BASE))
            before = agent.running_xml()
            applies = len(backend.applies)
            world = backend.config

            err = case.act(Ctx(agent, m))

            assert err["tag"] == case.tag, err
            if case.path is not None:
                assert err["path"] == case.path, err
            if case.message is not None:
                assert case.message in (err["message"] or ""), err
            if case.app_tag is not None:
                assert err["app_tag"] == case.app_tag, err
            for key, value in case.info.items():
                assert err["info"].get(key) == value, err
            assert C.PSK not in str(err)

            assert agent.running_xml() == before
            assert backend.config == world
            if case.no_apply:
                assert len(backend.applies) == applies
            # and the session is still usable
            assert "<data" in m.get_config(source="running").xml
