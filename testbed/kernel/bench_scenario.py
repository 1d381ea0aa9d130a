"""In-guest part of testbed/bench/qdisc_iperf.py: iperf3 through one
vif with Debian's default root qdisc (mq + fq_codel) and with the airtime
qdisc (one vif, so no share binds), alternating, several rounds.

hwsim's built-in medium has no airtime at all: the default qdisc runs as
fast as the emulated CPU, while the airtime qdisc paces to 100 % of the
channel time its estimates add up to.  The station is pinned to 54 Mb/s
(OFDM-only radio: the one rate pinning that rate control honours
reliably on hwsim; an HT MCS mask is not) and the airtime qdisc runs
twice: with the DCF overhead model (what a deployment uses) and with the
PPDU-only model, whose ceiling lies closer to what the CPU can carry.
The module's per-frame estimate gives each mode's modelled ceiling.

Run in the guest as ``python -m testbed.kernel.bench_scenario KO OUT [SECONDS ROUNDS]``;
writes OUT (JSON).
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from agent.backends.linux.airtime_netlink import AirtimeNetlink
from agent.backends.linux.airtime_uapi import Overhead
from agent.backends.linux.hostapd_config import BssConfig, HostapdRadio
from testbed.kernel.setup import CHANNEL, load_module
from testbed.kernel.shell import run, spawn, stop
from testbed.kernel.traffic import PAYLOAD, WAN, setup_wan
from testbed.kernel.wifi import AccessPoint, add_station, load_hwsim, pin_legacy_rate

VIF = "wlan0"
RATE_MBPS = 54
MODES = {"default": None, "airtime-dcf": Overhead.DCF, "airtime-ppdu": Overhead.NONE}


async def iperf(station_ip: str, udp: bool, seconds: int) -> float:
    """Mb/s the receiver got in one iperf3 run from the wan namespace."""
    argv = ["iperf3", "-c", station_ip, "-t", str(seconds), "-J", "--connect-timeout", "3000"]
    if udp:
        argv += ["-u", "-b", "300M", "-l", str(PAYLOAD)]
    end = json.loads(await run(*argv, netns=WAN, timeout=seconds + 60))["end"]
    summary = end.get("sum_received") or end["sum"]
    return summary["bits_per_second"] / 1e6


async def set_mode(mode: str) -> int | None:
    """Install the mode's root qdisc; the module's estimate for a full frame."""
    overhead = MODES[mode]
    if overhead is None:
        await run("tc", "qdisc", "del", "dev", VIF, "root", check=False)
        return None
    await run("tc", "qdisc", "replace", "dev", VIF, "root", "airtime")
    async with AirtimeNetlink() as nl:
        (vif,) = await nl.vifs()
        await nl.set_phy(vif.ifindex, overhead=overhead)
        for _ in range(20):
            (sta,) = await nl.stations(vif.ifindex)
            if sta.rate_kbps == RATE_MBPS * 1000:
                return sta.frame_us
            await asyncio.sleep(0.25)
        raise RuntimeError(f"the module estimates at {sta.rate_kbps} kbit/s, not {RATE_MBPS} Mb/s")


async def main(argv: list[str]) -> int:
    ko, out = Path(argv[1]), Path(argv[2])
    seconds = int(argv[3]) if len(argv) > 3 else 8
    rounds = int(argv[4]) if len(argv) > 4 else 3
    await load_hwsim(2)
    await load_module(ko)
    ap = AccessPoint(workdir=Path("/run/ransdn-ap"),
                     radio=HostapdRadio(phy="phy0", band="2.4ghz", channel=CHANNEL,
                                       legacy_ofdm_only=True))
    await ap.start()
    await ap.add_bss(BssConfig(ifname=VIF, ssid="bench", bssid="02:00:00:00:00:00"))
    await run("ip", "addr", "add", "10.0.1.1/24", "dev", VIF)
    station = await add_station(1, "bench", None, CHANNEL, "10.0.1.2", "10.0.1.1")
    await pin_legacy_rate(VIF, RATE_MBPS)
    await setup_wan(["10.0.0.0/16"])
    server = await spawn("iperf3", "-s", netns=station.netns)
    await asyncio.sleep(0.5)
    for _ in range(5):
        await iperf(station.ip, False, 2)     # let rate control settle on it
        if f"{RATE_MBPS}.0 MBit/s" in await run("iw", "dev", VIF, "station", "dump"):
            break
    else:
        raise RuntimeError(f"the station's TX rate did not settle on {RATE_MBPS} Mb/s")
    default_qdisc = (await run("tc", "qdisc", "show", "dev", VIF)).split("\n")[0]
    results: dict = {"default_qdisc": default_qdisc, "seconds": seconds, "runs": [],
                     "frame_us": {}}
    for rnd in range(rounds):
        for mode in MODES:
            frame_us = await set_mode(mode)
            if frame_us:
                results["frame_us"][mode] = frame_us
            for proto in ("tcp", "udp"):
                mbps = await iperf(station.ip, proto == "udp", seconds)
                results["runs"].append({"round": rnd, "mode": mode, "proto": proto, "mbps": mbps})
                out.write_text(json.dumps(results, indent=1))
                print(f"[bench] round {rnd} {mode} {proto}: {mbps:.1f} Mb/s", flush=True)
    results["station"] = await run("iw", "dev", VIF, "station", "dump")
    out.write_text(json.dumps(results, indent=1))
    await stop(server)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv)))
