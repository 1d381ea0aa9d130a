"""Benchmark of the global airtime scheduler on the scenarios, offline.

For each scenario and policy: mean and p95 SLA error, periods to converge,
channel utilisation while backlog exists and the scheduler's compute time
per control period; ``local-only`` is the baseline every other policy is
compared with in the same run.  Prints a table and writes
``testbed/bench/results/global_scheduler.json``.

    python -m testbed.bench.global_scheduler                 # all scenarios
    python -m testbed.bench.global_scheduler --scenario seed --policy contention-aware

SLA error is the under-service of a backlogged slice in a contention domain,
``max(0, entitlement - achieved)`` in percentage points, over every
(period, domain, slice) from period 2 on (period 1 measures the start
before any correction), and again over the second half of the run only
("steady").  A run has converged at the first period whose p95 SLA error is
within the scenario's tolerance (1 point for the seed case, 2 for cities).
Utilisation is the channel time a domain carried while some vif in it was
backlogged.  Compute time is the CPU time (``time.process_time``, one core)
of :meth:`GlobalScheduler.decide`: arrays in (counters, topology), settings
and SLA out.  Turning the samples into arrays (:meth:`GlobalScheduler.ingest`,
Python objects to numpy, the controller's side of telemetry gathering) is
reported apart ("ingest").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from testbed.scenarios import SCENARIOS, Scenario, scenario
from testbed.scenarios.runner import OfflineRun, PeriodRecord

RESULTS = Path(__file__).resolve().parent / "results" / "global_scheduler.json"
POLICIES = ("local-only", "contention-aware")


@dataclass(frozen=True)
class Figures:
    scenario: str
    policy: str
    radios: int
    domains: int
    sla_error_mean: float
    sla_error_p95: float
    sla_error_p95_steady: float
    abs_error_p95: float
    periods_to_converge: int | None
    utilisation: float
    compute_cpu_ms_mean: float
    compute_cpu_ms_p95: float
    compute_cpu_ms_max: float
    compute_wall_ms_mean: float
    ingest_cpu_ms_mean: float
    violation_periods: int
    detail: dict[str, Any]


def _p95(values: np.ndarray) -> float:
    return float(np.percentile(values, 95)) if values.size else 0.0


def _sla_errors(records: list[PeriodRecord]) -> np.ndarray:
    return np.concatenate([np.maximum(r.error[r.backlogged & r.measured], 0.0) for r in records] or [np.zeros(0)])


def _converged_at(records: list[PeriodRecord], start: int, end: int, tolerance: float) -> int | None:
    """Control periods from ``start`` (which measures the uncorrected state)
    to the first whose p95 SLA error is within tolerance, counting both."""
    for r in records:
        if start <= r.period < end and _p95(_sla_errors([r])) <= tolerance:
            return r.period - start + 1
    return None


def _seed_detail(records: list[PeriodRecord], sc: Scenario) -> dict[str, Any]:
    detail: dict[str, Any] = {}
    for phase, (start, end) in sc.phases.items():
        rows = [r for r in records if start <= r.period < end]
        tail = rows[-3:]
        detail[phase] = {
            "A": round(float(np.mean([r.share_of("A") for r in tail])), 2),
            "B": round(float(np.mean([r.share_of("B") for r in tail])), 2),
            "A_by_period": [round(r.share_of("A"), 2) for r in rows],
            "B_by_period": [round(r.share_of("B"), 2) for r in rows],
            "periods_to_converge": _converged_at(records, start, end, sc.tolerance),
        }
    return detail


def figures(sc: Scenario, policy: str, records: list[PeriodRecord], run: OfflineRun) -> Figures:
    later = [r for r in records if r.period >= 2]
    errors = _sla_errors(later)
    steady = _sla_errors([r for r in records if r.period > len(records) // 2])
    absolute = np.concatenate([np.abs(r.error[r.backlogged & r.measured]) for r in later] or [np.zeros(0)])
    use = np.concatenate([np.minimum(r.utilisation[r.domain_backlogged], 1.0) for r in records] or [np.zeros(0)])
    cpu = np.array([r.compute_cpu_s for r in records]) * 1e3
    wall = np.array([r.compute_wall_s for r in records]) * 1e3
    last = run.scheduler.last
    assert last is not None
    first, end = next(iter(sc.phases.values()))
    return Figures(
        scenario=sc.name,
        policy=policy,
        radios=last.topology.n_radios,
        domains=last.topology.n_domains,
        sla_error_mean=float(errors.mean()) if errors.size else 0.0,
        sla_error_p95=_p95(errors),
        sla_error_p95_steady=_p95(steady),
        abs_error_p95=_p95(absolute),
        periods_to_converge=_converged_at(records, first, end, sc.tolerance),
        utilisation=float(use.mean()) if use.size else 0.0,
        compute_cpu_ms_mean=float(cpu.mean()),
        compute_cpu_ms_p95=_p95(cpu),
        compute_cpu_ms_max=float(cpu.max()),
        compute_wall_ms_mean=float(wall.mean()),
        ingest_cpu_ms_mean=float(np.mean([r.ingest_cpu_s for r in records]) * 1e3),
        violation_periods=int(sum(int(r.violated.sum()) for r in records)),
        detail=_seed_detail(records, sc) if sc.name == "seed" else {},
    )


def run_one(name: str, policy: str, seed: int) -> Figures:
    sc = scenario(name)
    run = OfflineRun(sc, policy, seed=seed)
    records = asyncio.run(run.run())
    return figures(sc, policy, records, run)


def _periods_to_30_70(phase: dict[str, Any]) -> int | None:
    """Periods into the phase until A and B are within 1 point of 30/70
    and stay there for the rest of the phase."""
    pairs = list(zip(phase["A_by_period"], phase["B_by_period"]))
    for i in range(len(pairs)):
        if all(abs(a - 30) <= 1 and abs(b - 70) <= 1 for a, b in pairs[i:]):
            return i + 1
    return None


def seed_checks(by_policy: dict[str, Figures]) -> dict[str, bool]:
    """The targets of scenario (a)."""
    checks: dict[str, bool] = {}
    local = by_policy.get("local-only")
    if local:
        both = local.detail["both"]
        checks["local-only splits about 50/50"] = abs(both["A"] - 50) <= 5 and abs(both["B"] - 50) <= 5
    aware = by_policy.get("contention-aware")
    if aware:
        d = aware.detail
        start = _periods_to_30_70(d["both"])
        back = _periods_to_30_70(d["b-back"])
        checks["30/70 within 1 point within 3 periods"] = start is not None and start <= 3
        checks["B idle: A gets >= 95 % of the channel"] = d["b-idle"]["A"] >= 95.0
        checks["B back: 30/70 within 1 point within 3 periods"] = back is not None and back <= 3
    return checks


def table(results: list[Figures]) -> str:
    head = (
        f"{'scenario':<9} {'policy':<17} {'radios':>6} {'domains':>7} {'err mean':>8} {'err p95':>7} "
        f"{'steady':>6} {'|err| p95':>9} {'converge':>8} {'util':>6} {'cpu ms':>7} {'p95':>6} {'max':>6} "
        f"{'ingest':>6} {'viol':>5}"
    )
    lines = [head, "-" * len(head)]
    for f in results:
        converge = "-" if f.periods_to_converge is None else str(f.periods_to_converge)
        lines.append(
            f"{f.scenario:<9} {f.policy:<17} {f.radios:>6} {f.domains:>7} {f.sla_error_mean:>8.2f} "
            f"{f.sla_error_p95:>7.2f} {f.sla_error_p95_steady:>6.2f} {f.abs_error_p95:>9.2f} {converge:>8} {f.utilisation:>6.3f} "
            f"{f.compute_cpu_ms_mean:>7.2f} {f.compute_cpu_ms_p95:>6.2f} {f.compute_cpu_ms_max:>6.2f} "
            f"{f.ingest_cpu_ms_mean:>6.2f} {f.violation_periods:>5}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS), help="default: all")
    parser.add_argument("--policy", action="append", choices=POLICIES, help="default: all")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    names = args.scenario or list(SCENARIOS)
    policies = args.policy or list(POLICIES)

    results: list[Figures] = []
    report: dict[str, Any] = {"seed": args.seed, "scenarios": {}}
    for name in names:
        by_policy: dict[str, Figures] = {}
        for policy in policies:
            print(f"running {name} with {policy} ...", file=sys.stderr, flush=True)
            f = run_one(name, policy, args.seed)
            by_policy[policy] = f
            results.append(f)
        entry: dict[str, Any] = {p: f.__dict__ for p, f in by_policy.items()}
        base, aware = by_policy.get("local-only"), by_policy.get("contention-aware")
        if base and aware:
            entry["error_p95_vs_local_only"] = aware.sla_error_p95 / base.sla_error_p95 if base.sla_error_p95 else None
        if name == "seed":
            entry["checks"] = seed_checks(by_policy)
        if name == "city1000" and aware:
            entry["checks"] = {
                "compute <= 20 ms per period (p95, one core)": aware.compute_cpu_ms_p95 <= 20.0,
                "p95 SLA error <= 2 points (steady)": aware.sla_error_p95_steady <= 2.0,
            }
        report["scenarios"][name] = entry

    print(table(results))
    for name, entry in report["scenarios"].items():
        for check, ok in entry.get("checks", {}).items():
            print(f"{name}: {'PASS' if ok else 'FAIL'} {check}")
        if name == "seed" and "contention-aware" in entry:
            for phase, d in entry["contention-aware"]["detail"].items():
                print(f"seed contention-aware {phase}: A {d['A_by_period']}  B {d['B_by_period']}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
