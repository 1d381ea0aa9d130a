"""iperf3 through the airtime qdisc against Debian's default qdisc, in QEMU.

Boots the kernel test bed (testbed/qemu) and, inside the guest, runs
testbed/kernel/bench_scenario.py: a mac80211_hwsim AP with one HT vif
and one station, iperf3 TCP and UDP (downstream, routed in from another
namespace) with the default root qdisc (mq + fq_codel) and with the
airtime qdisc, alternating over several rounds.  With one vif no share
binds; the ratio shows what the qdisc's own work costs (estimates,
completion tracking, pacing, CoDel) on an emulated CPU.

    python -m testbed.bench.qdisc_iperf [--seconds 8] [--rounds 3]

Prints a table and writes testbed/bench/results/qdisc_iperf.json.  Under
TCG the guest's CPU bounds throughput, so the ratio, not the absolute
Mb/s, is the figure; both modes run in the same boot.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from testbed.qemu import GuestSpec, build_module, run_guest_sync

RESULTS = Path(__file__).resolve().parent / "results" / "qdisc_iperf.json"


def summarise(runs: list[dict]) -> dict:
    out: dict = {}
    for proto in ("tcp", "udp"):
        med = {mode: statistics.median(r["mbps"] for r in runs
                                        if r["mode"] == mode and r["proto"] == proto)
               for mode in ("default", "airtime")}
        out[proto] = {"default_mbps": med["default"], "airtime_mbps": med["airtime"],
                      "ratio": med["airtime"] / med["default"] if med["default"] else None}
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m testbed.bench.qdisc_iperf", description=__doc__)
    p.add_argument("--seconds", type=int, default=8, help="length of each iperf3 run")
    p.add_argument("--rounds", type=int, default=3, help="alternating rounds per mode")
    args = p.parse_args(argv)

    ko = build_module()
    job = Path(__import__("tempfile").mkdtemp(prefix="ransdn-bench-"))
    guest = run_guest_sync(GuestSpec(
        command=[sys.executable, "-m", "testbed.kernel.bench_scenario", str(ko),
                 "/job/results.json", str(args.seconds), str(args.rounds)],
        timeout=120 + args.rounds * 4 * (args.seconds + 30), job_dir=job))
    out = job / "results.json"
    if guest.exit_code != 0 or not out.exists():
        print(guest.describe(), file=sys.stderr)
        return 1
    raw = json.loads(out.read_text())
    summary = summarise(raw["runs"])
    print(f"iperf3 through a hwsim vif under QEMU/TCG ({args.rounds} rounds of {args.seconds}s, "
          f"medians; default root qdisc: {raw['default_qdisc']})")
    print(f"{'protocol':<10}{'default Mb/s':>14}{'airtime Mb/s':>14}{'ratio':>8}")
    for proto, row in summary.items():
        print(f"{proto:<10}{row['default_mbps']:>14.1f}{row['airtime_mbps']:>14.1f}{row['ratio']:>8.2f}")
    trouble = guest.kernel_trouble()
    if trouble:
        print("kernel trouble:\n  " + "\n  ".join(trouble), file=sys.stderr)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"summary": summary, "runs": raw["runs"],
                                   "default_qdisc": raw["default_qdisc"],
                                   "seconds": args.seconds, "rounds": args.rounds}, indent=1))
    print(f"wrote {RESULTS}")
    return 0 if not trouble else 1


if __name__ == "__main__":
    sys.exit(main())
