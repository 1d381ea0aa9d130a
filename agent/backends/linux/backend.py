"""The linux backend: real radios through hostapd, iw and the airtime module.

apply() turns the committed ``ransdn-wifi:wifi-node`` configuration into
BSSes on one hostapd (multi-BSS per radio), attaches the airtime qdisc to
every vif and sets the radio's scheduler and each vif's share and cap over
generic netlink.  A change of shares or caps only touches the module, so
it takes effect within a scheduler interval and no station notices.  A
change of one BSS re-creates that BSS alone, except for a radio's first
BSS, which hostapd can only remove with the whole radio.

operational_state() reads the module's per-vif and per-station figures,
iw's station dump and channel survey, and hostapd's BSS status.
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

from agent.backends.base import Backend, BackendContext, BackendError, JsonTree, Notification, NotifySink
from agent.backends.linux import airtime, state, wireless
from agent.backends.linux.config import RadioConf, VifConf, parse_wifi_node
from agent.backends.linux.hostapd import Hostapd, HostapdError
from agent.backends.linux.hostapd_config import BssConfig, ConfigError, RadioConfig
from agent.backends.linux.options import LinuxOptions, parse_options
from agent.backends.linux.wireless import WirelessError
from agent.backends.linux.wpa_ctrl import Event

log = logging.getLogger(__name__)


class LinuxBackend(Backend):
    def __init__(self, context: BackendContext) -> None:
        super().__init__(context)
        if context.kind != "wifi":
            raise BackendError("the linux backend drives Wi-Fi nodes only")
        self.options: LinuxOptions = parse_options(context.options, context.state_dir)
        self.hostapd: Hostapd | None = None
        self.notify: NotifySink = lambda n: None
        self.running: dict[str, RadioConf] = {}
        #: First BSS of each radio as hostapd has it.
        self.primary: dict[str, str] = {}
        #: Netdevs we created for a radio's first BSS (hostapd creates the others).
        self.created: set[str] = set()
        #: Last oper-status notified per vif, so each change is told once.
        self._oper: dict[str, str] = {}
        self._slots_file = context.state_dir / "linux-bss-slots.json"
        #: What a phy can do does not change while it exists.
        self._phy_info: dict[str, wireless.PhyInfo] = {}
        self._lock = asyncio.Lock()

    # ---- life cycle --------------------------------------------------------

    async def start(self, notify: NotifySink) -> None:
        self.notify = notify
        self.hostapd = Hostapd(self.options.hostapd, self.options.run_dir, self._on_event)
        try:
            await self.hostapd.start()
        except HostapdError as exc:
            raise BackendError(str(exc)) from None

    async def stop(self) -> None:
        if self.hostapd:
            await self.hostapd.stop()
            self.hostapd = None
        for ifname in sorted(self.created):
            try:
                await wireless.command("iw", "dev", ifname, "del")
            except WirelessError:
                pass
        self.created.clear()

    # ---- events ------------------------------------------------------------

    def _radio_of_vif(self, ifname: str) -> str | None:
        return next((r.name for r in self.running.values() if r.vif(ifname)), None)

    def _on_event(self, event: Event) -> None:
        words = event.text.split()
        if not words or not event.ifname:
            return
        radio = self._radio_of_vif(event.ifname) or wireless.phy_of(event.ifname) or ""
        if words[0] in ("AP-STA-CONNECTED", "AP-STA-DISCONNECTED") and len(words) > 1:
            name = "station-associated" if words[0] == "AP-STA-CONNECTED" else "station-disassociated"
            self.notify(Notification(f"ransdn-wifi:{name}",
                                     {"radio": radio, "vif": event.ifname, "mac-address": words[1]}))
        elif words[0] in ("AP-ENABLED", "AP-DISABLED"):
            self._vif_event(radio, event.ifname, "up" if words[0] == "AP-ENABLED" else "down")

    def _vif_event(self, radio: str, vif: str, status: str) -> None:
        if self._oper.get(vif) == status:
            return
        self._oper[vif] = status
        body = {"radio": radio, "vif": vif, "oper-status": status}
        try:
            body["bssid"] = (wireless.SYS_NET / vif / "address").read_text().strip()
        except OSError:
            pass
        self.notify(Notification("ransdn-wifi:vif-state-change", body))

    # ---- apply -------------------------------------------------------------

    async def apply(self, old: JsonTree, new: JsonTree) -> None:
        async with self._lock:
            started = asyncio.get_running_loop().time()
            target = parse_wifi_node(new)
            await self._check(target)
            previous = dict(self.running)
            try:
                await self._converge(target)
            except (HostapdError, WirelessError, ConfigError, OSError) as exc:
                log.error("applying the configuration failed (%s); restoring the previous one", exc)
                try:
                    await self._converge(previous)
                except Exception as undo_exc:  # report the original failure
                    log.error("restoring the previous configuration failed too: %s", undo_exc)
                raise BackendError(f"cannot apply the Wi-Fi configuration: {exc}") from None
            log.info("applied the Wi-Fi configuration in %.2fs",
                     asyncio.get_running_loop().time() - started)

    async def _check(self, target: dict[str, RadioConf]) -> None:
        """Refuse what cannot work before touching anything."""
        present = set(wireless.phy_names())
        needs_module = False
        for radio in target.values():
            path = f"/ransdn-wifi:wifi-node/radio[name='{radio.name}']"
            if radio.name not in present:
                raise BackendError(f"no radio {radio.name} on this node", path=path)
            info = await self._phy(radio.name)
            channels = info.channels.get(radio.band, {})
            if not channels:
                raise BackendError(f"{radio.name} has no usable {radio.band} channels", path=path)
            if radio.channel not in channels:
                raise BackendError(f"channel {radio.channel} is not available on {radio.name} "
                                   f"({radio.band}: {sorted(channels)})", path=path + "/channel")
            if len(radio.active_vifs()) > info.max_ap_vifs:
                raise BackendError(f"{radio.name} carries at most {info.max_ap_vifs} BSSes", path=path)
            for vif in radio.vifs:
                owner = wireless.phy_of(vif.name)
                if owner is not None and owner != radio.name:
                    raise BackendError(f"interface {vif.name} exists on {owner}, not {radio.name}",
                                       path=f"{path}/vif[name='{vif.name}']")
                needs_module |= vif.share > 0 or vif.cap is not None
            try:
                self._radio_config(radio)
            except ConfigError as exc:
                raise BackendError(str(exc), path=path) from None
        if needs_module and self.options.require_airtime_module and not await airtime.module_available():
            raise BackendError("airtime shares or caps are configured but the ransdn_airtime "
                               "kernel module is not loaded", error_tag="operation-not-supported")

    def _radio_config(self, radio: RadioConf) -> RadioConfig:
        opts = self.options.radio(radio.name)
        return RadioConfig(phy=radio.name, band=radio.band, channel=radio.channel,
                           width=radio.width, country=opts.country,
                           legacy_ofdm_only=opts.legacy_ofdm_only)

    async def _converge(self, target: dict[str, RadioConf]) -> None:
        for name in sorted(set(self.running) | set(target)):
            await self._converge_radio(self.running.get(name), target.get(name))
            if name in target:
                self.running[name] = target[name]
            else:
                self.running.pop(name, None)

    async def _converge_radio(self, old: RadioConf | None, new: RadioConf | None) -> None:
        assert self.hostapd is not None
        name = (new or old).name  # type: ignore[union-attr]
        have = {v.name: v for v in old.active_vifs()} if old else {}
        want = {v.name: v for v in new.active_vifs()} if new else {}
        first = self.primary.get(name)
        rebuild = bool(have) and (
            old is None or new is None or first not in have
            or self._radio_config(old) != self._radio_config(new)
            or first not in want or want[first].bss_key() != have[first].bss_key()
        )

        if rebuild:
            await self._remove_radio(name, have)
            have = {}
        for vif in have.values():
            if vif.name not in want or want[vif.name].bss_key() != vif.bss_key():
                await self.hostapd.remove_bss(vif.name)
                self._vif_event(name, vif.name, "down")
        if new is None:
            return
        radio_cfg = self._radio_config(new)
        for vif in want.values():
            if vif.name in have and have[vif.name].bss_key() == vif.bss_key():
                continue
            if not self.primary.get(name):
                await self._ensure_netdev(name, vif.name)
                self.primary[name] = vif.name
            if vif.vlan is not None:
                await self._vlan_bridge()
            await self.hostapd.add_bss(radio_cfg, self._bss(new, vif))
            self._vif_event(name, vif.name, "up")
            await self._vlan(vif)
        if new.tx_power is not None and (old is None or old.tx_power != new.tx_power):
            await wireless.command("iw", "phy", name, "set", "txpower", "fixed", str(new.tx_power * 100))
        await self._airtime(new)

    async def _remove_radio(self, name: str, have: dict[str, VifConf]) -> None:
        assert self.hostapd is not None
        first = self.primary.pop(name, None)
        if first:
            try:
                await self.hostapd.remove_bss(first)
            except HostapdError as exc:
                log.warning("removing %s: %s", first, exc)
        for vif in have:
            self._vif_event(name, vif, "down")
        if first in self.created:
            await wireless.command("iw", "dev", first, "del")
            self.created.discard(first)

    async def _ensure_netdev(self, phy: str, ifname: str) -> None:
        """hostapd needs a radio's first BSS interface to exist."""
        owner = wireless.phy_of(ifname)
        if owner == phy:
            return
        await wireless.command("iw", "phy", phy, "interface", "add", ifname, "type", "__ap")
        self.created.add(ifname)

    def _bss(self, radio: RadioConf, vif: VifConf) -> BssConfig:
        return BssConfig(
            ifname=vif.name, ssid=vif.ssid, psk=vif.psk,
            bssid=self._bssid(radio.name, vif.name),
            bridge=self.options.vlan_bridge if vif.vlan is not None else None,
        )

    def _bssid(self, phy: str, vif: str) -> str:
        """The phy's address with the last octet advanced by a slot that
        stays with the vif name across restarts and reconfigurations."""
        try:
            slots = json.loads(self._slots_file.read_text())
        except (OSError, ValueError):
            slots = {}
        mine = slots.setdefault(phy, {})
        if vif not in mine:
            used = set(mine.values())
            mine[vif] = next(i for i in range(256) if i not in used)
            self._slots_file.write_text(json.dumps(slots))
        base = bytes.fromhex((wireless.SYS_PHY / phy / "macaddress").read_text().strip().replace(":", ""))
        addr = base[:5] + bytes([(base[5] + mine[vif]) & 0xFF])
        return ":".join(f"{b:02x}" for b in addr)

    async def _vlan_bridge(self) -> None:
        """The VLAN-aware bridge, before hostapd (which would create a plain one)."""
        bridge = self.options.vlan_bridge
        if not wireless.netdev_exists(bridge):
            await wireless.command("ip", "link", "add", bridge, "type", "bridge", "vlan_filtering", "1")
        else:
            await wireless.command("ip", "link", "set", bridge, "type", "bridge", "vlan_filtering", "1")
        await wireless.command("ip", "link", "set", bridge, "up")

    async def _vlan(self, vif: VifConf) -> None:
        """A vif with a VLAN is an untagged member of it on the VLAN bridge."""
        if vif.vlan is None:
            return
        bridge = self.options.vlan_bridge
        if not (wireless.SYS_NET / bridge / "brif" / vif.name).exists():
            await wireless.command("ip", "link", "set", vif.name, "master", bridge)
        await wireless.command("bridge", "vlan", "add", "dev", vif.name, "vid", str(vif.vlan),
                               "pvid", "untagged")
        try:
            await wireless.command("bridge", "vlan", "del", "dev", vif.name, "vid", "1")
        except WirelessError:
            pass
        if self.options.uplink:
            await wireless.command("bridge", "vlan", "add", "dev", self.options.uplink,
                                   "vid", str(vif.vlan))

    async def _airtime(self, radio: RadioConf) -> None:
        try:
            await airtime.configure(radio, self.options.scheduler_stall_us)
        except airtime.AirtimeUnavailable:
            return
        except Exception as exc:
            raise WirelessError(f"airtime scheduler: {exc}") from None

    # ---- state -------------------------------------------------------------

    async def _phy(self, name: str) -> wireless.PhyInfo:
        if name not in self._phy_info:
            self._phy_info[name] = await wireless.phy_info(name)
        return self._phy_info[name]

    async def operational_state(self) -> JsonTree:
        """Read everything at once: the controller asks for state before and
        after every transaction, so this is on the provisioning path."""
        assert self.hostapd is not None
        started = asyncio.get_running_loop().time()
        phys = wireless.phy_names()
        self._phy_info = {n: i for n, i in self._phy_info.items() if n in phys}
        snap, iw, infos = await asyncio.gather(
            airtime.snapshot(), wireless.all_vifs(),
            asyncio.gather(*(self._phy(p) for p in phys)))
        live = [v for r in self.running.values() for v in r.vifs if v.enabled and v.name in iw]
        dumps = await asyncio.gather(*(wireless.stations(v.name) for v in live),
                                     *(self.hostapd.status(v.name) for v in live))
        stations = dict(zip((v.name for v in live), dumps[:len(live)]))
        statuses = dict(zip((v.name for v in live), dumps[len(live):]))
        radios = []
        for phy, info in zip(phys, infos):
            conf = self.running.get(phy)
            vifs = [state.VifView(
                conf=vif, info=iw.get(vif.name) if vif.name in stations else None,
                hostapd=statuses.get(vif.name, {}), stations=stations.get(vif.name, []),
                airtime=snap.vifs.get(vif.name),
                rx_bytes=wireless.netdev_counter(vif.name, "rx_bytes"),
                rx_packets=wireless.netdev_counter(vif.name, "rx_packets"),
            ) for vif in (conf.vifs if conf else ())]
            running = next((v for v in vifs if v.info and v.info.frequency), None)
            survey = await wireless.survey(running.conf.name) if running else None
            radios.append(state.radio_state(
                info=info, conf=conf, vifs=vifs, survey=survey,
                module_loaded=snap.loaded, phy_airtime=snap.phys.get(phy),
                estimates=snap.stations,
            ))
        log.debug("read the Wi-Fi state in %.2fs", asyncio.get_running_loop().time() - started)
        return {"ransdn-wifi:wifi-node-state": {"node-id": self.context.node_id, "radio": radios}}

    @property
    def run_dir(self) -> Path:
        return self.options.run_dir
