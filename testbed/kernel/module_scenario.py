"""Module-level kernel scenario: the airtime qdisc and its genetlink family
on a hwsim AP with three slices, driven directly (no agent, no controller).

Run in the guest as ``python -m testbed.kernel.module_scenario KO OUT``;
writes OUT (JSON) with one entry per check.  A check that raises records
its traceback instead of a result, and the scenario carries on, so one
broken property does not hide the others.  The assertions are made by
tests/kernel/test_module.py.
"""

from __future__ import annotations

import asyncio
import ctypes
import json
import os
import socket
import struct
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Awaitable, Callable

from agent.backends.linux.airtime_netlink import AirtimeError, AirtimeNetlink
from agent.backends.linux.airtime_uapi import GENL_NAME, Attr, Cmd, RateSource
from testbed.kernel.airtime_model import frame_airtime_us
from testbed.kernel.genl_raw import RawGenl, nla, nla_u32
from testbed.kernel.measure import Meter
from testbed.kernel.setup import SLICES, Bed, attach_qdisc, build, load_module
from testbed.kernel.shell import CommandError, run
from testbed.kernel.traffic import UdpFlow

SHARES = {"wlan0": 2000, "wlan0_1": 3000, "wlan0_2": 5000}
#: Offered UDP per slice while all three send: 15 % above what its share
#: carries at its pinned rate (so it stays backlogged), and no more, to
#: spare the emulated CPU.
OFFERED_BPS = {"wlan0": 6_700_000, "wlan0_1": 5_800_000, "wlan0_2": 3_000_000}
#: Slice c on its own: above the 5.1 Mb/s its 6 Mb/s rate carries.
ALONE_BPS = 6_000_000
#: Under TCG a kicked qdisc may take many milliseconds to run when the
#: host is busy; a longer stall keeps it in its turn meanwhile.
STALL_US = 50_000
MODULE_NAME = "ransdn_airtime"


