"""The agent, as a process, against NETCONF peers we did not write:
netconf-console2, Debian's yangcli (yuma123), and yanglint checking what the
agent returns.

The backend is the sim backend when it is installed, otherwise the
recording test double (the NETCONF server is what is under test here).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest
from lxml import etree

from agent.datastore.schema import PROJECT_YANG_DIR
from tests.support import configs as C
from tests.support.agent_process import RunningAgent, agent_process

pytestmark = pytest.mark.interop

BACKENDS = ["tests.support.recording_backend:RecordingBackend"]
if importlib.util.find_spec("agent.backends.sim") is not None:
    BACKENDS.append("sim")

NETCONF_CONSOLE = Path(sys.executable).with_name("netconf-console2")
WIFI_NS = C.WIFI_NS
NS = {"w": WIFI_NS, "nc": C.BASE_NS}


def _require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} is not installed; scripts/bootstrap installs it")
    return path


@pytest.fixture(params=BACKENDS, ids=lambda b: b.rsplit(":", 1)[-1])
def wifi_process(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunningAgent]:
    options = {"apply_log": str(tmp_path / "applies.jsonl")} if ":" in request.param else None
    with agent_process(tmp_path / "agent", kind="wifi", backend=request.param, backend_options=options) as agent:
        yield agent


def _console(agent: RunningAgent, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    ssh_config = tmp_path / "ssh_config"  # with an ssh config netconf-console2 sends no default password
    ssh_config.write_text("")
    cmd = [str(NETCONF_CONSOLE), "--host", agent.host, "--port", str(agent.port), "-u", "console",
           "--privKeyFile", str(agent.client_key.private_key), "--ssh-config", str(ssh_config), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def test_netconf_console2(wifi_process: RunningAgent, tmp_path: Path) -> None:
    agent = wifi_process
    edit = tmp_path / "edit.xml"
    edit.write_text(C.wifi(C.radio(C.vif("w0", "alpha", 30, psk=C.PSK))))
    ns = f"rw={WIFI_NS}"
    vlan = "/rw:wifi-node/rw:radio[rw:name='phy0']/rw:vif[rw:name='w0']/rw:vlan"

    r = _console(agent, tmp_path, "--hello")
    assert r.returncode == 0, r.stderr
    assert f"{WIFI_NS}?module=ransdn-wifi&amp;revision=2026-11-21" in r.stdout

    # one session: edit the candidate, confirmed commit, confirm, read back
    r = _console(agent, tmp_path, "--db", "candidate", "--edit-config", str(edit),
                 "--ns", ns, "--set", f"{vlan}=12",
                 "--commit", "confirmed", "--timeout", "60", "--commit",
                 "--get-config", "-x", vlan)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "<vlan>12</vlan>" in r.stdout
    r = _console(agent, tmp_path, "--get-config")
    assert r.returncode == 0 and "<ssid>alpha</ssid>" in r.stdout and C.PSK not in r.stdout

    # an invalid edit: the peer sees our rpc-error, running keeps its value
    r = _console(agent, tmp_path, "--ns", ns, "--db", "running", "--set", f"{vlan}=0")
    assert r.returncode != 0
    assert "<error-tag>invalid-value</error-tag>" in r.stdout + r.stderr
    r = _console(agent, tmp_path, "--ns", ns, "--get-config", "-x", vlan)
    assert "<vlan>12</vlan>" in r.stdout

    r = _console(agent, tmp_path, "--get-schema", "ransdn-wifi")
    assert r.returncode == 0 and "module ransdn-wifi {" in r.stdout
    r = _console(agent, tmp_path, "--lock", "--unlock")
    assert r.returncode == 0 and r.stdout.count("<ok") == 2


def _yangcli(agent: RunningAgent, tmp_path: Path, script: str) -> subprocess.CompletedProcess[str]:
    yangcli = _require("yangcli")
    home = tmp_path / "yangcli-home"  # yangcli keeps history and variables under HOME
    home.mkdir(exist_ok=True)
    script_file = tmp_path / "script.yangcli"
    script_file.write_text(script)
    cmd = [yangcli, f"--server={agent.host}", f"--ncport={agent.port}", "--user=yangcli",
           f"--private-key={agent.client_key.private_key}", f"--public-key={agent.client_key.private_key}.pub",
           "--batch-mode", f"--run-script={script_file}", f"--home={home}", "--display-mode=xml",
           "--timeout=60"]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL,
                          env={**os.environ, "HOME": str(home)})


def test_yangcli_reads_and_edits(wifi_process: RunningAgent, tmp_path: Path) -> None:
    agent = wifi_process
    with agent.connect() as m:
        m.edit_config(target="running", config=C.config(C.wifi(C.radio(C.vif("w0", "alpha", 30)))))
    r = _yangcli(agent, tmp_path, "\n".join([
        "get-config source=running",
        "merge /wifi-node/radio[name='phy0']/vif[name='w0']/vlan value=12",
        "commit",
        "sget-config /wifi-node/radio/vif/vlan source=running",
    ]) + "\n")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    replies = r.stdout.count("<rpc-reply")
    assert replies == 2 and r.stdout.count("RPC OK Reply") == 2, r.stdout[-3000:]
    assert "<ssid>alpha</ssid>" in r.stdout
    assert "<vlan>12</vlan>" in r.stdout
    with agent.connect() as m:
        out = m.get_config(source="running").data_ele
    assert out.xpath("//w:vif[w:name='w0']/w:vlan/text()", namespaces=NS) == ["12"]


def _yanglint(kind: str, data: Path, data_type: str) -> subprocess.CompletedProcess[str]:
    yanglint = _require("yanglint")
    modules = sorted(str(p) for p in PROJECT_YANG_DIR.glob("*.yang"))
    return subprocess.run([yanglint, "-p", str(PROJECT_YANG_DIR), "-t", data_type, *modules, str(data)],
                          capture_output=True, text=True, timeout=60)


def _data_children(reply_xml: str, out: Path) -> Path:
    data = etree.fromstring(reply_xml.encode()).find(f"{{{C.BASE_NS}}}data")
    assert data is not None and len(data) > 0
    out.write_bytes(b"".join(etree.tostring(c) for c in data))
    return out


@pytest.mark.parametrize("kind", ["wifi", "lte"])
def test_get_config_output_passes_yanglint(kind: str, tmp_path: Path) -> None:
    content = (
        C.wifi(C.radio(C.vif("w0", "alpha", 30, psk=C.PSK, vlan=10, cap=50) + C.vif("w1", "beta", 60))
               + C.radio(C.vif("x0", "gamma", 100), name="phy1", band="5ghz", channel=36))
        if kind == "wifi" else C.six_slices_with_imsis(64)
    )
    with agent_process(tmp_path / "agent", kind=kind, backend=BACKENDS[-1]) as agent, agent.connect() as m:
        m.edit_config(target="running", config=C.config(content))
        for mode in ("explicit", "report-all"):
            reply = m.get_config(source="running", with_defaults=mode).xml
            res = _yanglint(kind, _data_children(reply, tmp_path / f"getconfig-{mode}.xml"), "getconfig")
            assert res.returncode == 0, res.stderr
        assert C.PSK not in reply
        # and the state data a <get> returns is valid too
        reply = m.get(filter=("subtree", f'<{kind}-{"node" if kind == "wifi" else "cell"}-state '
                                         f'xmlns="{WIFI_NS if kind == "wifi" else C.LTE_NS}"/>')).xml
        res = _yanglint(kind, _data_children(reply, tmp_path / "get.xml"), "get")
        assert res.returncode == 0, res.stderr
    if kind == "wifi":
        # the configuration the agent stored is complete: -t config accepts it
        stored = json.loads((agent.state_dir / "running.json").read_text())
        assert stored["ransdn-wifi:wifi-node"]["radio"][0]["vif"][0]["security"]["psk"] == C.PSK
