"""RFC 6241/6242 at the byte level: hello, framing, limits, message-id
handling and SSH authentication, with a raw client that sends exactly what
the test says."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Iterator

import paramiko
import pytest
from lxml import etree

from agent.netconf.server import Limits
from tests.support import configs as C
from tests.support.agent_process import make_client_key
from tests.support.agent_thread import AgentThread
from tests.support.raw_netconf import BASE_10, BASE_11, BASE_NS, EOM, RawNetconf, SessionClosed, errors_of

LIMIT = 32 * 1024


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[AgentThread]:
    with AgentThread(tmp_path, kind="wifi", limits=Limits(max_message_bytes=LIMIT, hello_timeout=1.0)) as a:
        yield a


def raw(agent: AgentThread) -> RawNetconf:
    return RawNetconf("127.0.0.1", agent.port, agent.client_key.private_key)


def bad_hellos(agent: AgentThread) -> int:
    return agent.run(lambda: agent.server.netconf.stats.in_bad_hellos)


def test_base_10_client_gets_end_of_message_framing(agent: AgentThread) -> None:
    with raw(agent) as r:
        hello = r.hello(versions=(BASE_10,))
        assert not r.chunked
        assert hello.findtext(f"{{{BASE_NS}}}session-id") == str(r.session_id)
        reply = r.rpc("<get-config><source><running/></source></get-config>", message_id="m1")
        assert reply.tag == f"{{{BASE_NS}}}rpc-reply" and reply.get("message-id") == "m1"
        # base:1.0 peers get operation-failed, not the 1.1-only malformed-message
        r.send(b"<rpc message-id='2' xmlns='urn:ietf:params:xml:ns:netconf:base:1.0'><get>")
        err = errors_of(r.recv())[0]
        assert err["error-tag"] == "operation-failed"


def test_chunked_framing_across_chunks_and_writes(agent: AgentThread) -> None:
    with raw(agent) as r:
        r.hello()
        assert r.chunked
        msgs = [f'<rpc xmlns="{BASE_NS}" message-id="p{i}"><get-config><source><running/></source>'
                "</get-config></rpc>".encode() for i in range(12)]
        stream = b""
        for m in msgs:  # each message in three chunks, all messages in one write
            stream += b"".join(b"\n#%d\n%s" % (len(part), part) for part in (m[:10], m[10:50], m[50:])) + b"\n##\n"
        r.send_raw(stream)
        ids = [r.recv().get("message-id") for _ in msgs]
        assert ids == [f"p{i}" for i in range(12)]  # all answered, in order


def test_reply_echoes_rpc_attributes(agent: AgentThread) -> None:
    with raw(agent) as r:
        r.hello()
        reply = r.rpc("<get-config><source><running/></source></get-config>", message_id="101",
                      attrs=' xmlns:ex="urn:example:attr" ex:user-id="fred" plain="x"')
        assert reply.get("message-id") == "101"
        assert reply.get("{urn:example:attr}user-id") == "fred"
        assert reply.get("plain") == "x"


@pytest.mark.parametrize("hello", [
    f'<hello xmlns="{BASE_NS}"><capabilities><capability>urn:example:only</capability></capabilities></hello>',
    f'<hello xmlns="{BASE_NS}"><capabilities><capability>{BASE_11}</capability></capabilities>'
    "<session-id>4</session-id></hello>",
    f'<rpc xmlns="{BASE_NS}" message-id="1"><get/></rpc>',
    "<hello><capabilities>",
], ids=["no common base", "client sends session-id", "rpc before hello", "malformed hello"])
def test_bad_hello_ends_the_session(agent: AgentThread, hello: str) -> None:
    before = bad_hellos(agent)
    with raw(agent) as r:
        r.read_server_hello()
        r.send_raw(hello.encode() + EOM)
        assert r.wait_closed()
    assert bad_hellos(agent) == before + 1


def test_no_hello_times_out(agent: AgentThread) -> None:
    with raw(agent) as r:
        r.read_server_hello()
        assert r.wait_closed(timeout=15)


def test_broken_chunk_framing_ends_the_session(agent: AgentThread) -> None:
    with raw(agent) as r:
        r.hello()
        r.send_raw(b"\n#0x10\n<rpc/>\n##\n")
        assert r.wait_closed()


@pytest.mark.parametrize("versions", [(BASE_10,), (BASE_10, BASE_11)], ids=["base 1.0", "base 1.1"])
def test_oversized_message_is_discarded_unread(agent: AgentThread, versions: tuple[str, ...]) -> None:
    with raw(agent) as r:
        r.hello(versions)
        body = f'<rpc xmlns="{BASE_NS}" message-id="huge"><get-config><source><running/></source></get-config>'
        body += "<!--" + "y" * (4 * LIMIT) + "--></rpc>"
        if r.chunked:  # many small chunks, none of them big by itself
            data = body.encode()
            r.send_raw(b"".join(b"\n#%d\n%s" % (len(data[i:i + 1000]), data[i:i + 1000])
                                for i in range(0, len(data), 1000)) + b"\n##\n")
        else:
            r.send(body)
        reply = r.recv()
        err = errors_of(reply)[0]
        assert err["error-tag"] == "too-big" and reply.get("message-id") == "huge"
        assert r.rpc("<get/>", message_id="next").get("message-id") == "next"


def test_close_session(agent: AgentThread) -> None:
    with raw(agent) as r:
        r.hello()
        reply = r.rpc("<close-session/>", message_id="bye")
        assert reply.find(f"{{{BASE_NS}}}ok") is not None
        assert r.wait_closed()


def test_second_hello_is_an_error_not_a_crash(agent: AgentThread) -> None:
    with raw(agent) as r:
        r.hello()
        r.send(f'<hello xmlns="{BASE_NS}"><capabilities><capability>{BASE_11}</capability></capabilities></hello>')
        assert errors_of(r.recv())[0]["error-tag"] == "unknown-element"
        assert r.rpc("<get/>", message_id="still").get("message-id") == "still"


# -- SSH ---------------------------------------------------------------------------------


def test_only_public_keys_from_the_authorized_list_get_in(agent: AgentThread, tmp_path: Path) -> None:
    t = paramiko.Transport(("127.0.0.1", agent.port))
    t.start_client(timeout=10)
    with pytest.raises(paramiko.BadAuthenticationType) as exc:
        t.auth_password("admin", "admin")
    assert exc.value.allowed_types == ["publickey"]
    stranger = make_client_key(tmp_path / "stranger")
    with pytest.raises(paramiko.AuthenticationException):
        t.auth_publickey("admin", paramiko.Ed25519Key.from_private_key_file(str(stranger.private_key)))
    t.close()
    # any user name is fine with the right key
    with RawNetconf("127.0.0.1", agent.port, agent.client_key.private_key, username="someone-else") as r:
        r.hello()


def test_only_the_netconf_subsystem(agent: AgentThread) -> None:
    t = paramiko.Transport(("127.0.0.1", agent.port))
    t.start_client(timeout=10)
    t.auth_publickey("x", paramiko.Ed25519Key.from_private_key_file(str(agent.client_key.private_key)))
    for request in (lambda c: c.invoke_subsystem("sftp"), lambda c: c.exec_command("id"), lambda c: c.invoke_shell()):
        chan = t.open_session()
        with pytest.raises(paramiko.SSHException):
            request(chan)
    t.close()


def test_authorized_keys_file_is_reread(tmp_path: Path) -> None:
    first = make_client_key(tmp_path / "first")
    second = make_client_key(tmp_path / "second")
    keys = tmp_path / "authorized_keys"
    keys.write_text(first.public_line + "\n")
    with AgentThread(tmp_path / "agent", kind="lte", client_key=first, authorized_keys=keys) as agent:
        with pytest.raises(paramiko.AuthenticationException):
            RawNetconf("127.0.0.1", agent.port, second.private_key)
        keys.write_text(first.public_line + "\n" + second.public_line + "\n")
        with RawNetconf("127.0.0.1", agent.port, second.private_key) as r:
            r.hello()
            assert r.rpc("<get-config><source><running/></source></get-config>").tag.endswith("rpc-reply")


def test_a_client_that_disappears_mid_message_is_cleaned_up(agent: AgentThread) -> None:
    r = raw(agent)
    r.hello()
    r.send_raw(b"\n#100\n<rpc")  # half a chunk, then gone
    r.close()
    with raw(agent) as other:
        other.hello()
        deadline = time.monotonic() + 15
        while True:  # the server notices the closed connection shortly
            reply = other.rpc('<get><filter type="subtree"><netconf-state xmlns="urn:ietf:params:xml:ns:yang:'
                              'ietf-netconf-monitoring"><sessions/></netconf-state></filter></get>')
            ids = [e.text for e in reply.iter("{urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring}session-id")]
            if ids == [str(other.session_id)]:
                break
            assert time.monotonic() < deadline, ids
            time.sleep(0.05)


def test_error_path_prefixes_are_bound(agent: AgentThread) -> None:
    with raw(agent) as r:
        r.hello()
        reply = r.rpc("<edit-config><target><running/></target>"
                      + C.config(C.wifi(C.radio(C.vif("w0", "a", 10, vlan=0)))) + "</edit-config>")
        path = next(reply.iter(f"{{{BASE_NS}}}error-path"))
        # the XPath must evaluate in the reply document's namespace context
        assert path.nsmap["ransdn-wifi"] == C.WIFI_NS
        assert path.text == ("/ransdn-wifi:wifi-node/ransdn-wifi:radio[ransdn-wifi:name='phy0']"
                             "/ransdn-wifi:vif[ransdn-wifi:name='w0']/ransdn-wifi:vlan")
        assert etree.QName(path).localname == "error-path"


def test_two_sessions_killing_each_other_do_not_hang(tmp_path: Path) -> None:
    with AgentThread(tmp_path, kind="wifi", limits=Limits(drain_timeout=1.0)) as agent:
        a, b = raw(agent), raw(agent)
        a.hello()
        b.hello()
        for killer, victim in ((a, b), (b, a)):
            killer.send(f'<rpc xmlns="{BASE_NS}" message-id="1"><kill-session><session-id>{victim.session_id}'
                        "</session-id></kill-session></rpc>")
        survivors = []
        for r in (a, b):
            try:
                reply = r.recv()
            except (SessionClosed, OSError):
                continue
            assert reply.find(f"{{{BASE_NS}}}ok") is not None
            survivors.append(r)
        assert len(survivors) <= 1  # at most one kill can win; none may hang
        deadline = time.monotonic() + 15
        while agent.run(lambda: len(agent.server.netconf.sessions.all())) != len(survivors):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        for r in survivors:
            assert r.rpc("<get/>", message_id="2").get("message-id") == "2"
        a.close()
        b.close()
