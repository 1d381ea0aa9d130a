"""Benchmark: provisioning one slice across a city of sim nodes.

In one run, against one agent farm (200 Wi-Fi APs and 50 LTE cells by
default, every agent a real NETCONF/SSH server):

- ``controller``: the ransdn controller (a separate process) modifies one
  slice that spans every node, repeatedly; each modify is an all-or-nothing
  transaction on all 250 nodes (lock, edit, validate, confirmed commit,
  read-back, confirm, unlock).  Latency is measured at the REST client:
  p50 and p99.
- ``naive``: a sequential ncclient script doing the same edits node after
  node, the way an operator's loop would: connect, edit-config, commit,
  close.  ``naive-persistent`` keeps one session per node open (sessions
  opened before timing).  Neither locks, validates or can roll back.
- the controller's resident memory (RSS) with all nodes connected.

    .venv/bin/python -m testbed.bench.provisioning [--wifi 200 --lte 50 --iterations 20]

Prints a table and writes testbed/bench/results/provisioning.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from ncclient import manager

from ransdn.render import vif_name
from ransdn.southbound.keys import load_or_create_client_key

RESULTS = Path(__file__).resolve().parent / "results" / "provisioning.json"
BIN = Path(sys.executable).parent
WIFI_NS = "urn:ransdn:params:xml:ns:yang:ransdn-wifi"
LTE_NS = "urn:ransdn:params:xml:ns:yang:ransdn-lte"
IMSI_SETS = (["001990000000001", "001990000000002"], ["001990000000003"])


def percentile(values: list[float], p: float) -> float:
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def threads(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


class Api:
    def __init__(self, url: str) -> None:
        self.url = url

    def call(self, method: str, path: str, body: Any = None,
             headers: dict[str, str] | None = None) -> tuple[int, Any, dict[str, str]]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(req, timeout=600) as r:
                return r.status, json.loads(r.read() or b"null"), dict(r.headers)
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null"), dict(e.headers)


def slice_doc(wifi: list[str], cells: list[str], share: int, imsis: list[str]) -> dict[str, Any]:
    doc: dict[str, Any] = {"id": "bench", "tenant": "bench"}
    if wifi:
        doc["wifi"] = {"ssid": "BenchNet", "guaranteed_share": share,
                       "nodes": [{"node": n} for n in wifi]}
    if cells:
        doc["lte"] = {"plmn": {"mcc": "001", "mnc": "99"}, "mmes": [{"address": "127.0.0.99"}],
                      "imsi_acl": {"imsis": imsis}, "cells": cells}
    return doc


def naive_edit(agent: dict[str, Any], share: int, imsis: list[str]) -> str:
    if agent["kind"] == "wifi":
        return (f'<config><wifi-node xmlns="{WIFI_NS}"><radio><name>phy0</name><vif>'
                f'<name>{vif_name("bench", "phy0")}</name><airtime><guaranteed-share>{share}'
                '</guaranteed-share></airtime></vif></radio></wifi-node></config>')
    imsi = "".join(f"<imsi>{i}</imsi>" for i in imsis)
    return (f'<config xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0"><lte-cell xmlns="{LTE_NS}">'
            '<slice><id>bench</id><imsi-acl nc:operation="replace"><default-action>reject'
            f'</default-action>{imsi}</imsi-acl></slice></lte-cell></config>')


def connect(agent: dict[str, Any], key: Path) -> manager.Manager:
    return manager.connect(host=agent["address"], port=agent["port"], username="bench",
                           key_filename=str(key), hostkey_verify=False, allow_agent=False,
                           look_for_keys=False, timeout=60)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--wifi", type=int, default=200)
    p.add_argument("--lte", type=int, default=50)
    p.add_argument("--iterations", type=int, default=20, help="controller modifies to time")
    p.add_argument("--naive-rounds", type=int, default=1, help="rounds of the naive script")
    p.add_argument("--out", type=Path, default=RESULTS)
    args = p.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="ransdn-bench-"))
    ctl_key = load_or_create_client_key(tmp / "controller_ed25519")
    tester = load_or_create_client_key(tmp / "tester_ed25519", comment="bench")
    auth = tmp / "authorized_keys"
    auth.write_text(ctl_key.public_line + "\n" + tester.public_line + "\n")
    inventory_path = tmp / "inventory.json"
    procs: list[subprocess.Popen] = []
    result: dict[str, Any] = {"nodes": {"wifi": args.wifi, "lte": args.lte},
                              "machine": {"cpus": os.cpu_count(), "python": platform.python_version()}}
    try:
        print(f"starting an agent farm of {args.wifi} Wi-Fi APs and {args.lte} cells ...", flush=True)
        t0 = time.monotonic()
        farm = subprocess.Popen(
            [str(BIN / "ransdn-agent-farm"), "--wifi", str(args.wifi), "--lte", str(args.lte),
             "--radios-per-node", "1", "--state-dir", str(tmp / "farm"),
             "--authorized-keys", str(auth), "--inventory", str(inventory_path)],
            stdout=subprocess.DEVNULL, stderr=open(tmp / "farm.log", "w"))
        procs.append(farm)
        while not inventory_path.exists():
            if farm.poll() is not None:
                raise SystemExit(f"farm failed: {(tmp / 'farm.log').read_text()[-2000:]}")
            time.sleep(0.2)
        agents = json.loads(inventory_path.read_text())
        result["farm_start_s"] = time.monotonic() - t0

        # Without the global airtime scheduler: its per-vif overlay would own
        # the Wi-Fi shares, so a change of the slice's share would leave the
        # APs unchanged and only the cells would be timed.
        ctl = subprocess.Popen(
            [str(BIN / "ransdn-controller"), "--listen", "127.0.0.1:0", "--db", str(tmp / "c.db"),
             "--client-key", str(ctl_key.private_path), "--reconcile-interval", "3600",
             "--airtime-period", "0", "--log-level", "warning"],
            stdout=subprocess.PIPE, stderr=open(tmp / "controller.log", "w"), text=True)
        procs.append(ctl)
        assert ctl.stdout is not None
        url = re.search(r"(http://\S+)", ctl.stdout.readline()).group(1)  # type: ignore[union-attr]
        api = Api(url)
        t0 = time.monotonic()
        for a in agents:
            status, body, _ = api.call("POST", "/api/v1/nodes", {
                "name": a["name"], "kind": a["kind"], "address": a["address"], "port": a["port"],
                "host_key": a["host_key_fingerprint"]})
            assert status == 201, body
        while True:
            nodes = api.call("GET", "/api/v1/nodes")[1]["items"]
            up = sum(n["connection"]["state"] == "connected" for n in nodes)
            if up == len(agents):
                break
            if time.monotonic() - t0 > 600:
                raise SystemExit(f"only {up}/{len(agents)} nodes connected")
            time.sleep(0.5)
        result["connect_all_s"] = time.monotonic() - t0
        time.sleep(2)
        result["controller_rss_mb"] = rss_mb(ctl.pid)
        result["controller_threads"] = threads(ctl.pid)
        print(f"{len(agents)} nodes connected in {result['connect_all_s']:.1f} s; controller RSS "
              f"{result['controller_rss_mb']:.0f} MB", flush=True)

        wifi = [a["name"] for a in agents if a["kind"] == "wifi"]
        cells = [a["name"] for a in agents if a["kind"] == "lte"]
        t0 = time.monotonic()
        status, body, headers = api.call("POST", "/api/v1/slices", slice_doc(wifi, cells, 20, IMSI_SETS[0]))
        assert status == 201, body
        result["create_s"] = time.monotonic() - t0
        etag = headers["ETag"]
        latencies = []
        for i in range(args.iterations):
            share, imsis = (30, IMSI_SETS[1]) if i % 2 == 0 else (20, IMSI_SETS[0])
            patch: dict[str, Any] = {}
            if wifi:
                patch["wifi"] = {"guaranteed_share": share}
            if cells:
                patch["lte"] = {"imsi_acl": {"imsis": imsis}}
            t0 = time.monotonic()
            status, body, headers = api.call("PATCH", "/api/v1/slices/bench", patch,
                                             {"If-Match": etag})
            latencies.append(time.monotonic() - t0)
            assert status == 200, body
            outcomes = {n["outcome"] for n in body["last_transaction"]["nodes"]}
            assert outcomes == {"applied"} and len(body["last_transaction"]["nodes"]) == len(agents), \
                body["last_transaction"]
            etag = headers["ETag"]
        result["controller"] = {"iterations": len(latencies), "p50_s": percentile(latencies, 50),
                                "p99_s": percentile(latencies, 99), "max_s": max(latencies)}
        ctl.send_signal(signal.SIGTERM)
        ctl.wait(60)

        # The naive script, on the same agents, with the controller gone.
        naive_rounds = []
        for r in range(args.naive_rounds):
            share, imsis = (40 + r, IMSI_SETS[r % 2])
            t0 = time.monotonic()
            for a in agents:
                m = connect(a, tester.private_path)
                m.edit_config(target="candidate", config=naive_edit(a, share, imsis))
                m.commit()
                m.close_session()
            naive_rounds.append(time.monotonic() - t0)
        sessions = {a["name"]: connect(a, tester.private_path) for a in agents}
        persistent_rounds = []
        for r in range(args.naive_rounds):
            share, imsis = (50 + r, IMSI_SETS[(r + 1) % 2])
            t0 = time.monotonic()
            for a in agents:
                m = sessions[a["name"]]
                m.edit_config(target="candidate", config=naive_edit(a, share, imsis))
                m.commit()
            persistent_rounds.append(time.monotonic() - t0)
        for m in sessions.values():
            m.close_session()
        result["naive"] = {"rounds": len(naive_rounds), "mean_s": statistics.mean(naive_rounds)}
        result["naive_persistent"] = {"rounds": len(persistent_rounds),
                                      "mean_s": statistics.mean(persistent_rounds)}
        p50 = result["controller"]["p50_s"]
        result["ratio_naive_over_controller_p50"] = result["naive"]["mean_s"] / p50
        result["ratio_naive_persistent_over_controller_p50"] = result["naive_persistent"]["mean_s"] / p50
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(60)
                except subprocess.TimeoutExpired:
                    proc.kill()

    rows = [
        ("nodes", f"{args.wifi} Wi-Fi + {args.lte} LTE"),
        ("connect all (s)", f"{result['connect_all_s']:.1f}"),
        ("controller RSS, all connected (MB)", f"{result['controller_rss_mb']:.0f}"),
        ("controller threads", str(result["controller_threads"])),
        ("create slice on all nodes (s)", f"{result['create_s']:.2f}"),
        ("controller modify p50 (s)", f"{result['controller']['p50_s']:.2f}"),
        ("controller modify p99 (s)", f"{result['controller']['p99_s']:.2f}"),
        ("naive sequential ncclient (s)", f"{result['naive']['mean_s']:.2f}"),
        ("naive, sessions kept open (s)", f"{result['naive_persistent']['mean_s']:.2f}"),
        ("naive / controller p50", f"{result['ratio_naive_over_controller_p50']:.1f}x"),
        ("naive-persistent / controller p50", f"{result['ratio_naive_persistent_over_controller_p50']:.1f}x"),
    ]
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k.ljust(width)}  {v}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
