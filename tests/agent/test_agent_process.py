"""``ransdn-agent`` as a process: the command line contract, signals,
persistence across restarts and crashes, and what it writes to disk and logs."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from ncclient.operations import RPCError

from tests.support import configs as C
from tests.support.agent_process import agent_command, agent_process, make_client_key, start_agent_process

DOUBLE = "tests.support.recording_backend:RecordingBackend"
CONFIG = C.config(C.wifi(C.radio(C.vif("w0", "alpha", 30, psk=C.PSK, vlan=10) + C.vif("w1", "beta", 20))))


def _applies(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).with_name("ransdn-agent")
    res = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0
    for flag in ("--kind", "--backend", "--listen", "--state-dir", "--authorized-keys",
                 "--backend-config", "--node-id", "--log-level"):
        assert flag in res.stdout


def test_restart_restores_and_reapplies_running(tmp_path: Path) -> None:
    log = tmp_path / "applies.jsonl"
    options = {"apply_log": str(log)}
    key = make_client_key(tmp_path / "key")
    with agent_process(tmp_path / "run1", backend=DOUBLE, backend_options=options, client_key=key,
                       state_dir=tmp_path / "state", node_id="ap-17") as agent:
        fingerprint = agent.fingerprint
        assert agent.node_id == "ap-17"
        with agent.connect() as m:
            m.edit_config(target="candidate", config=CONFIG)
            m.commit()
            before = m.get_config(source="running").xml.split("<data", 1)[1]
    running = tmp_path / "state" / "running.json"
    assert stat.S_IMODE(running.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "state" / "ssh_host_ed25519_key").stat().st_mode) == 0o600
    assert not list((tmp_path / "state").glob("*.tmp"))
    applies_before = len(_applies(log))

    with agent_process(tmp_path / "run2", backend=DOUBLE, backend_options=options, client_key=key,
                       state_dir=tmp_path / "state") as agent:
        assert agent.fingerprint == fingerprint  # the host key is kept
        with agent.connect() as m:
            assert m.get_config(source="running").xml.split("<data", 1)[1] == before
    restart_apply = _applies(log)[applies_before]
    assert restart_apply["old"] == {}
    vifs = restart_apply["new"]["ransdn-wifi:wifi-node"]["radio"][0]["vif"]
    assert {v["name"] for v in vifs} == {"w0", "w1"}
    assert next(v for v in vifs if v["name"] == "w0")["security"]["psk"] == C.PSK


def test_unconfirmed_commit_does_not_survive_a_crash(tmp_path: Path) -> None:
    key = make_client_key(tmp_path / "key")
    agent = start_agent_process(tmp_path / "run1", backend=DOUBLE, client_key=key, state_dir=tmp_path / "state")
    try:
        m = agent.connect()
        m.edit_config(target="running", config=CONFIG)
        before = m.get_config(source="running").xml.split("<data", 1)[1]
        m.edit_config(target="candidate", config=C.config(C.wifi(C.radio(C.vif("w2", "gamma", 5)))))
        m.commit(confirmed=True, persist="survives-sessions-not-crashes")
        assert "gamma" in m.get_config(source="running").xml
    finally:
        agent.kill()  # SIGKILL: no chance to clean up
    with agent_process(tmp_path / "run2", backend=DOUBLE, client_key=key, state_dir=tmp_path / "state") as again:
        with again.connect() as m:
            assert m.get_config(source="running").xml.split("<data", 1)[1] == before
        assert not (tmp_path / "state" / "rollback.json").exists()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signals_stop_the_agent_cleanly(tmp_path: Path, sig: signal.Signals) -> None:
    agent = start_agent_process(tmp_path, backend=DOUBLE)
    m = agent.connect()  # a session is open while the agent stops
    m.edit_config(target="running", config=CONFIG)
    agent.process.send_signal(sig)
    assert agent.process.wait(30) == 0
    assert "stopping" in agent.log()


def test_no_secret_reaches_the_log(tmp_path: Path) -> None:
    short = "abcdef0123456789"
    with agent_process(tmp_path, backend=DOUBLE, extra_args=["--log-level", "debug"]) as agent:
        with agent.connect() as m:
            m.edit_config(target="running", config=CONFIG)
            # Refused by the agent (so the short key did reach it).
            with pytest.raises(RPCError) as refused:
                m.edit_config(target="running", config=C.config(C.wifi(C.radio(
                    f"<vif><name>w0</name><security><psk>{short}</psk></security></vif>"))))
            assert refused.value.tag == "invalid-value", refused.value
            m.get()
    log = agent.log()
    assert "session 1" in log
    assert C.PSK not in log and short not in log


def test_command_line_errors(tmp_path: Path) -> None:
    keys = tmp_path / "authorized_keys"
    keys.write_text(make_client_key(tmp_path / "k").public_line + "\n")
    base = agent_command(kind="wifi", backend=DOUBLE, state_dir=tmp_path / "s", authorized_keys=keys,
                         ready_file=tmp_path / "ready")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}

    def run(args: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, capture_output=True, text=True, timeout=60, env=env)

    res = run([a for a in base if a not in ("--kind", "wifi")])
    assert res.returncode == 2 and "--kind" in res.stderr
    res = run([*base[:base.index("--listen") + 1], "nowhere", *base[base.index("--listen") + 2:]])
    assert res.returncode == 2 and "HOST:PORT" in res.stderr
    bad_json = tmp_path / "backend.json"
    bad_json.write_text("{not json")
    res = run([*base, "--backend-config", str(bad_json)])
    assert res.returncode == 2 and "backend-config" in res.stderr
    res = run([*base[:base.index("--backend") + 1], "quantum", *base[base.index("--backend") + 2:]])
    assert res.returncode == 1 and "unknown backend 'quantum'" in res.stderr
    res = run([*base[:base.index("--authorized-keys") + 1], str(tmp_path / "missing"),
               *base[base.index("--authorized-keys") + 2:]])
    assert res.returncode == 1 and "missing" in res.stderr


def test_corrupt_configuration_is_not_overwritten(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "running.json").write_text('{"ransdn-wifi:wifi-node": {"radio": [{"name": "phy0"}]}}')
    with pytest.raises(RuntimeError) as exc:
        start_agent_process(tmp_path, backend=DOUBLE, state_dir=state)
    assert "stored configuration is invalid" in str(exc.value)
    assert "phy0" in (state / "running.json").read_text()
