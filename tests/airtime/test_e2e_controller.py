"""Scenario (a) end to end: ransdn-controller with its global airtime
scheduler, an agent farm whose two APs share the simulated medium (the kmod
core on each radio), everything over NETCONF and REST.

Local-only first (about 50/50, B's SLA violated), then the contention-aware
policy switched on through the API at run time: 30/70 within one point
within three control periods; B idle, A takes the channel; B back, 30/70
again within three periods.
"""

from __future__ import annotations

import pytest

from ransdn.cli.client import ApiClient
from testbed.medium.model import TrafficSpec
from testbed.scenarios import scenario
from testbed.scenarios.farm import CityFarm
from testbed.scenarios.live import LiveRun, PeriodSla, slice_id

from ..controller.conftest import keys  # noqa: F401 - the fixture
from ..controller.processes import ControllerProcess, run_cli

pytestmark = pytest.mark.slow

A, B = slice_id("A"), slice_id("B")


def _shares(p: PeriodSla) -> tuple[float, float]:
    return p.achieved(A), p.achieved(B)


def _within(p: PeriodSla, a: float, b: float, tol: float = 1.0) -> bool:
    got_a, got_b = _shares(p)
    return abs(got_a - a) <= tol and abs(got_b - b) <= tol


def test_seed_case_over_netconf_with_both_policies(tmp_path, keys):
    sc = scenario("seed")
    with CityFarm(sc.build(), tmp_path / "farm", keys["authorized"]) as farm, ControllerProcess(
        tmp_path / "controller.db", client_key=keys["controller"],
        extra=["--airtime-period", "1", "--airtime-policy", "local-only", "--reconcile-interval", "3600"],
    ) as ctl:
        api = ApiClient(ctl.url)
        live = LiveRun(sc, api, farm.inventory, keys["tester"])
        try:
            live.setup()
            # The controller keeps no override while local-only runs.
            status = api.get("/api/v1/airtime")
            assert (status["enabled"], status["policy"]) == (True, "local-only")

            # Local-only: DCF splits the channel about evenly; B's SLA breaks.
            local = live.run(periods=6)
            for p in local[2:]:
                a, b = _shares(p)
                assert a == pytest.approx(50, abs=6) and b == pytest.approx(50, abs=6), (a, b)
            assert local[-1].state(B) == "violated" and local[-1].state(A) == "ok"
            entry = next(e for e in local[-1].items if e["slice"] == B)
            assert entry["target"] == pytest.approx(70, abs=1) and entry["cause"] == "co-channel-contention"
            assert entry["violation"]["since"] and entry["radios"] == ["ap1/phy0", "ap2/phy0"]

            # Switch at run time through the CLI (the API underneath).
            out = run_cli(ctl.url, "airtime", "policy", "contention-aware")
            assert out.returncode == 0, out.stderr
            aware = live.run(periods=7)
            first = next(i for i, p in enumerate(aware) if _within(p, 30, 70))
            assert first < 3, [_shares(p) for p in aware]
            assert all(_within(p, 30, 70) for p in aware[first:]), [_shares(p) for p in aware]
            assert aware[-1].state(B) == "ok"
            # The slices say what is in force on their vifs, and which the
            # scheduler corrected (only those whose setting had to move).
            vifs = [v for s in (A, B) for v in api.get(f"/api/v1/slices/{s}")["wifi"]["vifs"]]
            corrected = [v for v in vifs if v["airtime"]["set_by"] == "global-scheduler"]
            assert corrected, vifs
            assert all(v["airtime"]["set_by"] == "slice" for v in vifs if v not in corrected)

            # B goes idle: A is not held to 30 %.
            live.set_traffic("ap2", "phy0", "B", TrafficSpec("idle"))
            idle = live.run(periods=5)
            assert all(_shares(p)[0] >= 95 for p in idle[2:]), [_shares(p) for p in idle]

            # B comes back: 30/70 again within three periods.
            live.set_traffic("ap2", "phy0", "B", TrafficSpec("saturating"))
            back = live.run(periods=5)
            first = next(i for i, p in enumerate(back) if _within(p, 30, 70))
            assert first < 3, [_shares(p) for p in back]
            assert all(_within(p, 30, 70) for p in back[first:]), [_shares(p) for p in back]

            # The operator's views: SLA table, metrics, events.
            out = run_cli(ctl.url, "sla", "list")
            assert out.returncode == 0 and B in out.stdout and "ok" in out.stdout, out.stdout
            metrics = ctl.request("GET", "/metrics")[2]
            started = [line for line in metrics.splitlines() if line.startswith(
                f'ransdn_sla_violations_total{{cause="co-channel-contention",slice="{B}"}}')]
            assert started and float(started[0].split()[-1]) >= 1, metrics
            assert 'ransdn_airtime_periods_total{policy="contention-aware"}' in metrics
            events = [e["kind"] for e in api.get("/api/v1/events?kind=sla&limit=1000")["items"]]
            assert events[:2] == ["sla.violation-start", "sla.violation-end"]
        finally:
            live.close()


def test_scenario_command_runs_the_seed_case_live():
    out = run_cli("http://127.0.0.1:9", "scenario", "run", "seed", "--policy", "local-only",
                  "--switch-at", "3", "--periods", "5")
    assert out.returncode == 0, out.stderr
    rows = [r for r in (line.split() for line in out.stdout.splitlines())
            if len(r) > 1 and r[0].isdigit() and r[1] in ("local-only", "contention-aware")]
    assert [r[0] for r in rows] == ["1", "2", "3", "4", "5"]
    assert rows[0][1] == "local-only" and rows[-1][1] == "contention-aware"
    assert "-> policy contention-aware from the next period" in out.stdout
