"""Instructions per packet of the airtime core against a plain FIFO.

Counts, under callgrind, what ``kmod/build/airtime_bench`` executes per
packet (enqueue + dequeue + completion) for the airtime core driven the
way the kernel module drives it, and for a plain FIFO qdisc in the same
loop, with 1, 4 and 16 saturated vifs.  Each figure is the difference
between two runs (N and 2N packets) divided by N, so start-up work
cancels.  Also counts the simulator's batch driver per frame.

    python -m testbed.bench.core_callgrind [--vifs 1,4,16] [--packets 20000]

Prints a table and writes testbed/bench/results/core_callgrind.json.
Instruction counts are deterministic: the same build gives the same
numbers on any machine.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KMOD = ROOT / "kmod"
BENCH = KMOD / "build" / "airtime_bench"
RESULTS = ROOT / "testbed" / "bench" / "results" / "core_callgrind.json"
MODES = ("fifo", "core", "sim")


@dataclass(frozen=True)
class Row:
    vifs: int
    fifo_ir: float
    core_ir: float
    sim_ir: float

    @property
    def ratio(self) -> float:
        return self.core_ir / self.fifo_ir

    @property
    def overhead_ir(self) -> float:
        return self.core_ir - self.fifo_ir


def instructions(mode: str, vifs: int, packets: int, workdir: Path) -> tuple[int, int]:
    """Instructions callgrind counted for one run, and the packets it did."""
    out = workdir / f"cg.{mode}.{vifs}.{packets}"
    proc = subprocess.run(
        [
            "valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
            str(BENCH), mode, str(vifs), str(packets),
        ],
        capture_output=True, text=True, check=True, timeout=600,
    )
    done = int(proc.stdout.strip())
    summary = re.search(r"^summary:\s+(\d+)$", out.read_text(), re.M)
    if not summary:
        raise RuntimeError(f"no summary in {out}")
    return int(summary[1]), done


def per_packet(mode: str, vifs: int, packets: int, workdir: Path) -> float:
    ir1, done1 = instructions(mode, vifs, packets, workdir)
    ir2, done2 = instructions(mode, vifs, 2 * packets, workdir)
    return (ir2 - ir1) / (done2 - done1)


def measure(vif_counts: list[int], packets: int) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="core_callgrind.") as tmp:
        work = Path(tmp)
        return [
            Row(n, *(per_packet(mode, n, packets, work) for mode in MODES))
            for n in vif_counts
        ]


def table(rows: list[Row]) -> str:
    head = (
        f"{'vifs':>4}  {'fifo Ir/pkt':>11}  {'core Ir/pkt':>11}  {'core/fifo':>9}  "
        f"{'core-fifo':>9}  {'sim Ir/frame':>12}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r.vifs:>4}  {r.fifo_ir:>11.0f}  {r.core_ir:>11.0f}  {r.ratio:>9.1f}  "
            f"{r.overhead_ir:>9.0f}  {r.sim_ir:>12.0f}"
        )
    return "\n".join(lines)


def valgrind_version() -> str:
    return subprocess.run(
        ["valgrind", "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vifs", default="1,4,16", help="comma-separated vif counts (1..32)")
    ap.add_argument("--packets", type=int, default=20000, help="packets per run (N)")
    ap.add_argument("--out", type=Path, default=RESULTS, help="JSON result file")
    args = ap.parse_args(argv)
    try:
        vif_counts = [int(x) for x in args.vifs.split(",")]
    except ValueError:
        ap.error(f"--vifs {args.vifs!r}: expected integers like 1,4,16")
    if not all(1 <= n <= 32 for n in vif_counts) or args.packets < 100:
        ap.error("vif counts must be 1..32 and --packets at least 100")

    subprocess.run(["make", "-s", "-C", str(KMOD), "userspace"], check=True)
    rows = measure(vif_counts, args.packets)
    print("airtime core vs plain FIFO, callgrind instructions per packet "
          "(enqueue + dequeue + completion)")
    print(table(rows))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "benchmark": "core_callgrind",
        "unit": "instructions per packet (callgrind Ir)",
        "packets_per_run": args.packets,
        "valgrind": valgrind_version(),
        "rows": [asdict(r) | {"ratio": r.ratio, "overhead_ir": r.overhead_ir} for r in rows],
    }, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
