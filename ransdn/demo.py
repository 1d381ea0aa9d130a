"""``ransdn demo``: a controller and a simulated city on loopback, with the
global airtime scheduler correcting co-channel contention live.

Three parts, kept apart the way they are in a deployment:

- **The controller** (:class:`ransdn.service.Controller` and its REST API)
  runs on this process's event loop exactly as ``ransdn-controller`` runs
  it, with the global airtime scheduler on (every 2 s).  It speaks NETCONF
  to the nodes and HTTP to its clients, nothing else.
- **The city**: ``ransdn-agent-farm --topology`` (a subprocess) runs one
  sim agent per node of :func:`testbed.city.demo_city`, the Wi-Fi radios
  sharing one simulated medium: 12 APs on channels 1/6/11, 4 LTE cells.
- **The script**, on a thread of its own, plays the two parts outside the
  network.  The *operator* goes through the REST API: it registers the
  nodes, creates three slices, switches the airtime policy and reads the
  SLA, as ``ransdn`` or an orchestrator would.  The *world* goes through
  the agents' ``ransdn-sim`` RPCs: stations associate, traffic flows, UEs
  attach.  That is :mod:`testbed.scenarios.world`, the driver the
  scenarios use, not a copy.

The story: two APs on channel 1 hear each other; acme-mobile (40 %) sends
only through one, campus-5g (25 %) only through the other.  Under the
``local-only`` policy (each AP on its own, like hostapd's airtime policy)
DCF splits the channel about evenly and acme-mobile's SLA is violated
(cause co-channel-contention); the demo then switches the policy to
``contention-aware`` through the API and prints each period until the SLA
is met again.  ``--once`` stops there; otherwise the demo keeps running,
printing SLA and airtime events, until Ctrl-C.

Why this module may sit in the controller's package: it is a launcher,
like ``ransdn.cli.scenario``, not part of the controller.  Nothing the
service or its API imports reaches it (``tests/controller/test_demo.py``
checks the import closure), so the controller's own code knows nothing of
the test bed or of ``ransdn-sim``; ``ransdn demo`` imports this module
(and so the test bed) only when it runs.  The world driver stays in
``testbed/``, next to the scenarios that share it.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from aiohttp import web

from ransdn.airtime_control import AirtimeConfig
from ransdn.cli.client import ApiClient, ApiError, ConnectionFailed
from ransdn.cli.info import LTE_ROW_COLUMNS, cell_rows
from ransdn.cli.nodes import NODE_COLUMNS
from ransdn.cli.output import table
from ransdn.cli.slices import SLICE_COLUMNS
from ransdn.cli.sla import SLA_BRIEF_COLUMNS, domain_label
from ransdn.service import Controller, ControllerConfig, parse_listen
from ransdn.southbound.keys import load_or_create_client_key
from testbed.city import City, demo_city
from testbed.scenarios.farm import CityFarm, FarmError
from testbed.scenarios.live import LiveError, Stopped, pause, register_nodes, wait_period
from testbed.scenarios.world import CityWorld, SimWorld, WorldError

log = logging.getLogger(__name__)

#: The demo city's tenants and the slices the operator creates for them.
SLICE_OF_TENANT = {"city": "city-services", "acme": "acme-mobile", "campus": "campus-5g"}
#: Control periods to wait for each act of the story before moving on.
VIOLATION_PERIODS = 8
RECOVERY_PERIODS = 10


def example_slices(city: City) -> list[dict[str, Any]]:
    """The operator's three slices for ``city`` (a :func:`demo_city`):
    Wi-Fi where the city has the tenant's vifs, LTE on chosen cells."""

    def wifi(tenant: str, **extra: Any) -> dict[str, Any]:
        t = city.tenant(tenant)
        nodes: dict[str, list[str]] = {}
        for v in city.vifs:
            if v.tenant == tenant:
                nodes.setdefault(v.node, []).append(v.radio)
        return {"ssid": t.ssid, "guaranteed_share": t.share,
                "nodes": [{"node": n, "radios": r} for n, r in nodes.items()], **extra}

    cells = [c.name for c in city.cells]
    return [{
        "id": SLICE_OF_TENANT["city"], "tenant": "city",
        "description": "Free city Wi-Fi on every AP, and the city's IoT PLMN on two cells",
        "wifi": wifi("city", security={"mode": "open"}, vlan=100),
        "lte": {"plmn": {"mcc": "001", "mnc": "10"},
                "mmes": [{"address": "127.0.0.10", "name": "city-epc"}],
                "imsi_acl": {"prefixes": ["00110"], "default_action": "reject"},
                "cells": cells[:2]},
    }, {
        "id": SLICE_OF_TENANT["acme"], "tenant": "acme",
        "description": "Acme's MVNO: a WPA2 SSID downtown and its PLMN on every cell",
        "wifi": wifi("acme", security={"mode": "wpa2-psk", "passphrase": "acme-demo-pass"}, cap=70, vlan=200),
        "lte": {"plmn": {"mcc": "001", "mnc": "01"},
                "mmes": [{"address": "127.0.0.11", "name": "acme-mme-1"},
                         {"address": "127.0.0.12", "name": "acme-mme-2"}],
                "imsi_acl": {"prefixes": ["00101"], "default_action": "reject"},
                "cells": cells},
    }, {
        "id": SLICE_OF_TENANT["campus"], "tenant": "campus",
        "description": "A university's Wi-Fi and private LTE: listed SIMs only",
        "wifi": wifi("campus", security={"mode": "wpa2-psk", "passphrase": "campus-demo-pass"}, vlan=300),
        "lte": {"plmn": {"mcc": "001", "mnc": "20"}, "reserved": True,
                "mmes": [{"address": "127.0.0.20", "name": "campus-edge-epc"}],
                "imsi_acl": {"imsis": ["001200000000001", "001200000000002"]},
                "cells": cells[-2:]},
    }]


