"""ransdn-agent-farm as a user runs it: a separate process, an inventory
whose fingerprints OpenSSH confirms, and a clean stop on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import asyncssh
import pytest

from .netconf_client import WIFI_NS, NetconfClient, text

FARM = str(Path(sys.executable).with_name("ransdn-agent-farm"))


def openssh_fingerprints(port: int) -> set[str]:
    scan = subprocess.run(["ssh-keyscan", "-p", str(port), "127.0.0.1"],
                          capture_output=True, text=True, timeout=30)
    listing = subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", "-"], input=scan.stdout,
                             capture_output=True, text=True, timeout=30)
    return {line.split()[1] for line in listing.stdout.splitlines() if line.strip()}


async def start_farm(tmp_path: Path, *args: str) -> tuple[asyncio.subprocess.Process, list[dict]]:
    key = asyncssh.generate_private_key("ssh-ed25519")
    key.write_private_key(str(tmp_path / "id_ed25519"))
    key.write_public_key(str(tmp_path / "authorized_keys"))
    inventory = tmp_path / "inventory.json"
    proc = await asyncio.create_subprocess_exec(
        FARM, *args, "--state-dir", str(tmp_path / "state"),
        "--authorized-keys", str(tmp_path / "authorized_keys"), "--inventory", str(inventory),
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONFAULTHANDLER": "1"},
    )
    for _ in range(600):
        if inventory.exists() or proc.returncode is not None:
            break
        await asyncio.sleep(0.1)
    if not inventory.exists():
        proc.kill()
        raise AssertionError(f"farm did not start: {(await proc.stderr.read()).decode()[-2000:]}")
    return proc, json.loads(inventory.read_text())


@pytest.mark.skipif(shutil.which("ssh-keyscan") is None, reason="OpenSSH client not installed")
async def test_farm_runs_agents_whose_fingerprints_openssh_confirms(tmp_path):
    proc, inventory = await start_farm(tmp_path, "--wifi", "4", "--lte", "2", "--channels", "1,6")
    try:
        assert [(a["name"], a["kind"]) for a in inventory] == [
            ("wifi-1", "wifi"), ("wifi-2", "wifi"), ("wifi-3", "wifi"), ("wifi-4", "wifi"),
            ("lte-1", "lte"), ("lte-2", "lte")]
        assert len({a["port"] for a in inventory}) == 6
        assert len({a["host_key_fingerprint"] for a in inventory}) == 6
        for agent in inventory:
            assert agent["address"] == "127.0.0.1"
            assert agent["host_key_fingerprint"].startswith("SHA256:")
            seen = await asyncio.to_thread(openssh_fingerprints, agent["port"])
            assert agent["host_key_fingerprint"] in seen, (agent["name"], seen)
        assert [a["radios"][0]["channel"] for a in inventory[:4]] == [1, 6, 1, 6]
        assert "cells" in inventory[4]

        # Each agent is a separate NETCONF server with its own config.
        first, second = inventory[0], inventory[1]
        async with NetconfClient("127.0.0.1", first["port"], tmp_path / "id_ed25519") as c:
            await c.edit_commit(
                f'<config><wifi-node xmlns="{WIFI_NS}"><radio><name>phy0</name><band>2.4ghz</band>'
                "<channel>1</channel><vif><name>wlan0</name><ssid>only-here</ssid><tenant>t</tenant>"
                "</vif></radio></wifi-node></config>")
        async with NetconfClient("127.0.0.1", second["port"], tmp_path / "id_ed25519") as c:
            state = await c.get(f'<wifi-node-state xmlns="{WIFI_NS}"/>')
            assert text(state, "wifi-node-state/node-id", WIFI_NS) == ["wifi-2"]
            assert text(state, "wifi-node-state/radio/vif/ssid", WIFI_NS) == []
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        rc = await asyncio.wait_for(proc.wait(), 30)
    assert rc == 0
    for agent in inventory:
        with pytest.raises(OSError):
            await asyncio.open_connection("127.0.0.1", agent["port"])


async def test_farm_keeps_host_keys_across_restarts(tmp_path):
    proc, first = await start_farm(tmp_path, "--wifi", "1", "--lte", "1")
    proc.send_signal(signal.SIGTERM)
    rc = await asyncio.wait_for(proc.wait(), 30)
    assert rc == 0, (await proc.stderr.read()).decode()[-3000:]
    (tmp_path / "inventory.json").unlink()
    proc, second = await start_farm(tmp_path, "--wifi", "1", "--lte", "1")
    proc.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(proc.wait(), 30) == 0
    assert [a["host_key_fingerprint"] for a in first] == [a["host_key_fingerprint"] for a in second]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--wifi", "0"], "no agents to run"),
        (["--topology", "missing.json"], "missing.json"),
        (["--wifi", "1", "--channels", "1,x"], "not a comma-separated list of channels"),
    ],
)
def test_farm_refuses_bad_arguments_clearly(tmp_path, args, message):
    (tmp_path / "ak").write_text("")
    res = subprocess.run(
        [FARM, *args, "--state-dir", str(tmp_path / "s"), "--authorized-keys", str(tmp_path / "ak"),
         "--inventory", str(tmp_path / "inv.json")],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )
    assert res.returncode == 2 and message in res.stderr
    assert not (tmp_path / "inv.json").exists()
    assert not os.path.exists(tmp_path / "s" / "wifi-1")
