"""``ransdn scenario``: run a scenario live, controller and agent farm on
loopback, and print the SLA the controller reports each control period.

    ransdn scenario list
    ransdn scenario run seed --policy local-only --switch-at 8
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from ransdn.cli.client import ApiClient
from ransdn.southbound.keys import load_or_create_client_key

from . import SCENARIOS, scenario
from .farm import BIN, CityFarm, stop_process
from .live import LiveRun, PeriodSla


class ControllerLauncher:
    """``ransdn-controller`` on an ephemeral loopback port."""

    def __init__(self, work: Path, client_key: Path, *, period: float, policy: str) -> None:
        self.work = work
        self.client_key = client_key
        self.period = period
        self.policy = policy
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self, timeout: float = 60.0) -> "ControllerLauncher":
        self.work.mkdir(parents=True, exist_ok=True)
        log = open(self.work / "controller.log", "a")
        self.proc = subprocess.Popen(
            [str(BIN / "ransdn-controller"), "--listen", "127.0.0.1:0", "--db", str(self.work / "ransdn.db"),
             "--client-key", str(self.client_key), "--node-networks", "127.0.0.0/8",
             "--airtime-period", str(self.period), "--airtime-policy", self.policy],
            stdout=subprocess.PIPE, stderr=log, text=True)
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if m := re.search(r"listening on (http://\S+)", line):
                self.url = m.group(1)
                return self
            if self.proc.poll() is not None:
                break
        self.stop()
        raise RuntimeError(f"the controller did not start; see {self.work / 'controller.log'}")

    def stop(self) -> None:
        stop_process(self.proc)


def _row(k: int, sample: PeriodSla, slices: list[str]) -> str:
    items = [e for e in sample.items if e.get("backlogged")]
    errors = np.array([max(0.0, float(e["error"])) for e in items]) if items else np.zeros(1)
    violated = sum(1 for e in sample.items if e["state"] == "violated")
    if len(slices) <= 3:
        shares = "  ".join(f"{s} {sample.achieved(s):6.2f}%" for s in slices)
        return f"{k:>4}  {sample.policy:<17} {shares}  violated {violated}"
    return (f"{k:>4}  {sample.policy:<17} slice-domains {len(sample.items):>5}  violated {violated:>4}  "
            f"error p95 {np.percentile(errors, 95):5.2f}  max {errors.max():5.2f}")


def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    sc = scenario(args.name)
    periods = args.periods or sc.periods
    with tempfile.TemporaryDirectory(prefix="ransdn-scenario-") as tmp:
        work = Path(tmp)
        controller_key = load_or_create_client_key(work / "keys" / "controller_ed25519")
        tester_key = load_or_create_client_key(work / "keys" / "tester_ed25519", comment="scenario")
        authorized = work / "keys" / "authorized_keys"
        authorized.write_text(controller_key.public_line + "\n" + tester_key.public_line + "\n")
        city = sc.build()
        out.write(f"scenario {sc.name}: {sc.description}\n"
                  f"starting an agent farm of {len(city.radios)} radios and a controller...\n")
        out.flush()
        farm = CityFarm(city, work / "farm", authorized).start()
        controller = ControllerLauncher(work / "controller", controller_key.private_path,
                                        period=args.period, policy=args.policy)
        live: LiveRun | None = None
        try:
            controller.start()
            api = ApiClient(controller.url)
            live = LiveRun(sc, api, farm.inventory, tester_key.private_path)
            live.setup()
            out.write(f"controller {controller.url}: {len(city.tenants)} slices on "
                      f"{len({r.node for r in city.radios})} nodes; control period {args.period:g} s\n\n")
            slices = [f"slice-{t.name.lower()}" for t in city.tenants]

            def report(k: int, sample: PeriodSla) -> None:
                out.write(_row(k, sample, slices) + "\n")
                out.flush()
                if args.switch_at and k == args.switch_at - 1:
                    api.request("PUT", "/api/v1/airtime/policy", {"policy": "contention-aware"})
                    out.write("      -> policy contention-aware from the next period\n")

            live.run(periods, on_period=report)
            final: dict[str, Any] = api.get("/api/v1/airtime")
            out.write(f"\n{final['periods_run']} control periods; see `ransdn --url {controller.url} sla list` "
                      "while it runs (--periods to run longer)\n")
            return 0
        finally:
            if live is not None:
                live.close()
            controller.stop()
            farm.stop()


def register(sub: Any, add_command: Any) -> None:
    p = add_command(sub, "scenario", "run a simulated-city scenario live and watch the SLA")
    ssub = p.add_subparsers(dest="scenario_command", metavar="ACTION", required=True)
    ls = add_command(ssub, "list", "the scenarios")
    ls.set_defaults(func=lambda ctx: _list(ctx.out.out))
    r = add_command(ssub, "run", "start an agent farm and a controller, play the scenario, print the SLA")
    r.add_argument("name", choices=sorted(SCENARIOS))
    r.add_argument("--policy", default="contention-aware", choices=["contention-aware", "local-only"],
                   help="airtime policy to start with (default contention-aware)")
    r.add_argument("--switch-at", type=int, default=0, metavar="PERIOD",
                   help="switch to contention-aware at this period (start with --policy local-only)")
    r.add_argument("--period", type=float, default=1.0, help="control period in seconds (default 1)")
    r.add_argument("--periods", type=int, default=0, help="periods to run (default: the scenario's)")
    r.set_defaults(func=lambda ctx: run(ctx.args, ctx.out.out))


def _list(out: TextIO) -> int:
    for name in sorted(SCENARIOS):
        sc = scenario(name)
        out.write(f"{name:<10} {sc.description}\n")
    return 0
