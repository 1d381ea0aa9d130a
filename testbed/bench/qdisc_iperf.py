"""iperf3 through the airtime qdisc against Debian's default qdisc, in QEMU.

Boots the kernel test bed (testbed/qemu) and, inside the guest, runs
testbed/kernel/bench_scenario.py: a mac80211_hwsim AP with one vif and
one station pinned to 54 Mb/s, iperf3 TCP and UDP (downstream, routed
in from another namespace) with the default root qdisc (mq + fq_codel)
and with the airtime qdisc (DCF and PPDU-only overhead models),
alternating over several rounds.  With one vif no share binds.

hwsim's medium has no airtime, so the default qdisc runs as fast as the
emulated CPU, while the airtime qdisc holds the vif to 100 % of the
channel time its estimates add up to.  The table therefore gives, for
each airtime mode, both the ratio to the default and the share of its
modelled ceiling (1448 payload octets per frame estimate) it reaches.

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


MODES = ("default", "airtime-dcf", "airtime-ppdu")
TCP_PAYLOAD = 1448


def summarise(raw: dict) -> dict:
    out: dict = {}
    for proto in ("tcp", "udp"):
        med = {mode: statistics.median(r["mbps"] for r in raw["runs"]
                                        if r["mode"] == mode and r["proto"] == proto)
               for mode in MODES}
        rows = {}
        for mode in MODES:
            frame_us = raw["frame_us"].get(mode)
            ceiling = TCP_PAYLOAD * 8 / frame_us if frame_us else None
            rows[mode] = {
                "mbps": med[mode],
                "ratio_to_default": med[mode] / med["default"] if med["default"] else None,
                "frame_us": frame_us,
                "model_ceiling_mbps": ceiling,
                "of_ceiling": med[mode] / ceiling if ceiling else None,
            }
        out[proto] = rows
    return out


def _fmt(value: float | None, spec: str) -> str:
    return format(value, spec) if value is not None else "-"


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
        timeout=180 + args.rounds * 6 * (args.seconds + 30), job_dir=job))
    out = job / "results.json"
    if guest.exit_code != 0 or not out.exists():
        print(guest.describe(), file=sys.stderr)
        return 1
    raw = json.loads(out.read_text())
    summary = summarise(raw)
    print(f"iperf3 through a hwsim vif (station at 54 Mb/s) under QEMU/TCG, {args.rounds} rounds of "
          f"{args.seconds}s, medians; default root qdisc: {raw['default_qdisc']}")
    print(f"{'proto':<6}{'mode':<14}{'Mb/s':>8}{'x default':>11}{'frame us':>10}"
          f"{'ceiling':>9}{'of ceiling':>12}")
    for proto, rows in summary.items():
        for mode, row in rows.items():
            print(f"{proto:<6}{mode:<14}{row['mbps']:>8.1f}{_fmt(row['ratio_to_default'], '.2f'):>11}"
                  f"{_fmt(row['frame_us'], 'd'):>10}{_fmt(row['model_ceiling_mbps'], '.1f'):>9}"
                  f"{_fmt(row['of_ceiling'], '.2f'):>12}")
    trouble = guest.kernel_trouble()
    if trouble:
        print("kernel trouble:\n  " + "\n  ".join(trouble), file=sys.stderr)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"summary": summary, "runs": raw["runs"],
                                   "frame_us": raw["frame_us"],
                                   "default_qdisc": raw["default_qdisc"],
                                   "seconds": args.seconds, "rounds": args.rounds}, indent=1))
    print(f"wrote {RESULTS}")
    return 0 if not trouble else 1


if __name__ == "__main__":
    sys.exit(main())
