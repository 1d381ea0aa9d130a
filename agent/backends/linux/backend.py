"""The linux backend: real radios through hostapd, iw and the airtime module.

apply() turns the committed ``ransdn-wifi:wifi-node`` configuration into
BSSes on one hostapd (multi-BSS per radio), attaches the airtime qdisc to
every vif and sets the radio's scheduler and each vif's share and cap over
generic netlink.  A change of guarantees and caps alone (what the global
scheduler sends every period) is only SET_VIF requests to the module: it
takes effect within a scheduler interval, in milliseconds, and no station
notices.  A change of one BSS re-creates that BSS alone, except for a
radio's first BSS, which hostapd can only remove with the whole radio.
Each apply logs how long it took and every action it took.

operational_state_for() reads the module's per-vif and per-station
figures, iw's station dump and channel survey and hostapd's BSS status,
but only those a request's filter selects (see observe.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

from agent.backends.base import (
    EVERYTHING,
    Backend,
    BackendContext,
    BackendError,
    JsonTree,
    Notification,
    NotifySink,
    StateSelection,
)
from agent.backends.linux import actions
from agent.backends.linux.airtime import AirtimeError, AirtimeLink, AirtimeUnavailable, airtime_steps
from agent.backends.linux.hostapd import Hostapd, HostapdError
from agent.backends.linux.hostapd_config import BssConfig, ConfigError, HostapdRadio
from agent.backends.linux.observe import StateReader
from agent.backends.linux.options import LinuxOptions, parse_options
from agent.backends.linux.wireless import Wireless, WirelessError
from agent.backends.linux.wpa_ctrl import Event
from agent.backends.wifi_config import RadioConfig, VifConfig, bss_address, parse_wifi_node

log = logging.getLogger(__name__)

_NO_MODULE = ("airtime shares or caps are configured but the ransdn_airtime "
              "kernel module is not loaded")


def _enforces_airtime(config: dict[str, RadioConfig]) -> bool:
    """Whether any vif has a guarantee or a cap (which need the module)."""
    return any(v.share_bp > 0 or v.cap is not None for r in config.values() for v in r.vifs)


def bss_key(vif: VifConfig) -> tuple:
    """What hostapd's BSS depends on: a change means re-creating it."""
    return (*vif.association_key(), vif.vlan)


