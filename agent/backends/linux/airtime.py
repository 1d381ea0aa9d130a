"""The airtime kernel module as the backend sees it: attach the qdisc to
each vif, push the radio's scheduler parameters and each vif's guarantee
and cap over generic netlink, and read back what it measured."""

from __future__ import annotations

from dataclasses import dataclass

from agent.backends.linux.airtime_netlink import (
    AirtimeNetlink,
    AirtimeUnavailable,
    PhyState,
    StationEstimate,
    VifState,
    module_available,
)
from agent.backends.linux.airtime_uapi import QDISC_KIND, Overhead
from agent.backends.linux.config import RadioConf
from agent.backends.linux.wireless import command

__all__ = ["AirtimeSnapshot", "AirtimeUnavailable", "attach", "configure", "module_available",
           "snapshot"]



async def attach(ifname: str) -> None:
    """Make the airtime qdisc the vif's root qdisc."""
    await command("tc", "qdisc", "replace", "dev", ifname, "root", QDISC_KIND)


async def configure(radio: RadioConf, stall_us: int | None) -> None:
    """Attach the qdisc where it is missing, then push the radio's scheduler
    parameters and its vifs' shares and caps.

    Guarantees that go down are applied before those that go up, so that
    their sum never exceeds 100 % on the way.
    """
    vifs = radio.active_vifs()
    if not vifs:
        return
    async with AirtimeNetlink() as nl:
        attached = {v.ifname for v in await nl.vifs()}
        for vif in vifs:
            if vif.name not in attached:
                await attach(vif.name)
        ifindex = {v.ifname: v.ifindex for v in await nl.vifs()}
        missing = [v.name for v in vifs if v.name not in ifindex]
        if missing:
            raise RuntimeError(f"the airtime qdisc did not attach to {', '.join(missing)}")
        await nl.set_phy(
            ifindex[vifs[0].name],
            interval_us=radio.scheduler.interval_us,
            inflight_budget_us=radio.scheduler.inflight_budget_us,
            overhead=Overhead.DCF if radio.scheduler.overhead == "dcf" else Overhead.NONE,
            stall_us=stall_us,
        )
        current = {v.ifname: v.share for v in await nl.vifs()}
        for vif in sorted(vifs, key=lambda v: v.share - current.get(v.name, 0)):
            await nl.set_vif(ifindex[vif.name], share=vif.share, cap=vif.cap,
                             no_cap=vif.cap is None)


@dataclass(frozen=True)
class AirtimeSnapshot:
    loaded: bool
    phys: dict[str, PhyState]
    vifs: dict[str, VifState]
    stations: dict[tuple[str, str], StationEstimate]


async def snapshot() -> AirtimeSnapshot:
    try:
        async with AirtimeNetlink() as nl:
            phys = {p.name: p for p in await nl.phys()}
            vifs = {v.ifname: v for v in await nl.vifs()}
            stations = {(s.ifname, s.mac): s for s in await nl.stations()}
    except AirtimeUnavailable:
        return AirtimeSnapshot(loaded=False, phys={}, vifs={}, stations={})
    return AirtimeSnapshot(loaded=True, phys=phys, vifs=vifs, stations=stations)