class DemoFailed(RuntimeError):
    """Something the demo needs did not happen; the message says what."""


@dataclass(frozen=True)
class Contention:
    """The contended pair of the story: two slices, each sending through
    one of two co-channel APs that hear each other."""

    slices: tuple[str, str]
    nodes: tuple[str, str]
    radios: tuple[str, str]
    channel: int
    shares: tuple[float, float]

    @property
    def targets(self) -> tuple[float, float]:
        total = sum(self.shares)
        return (100 * self.shares[0] / total, 100 * self.shares[1] / total)

    @property
    def victim(self) -> str:
        """The slice DCF's even split under-serves."""
        return self.slices[0] if self.shares[0] >= self.shares[1] else self.slices[1]


def contention_of(city: City) -> Contention:
    busy = sorted((v for v in city.vifs if v.traffic.pattern == "saturating"),
                  key=lambda v: -city.tenant(v.tenant).share)
    if len(busy) != 2:
        raise DemoFailed("the demo city must have exactly two saturating vifs")
    radio = {r.key: r for r in city.radios}
    a, b = busy
    return Contention(
        slices=(SLICE_OF_TENANT[a.tenant], SLICE_OF_TENANT[b.tenant]),
        nodes=(a.node, b.node),
        radios=(f"{a.node}/{a.radio}", f"{b.node}/{b.radio}"),
        channel=radio[a.radio_key].channel,
        shares=(city.tenant(a.tenant).share, city.tenant(b.tenant).share),
    )


#: Width of a slice's cell in the story's per-period lines.
PERIOD_CELL = len("100.0 / 100.0  VIOLATED")


def _period_cell(e: dict[str, Any] | None) -> str:
    if e is None:
        return "(not measured yet)"
    state = "VIOLATED" if e["state"] == "violated" else e["state"]
    return f"{e['achieved']:5.1f} / {e['target']:<5.1f}  {state}"


