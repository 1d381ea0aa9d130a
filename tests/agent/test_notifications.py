"""RFC 5277 subscriptions and the RFC 6470 events, received by ncclient."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from lxml import etree
from ncclient.operations.rpc import RPCError

from tests.support import configs as C
from tests.support.agent_thread import AgentThread

NCN = "urn:ietf:params:xml:ns:yang:ietf-netconf-notifications"
NETMOD = "urn:ietf:params:xml:ns:netmod:notification"
NS = {"n": NCN, "w": C.WIFI_NS, "nm": NETMOD}


def next_event(m: Any, timeout: float = 10) -> etree._Element:
    n = m.take_notification(block=True, timeout=timeout)
    assert n is not None, "no notification arrived"
    root = n.notification_ele
    return next(c for c in root if etree.QName(c).localname != "eventTime")


def events_until(m: Any, name: str, timeout: float = 10) -> list[etree._Element]:
    out = []
    while True:
        ev = next_event(m, timeout)
        out.append(ev)
        if etree.QName(ev).localname == name:
            return out


def now_rfc3339(offset: float = 0) -> str:
    return (dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=offset)).isoformat()


def test_config_change_names_who_and_what(wifi_agent: AgentThread) -> None:
    with wifi_agent.connect() as watcher, wifi_agent.connect() as editor:
        watcher.create_subscription()
        editor.edit_config(target="running", config=C.config(C.wifi(C.radio(C.vif("w0", "alpha", 10)))))
        ev = events_until(watcher, "netconf-config-change")[-1]
        assert ev.findtext("n:changed-by/n:username", namespaces=NS) == "ransdn-test"
        assert ev.findtext("n:changed-by/n:session-id", namespaces=NS) == str(editor.session_id)
        assert ev.findtext("n:changed-by/n:source-host", namespaces=NS) == "127.0.0.1"
        assert ev.findtext("n:datastore", namespaces=NS) == "running"
        edits = [(e.findtext("n:target", namespaces=NS), e.findtext("n:operation", namespaces=NS))
                 for e in ev.findall("n:edit", NS)]
        assert len(edits) == 1 and edits[0][1] == "create"
        target = ev.find("n:edit/n:target", NS)
        assert target.text.startswith("/") and "wifi-node" in target.text
        assert C.WIFI_NS in target.nsmap.values()  # the instance-identifier's prefixes are bound

        editor.edit_config(target="running", config=C.config(C.wifi(C.radio(
            '<vif><name>w0</name><ssid>alpha2</ssid></vif>'))))
        ev = events_until(watcher, "netconf-config-change")[-1]
        assert [e.findtext("n:operation", namespaces=NS) for e in ev.findall("n:edit", NS)] == ["replace"]
        # interleave: the subscribed session still answers RPCs
        assert "alpha2" in watcher.get_config(source="running").xml


def test_backend_notifications_and_filters(wifi_agent: AgentThread) -> None:
    with wifi_agent.connect() as everything, wifi_agent.connect() as filtered:
        everything.create_subscription()
        filtered.create_subscription(filter=("subtree", f'<vif-state-change xmlns="{C.WIFI_NS}"/>'))
        everything.edit_config(target="running", config=C.config(C.wifi(C.radio(C.vif("w0", "alpha", 10)))))
        body = {"radio": "phy0", "vif": "w0", "bssid": "02:00:00:00:01:00", "oper-status": "up"}
        wifi_agent.backend.raise_notification("ransdn-wifi:vif-state-change", body)
        # a notification that does not match its YANG is dropped, not sent
        wifi_agent.backend.raise_notification("ransdn-wifi:vif-state-change", {"oper-status": "sideways"})
        wifi_agent.backend.raise_notification("ransdn-wifi:station-associated", {"vif": "w0"})

        got = [etree.QName(e).localname for e in events_until(everything, "station-associated")]
        assert got.count("vif-state-change") == 1 and "netconf-config-change" in got
        ev = next_event(filtered)
        assert etree.QName(ev).localname == "vif-state-change"
        assert ev.findtext("w:oper-status", namespaces=NS) == "up"
        assert filtered.take_notification(block=True, timeout=0.5) is None


def test_replay_then_live(wifi_agent: AgentThread) -> None:
    start = now_rfc3339(-1)
    with wifi_agent.connect() as editor:
        editor.edit_config(target="running", config=C.config(C.wifi(C.radio(C.vif("w0", "alpha", 10)))))
    with wifi_agent.connect() as late:
        late.create_subscription(start_time=start)
        replayed = [etree.QName(e).localname for e in events_until(late, "replayComplete")]
        assert "netconf-config-change" in replayed and "netconf-session-end" in replayed
        wifi_agent.backend.raise_notification("ransdn-wifi:station-associated", {"vif": "w0"})
        assert etree.QName(next_event(late)).localname == "station-associated"
        with pytest.raises(RPCError) as exc:
            late.create_subscription()
        assert exc.value.tag == "operation-failed"


def test_stop_time_ends_the_subscription(wifi_agent: AgentThread) -> None:
    with wifi_agent.connect() as m:
        m.create_subscription(start_time=now_rfc3339(-5), stop_time=now_rfc3339(-0.5))
        names = [etree.QName(e).localname for e in events_until(m, "notificationComplete")]
        assert names[-2:] == ["replayComplete", "notificationComplete"]
        m.create_subscription()  # the session may subscribe again
    with wifi_agent.connect() as m:
        for bad in (dict(start_time=now_rfc3339(3600)),
                    dict(start_time=now_rfc3339(-5), stop_time=now_rfc3339(-10))):
            with pytest.raises(RPCError) as exc:
                m.create_subscription(**bad)
            assert exc.value.tag == "bad-element"
        with pytest.raises(RPCError) as exc:
            m.create_subscription(stream_name="nope")
        assert exc.value.tag == "invalid-value"


def test_confirmed_commit_and_session_events(wifi_agent: AgentThread) -> None:
    with wifi_agent.connect() as watcher:
        watcher.create_subscription(filter=(
            f'<filter xmlns="urn:ietf:params:xml:ns:netconf:notification:1.0" type="subtree">'
            f'<netconf-confirmed-commit xmlns="{NCN}"/><netconf-session-end xmlns="{NCN}"/></filter>'))
        victim = wifi_agent.connect()
        victim.edit_config(target="candidate", config=C.config(C.wifi(C.radio(C.vif("w0", "alpha", 10)))))
        victim.commit(confirmed=True, timeout="60")
        ev = next_event(watcher)
        assert ev.findtext("n:confirm-event", namespaces=NS) == "start"
        assert ev.findtext("n:timeout", namespaces=NS) == "60"
        watcher.kill_session(victim.session_id)
        got = {etree.QName(e).localname: e for e in (next_event(watcher), next_event(watcher))}
        assert got["netconf-confirmed-commit"].findtext("n:confirm-event", namespaces=NS) == "cancel"
        end = got["netconf-session-end"]
        assert end.findtext("n:termination-reason", namespaces=NS) == "killed"
        assert end.findtext("n:killed-by", namespaces=NS) == str(watcher.session_id)
        deadline = time.monotonic() + 10
        while victim.connected and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not victim.connected