class Scenario:
    def __init__(self, ko: Path, out: Path) -> None:
        self.ko = ko
        self.out = out
        self.results: dict[str, Any] = {}
        self.bed: Bed | None = None
        self.nl: AirtimeNetlink | None = None
        self.ifindex: dict[str, int] = {}
        self.flows: dict[str, UdpFlow] = {}

    async def check(self, name: str, fn: Callable[[], Awaitable[Any]]) -> None:
        started = time.monotonic()
        try:
            result = await fn()
            entry = {"ok": True, "result": result}
        except Exception:
            entry = {"ok": False, "error": traceback.format_exc()}
        entry["seconds"] = round(time.monotonic() - started, 2)
        self.results[name] = entry
        self.out.write_text(json.dumps(self.results, indent=1, default=str))
        print(f"[scenario] {name}: {'ok' if entry['ok'] else 'ERROR'} "
              f"({entry['seconds']}s)", flush=True)
        if not entry["ok"]:
            print(entry["error"], flush=True)

    # ---- setup --------------------------------------------------------------

    async def setup(self) -> dict:
        self.bed = await build(self.ko)
        self.nl = AirtimeNetlink()
        await self.nl.open()
        self.ifindex = {v.ifname: v.ifindex for v in await self.nl.vifs()}
        for s, st in zip(SLICES, self.bed.stations):
            self.flows[s.vif] = UdpFlow(st, OFFERED_BPS[s.vif], 5200 + 100 * st.radio)
        return {"vifs": self.ifindex, "stations": [st.mac for st in self.bed.stations]}

    async def set_shares(self, shares: dict[str, int]) -> None:
        # Lower guarantees first, so the sum never exceeds 100 % on the way.
        current = {v.ifname: v.share for v in await self.nl.vifs()}
        for vif in sorted(shares, key=lambda v: shares[v] - current.get(v, 0)):
            await self.nl.set_vif(self.ifindex[vif], share=shares[vif])

    # ---- checks -------------------------------------------------------------

    async def attach_errors(self) -> dict:
        out = {}
        await run("ip", "link", "add", "dummy0", "type", "dummy")
        try:
            await run("tc", "qdisc", "replace", "dev", "dummy0", "root", "airtime")
            out["dummy"] = "accepted"
        except CommandError as err:
            out["dummy"] = err.output.strip()
        await run("ip", "link", "del", "dummy0")
        vif = "wlan0_2"
        await run("tc", "qdisc", "replace", "dev", vif, "root", "handle", "1:", "prio")
        try:
            await run("tc", "qdisc", "add", "dev", vif, "parent", "1:1", "airtime")
            out["child"] = "accepted"
        except CommandError as err:
            out["child"] = err.output.strip()
        await attach_qdisc(vif)
        self.ifindex = {v.ifname: v.ifindex for v in await self.nl.vifs()}
        out["vifs_after"] = sorted(self.ifindex)
        return out

    async def genl_basics(self) -> dict:
        phys = await self.nl.phys()
        vifs = await self.nl.vifs()
        one = await self.nl.vif(self.ifindex["wlan0_1"])
        phy = await self.nl.phy(self.ifindex["wlan0"])
        await self.nl.set_phy(self.ifindex["wlan0"], interval_us=100000, inflight_budget_us=4000,
                              stall_us=STALL_US)
        return {
            "phys": [p.__dict__ for p in phys],
            "vifs": sorted(v.ifname for v in vifs),
            "vif_wlan0_1": one.ifname,
            "phy_of_wlan0": phy.name,
            "num_vifs": phy.num_vifs,
        }

    async def genl_rejects(self) -> dict:
        raw = RawGenl()
        fam = raw.family_id(GENL_NAME)
        wlan0 = nla_u32(Attr.IFINDEX, self.ifindex["wlan0"])
        lo = socket.if_nametoindex("lo")
        cases = {
            "unknown_attr": (Cmd.SET_VIF, wlan0 + nla_u32(200, 1), {}),
            "other_cmds_attr": (Cmd.SET_VIF, wlan0 + nla_u32(Attr.INTERVAL_US, 100000), {}),
            "share_out_of_range": (Cmd.SET_VIF, wlan0 + nla_u32(Attr.SHARE, 10001), {}),
            "cap_zero": (Cmd.SET_VIF, wlan0 + nla_u32(Attr.CAP, 0), {}),
            "share_short": (Cmd.SET_VIF, wlan0 + nla(Attr.SHARE, struct.pack("=H", 100)), {}),
            "truncated_tlv": (Cmd.SET_VIF, wlan0 + struct.pack("=HH", 40, Attr.SHARE) + b"\0" * 4, {}),
            "missing_ifindex": (Cmd.SET_VIF, nla_u32(Attr.SHARE, 1000), {}),
            "nothing_to_set": (Cmd.SET_VIF, wlan0, {}),
            "not_airtime_dev": (Cmd.SET_VIF, nla_u32(Attr.IFINDEX, lo) + nla_u32(Attr.SHARE, 1000), {}),
            "cap_below_share": (Cmd.SET_VIF, wlan0 + nla_u32(Attr.SHARE, 3000) + nla_u32(Attr.CAP, 2000), {}),
            "interval_too_short": (Cmd.SET_PHY, wlan0 + nla_u32(Attr.INTERVAL_US, 500), {}),
            "overhead_unknown": (Cmd.SET_PHY, wlan0 + nla(Attr.OVERHEAD_MODEL, b"\x07"), {}),
            "reserved_header": (Cmd.SET_VIF, wlan0 + nla_u32(Attr.SHARE, 1000), {"reserved": 1}),
            "output_only_attr": (Cmd.GET_VIF, wlan0 + nla_u32(Attr.TX_PACKETS, 5), {}),
            "unknown_cmd": (99, wlan0, {}),
        }
        before = await self.nl.vif(self.ifindex["wlan0"])
        before_phy = await self.nl.phy(self.ifindex["wlan0"])
        out = {}
        for name, (cmd, payload, kw) in cases.items():
            ack = raw.request(fam, int(cmd), payload, **kw)
            out[name] = {"errno": ack.error, "message": ack.message}
        raw.close()
        after = await self.nl.vif(self.ifindex["wlan0"])
        after_phy = await self.nl.phy(self.ifindex["wlan0"])
        out["unchanged"] = (before.share, before.cap, before.queue_limit) == \
            (after.share, after.cap, after.queue_limit) and \
            (before_phy.interval_us, before_phy.inflight_budget_us, before_phy.overhead) == \
            (after_phy.interval_us, after_phy.inflight_budget_us, after_phy.overhead)
        return out

    async def permissions(self) -> dict:
        """A process without CAP_NET_ADMIN may read but not set."""
        pid = os.fork()
        if pid == 0:
            code = 3
            try:
                os.setgroups([])
                os.setgid(65534)
                os.setuid(65534)
                raw = RawGenl()
                fam = raw.family_id(GENL_NAME)
                wlan0 = nla_u32(Attr.IFINDEX, self.ifindex["wlan0"])
                get = raw.request(fam, int(Cmd.GET_VIF), wlan0)
                put = raw.request(fam, int(Cmd.SET_VIF), wlan0 + nla_u32(Attr.SHARE, 4000))
                setp = raw.request(fam, int(Cmd.SET_PHY), wlan0 + nla_u32(Attr.INTERVAL_US, 50000))
                code = (0 if get.error == 0 else 1) | (0 if put.error == 1 else 2) | \
                       (0 if setp.error == 1 else 4)
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        vif = await self.nl.vif(self.ifindex["wlan0"])
        return {"child_code": code, "get_ok": not code & 1, "set_vif_eperm": not code & 2,
                "set_phy_eperm": not code & 4, "share_after": vif.share}

    async def estimates(self) -> dict:
        """Under traffic, rate control has settled on each pinned rate."""
        out = {}
        for st in await self.nl.stations():
            s = next(s for s in SLICES if s.vif == st.ifname)
            model = {qos: frame_airtime_us(1514, s.rate_mbps * 1000, qos=qos)
                     for qos in (False, True)}
            out[st.ifname] = {"mac": st.mac, "rate_kbps": st.rate_kbps,
                              "source": RateSource(st.rate_source).name,
                              "frame_us": st.frame_us, "model_us": model,
                              "pinned_kbps": s.rate_mbps * 1000}
        return out

    async def station_info_fallback(self) -> dict:
        param = f"/sys/module/{MODULE_NAME}/parameters/force_station_info"
        Path(param).write_text("1")
        try:
            # The first lookup asks the work item; the next ones see its answer.
            await self.nl.stations()
            await asyncio.sleep(0.5)
            seen = {st.ifname: (RateSource(st.rate_source).name, st.rate_kbps)
                    for st in await self.nl.stations()}
        finally:
            Path(param).write_text("0")
        return seen

    async def bypass(self) -> dict:
        """EAPOL frames skip a throttled vif's queue."""
        vif, idx = "wlan0_2", self.ifindex["wlan0_2"]
        sta = self.bed.stations[2]
        flow = self.flows[vif]
        await flow.start()
        await self.nl.set_vif(idx, cap=5000)
        await self.nl.set_vif(idx, share=100, cap=100)
        await asyncio.sleep(1.0)
        before = await self.nl.vif(idx)
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x888E))
        sock.bind((vif, 0))
        src = bytes.fromhex(open(f"/sys/class/net/{vif}/address").read().strip().replace(":", ""))
        dst = bytes.fromhex(sta.mac.replace(":", ""))
        frame = dst + src + struct.pack("!H", 0x888E) + bytes([2, 3, 0, 0]) + b"\0" * 60
        sent_at = time.monotonic()
        for _ in range(5):
            sock.send(frame)
        await asyncio.sleep(0.05)
        after = await self.nl.vif(idx)
        sock.close()
        await flow.stop()
        await self.nl.set_vif(idx, share=SHARES[vif], no_cap=True)
        return {"bypass_before": before.bypass_packets, "bypass_after": after.bypass_packets,
                "backlog_packets": after.backlog_packets, "throttled": after.throttled_us > before.throttled_us,
                "within_s": round(time.monotonic() - sent_at, 3)}

    async def reports(self) -> dict:
        got = []

        async def collect() -> None:
            async for rep in self.nl_reports.reports():
                got.append(rep)
                if len(got) == 4:
                    return

        self.nl_reports = AirtimeNetlink()
        await self.nl_reports.open()
        try:
            await asyncio.wait_for(collect(), 10)
        finally:
            self.nl_reports.close()
        stamps = [r.timestamp_ns for r in got]
        return {"count": len(got), "gaps_ms": [(b - a) / 1e6 for a, b in zip(stamps, stamps[1:])],
                "vifs": [sorted(v.ifname for v in r.vifs) for r in got],
                "phy": got[0].phy.name, "interval_us": got[0].phy.interval_us}

    async def alone(self) -> dict:
        """Slice c alone, nobody else sending: its throughput baseline."""
        flow = self.flows["wlan0_2"]
        flow.rate_bps = ALONE_BPS
        await flow.start()
        await asyncio.sleep(1.5)
        w = await Meter(self.nl, SLICES, self.bed.stations).window(4.0)
        await flow.stop()
        flow.rate_bps = OFFERED_BPS["wlan0_2"]
        await asyncio.sleep(0.5)
        return w.as_dict()

    async def shares(self) -> dict:
        await self.set_shares(SHARES)
        if os.environ.get("RANSDN_BUDGET"):
            await self.nl.set_phy(self.ifindex["wlan0"], inflight_budget_us=int(os.environ["RANSDN_BUDGET"]))
        for flow in self.flows.values():
            await flow.start()
        await asyncio.sleep(2.0)
        w = await Meter(self.nl, SLICES, self.bed.stations).window(6.0)
        vifs = {v.ifname: v for v in await self.nl.vifs()}
        return {**w.as_dict(), "drops": {k: v.drops for k, v in vifs.items()},
                "estimate_packets": {k: v.estimate_packets for k, v in vifs.items()},
                "status_packets": {k: v.status_packets for k, v in vifs.items()},
                "untracked_packets": {k: v.untracked_packets for k, v in vifs.items()},
                "source": {k: v.source.name for k, v in vifs.items()},
                "congestion": {k: v.congestion for k, v in vifs.items()},
                "borrowed_us": {k: v.borrowed_us for k, v in vifs.items()},
                "targets": {k: v / 10000 for k, v in SHARES.items()}}

    async def share_change(self) -> dict:
        """Move 10 points from a to c under load; how soon is the new split there?"""
        target = {"wlan0": 1000, "wlan0_1": 3000, "wlan0_2": 6000}
        # c must have the traffic to fill 60 %.
        self.flows["wlan0_2"].rate_bps = ALONE_BPS
        await self.flows["wlan0_2"].start()
        await asyncio.sleep(1.5)
        meter = Meter(self.nl, SLICES, self.bed.stations)
        changed_at = time.monotonic()
        await self.set_shares(target)
        prev = await meter.snapshot()
        samples = []
        while time.monotonic() - changed_at < 4.0:
            await asyncio.sleep(0.25)
            snap = await meter.snapshot()
            samples.append({"t": round(snap.t - changed_at, 3),
                            "shares": meter.between(prev, snap).module_shares()})
            prev = snap
        await self.set_shares(SHARES)
        return {"targets": {k: v / 10000 for k, v in target.items()}, "samples": samples}

    async def wait_drained(self, vifs: list[str], timeout: float = 15) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            state = {v.ifname: v.backlog_packets for v in await self.nl.vifs()}
            if all(state.get(v, 0) == 0 for v in vifs):
                return time.monotonic() - started
            await asyncio.sleep(0.2)
        raise TimeoutError(f"{vifs} still backlogged after {timeout}s")

    async def work_conservation(self) -> dict:
        """With a and b stopped (and their queues drained), c takes what they leave."""
        self.flows["wlan0_2"].rate_bps = ALONE_BPS
        await self.flows["wlan0_2"].start()
        await self.flows["wlan0"].stop()
        await self.flows["wlan0_1"].stop()
        drained = await self.wait_drained(["wlan0", "wlan0_1"])
        await asyncio.sleep(0.5)
        w = await Meter(self.nl, SLICES, self.bed.stations).window(4.0)
        return {**w.as_dict(), "drain_s": drained}

    async def cap(self) -> dict:
        """c alone with a 60 % cap: never more, even on an idle radio."""
        idx = self.ifindex["wlan0_2"]
        await self.nl.set_vif(idx, cap=6000)
        await asyncio.sleep(1.0)
        w = await Meter(self.nl, SLICES, self.bed.stations).window(4.0)
        await self.nl.set_vif(idx, no_cap=True)
        return {**w.as_dict(), "cap": 0.6}

    async def untracked(self) -> dict:
        """Locally generated frames carry a socket destructor: not followed."""
        idx = self.ifindex["wlan0"]
        before = await self.nl.vif(idx)
        await run("ping", "-c", "5", "-i", "0.2", "-W", "2", self.bed.stations[0].ip)
        after = await self.nl.vif(idx)
        return {"untracked_before": before.untracked_packets,
                "untracked_after": after.untracked_packets}

    async def vif_delete(self) -> dict:
        """Remove slice c's BSS (and netdev) while its queue is full."""
        flow = self.flows["wlan0_2"]
        await flow.start()
        await asyncio.sleep(1.0)
        backlog = (await self.nl.vif(self.ifindex["wlan0_2"])).backlog_packets
        await self.bed.ap.remove_bss("wlan0_2")
        await asyncio.sleep(0.5)
        await flow.close()
        vifs = sorted(v.ifname for v in await self.nl.vifs())
        phy = await self.nl.phy(self.ifindex["wlan0"])
        return {"backlog_before": backlog, "vifs_after": vifs, "num_vifs": phy.num_vifs}

    async def unload_cycles(self, cycles: int = 20) -> dict:
        """Detach, unload, reload and reattach under traffic, again and again."""
        vifs = ["wlan0", "wlan0_1"]
        for vif in vifs:
            await self.flows[vif].start()
        await asyncio.sleep(1.0)
        try:
            await run("rmmod", MODULE_NAME)
            refused = "unloaded while attached"
        except CommandError as err:
            refused = err.output.strip()
        self.nl.close()
        retries, done = [], 0
        for _ in range(cycles):
            for vif in vifs:
                await run("tc", "qdisc", "del", "dev", vif, "root")
            tries = 0
            while True:
                tries += 1
                try:
                    await run("rmmod", MODULE_NAME)
                    break
                except CommandError:
                    if tries >= 50:
                        raise
                    await asyncio.sleep(0.05)
            retries.append(tries)
            await load_module(self.ko)
            for vif in vifs:
                await attach_qdisc(vif)
            async with AirtimeNetlink() as nl:
                idx = {v.ifname: v.ifindex for v in await nl.vifs()}
                await nl.set_vif(idx["wlan0"], share=2000)
                await nl.set_vif(idx["wlan0_1"], share=3000)
            await asyncio.sleep(0.2)
            done += 1
        async with AirtimeNetlink() as nl:
            sent = {v.ifname: v.tx_packets for v in await nl.vifs()}
        for vif in vifs:
            await self.flows[vif].stop()
            await run("tc", "qdisc", "del", "dev", vif, "root")
        await run("rmmod", MODULE_NAME)
        lsmod = await run("lsmod")
        return {"refused_while_attached": refused, "cycles": done, "rmmod_tries": retries,
                "last_cycle_tx_packets": sent, "loaded_at_end": MODULE_NAME in lsmod}

    async def run(self) -> None:
        await self.check("setup", self.setup)
        if not self.results["setup"]["ok"]:
            return
        if os.environ.get("RANSDN_ONLY"):
            for name in os.environ["RANSDN_ONLY"].split(","):
                await self.check(name, getattr(self, name))
            return
        await self.check("attach_errors", self.attach_errors)
        await self.check("genl_basics", self.genl_basics)
        await self.check("genl_rejects", self.genl_rejects)
        await self.check("permissions", self.permissions)
        await self.check("reports", self.reports)
        await self.check("bypass", self.bypass)
        await self.check("alone", self.alone)
        await self.check("shares", self.shares)
        await self.check("estimates", self.estimates)
        await self.check("station_info_fallback", self.station_info_fallback)
        await self.check("share_change", self.share_change)
        await self.check("work_conservation", self.work_conservation)
        await self.check("cap", self.cap)
        await self.check("untracked", self.untracked)
        await self.check("vif_delete", self.vif_delete)
        await self.check("unload_cycles", self.unload_cycles)
        for flow in self.flows.values():
            await flow.close()


async def main(argv: list[str]) -> int:
    scenario = Scenario(Path(argv[1]), Path(argv[2]))
    await scenario.run()
    return 0


if __name__ == "__main__":
    del ctypes
    sys.exit(asyncio.run(main(sys.argv)))
