"""End-to-end kernel scenario: controller -> NETCONF -> agent (linux backend)
-> hostapd + airtime module, on a hwsim AP, all in one guest.

Three Wi-Fi slices (20/30/50 %) are created through the controller's REST
API on one node whose agent runs the linux backend.  One station per SSID,
each pinned to its own legacy rate (54, 24, 6 Mb/s), gets saturating
downstream UDP.  The scenario measures the airtime split by the module's
own statistics and by the stations' received frames, work conservation,
a cap and a share change made through the API, and deleting a slice (its
vif) under traffic.  hwsim's built-in medium gives no TX status, so the
module charges its estimates here.

Run in the guest as ``python -m testbed.kernel.e2e_scenario KO OUT``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import sys
import time
from pathlib import Path

from agent.backends.linux.airtime_netlink import AirtimeNetlink
from ransdn.provisioning import PSK_STATE_FILTER
from ransdn.yangdata import NAMESPACES
from testbed.kernel.measure import Meter
from testbed.kernel.module_scenario import MODULE_NAME, Scenario
from testbed.kernel.rest import Rest
from testbed.kernel.setup import Slice, connect_stations, load_module
from testbed.kernel.shell import run, spawn, stop
from testbed.kernel.traffic import UdpFlow
from testbed.kernel.wifi import load_hwsim

BIN = Path(sys.executable).parent
WORK = Path("/run/e2e")
NODE = "ap1"
PASSPHRASE = "correct horse battery"
TENANTS = (
    # slice id, tenant, ssid, passphrase, share, pinned rate, offered (bit/s)
    ("slice-a", "tenant-a", "city-a", None, 20, 54, 6_700_000),
    ("slice-b", "tenant-b", "city-b", PASSPHRASE, 30, 24, 5_800_000),
    ("slice-c", "tenant-c", "city-c", None, 50, 6, 3_000_000),
)
ALONE_BPS = 6_000_000
#: What the global airtime scheduler's telemetry reads of a node's state
#: (ransdn/airtime/telemetry.py), as one subtree filter.
AIRTIME_STATE_FILTER = (
    f'<wifi-node-state xmlns="{NAMESPACES["ransdn-wifi"]}"><radio><name/><mac-address/><band/>'
    '<channel/><survey/><neighbor/><vif><name/><bssid/><airtime/><counters/></vif></radio>'
    '</wifi-node-state>')
FULL_STATE_FILTER = f'<wifi-node-state xmlns="{NAMESPACES["ransdn-wifi"]}"/>'
#: The linux backend's log line for each apply (see LinuxBackend.apply).
APPLIED = re.compile(r"applied the Wi-Fi configuration in ([\d.]+)s(.*)")


def wpa_psk(passphrase: str, ssid: str) -> str:
    # Written out here, not ransdn.model.psk.derive_psk: the stations must
    # hold the key IEEE 802.11 derives, not whatever the controller does.
    return hashlib.pbkdf2_hmac("sha1", passphrase.encode(), ssid.encode(), 4096, 32).hex()


class E2EScenario(Scenario):
    async def start_controller(self) -> None:
        WORK.mkdir(parents=True, exist_ok=True)
        log = open(self.out.parent / "controller.log", "ab")
        self.controller = await asyncio.create_subprocess_exec(
            str(BIN / "ransdn-controller"), "--listen", "127.0.0.1:0",
            "--db", str(WORK / "ransdn.db"), "--node-networks", "127.0.0.0/8",
            # Reconciliation reads the node's whole state; under TCG that
            # costs CPU the measurements need, and it is not under test here.
            "--keepalive-interval", "30", "--reconcile-interval", "600",
            stdout=asyncio.subprocess.PIPE, stderr=log)
        log.close()
        assert self.controller.stdout is not None
        line = await asyncio.wait_for(self.controller.stdout.readline(), 180)
        m = re.search(rb"listening on (http://\S+)", line)
        if not m:
            raise RuntimeError(f"controller did not start: {line!r}")
        self.rest = Rest(m.group(1).decode())

    async def start_agent(self) -> dict:
        info = await self.rest.get("/api/v1/controller")
        keys = WORK / "authorized_keys"
        keys.write_text(info["ssh_public_key"].strip() + "\n")
        (WORK / "backend.json").write_text(json.dumps({
            "radios": {"phy0": {"legacy_ofdm_only": True}},
            "scheduler_stall_us": 50000,
        }))
        ready = WORK / "agent-ready.json"
        self.agent = await spawn(
            str(BIN / "ransdn-agent"), "--kind", "wifi", "--backend", "linux",
            "--listen", "127.0.0.1:0", "--state-dir", str(WORK / "agent"),
            "--authorized-keys", str(keys), "--backend-config", str(WORK / "backend.json"),
            "--node-id", NODE, "--ready-file", str(ready), "--log-level", "info",
            log=str(self.out.parent / "agent.log"))
        for _ in range(1800):
            if ready.exists():
                return json.loads(ready.read_text())
            if self.agent.returncode is not None:
                raise RuntimeError("the agent exited; see agent.log")
            await asyncio.sleep(0.1)
        raise RuntimeError("the agent did not become ready")

    async def setup(self) -> dict:
        started = time.monotonic()
        await load_hwsim(1 + len(TENANTS))
        await load_module(self.ko)
        await self.start_controller()
        agent = await self.start_agent()
        await self.rest.call("POST", "/api/v1/nodes", {
            "name": NODE, "kind": "wifi", "address": "127.0.0.1", "port": agent["port"],
            "host_key": agent["fingerprint"],
            "radios": [{"name": "phy0", "band": "2.4ghz", "channel": 1}],
        })
        for _ in range(600):
            node = await self.rest.get(f"/api/v1/nodes/{NODE}")
            if node["connection"]["state"] == "connected":
                break
            await asyncio.sleep(0.2)
        else:
            raise RuntimeError(f"the controller did not connect: {node['connection']}")
        connected_at = time.monotonic()
        created = {}
        for sid, tenant, ssid, passphrase, share, _, _ in TENANTS:
            t0 = time.monotonic()
            security = {"mode": "wpa2-psk", "passphrase": passphrase} if passphrase else {"mode": "open"}
            reply = await self.rest.call("POST", "/api/v1/slices", {
                "id": sid, "tenant": tenant,
                "wifi": {"ssid": ssid, "security": security, "guaranteed_share": share,
                         "nodes": [{"node": NODE, "radios": ["phy0"]}]},
            })
            created[sid] = {"status": reply.status, "seconds": round(time.monotonic() - t0, 2),
                            "state": reply.body.get("state")}
        # The controller names the vifs; find each slice's by its SSID.
        vifs = await self.vifs_by_ssid()
        self.slices = tuple(
            Slice(vifs[ssid], ssid, wpa_psk(p, ssid) if p else None, rate, i + 1)
            for i, (_, _, ssid, p, _, rate, _) in enumerate(TENANTS))
        self.offered = {s.vif: t[6] for s, t in zip(self.slices, TENANTS)}
        self.slice_of = {s.vif: t[0] for s, t in zip(self.slices, TENANTS)}
        self.stations = await connect_stations(self.slices)
        self.nl = AirtimeNetlink()
        await self.nl.open()
        self.ifindex = {v.ifname: v.ifindex for v in await self.nl.vifs()}
        self.flows = {s.vif: UdpFlow(st, self.offered[s.vif], 5200 + 100 * st.radio)
                      for s, st in zip(self.slices, self.stations)}
        return {"vifs": {s.ssid: s.vif for s in self.slices}, "created": created,
                "connect_s": round(connected_at - started, 1),
                "module_vifs": sorted(self.ifindex)}

    async def vifs_by_ssid(self) -> dict[str, str]:
        out, current = {}, None
        for line in (await run("iw", "dev")).splitlines():
            line = line.strip()
            if line.startswith("Interface "):
                current = line.split()[1]
            elif line.startswith("ssid ") and current:
                out[line[5:]] = current
        return out

    async def notifications(self) -> dict:
        """The agent's NETCONF notification stream (replayed from the start)
        carries the BSSes coming up and the stations associating, as hostapd
        reported them to the linux backend."""
        def collect() -> list[str]:
            from lxml import etree

            with self.netconf() as m:
                m.create_subscription(start_time="1970-01-01T00:00:00Z")
                seen = []
                while (n := m.take_notification(block=True, timeout=5)) is not None:
                    body = etree.fromstring(n.notification_xml.encode())
                    event = body[1]
                    fields = {etree.QName(c).localname: c.text for c in event}
                    seen.append(f"{etree.QName(event).localname} {fields.get('vif')} "
                                f"{fields.get('mac-address') or fields.get('oper-status')}")
                return seen

        seen = await asyncio.to_thread(collect)
        return {"seen": seen,
                "vifs": [s.vif for s in self.slices],
                "stations": [st.mac for st in self.stations]}

    def netconf(self):
        """An ncclient session to the agent, as the controller's key."""
        from ncclient import manager

        agent = json.loads((WORK / "agent-ready.json").read_text())
        return manager.connect(host="127.0.0.1", port=agent["port"], username="ransdn",
                               key_filename=str(WORK / "controller_ed25519"),
                               hostkey_verify=False, allow_agent=False, look_for_keys=False,
                               timeout=120)

    async def state_reads(self, rounds: int = 5) -> dict:
        """<get> round trips under saturating traffic, per filter: the
        controller's PSK drift check, the global scheduler's telemetry and
        the whole Wi-Fi state.  Reads alternate between the filters so that
        load changes hit all three alike."""
        filters = {"psk": PSK_STATE_FILTER, "airtime": AIRTIME_STATE_FILTER,
                   "full": FULL_STATE_FILTER}

        def measure() -> dict:
            from lxml import etree

            times: dict[str, list[float]] = {k: [] for k in filters}
            sizes: dict[str, int] = {}
            hashes: dict[str, list[str]] = {}
            leaf = f"{{{NAMESPACES['ransdn-wifi']}}}psk-sha256"
            with self.netconf() as m:
                for _ in range(rounds):
                    for name, flt in filters.items():
                        t0 = time.monotonic()
                        reply = m.get(filter=("subtree", flt))
                        times[name].append(round(time.monotonic() - t0, 3))
                        sizes[name] = len(reply.data_xml)
                        data = etree.fromstring(reply.data_xml.encode())
                        hashes[name] = sorted(e.text for e in data.iter(leaf))
            return {"seconds": times, "reply_bytes": sizes, "psk_hashes": hashes}

        reads = await asyncio.to_thread(measure)
        # What the sources cost from a process of its own, for comparison:
        # a process started, and a netlink dump.
        probes: dict[str, list[float]] = {"iw dev": [], "iw survey dump": [], "genl GET_VIF dump": []}
        for _ in range(rounds):
            for name, probe in (("iw dev", lambda: run("iw", "dev")),
                                ("iw survey dump", lambda: run("iw", "dev", self.slices[0].vif,
                                                               "survey", "dump")),
                                ("genl GET_VIF dump", self.nl.vifs)):
                t0 = time.monotonic()
                await probe()
                probes[name].append(round(time.monotonic() - t0, 3))
        return {**reads, "probes": probes}

    def agent_log_size(self) -> int:
        return (self.out.parent / "agent.log").stat().st_size

    def applies_since(self, offset: int) -> list[dict]:
        """The backend's apply times (and what it did) logged after ``offset``."""
        with open(self.out.parent / "agent.log", "rb") as f:
            f.seek(offset)
            text = f.read().decode("utf-8", "replace")
        return [{"seconds": float(m.group(1)), "detail": m.group(2).strip(" :")}
                for m in APPLIED.finditer(text)]

    def meter(self) -> Meter:
        return Meter(self.nl, self.slices, self.stations)

    async def state_via_netconf(self) -> dict:
        """What the node reports upward: the controller's view of the node."""
        node = await self.rest.get(f"/api/v1/nodes/{NODE}")
        return {"capabilities": node.get("capabilities"), "radios": node.get("radios")}

    async def alone(self) -> dict:
        c = self.slices[2].vif
        self.flows[c].rate_bps = ALONE_BPS
        await self.flows[c].start()
        await asyncio.sleep(1.5)
        w = await self.meter().window(6.0)
        await self.flows[c].stop()
        self.flows[c].rate_bps = self.offered[c]
        await asyncio.sleep(0.5)
        return w.as_dict()

    async def shares(self) -> dict:
        for flow in self.flows.values():
            await flow.start()
        await asyncio.sleep(2.0)
        w = await self.meter().window(6.0)
        vifs = {v.ifname: v for v in await self.nl.vifs()}
        sla = await self.rest.get("/api/v1/sla")
        return {**w.as_dict(), "targets": {s.vif: t[4] / 100 for s, t in zip(self.slices, TENANTS)},
                "source": {k: v.source.name for k, v in vifs.items()},
                "status_packets": {k: v.status_packets for k, v in vifs.items()},
                "controller_sla": sla}

    async def share_change(self) -> dict:
        """Through the API: a 20 -> 10, then c 50 -> 60.

        The module's split is sampled every 250 ms while the second PATCH
        is in flight and after it returns, together with the share the
        module has configured for c, so the times of the API call, of the
        node applying it and of the new split can be told apart.
        """
        a, b, c = (s.vif for s in self.slices)
        self.flows[c].rate_bps = ALONE_BPS
        await self.flows[c].start()
        await asyncio.sleep(1.5)
        t0 = time.monotonic()
        first = await self.rest.patch_slice("slice-a", {"wifi": {"guaranteed_share": 10}})
        await asyncio.sleep(1.0)
        meter = self.meter()
        samples: list[dict] = []
        done = asyncio.Event()
        t1 = time.monotonic()

        async def sample() -> None:
            prev = await meter.snapshot()
            while True:
                await asyncio.sleep(0.25)
                snap = await meter.snapshot()
                window = meter.between(prev, snap)
                samples.append({"t": round(snap.t - t1, 3),
                                "c_share": snap.vifs[c].share,
                                "shares": window.module_shares(),
                                "backlogged": window.backlogged()})
                prev = snap
                if done.is_set() and snap.t - returned > 4.0:
                    return

        log_at = self.agent_log_size()
        sampler = asyncio.get_running_loop().create_task(sample())
        second = await self.rest.patch_slice("slice-c", {"wifi": {"guaranteed_share": 60}})
        returned = time.monotonic()
        done.set()
        await sampler
        applied = next((x["t"] for x in samples if x["c_share"] == 6000), None)
        targets = {a: 0.1, b: 0.3, c: 0.6}
        reached = next((x["t"] for x in samples if applied is not None and x["t"] > applied
                        and all(abs(x["shares"][v] - t) <= 0.03 for v, t in targets.items())), None)
        return {"targets": targets, "samples": samples,
                "first_patch_s": round(t1 - t0 - 1.0, 2),
                "api_returned_s": round(returned - t1, 3), "module_applied_s": applied,
                "reached_s": reached, "node_applies": self.applies_since(log_at),
                "status": [first.status, second.status]}

    async def work_conservation(self) -> dict:
        a, b, c = (s.vif for s in self.slices)
        await self.flows[a].stop()
        await self.flows[b].stop()
        drained = await self.wait_drained([a, b])
        await asyncio.sleep(0.5)
        w = await self.meter().window(6.0)
        return {**w.as_dict(), "drain_s": drained}

    async def cap(self) -> dict:
        """Through the API: cap c at 70 % while it sends alone."""
        c = self.slices[2].vif
        t0 = time.monotonic()
        reply = await self.rest.patch_slice("slice-c", {"wifi": {"cap": 70}})
        patched = time.monotonic() - t0
        await asyncio.sleep(1.0)
        w = await self.meter().window(4.0)
        vif = await self.nl.vif(self.ifindex[c])
        await self.rest.patch_slice("slice-c", {"wifi": {"cap": None}})
        return {**w.as_dict(), "cap": 0.7, "module_cap": vif.cap, "status": reply.status,
                "patch_s": round(patched, 2)}

    async def delete_under_traffic(self) -> dict:
        """Through the API: delete slice b while its queue is full."""
        b = self.slices[1].vif
        await self.flows[b].start()
        await asyncio.sleep(1.0)
        backlog = (await self.nl.vif(self.ifindex[b])).backlog_packets
        reply = await self.rest.call("DELETE", "/api/v1/slices/slice-b")
        await self.flows[b].close()
        await asyncio.sleep(0.5)
        vifs = sorted(v.ifname for v in await self.nl.vifs())
        return {"backlog_before": backlog, "status": reply.status, "vifs_after": vifs,
                "expected": sorted(s.vif for s in self.slices if s.vif != b),
                "netdev_gone": not os.path.exists(f"/sys/class/net/{b}")}

    async def node_state(self) -> dict:
        return await self.state_via_netconf()

    async def vlan_slice(self) -> dict:
        """Through the API: a slice on VLAN 101 joins the VLAN bridge untagged."""
        reply = await self.rest.call("POST", "/api/v1/slices", {
            "id": "slice-d", "tenant": "tenant-d",
            "wifi": {"ssid": "city-d", "vlan": 101,
                     "nodes": [{"node": NODE, "radios": ["phy0"]}]},
        })
        vif = (await self.vifs_by_ssid())["city-d"]
        vlans = json.loads(await run("bridge", "-j", "vlan", "show", "dev", vif))
        master = os.path.basename(os.readlink(f"/sys/class/net/{vif}/master"))
        filtering = open("/sys/class/net/br-ransdn/bridge/vlan_filtering").read().strip()
        gone = await self.rest.call("DELETE", "/api/v1/slices/slice-d")
        return {"status": reply.status, "vif": vif, "master": master, "vlans": vlans,
                "vlan_filtering": filtering, "deleted": gone.status,
                "netdev_gone": not os.path.exists(f"/sys/class/net/{vif}")}

    async def teardown(self) -> dict:
        for flow in self.flows.values():
            await flow.close()
        self.nl.close()
        await stop(self.agent, timeout=20)
        self.controller.terminate()
        await self.controller.wait()
        for v in (s.vif for s in self.slices):
            if os.path.exists(f"/sys/class/net/{v}"):
                await run("tc", "qdisc", "del", "dev", v, "root", check=False)
        await run("rmmod", MODULE_NAME)
        return {"unloaded": MODULE_NAME not in await run("lsmod")}

    async def run(self) -> None:
        await self.check("setup", self.setup)
        if not self.results["setup"]["ok"]:
            return
        await self.check("notifications", self.notifications)
        await self.check("alone", self.alone)
        await self.check("shares", self.shares)
        await self.check("state_reads", self.state_reads)
        await self.check("share_change", self.share_change)
        await self.check("work_conservation", self.work_conservation)
        await self.check("cap", self.cap)
        await self.check("delete_under_traffic", self.delete_under_traffic)
        await self.check("node_state", self.node_state)
        await self.check("vlan_slice", self.vlan_slice)
        await self.check("teardown", self.teardown)


async def main(argv: list[str]) -> int:
    await E2EScenario(Path(argv[1]), Path(argv[2])).run()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv)))
