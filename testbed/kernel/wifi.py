"""mac80211_hwsim radios, a multi-BSS hostapd AP and stations in namespaces.

Radio 0 is the AP; each station gets its own radio, moved with its phy
into its own network namespace (otherwise traffic short-circuits through
the local routing table).  Stations associate with wpa_supplicant
restricted to the AP's channel, which is reliable under TCG.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

from agent.backends.linux.hostapd_config import BssConfig, HostapdRadio, render_bss_file
from agent.backends.linux.wpa_ctrl import WpaCtrl, WpaCtrlError, parse_status
from testbed.kernel.shell import ROOT, Netns, run, spawn


def hwsim_mac(radio: int) -> str:
    """Permanent address of hwsim radio N."""
    return f"02:00:00:00:{radio:02x}:00"


def channel_freq(channel: int) -> int:
    return 2484 if channel == 14 else 2407 + 5 * channel


async def load_hwsim(radios: int) -> None:
    await run("modprobe", "mac80211_hwsim", f"radios={radios}")


async def ifname_of_phy(phy: str, netns: Netns = ROOT) -> str:
    out = await run("iw", "phy", phy, "info", netns=netns)
    del out
    listing = await run("iw", "dev", netns=netns)
    current = None
    for line in listing.splitlines():
        line = line.strip()
        if line.startswith("phy#"):
            current = "phy" + line[4:]
        elif line.startswith("Interface ") and current == phy:
            return line.split()[1]
    raise RuntimeError(f"no interface on {phy}")


@dataclass
class AccessPoint:
    """A hostapd with a global control interface and BSSes added to it."""

    workdir: Path
    radio: HostapdRadio
    proc: asyncio.subprocess.Process | None = None

    @property
    def ctrl_dir(self) -> str:
        return str(self.workdir / "ctrl")

    @property
    def global_ctrl(self) -> str:
        return str(self.workdir / "global")

    async def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.proc = await spawn("hostapd", "-g", self.global_ctrl, "-t",
                                log=str(self.workdir / "hostapd.log"))
        for _ in range(100):
            if os.path.exists(self.global_ctrl):
                return
            await asyncio.sleep(0.05)
        raise RuntimeError("hostapd did not create its global control socket")

    async def add_bss(self, bss: BssConfig) -> None:
        conf = self.workdir / f"{bss.ifname}.conf"
        conf.write_text(render_bss_file(self.radio, bss, self.ctrl_dir))
        async with WpaCtrl(self.global_ctrl, timeout=20) as ctrl:
            await ctrl.request(f"ADD bss_config={self.radio.phy}:{conf}", timeout=20)
        await self.wait_enabled(bss.ifname)

    async def remove_bss(self, ifname: str) -> None:
        async with WpaCtrl(self.global_ctrl, timeout=20) as ctrl:
            await ctrl.request(f"REMOVE {ifname}", timeout=20)

    async def wait_enabled(self, ifname: str, timeout: float = 20) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            try:
                async with WpaCtrl(f"{self.ctrl_dir}/{ifname}") as ctrl:
                    status = parse_status(await ctrl.request("STATUS"))
                if status.get("state") == "ENABLED":
                    return
            except WpaCtrlError:
                pass
            await asyncio.sleep(0.2)
        raise RuntimeError(f"{ifname} did not become ENABLED")

    async def stop(self) -> None:
        if self.proc and self.proc.returncode is None:
            self.proc.terminate()
            await self.proc.wait()


@dataclass(frozen=True)
class Station:
    """A station radio in its own namespace, associated to one SSID."""

    radio: int
    netns: Netns
    ifname: str
    mac: str
    ip: str
    ap_ip: str
    #: A sysfs mounted from inside the namespace, so its counters can be
    #: read without entering it.
    sysfs: str

    def counter(self, name: str) -> int:
        with open(f"{self.sysfs}/class/net/{self.ifname}/statistics/{name}") as f:
            return int(f.read())


async def add_station(radio: int, ssid: str, psk: str | None, channel: int,
                      ip: str, ap_ip: str, prefix: int = 24,
                      workdir: Path = Path("/run/ransdn-stations"),
                      timeout: float = 60) -> Station:
    """Move phy<radio> into netns sta<radio>, associate, configure IP."""
    ns = Netns(f"sta{radio}")
    phy = f"phy{radio}"
    ifname = await ifname_of_phy(phy)
    await run("ip", "netns", "add", ns.name)
    await run("iw", "phy", phy, "set", "netns", "name", ns.name)
    await run("ip", "link", "set", "lo", "up", netns=ns)
    await run("ip", "link", "set", ifname, "up", netns=ns)

    workdir.mkdir(parents=True, exist_ok=True)
    freq = channel_freq(channel)
    key = f"psk={psk}\n\tkey_mgmt=WPA-PSK\n\tproto=RSN" if psk else "key_mgmt=NONE"
    conf = workdir / f"{ns.name}.conf"
    ctrl_dir = workdir / f"{ns.name}-ctrl"
    conf.write_text(
        f"ctrl_interface={ctrl_dir}\nap_scan=1\n"
        f"network={{\n\tssid=\"{ssid}\"\n\t{key}\n\tscan_freq={freq}\n\tfreq_list={freq}\n}}\n"
    )
    await run("wpa_supplicant", "-B", "-i", ifname, "-c", str(conf), "-D", "nl80211",
              "-f", str(workdir / f"{ns.name}.log"), netns=ns)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    state = "?"
    while loop.time() < deadline:
        try:
            async with WpaCtrl(f"{ctrl_dir}/{ifname}") as ctrl:
                state = parse_status(await ctrl.request("STATUS")).get("wpa_state", "?")
                if state == "COMPLETED":
                    break
                if state in ("DISCONNECTED", "INACTIVE", "SCANNING"):
                    await ctrl.request("SCAN")
        except WpaCtrlError:
            pass
        await asyncio.sleep(0.5)
    else:
        raise RuntimeError(f"{ns.name} did not associate to {ssid!r} (state {state})")

    await run("ip", "addr", "add", f"{ip}/{prefix}", "dev", ifname, netns=ns)
    await run("ip", "route", "add", "default", "via", ap_ip, netns=ns)
    sysfs = f"/run/ransdn-sysfs/{ns.name}"
    os.makedirs(sysfs, exist_ok=True)
    await run("nsenter", f"--net=/run/netns/{ns.name}", "mount", "-t", "sysfs", "sysfs", sysfs)
    with open(f"{sysfs}/class/net/{ifname}/address") as f:
        mac = f.read().strip()
    return Station(radio=radio, netns=ns, ifname=ifname, mac=mac, ip=ip, ap_ip=ap_ip,
                   sysfs=sysfs)


async def pin_legacy_rate(ifname: str, rate_mbps: int) -> None:
    """Make the AP send to this vif's stations at one legacy rate.

    The mask must contain a basic rate (6 Mb/s here); rate control then
    settles on the highest rate of the mask.
    """
    rates = sorted({6, rate_mbps})
    await run("iw", "dev", ifname, "set", "bitrates", "legacy-2.4", *map(str, rates))


