"""In-guest part of testbed/bench/qdisc_iperf.py: iperf3 through one HT
vif with Debian's default root qdisc (mq + fq_codel) and with the airtime
qdisc (one vif, so no share binds), alternating, several rounds.

Run in the guest as ``python -m testbed.kernel.bench_scenario KO OUT [SECONDS ROUNDS]``;
writes OUT (JSON): Mb/s per mode, protocol and round.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from agent.backends.linux.hostapd_config import BssConfig, RadioConfig
from testbed.kernel.setup import CHANNEL, load_module
from testbed.kernel.shell import run, spawn, stop
from testbed.kernel.traffic import PAYLOAD, WAN, setup_wan
from testbed.kernel.wifi import AccessPoint, add_station, load_hwsim

VIF = "wlan0"


async def iperf(station_ip: str, udp: bool, seconds: int) -> float:
    """Received Mb/s of one iperf3 run from the wan namespace."""
    argv = ["iperf3", "-c", station_ip, "-t", str(seconds), "-J", "--connect-timeout", "3000"]
    if udp:
        argv += ["-u", "-b", "200M", "-l", str(PAYLOAD)]
    out = json.loads(await run(*argv, netns=WAN, timeout=seconds + 60))
    end = out["end"]
    summary = end["sum"] if udp else end["sum_received"]
    return summary["bits_per_second"] / 1e6


async def main(argv: list[str]) -> int:
    ko, out = Path(argv[1]), Path(argv[2])
    seconds = int(argv[3]) if len(argv) > 3 else 8
    rounds = int(argv[4]) if len(argv) > 4 else 3
    await load_hwsim(2)
    await load_module(ko)
    ap = AccessPoint(workdir=Path("/run/ransdn-ap"),
                     radio=RadioConfig(phy="phy0", band="2.4ghz", channel=CHANNEL))
    await ap.start()
    await ap.add_bss(BssConfig(ifname=VIF, ssid="bench", bssid="02:00:00:00:00:00"))
    await run("ip", "addr", "add", "10.0.1.1/24", "dev", VIF)
    station = await add_station(1, "bench", None, CHANNEL, "10.0.1.2", "10.0.1.1")
    await setup_wan(["10.0.0.0/16"])
    server = await spawn("iperf3", "-s", netns=station.netns)
    await asyncio.sleep(0.5)
    default_qdisc = (await run("tc", "qdisc", "show", "dev", VIF)).split("\n")[0]
    results: dict = {"default_qdisc": default_qdisc, "seconds": seconds, "runs": []}
    for rnd in range(rounds):
        for mode in ("default", "airtime"):
            if mode == "airtime":
                await run("tc", "qdisc", "replace", "dev", VIF, "root", "airtime")
            else:
                await run("tc", "qdisc", "del", "dev", VIF, "root", check=False)
            for proto in ("tcp", "udp"):
                mbps = await iperf(station.ip, proto == "udp", seconds)
                results["runs"].append({"round": rnd, "mode": mode, "proto": proto, "mbps": mbps})
                out.write_text(json.dumps(results, indent=1))
                print(f"[bench] round {rnd} {mode} {proto}: {mbps:.1f} Mb/s", flush=True)
    rate = (await run("iw", "dev", VIF, "station", "dump"))
    results["station_dump"] = rate
    out.write_text(json.dumps(results, indent=1))
    await stop(server)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv)))
