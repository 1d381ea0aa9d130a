"""``ransdn demo``: a controller and a simulated city on loopback.

Starts the controller (SQLite in a temporary or given data dir) and an
agent farm of sim nodes (12 Wi-Fi APs on channels 1/6/11 and 4 LTE small
cells by default), registers the nodes through the REST API, creates three
slices that mix Wi-Fi and LTE, prints their status, and runs until Ctrl-C,
then stops everything and removes what it created.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from ransdn.cli.nodes import NODE_COLUMNS
from ransdn.cli.output import table
from ransdn.cli.slices import SLICE_COLUMNS
from ransdn.service import Controller, ControllerConfig, parse_listen


def example_slices(wifi: list[str], cells: list[str]) -> list[dict[str, Any]]:
    half = wifi[: max(1, len(wifi) // 2)]
    slices = [{
        "id": "city-services", "tenant": "city",
        "description": "Free city Wi-Fi on every AP, and the city's IoT PLMN on two cells",
        "wifi": {"ssid": "CityFree", "security": {"mode": "open"}, "guaranteed_share": 20,
                 "vlan": 100, "nodes": [{"node": n} for n in wifi]},
    }, {
        "id": "acme-mobile", "tenant": "acme",
        "description": "Acme's MVNO: a WPA2 SSID downtown and its PLMN on every cell",
        "wifi": {"ssid": "AcmeSecure", "security": {"mode": "wpa2-psk", "passphrase": "acme-demo-pass"},
                 "guaranteed_share": 40, "cap": 70, "vlan": 200,
                 "nodes": [{"node": n} for n in half]},
    }, {
        "id": "campus-5g", "tenant": "campus",
        "description": "A university's private LTE: listed SIMs only",
        "wifi": {"ssid": "CampusNet", "security": {"mode": "wpa2-psk", "passphrase": "campus-demo-pass"},
                 "guaranteed_share": 25, "vlan": 300,
                 "nodes": [{"node": n} for n in wifi[len(half):]] or [{"node": wifi[0]}]},
    }]
    if cells:
        slices[0]["lte"] = {"plmn": {"mcc": "001", "mnc": "10"},
                            "mmes": [{"address": "127.0.0.10", "name": "city-epc"}],
                            "imsi_acl": {"prefixes": ["00110"], "default_action": "reject"},
                            "cells": cells[:2]}
        slices[1]["lte"] = {"plmn": {"mcc": "001", "mnc": "01"},
                            "mmes": [{"address": "127.0.0.11", "name": "acme-mme-1"},
                                     {"address": "127.0.0.12", "name": "acme-mme-2"}],
                            "imsi_acl": {"prefixes": ["00101"], "default_action": "reject"},
                            "cells": cells}
        slices[2]["lte"] = {"plmn": {"mcc": "001", "mnc": "20"}, "reserved": True,
                            "mmes": [{"address": "127.0.0.20", "name": "campus-edge-epc"}],
                            "imsi_acl": {"imsis": ["001200000000001", "001200000000002"]},
                            "cells": cells[-2:]}
    return slices


async def _wait_file(path: Path, proc: asyncio.subprocess.Process, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.returncode is not None or time.monotonic() > deadline:
            raise RuntimeError("the agent farm did not start")
        await asyncio.sleep(0.1)


async def demo(args: argparse.Namespace, data_dir: Path) -> int:
    out = sys.stdout
    key_path = data_dir / "controller_ed25519"
    controller = Controller(ControllerConfig(db=data_dir / "ransdn.db", client_key=key_path,
                                             reconcile_interval=15))
    from ransdn.api.app import create_app

    runner = web.AppRunner(create_app(controller), access_log=None)
    await runner.setup()
    host, port = parse_listen(args.listen)
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = site._server.sockets[0].getsockname()  # type: ignore[union-attr]
    url = f"http://{bound[0]}:{bound[1]}"
    await controller.start()
    out.write(f"controller: {url}  (data in {data_dir})\n")

    auth = data_dir / "authorized_keys"
    auth.write_text(controller.client_key.public_line + "\n")
    inventory = data_dir / "farm" / "inventory.json"
    inventory.unlink(missing_ok=True)
    farm = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "ransdn-agent-farm"), "--wifi", str(args.wifi),
        "--lte", str(args.lte), "--channels", "1,6,11", "--radios-per-node", "1",
        "--state-dir", str(data_dir / "farm"), "--authorized-keys", str(auth),
        "--inventory", str(inventory), stdout=asyncio.subprocess.DEVNULL,
        stderr=open(data_dir / "farm.log", "a"))
    try:
        await _wait_file(inventory, farm, 120)
        agents = json.loads(inventory.read_text())
        out.write(f"agent farm: {sum(a['kind'] == 'wifi' for a in agents)} Wi-Fi APs, "
                  f"{sum(a['kind'] == 'lte' for a in agents)} LTE cells\n")
        async with aiohttp.ClientSession(url) as http:
            for a in agents:
                async with http.post("/api/v1/nodes", json={
                        "name": a["name"], "kind": a["kind"], "address": a["address"],
                        "port": a["port"], "host_key": a["host_key_fingerprint"]}) as r:
                    if r.status != 201:
                        raise RuntimeError(f"registering {a['name']}: {await r.text()}")
            names = [a["name"] for a in agents]
            if not await controller.wait_connected(names, 60):
                out.write("warning: not every node connected in 60 s\n")
            wifi = [a["name"] for a in agents if a["kind"] == "wifi"]
            cells = [a["name"] for a in agents if a["kind"] == "lte"]
            for doc in example_slices(wifi, cells):
                started = time.monotonic()
                async with http.post("/api/v1/slices", json=doc) as r:
                    body = await r.json()
                took = time.monotonic() - started
                if r.status == 201:
                    touched = len(body["last_transaction"]["nodes"])
                    out.write(f"slice {doc['id']}: provisioned on {touched} nodes in {took:.2f} s\n")
                else:
                    out.write(f"slice {doc['id']}: {r.status} {body.get('detail')}\n")
            async with http.get("/api/v1/nodes") as r:
                nodes = (await r.json())["items"]
            async with http.get("/api/v1/slices") as r:
                slices = (await r.json())["items"]
        out.write("\n" + table(nodes, NODE_COLUMNS) + "\n\n" + table(slices, SLICE_COLUMNS) + "\n\n")
        out.write(f"Try:  ransdn --url {url} watch\n      ransdn --url {url} lte\n"
                  f"      ransdn --url {url} slice show acme-mobile\n")
        if args.once:
            return 0
        out.write("Ctrl-C stops the demo.\n")
        out.flush()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        out.write("\nstopping...\n")
        return 0
    finally:
        await runner.cleanup()
        await controller.stop()
        if farm.returncode is None:
            farm.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(farm.wait(), 30)
            except asyncio.TimeoutError:
                farm.kill()
                await farm.wait()


def run(args: argparse.Namespace) -> int:
    if args.data_dir:
        data_dir = Path(args.data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
        return asyncio.run(demo(args, data_dir))
    with tempfile.TemporaryDirectory(prefix="ransdn-demo-") as tmp:
        return asyncio.run(demo(args, Path(tmp)))