class LinuxBackend(Backend):
    def __init__(self, context: BackendContext, *, wireless: Wireless | None = None,
                 airtime: AirtimeLink | None = None) -> None:
        super().__init__(context)
        if context.kind != "wifi":
            raise BackendError("the linux backend drives Wi-Fi nodes only")
        self.options: LinuxOptions = parse_options(context.options, context.state_dir)
        self.wireless = wireless or Wireless()
        self.airtime = airtime or AirtimeLink(run=self.wireless.run)
        self.hostapd: Hostapd | None = None
        self.notify: NotifySink = lambda n: None
        self.running: dict[str, RadioConfig] = {}
        #: First BSS of each radio as hostapd has it.
        self.primary: dict[str, str] = {}
        #: Netdevs we created for a radio's first BSS (hostapd creates the others).
        self.created: set[str] = set()
        #: Last oper-status notified per vif, so each change is told once.
        self._oper: dict[str, str] = {}
        self._slots_file = context.state_dir / "linux-bss-slots.json"
        self._lock = asyncio.Lock()
        self._state = StateReader(self.wireless, self.airtime, self._hostapd_status)

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
                await self.wireless.run("iw", "dev", ifname, "del")
            except WirelessError:
                pass
        self.created.clear()
        self.airtime.close()

    # ---- events ------------------------------------------------------------

    def _radio_of_vif(self, ifname: str) -> str | None:
        return next((r.name for r in self.running.values() if r.vif(ifname)), None)

    def _on_event(self, event: Event) -> None:
        words = event.text.split()
        if not words or not event.ifname:
            return
        radio = self._radio_of_vif(event.ifname) or self.wireless.phy_of(event.ifname) or ""
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
        bssid = self.wireless.netdev_address(vif)
        if bssid:
            body["bssid"] = bssid
        self.notify(Notification("ransdn-wifi:vif-state-change", body))

    # ---- apply -------------------------------------------------------------

    async def apply(self, old: JsonTree, new: JsonTree) -> None:
        async with self._lock:
            started = asyncio.get_running_loop().time()
            target = parse_wifi_node(new)
            with actions.recording() as done:
                how = await self._apply(target)
            log.info("applied the Wi-Fi configuration in %.3fs: %s, %d actions: %s",
                     asyncio.get_running_loop().time() - started, how, len(done),
                     "; ".join(done) or "none")

    async def _apply(self, target: dict[str, RadioConfig]) -> str:
        """Make the world match ``target``; say which way it went."""
        steps = airtime_steps(self.running, target)
        if steps is not None:
            try:
                await self.airtime.set_vifs(steps)
            except AirtimeUnavailable:
                if self.options.require_airtime_module and _enforces_airtime(target):
                    raise BackendError(_NO_MODULE, error_tag="operation-not-supported") from None
            except (AirtimeError, OSError) as exc:
                # Undone already; the whole way round re-attaches what is missing.
                log.warning("setting airtime alone failed (%s); applying the whole configuration",
                            exc)
                steps = None
            if steps is not None:
                self.running = target
                return "airtime only"
        await self._check(target)
        previous = dict(self.running)
        try:
            await self._converge(target)
        except (HostapdError, WirelessError, ConfigError, AirtimeError, OSError) as exc:
            log.error("applying the configuration failed (%s); restoring the previous one", exc)
            try:
                await self._converge(previous)
            except Exception as undo_exc:  # report the original failure
                log.error("restoring the previous configuration failed too: %s", undo_exc)
            raise BackendError(f"cannot apply the Wi-Fi configuration: {exc}") from None
        return "whole configuration"

    async def _check(self, target: dict[str, RadioConfig]) -> None:
        """Refuse what cannot work before touching anything."""
        present = set(self.wireless.phy_names())
        for radio in target.values():
            path = f"/ransdn-wifi:wifi-node/radio[name='{radio.name}']"
            if radio.name not in present:
                raise BackendError(f"no radio {radio.name} on this node", path=path)
            info = await self.wireless.phy_info(radio.name)
            channels = info.channels.get(radio.band, {})
            if not channels:
                raise BackendError(f"{radio.name} has no usable {radio.band} channels", path=path)
            if radio.channel not in channels:
                raise BackendError(f"channel {radio.channel} is not available on {radio.name} "
                                   f"({radio.band}: {sorted(channels)})", path=path + "/channel")
            if len(radio.active_vifs()) > info.max_ap_vifs:
                raise BackendError(f"{radio.name} carries at most {info.max_ap_vifs} BSSes", path=path)
            for vif in radio.vifs:
                owner = self.wireless.phy_of(vif.name)
                if owner is not None and owner != radio.name:
                    raise BackendError(f"interface {vif.name} exists on {owner}, not {radio.name}",
                                       path=f"{path}/vif[name='{vif.name}']")
            try:
                self._radio_config(radio)
            except ConfigError as exc:
                raise BackendError(str(exc), path=path) from None
        if (self.options.require_airtime_module and _enforces_airtime(target)
                and not await self.airtime.available()):
            raise BackendError(_NO_MODULE, error_tag="operation-not-supported")

    def _radio_config(self, radio: RadioConfig) -> HostapdRadio:
        opts = self.options.radio(radio.name)
        return HostapdRadio(phy=radio.name, band=radio.band, channel=radio.channel,
                            width=radio.channel_width, country=opts.country,
                            legacy_ofdm_only=opts.legacy_ofdm_only)

    async def _converge(self, target: dict[str, RadioConfig]) -> None:
        for name in sorted(set(self.running) | set(target)):
            await self._converge_radio(self.running.get(name), target.get(name))
            if name in target:
                self.running[name] = target[name]
            else:
                self.running.pop(name, None)

    async def _converge_radio(self, old: RadioConfig | None, new: RadioConfig | None) -> None:
        assert self.hostapd is not None
        name = (new or old).name  # type: ignore[union-attr]
        have = {v.name: v for v in old.active_vifs()} if old else {}
        want = {v.name: v for v in new.active_vifs()} if new else {}
        first = self.primary.get(name)
        rebuild = bool(have) and (
            old is None or new is None or first not in have
            or self._radio_config(old) != self._radio_config(new)
            or first not in want or bss_key(want[first]) != bss_key(have[first])
        )

        if rebuild:
            await self._remove_radio(name, have)
            have = {}
        for vif in have.values():
            if vif.name not in want or bss_key(want[vif.name]) != bss_key(vif):
                await self.hostapd.remove_bss(vif.name)
                self._vif_event(name, vif.name, "down")
        if new is None:
            return
        radio_cfg = self._radio_config(new)
        for vif in want.values():
            if vif.name in have and bss_key(have[vif.name]) == bss_key(vif):
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
            await self.wireless.run("iw", "phy", name, "set", "txpower", "fixed", str(new.tx_power * 100))
        await self._airtime(new)

    async def _remove_radio(self, name: str, have: dict[str, VifConfig]) -> None:
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
            await self.wireless.run("iw", "dev", first, "del")
            self.created.discard(first)

    async def _ensure_netdev(self, phy: str, ifname: str) -> None:
        """hostapd needs a radio's first BSS interface to exist."""
        owner = self.wireless.phy_of(ifname)
        if owner == phy:
            return
        await self.wireless.run("iw", "phy", phy, "interface", "add", ifname, "type", "__ap")
        self.created.add(ifname)

    def _bss(self, radio: RadioConfig, vif: VifConfig) -> BssConfig:
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
        mac = self.wireless.phy_mac(phy)
        if mac is None:
            raise WirelessError(f"{phy} has gone")
        return bss_address(mac, mine[vif])

    async def _vlan_bridge(self) -> None:
        """The VLAN-aware bridge, before hostapd (which would create a plain one)."""
        bridge = self.options.vlan_bridge
        run = self.wireless.run
        if not self.wireless.netdev_exists(bridge):
            await run("ip", "link", "add", bridge, "type", "bridge", "vlan_filtering", "1")
        else:
            await run("ip", "link", "set", bridge, "type", "bridge", "vlan_filtering", "1")
        await run("ip", "link", "set", bridge, "up")

    async def _vlan(self, vif: VifConfig) -> None:
        """A vif with a VLAN is an untagged member of it on the VLAN bridge."""
        if vif.vlan is None:
            return
        bridge, run = self.options.vlan_bridge, self.wireless.run
        if not self.wireless.bridge_port(bridge, vif.name):
            await run("ip", "link", "set", vif.name, "master", bridge)
        await run("bridge", "vlan", "add", "dev", vif.name, "vid", str(vif.vlan), "pvid", "untagged")
        try:
            await run("bridge", "vlan", "del", "dev", vif.name, "vid", "1")
        except WirelessError:
            pass
        if self.options.uplink:
            await run("bridge", "vlan", "add", "dev", self.options.uplink, "vid", str(vif.vlan))

    async def _airtime(self, radio: RadioConfig) -> None:
        try:
            await self.airtime.configure(radio, self.options.scheduler_stall_us)
        except AirtimeUnavailable:
            return
        except AirtimeError as exc:
            raise WirelessError(f"airtime scheduler: {exc}") from None

    # ---- state -------------------------------------------------------------

    async def _hostapd_status(self, ifname: str) -> dict[str, str]:
        return await self.hostapd.status(ifname) if self.hostapd else {}

    async def operational_state(self) -> JsonTree:
        return await self.operational_state_for(EVERYTHING)

    async def operational_state_for(self, selection: StateSelection) -> JsonTree:
        """Read what ``selection`` needs: the controller asks for state
        around every transaction and the global scheduler every period, so
        this is on the provisioning and the control path."""
        started = asyncio.get_running_loop().time()
        try:
            tree = await self._state.read(self.context.node_id, self.running, selection)
        except (WirelessError, OSError) as exc:
            raise BackendError(f"cannot read the Wi-Fi state: {exc}") from None
        log.debug("read the Wi-Fi state (%s) in %.3fs", selection,
                  asyncio.get_running_loop().time() - started)
        return tree

    @property
    def run_dir(self) -> Path:
        return self.options.run_dir
