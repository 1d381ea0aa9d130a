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
(period, domain, slice) after the first period.  A run has converged at the
first period whose p95 absolute error is within the scenario's tolerance.
Compute time is the CPU time of :meth:`GlobalScheduler.step` (one core).
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
    abs_error_p95: float
    periods_to_converge: int | None
    utilisation: float
    compute_cpu_ms_mean: float
    compute_cpu_ms_p95: float
    compute_cpu_ms_max: float
    compute_wall_ms_mean: float
    violation_periods: int
    detail: dict[str, Any]


def _p95(values: np.ndarray) -> float:
    return float(np.percentile(values, 95)) if values.size else 0.0


def _converged_at(records: list[PeriodRecord], start: int, end: int, tolerance: float) -> int | None:
    """Periods after ``start`` until p95 |error| is within tolerance."""
    for r in records:
        if start <= r.period < end:
            mask = r.backlogged & r.measured
            if mask.any() and _p95(np.abs(r.error[mask])) <= tolerance:
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
    errors = np.concatenate([np.maximum(r.error[r.backlogged & r.measured], 0.0) for r in later] or [np.zeros(0)])
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
        abs_error_p95=_p95(absolute),
        periods_to_converge=_converged_at(records, first, end, sc.tolerance),
        utilisation=float(use.mean()) if use.size else 0.0,
        compute_cpu_ms_mean=float(cpu.mean()),
        compute_cpu_ms_p95=_p95(cpu),
        compute_cpu_ms_max=float(cpu.max()),
        compute_wall_ms_mean=float(wall.mean()),
        violation_periods=int(sum(int(r.violated.sum()) for r in records)),
        detail=_seed_detail(records, sc) if sc.name == "seed" else {},
    )


def run_one(name: str, policy: str, seed: int) -> Figures:
    sc = scenario(name)
    run = OfflineRun(sc, policy, seed=seed)
    records = asyncio.run(run.run())
    return figures(sc, policy, records, run)


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
        checks["30/70 within 1 point within 3 periods"] = (
            d["both"]["periods_to_converge"] is not None and d["both"]["periods_to_converge"] <= 3
        )
        checks["B idle: A gets >= 95 % of the channel"] = d["b-idle"]["A"] >= 95.0
        checks["B back: 30/70 within 1 point within 3 periods"] = (
            d["b-back"]["periods_to_converge"] is not None and d["b-back"]["periods_to_converge"] <= 3
        )
    return checks


def table(results: list[Figures]) -> str:
    head = (
        f"{'scenario':<9} {'policy':<17} {'radios':>6} {'domains':>7} {'err mean':>8} {'err p95':>7} "
        f"{'|err| p95':>9} {'converge':>8} {'util':>6} {'cpu ms':>7} {'p95':>6} {'max':>6} {'viol':>5}"
    )
    lines = [head, "-" * len(head)]
    for f in results:
        converge = "-" if f.periods_to_converge is None else str(f.periods_to_converge)
        lines.append(
            f"{f.scenario:<9} {f.policy:<17} {f.radios:>6} {f.domains:>7} {f.sla_error_mean:>8.2f} "
            f"{f.sla_error_p95:>7.2f} {f.abs_error_p95:>9.2f} {converge:>8} {f.utilisation:>6.3f} "
            f"{f.compute_cpu_ms_mean:>7.2f} {f.compute_cpu_ms_p95:>6.2f} {f.compute_cpu_ms_max:>6.2f} {f.violation_periods:>5}"
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
                "p95 SLA error <= 2 points": aware.sla_error_p95 <= 2.0,
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