class Script:
    """The operator's and the world's parts of the demo (blocking: runs on
    its own thread while the controller runs on the event loop)."""

    def __init__(self, args: argparse.Namespace, url: str, data_dir: Path, authorized_keys: Path,
                 world_key: Path, stop: threading.Event, out: TextIO, started: float) -> None:
        self.args = args
        self.url = url
        self.data_dir = data_dir
        self.authorized_keys = authorized_keys
        self.world_key = world_key
        self.stop = stop
        self.out = out
        self.api = ApiClient(url, timeout=60)
        #: When the demo started (time.monotonic()).
        self.started = started
        #: Seconds from the start to the first tables.
        self.first_tables_s: float | None = None

    def say(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def run(self) -> int:
        city = demo_city()
        farm = CityFarm(city, self.data_dir / "farm", self.authorized_keys)
        world: CityWorld | None = None
        try:
            farm.start()
            world = CityWorld(city, SimWorld(farm.inventory, self.world_key))
            self.check_stop()
            self.play(city, farm.inventory, world)
            if not self.args.once:
                self.say("Ctrl-C stops the demo.  Meanwhile, SLA and airtime events:")
                self.follow_events()
            return 0
        except Stopped:
            return 0
        except (DemoFailed, LiveError, FarmError, WorldError, ApiError, ConnectionFailed) as exc:
            if self.stop.is_set():
                return 0
            print(f"ransdn demo: {exc}", file=sys.stderr, flush=True)
            return 1
        finally:
            if world is not None:
                world.world.close()
            farm.stop()

    def check_stop(self) -> None:
        if self.stop.is_set():
            raise Stopped

    # -- the story ---------------------------------------------------------------

    def play(self, city: City, inventory: list[dict[str, Any]], world: CityWorld) -> None:
        channels = "/".join(str(c) for c in sorted({r.channel for r in city.radios}))
        self.say(f"agent farm: {len(city.radios)} Wi-Fi APs on channels {channels}, {len(city.cells)} LTE cells "
                 f"(topology {self.data_dir / 'farm' / 'city.json'})")
        register_nodes(self.api, inventory, stop=self.stop)
        for doc in example_slices(city):
            started = time.monotonic()
            body = self.api.request("POST", "/api/v1/slices", doc).body
            touched = len(body["last_transaction"]["nodes"])
            self.say(f"slice {doc['id']}: provisioned on {touched} nodes in {time.monotonic() - started:.2f} s")
        self.wait_s1_up()
        started = world.start()
        ues = world.attach_ues()
        self.say(f"world: {started.stations} stations associated, traffic on {started.busy_vifs} vifs")
        for ue, u in zip(city.ues, ues):
            why = f"{u.slice}: {u.cause}" if u.cause else u.slice
            self.say(f"UE {u.imsi} attaches to PLMN {ue.plmn} on {u.cell}: {u.result} ({why})")
        self.check_stop()

        nodes = self.api.get("/api/v1/nodes")["items"]
        slices = self.api.get("/api/v1/slices")["items"]
        cells = self.api.get("/api/v1/lte/cells")["items"]
        self.say("\nNodes\n" + table(nodes, NODE_COLUMNS))
        self.say("\nSlices\n" + table(slices, SLICE_COLUMNS))
        self.say("\nLTE: PLMNs per cell, S1 and UEs\n" + table(cell_rows(cells), LTE_ROW_COLUMNS))
        self.first_tables_s = time.monotonic() - self.started
        self.story(contention_of(city))
        self.say(f"\n(first tables {self.first_tables_s:.1f} s after the start, "
                 f"the SLA story done after {time.monotonic() - self.started:.1f} s)")
        self.hints()

    def wait_s1_up(self, timeout: float = 30.0) -> None:
        """Until every PLMN of every cell has an S1 link up (UEs attach only
        then, and the tables show the PLMNs in service)."""
        deadline = time.monotonic() + timeout
        pending: list[str] = []
        while time.monotonic() < deadline:
            cells = self.api.get("/api/v1/lte/cells")["items"]
            pending = [f"{c['cell']}/{s['plmn']}" for c in cells for s in c["slices"]
                       if not any(m.get("s1_state") == "up" for m in s["mmes"])]
            if not pending:
                return
            pause(0.1, self.stop)
        raise DemoFailed(f"S1 did not come up in {timeout:.0f} s for {', '.join(pending)}")

    def story(self, c: Contention) -> None:
        """Local-only until the victim's SLA is violated by co-channel
        contention, then contention-aware until it is met again; one line
        per control period, then the SLA table."""
        status = self.api.get("/api/v1/airtime")
        a, b = c.slices
        self.say(
            f"\nAirtime SLA.  {c.nodes[0]} and {c.nodes[1]} share channel {c.channel} and hear each other.\n"
            f"{a} (guaranteed {c.shares[0]:g} %) sends only through {c.nodes[0]}, {b} ({c.shares[1]:g} %) "
            f"only through {c.nodes[1]}:\n"
            f"of that channel {a} is owed {c.targets[0]:.1f} %, {b} {c.targets[1]:.1f} %.  The global "
            f"scheduler runs every {status['period']:g} s;\n"
            f"it starts with policy {status['policy']} (each AP on its own, like hostapd's airtime policy).\n")
        self.say(f"period  {'policy':<17} {a:<{PERIOD_CELL}}  {b:<{PERIOD_CELL}}  "
                 f"(achieved / target % of channel {c.channel})")
        victim = c.slices.index(c.victim)

        def violated(entries: list[dict[str, Any] | None], policy: str) -> bool:
            e = entries[victim]
            return e is not None and e["state"] == "violated" and e["cause"] == "co-channel-contention"

        def recovered(entries: list[dict[str, Any] | None], policy: str) -> bool:
            e = entries[victim]
            return (policy == "contention-aware" and all(x is not None and x["state"] == "ok" for x in entries)
                    and e is not None and abs(e["error"]) <= 1.0)

        seen = status["periods_run"]
        seen, ok = self.periods_until(c, seen, violated, VIOLATION_PERIODS)
        if not ok:
            self.say(f"        ({c.victim} was not reported violated in {VIOLATION_PERIODS} periods)")
        self.api.request("PUT", "/api/v1/airtime/policy", {"policy": "contention-aware"})
        self.say("    -> policy contention-aware from the next period "
                 "(PUT /api/v1/airtime/policy, as `ransdn airtime policy contention-aware` does)")
        seen, ok = self.periods_until(c, seen, recovered, RECOVERY_PERIODS)
        if not ok:
            self.say(f"        ({c.victim} did not recover in {RECOVERY_PERIODS} periods)")
        self.sla_table(seen)

    def periods_until(self, c: Contention, seen: int, done: Any, periods: int) -> tuple[int, bool]:
        """Print each control period's line for the contended pair until
        ``done(entries, policy)`` or ``periods`` have passed.  Returns the
        last period seen and whether ``done`` held."""
        for _ in range(periods):
            sample = wait_period(self.api, seen, stop=self.stop)
            seen = sample.period
            entries = [sample.entry(s, c.radios) for s in c.slices]
            cells = [_period_cell(e) for e in entries]
            cause = next((f"{e['slice']}: {e['cause']}" for e in entries if e and e["state"] == "violated"), "")
            self.say(f"{seen:>6}  {sample.policy:<17} {cells[0]:<{PERIOD_CELL}}  {cells[1]:<{PERIOD_CELL}}  "
                     f"{cause}".rstrip())
            if done(entries, sample.policy):
                return seen, True
        return seen, False

    def sla_table(self, period: int) -> None:
        items = self.api.get("/api/v1/sla")["items"]
        active = sorted((e for e in items if e.get("backlogged") or float(e["achieved"]) >= 0.5),
                        key=lambda e: (e.get("channel") or 0, domain_label(e), e["slice"]))
        self.say(f"\nSLA of period {period}, slices with traffic (`ransdn sla list` also shows the "
                 f"{len(items) - len(active)} idle slice-domains)\n" + table(active, SLA_BRIEF_COLUMNS))
        if any(e.get("cause") == "no-backlog" for e in active):
            self.say("(no-backlog: the slice offered less traffic than its share, so it is not short of it)")
        for ev in self.api.get("/api/v1/events?kind=sla&limit=1000")["items"]:
            self.say(f"event {ev['kind']}: {ev['message']}")

    def hints(self) -> None:
        self.say(f"\nTry, in another terminal (the CLI also reads the URL from RANSDN_URL):\n"
                 f"  export RANSDN_URL={self.url}\n"
                 "  ransdn sla watch                        # SLA per slice and contention domain, live\n"
                 "  ransdn airtime policy local-only        # the baseline: watch acme-mobile's SLA break again\n"
                 "  ransdn airtime policy contention-aware  # ... and the global scheduler repair it\n"
                 "  ransdn watch                            # nodes, slices and recent events, live\n"
                 "  ransdn lte                              # PLMNs, IMSI ACLs, S1 and UEs per cell\n"
                 "  ransdn slice show acme-mobile\n"
                 "  ransdn events\n"
                 f"  curl {self.url}/metrics | grep ransdn_sla\n")

    def follow_events(self) -> None:
        """Print SLA, airtime-policy and failure events as they happen."""
        after = 0
        batch = self.api.get("/api/v1/events?after=0&limit=1000")
        while batch["items"]:
            after = batch["items"][-1]["seq"]
            if batch.get("next_after") is None:
                break
            batch = self.api.get(f"/api/v1/events?after={after}&limit=1000")
        while True:
            pause(1.0, self.stop)
            for ev in self.api.get(f"/api/v1/events?after={after}&limit=1000")["items"]:
                after = ev["seq"]
                if ev["kind"].startswith(("sla.", "airtime.")) or ev["severity"] in ("warning", "error"):
                    self.say(f"{time.strftime('%H:%M:%S')}  {ev['kind']}: {ev['message']}")


async def demo(args: argparse.Namespace, data_dir: Path, started: float) -> int:
    out = sys.stdout
    stop = threading.Event()
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()

    def request_stop() -> None:
        stop.set()
        stopping.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, request_stop)

    controller_key = load_or_create_client_key(data_dir / "controller_ed25519")
    world_key = load_or_create_client_key(data_dir / "world_ed25519", comment="ransdn-demo-world")
    authorized = data_dir / "authorized_keys"
    authorized.write_text(controller_key.public_line + "\n" + world_key.public_line + "\n")
    controller = Controller(ControllerConfig(
        db=data_dir / "ransdn.db", client_key=controller_key.private_path, reconcile_interval=15,
        airtime=AirtimeConfig(period=args.airtime_period, policy="local-only")))
    from ransdn.api.app import create_app

    runner = web.AppRunner(create_app(controller), access_log=None)
    await runner.setup()
    host, port = parse_listen(args.listen)
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        print(f"ransdn demo: cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    bound = site._server.sockets[0].getsockname()  # type: ignore[union-attr]
    url = f"http://{bound[0]}:{bound[1]}"
    await controller.start()
    out.write(f"controller: {url}  (data in {data_dir}; log in {data_dir / 'controller.log'})\n")
    out.flush()
    script = Script(args, url, data_dir, authorized, world_key.private_path, stop, out, started)
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ransdn-demo")
    try:
        task = loop.run_in_executor(pool, script.run)
        waiter = asyncio.ensure_future(stopping.wait())
        await asyncio.wait([task, waiter], return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        # The script stops at its next wait; its own cleanup stops the farm.
        stop.set()
        rc = await task
        if stopping.is_set():
            out.write("\nstopping...\n")
        return rc
    finally:
        pool.shutdown(wait=True)
        await runner.cleanup()
        await controller.stop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def _log_to(path: Path) -> logging.Handler:
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    for noisy in ("ncclient", "paramiko", "asyncssh"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return handler


def run(args: argparse.Namespace) -> int:
    started = time.monotonic()
    if args.data_dir:
        data_dir = Path(args.data_dir)
        if (data_dir / "ransdn.db").exists():
            print(f"ransdn demo: {data_dir} already holds a controller database (ransdn.db); "
                  "give an empty or new directory", file=sys.stderr)
            return 2
        data_dir.mkdir(parents=True, exist_ok=True)
        handler = _log_to(data_dir / "controller.log")
        try:
            return asyncio.run(demo(args, data_dir, started))
        finally:
            logging.getLogger().removeHandler(handler)
            handler.close()
    with tempfile.TemporaryDirectory(prefix="ransdn-demo-") as tmp:
        handler = _log_to(Path(tmp) / "controller.log")
        try:
            return asyncio.run(demo(args, Path(tmp), started))
        finally:
            logging.getLogger().removeHandler(handler)
            handler.close()
