"""Kernel scenario: the TX-status path, with a user-space hwsim medium.

hwsim's built-in medium orphans frames before any TX status exists, so
the module's measured airtime there is always the estimate.  Here a
medium process (testbed.kernel.medium) carries the frames and reports
TX status, claiming two attempts per unicast data frame: the module must
charge the measured airtime (twice the estimate) and its congestion
factor must converge to about 2.  Then the medium holds all frames back
(a driver that never completes): aging must keep the vif sending.
Finally the module must stay loaded while frames it follows are still
out, and unload once they are freed.

Run in the guest as ``python -m testbed.kernel.txstatus_scenario KO OUT``.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from agent.backends.linux.airtime_netlink import AirtimeNetlink
from testbed.kernel.medium import Medium
from testbed.kernel.module_scenario import MODULE_NAME, Scenario
from testbed.kernel.setup import Slice, build
from testbed.kernel.shell import CommandError, run
from testbed.kernel.traffic import UdpFlow

SLICE = Slice("wlan0", "tenant-m", None, 24, 1)
#: Low enough for a Python medium under TCG.
RATE_BPS = 300_000


class TxStatusScenario(Scenario):
    async def setup(self) -> dict:
        self.bed = await build(self.ko, slices=(SLICE,))
        self.nl = AirtimeNetlink()
        await self.nl.open()
        self.ifindex = {v.ifname: v.ifindex for v in await self.nl.vifs()}
        # 24 Mb/s is index 8 of the 2.4 GHz band (1, 2, 5.5, 11, 6, ... 24).
        self.medium = Medium(radios=2, data_attempts=2, data_rate_idx=8)
        await self.medium.start()
        self.flow = UdpFlow(self.bed.stations[0], RATE_BPS, 5300)
        await self.flow.start()
        return {"vifs": self.ifindex}

    async def tx_status(self) -> dict:
        await asyncio.sleep(8.0)
        vif = await self.nl.vif(self.ifindex["wlan0"])
        phy = await self.nl.phy(self.ifindex["wlan0"])
        return {"status_packets": vif.status_packets, "estimate_packets": vif.estimate_packets,
                "status_us": vif.status_us, "estimated_us": vif.estimated_us,
                "measured_us": vif.measured_us, "congestion": vif.congestion,
                "source": vif.source.name, "tx_status_seen": phy.tx_status_seen,
                "medium_statuses": self.medium.statuses}

    async def frozen_medium(self) -> dict:
        idx = self.ifindex["wlan0"]
        before_vif, before_phy = await self.nl.vif(idx), await self.nl.phy(idx)
        self.medium.frozen = True
        await asyncio.sleep(4.0)
        after_vif, after_phy = await self.nl.vif(idx), await self.nl.phy(idx)
        return {"sent_while_frozen": after_vif.tx_packets - before_vif.tx_packets,
                "aged": after_phy.aged_packets - before_phy.aged_packets,
                "held_by_medium": self.medium.held,
                "inflight_packets": after_phy.inflight_packets}

    async def unload_with_frames_out(self) -> dict:
        await self.flow.close()
        await run("tc", "qdisc", "del", "dev", "wlan0", "root")
        self.nl.close()
        try:
            await run("rmmod", MODULE_NAME)
            while_held = "unloaded"
        except CommandError as err:
            while_held = err.output.strip()
        # Removing the radios frees the frames hwsim still holds.
        self.medium.close()
        await self.bed.ap.stop()
        await run("ip", "netns", "del", self.bed.stations[0].netns.name)
        await asyncio.sleep(0.5)
        await run("rmmod", "mac80211_hwsim")
        for _ in range(50):
            try:
                await run("rmmod", MODULE_NAME)
                break
            except CommandError:
                await asyncio.sleep(0.1)
        lsmod = await run("lsmod")
        return {"while_frames_out": while_held, "loaded_at_end": MODULE_NAME in lsmod}

    async def run(self) -> None:
        await self.check("setup", self.setup)
        if not self.results["setup"]["ok"]:
            return
        await self.check("tx_status", self.tx_status)
        await self.check("frozen_medium", self.frozen_medium)
        await self.check("unload_with_frames_out", self.unload_with_frames_out)


async def main(argv: list[str]) -> int:
    await TxStatusScenario(Path(argv[1]), Path(argv[2])).run()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv)))
