"""The airtime kernel module as the backend sees it: attach the qdisc to
each vif, push the radio's scheduler parameters and each vif's guarantee
and cap over generic netlink, and read back what it measured.

A change of guarantees and caps alone (what the global scheduler sends
every period) is a list of :class:`AirtimeStep` (see
:func:`airtime_steps`): one SET_VIF per vif that changes, and nothing
else.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Awaitable, Callable, Mapping, Sequence, TypeVar

from agent.backends.linux.actions import record
from agent.backends.linux.airtime_netlink import (
    AirtimeError,
    AirtimeNetlink,
    AirtimeUnavailable,
    PhyState,
    StationEstimate,
    VifState,
)
from agent.backends.linux.airtime_uapi import QDISC_KIND, Overhead
from agent.backends.linux.wireless import Runner, command
from agent.backends.wifi_config import RadioConfig

__all__ = ["AirtimeError", "AirtimeLink", "AirtimeSnapshot", "AirtimeStep", "AirtimeUnavailable",
           "VifAirtime", "airtime_steps"]

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VifAirtime:
    """A vif's guarantee and cap in basis points, the module's unit."""

    share: int
    cap: int | None

    def __str__(self) -> str:
        return f"share={self.share} cap={'none' if self.cap is None else self.cap}"


@dataclass(frozen=True)
class AirtimeStep:
    """Move one vif's guarantee and cap from ``before`` to ``after``."""

    vif: str
    before: VifAirtime
    after: VifAirtime


def _shape(radio: RadioConfig) -> tuple:
    """A radio's configuration but its vifs' guarantees and caps, and the
    order of its vifs (the list is ordered by the system: an edit may
    move an entry without changing anything)."""
    vifs = sorted((replace(v, guaranteed_share=Decimal(0), cap=None) for v in radio.vifs),
                  key=lambda v: v.name)
    return replace(radio, vifs=()), tuple(vifs)


def airtime_steps(old: Mapping[str, RadioConfig],
                  new: Mapping[str, RadioConfig]) -> list[AirtimeStep] | None:
    """The SET_VIF steps from ``old`` to ``new`` if the two differ in vif
    guarantees and caps alone; None if anything else differs.

    Disabled vifs have no queue, so they need no step.  Within a radio,
    guarantees that go down come before those that go up, so that their
    sum stays within 100 % at every step (the module would take more, and
    over-commit the interval meanwhile).
    """
    if old.keys() != new.keys():
        return None
    steps: list[AirtimeStep] = []
    for name, after in new.items():
        before = old[name]
        if _shape(before) != _shape(after):
            return None
        moves = []
        for a in after.active_vifs():
            b = before.vif(a.name)
            assert b is not None  # same shape: same vifs
            if b.airtime_key() != a.airtime_key():
                moves.append(AirtimeStep(a.name, VifAirtime(b.share_bp, b.cap_bp),
                                         VifAirtime(a.share_bp, a.cap_bp)))
        steps += sorted(moves, key=lambda s: s.after.share - s.before.share)
    return steps


@dataclass(frozen=True)
class AirtimeSnapshot:
    loaded: bool
    phys: dict[str, PhyState]
    vifs: dict[str, VifState]
    stations: dict[tuple[str, str], StationEstimate]


NOT_LOADED = AirtimeSnapshot(loaded=False, phys={}, vifs={}, stations={})


class AirtimeLink:
    """One generic netlink socket to the module, kept open between
    requests (opening one costs a family lookup) and used by one request
    at a time.  It is reopened when the family it was bound to has gone
    (the module was reloaded): the request is then made once more.

    ``connect``, ``ifindex`` and ``run`` (for ``tc``) are parameters so
    that tests can stand in a fake module.
    """

    def __init__(self, connect: Callable[[], AirtimeNetlink] = AirtimeNetlink,
                 ifindex: Callable[[str], int] = socket.if_nametoindex,
                 run: Runner = command) -> None:
        self._connect = connect
        self._ifindex = ifindex
        self._run = run
        self._nl: AirtimeNetlink | None = None
        self._lock = asyncio.Lock()

    def close(self) -> None:
        if self._nl is not None:
            self._nl.close()
            self._nl = None

    async def _open(self) -> AirtimeNetlink:
        if self._nl is None:
            nl = self._connect()
            await nl.open()
            self._nl = nl
        return self._nl

    async def _call(self, what: str, request: Callable[[AirtimeNetlink], Awaitable[T]]) -> T:
        """One request; the caller holds the lock."""
        record(f"genl {what}")
        for attempt in (1, 2):
            nl = await self._open()
            try:
                return await request(nl)
            except (AirtimeError, OSError) as exc:
                stale = isinstance(exc, OSError) or exc.code == errno.ENOENT
                if not stale or attempt == 2:
                    raise
                self.close()
        raise AssertionError("unreachable")

    async def available(self) -> bool:
        """Whether the module is loaded (its family exists)."""
        async with self._lock:
            try:
                await self._open()
                return True
            except AirtimeUnavailable:
                return False

    async def snapshot(self) -> AirtimeSnapshot:
        async with self._lock:
            try:
                phys = await self._call("GET_PHY dump", lambda nl: nl.phys())
                vifs = await self._call("GET_VIF dump", lambda nl: nl.vifs())
                stations = await self._call("GET_STA dump", lambda nl: nl.stations())
            except AirtimeUnavailable:
                return NOT_LOADED
        return AirtimeSnapshot(loaded=True, phys={p.name: p for p in phys},
                               vifs={v.ifname: v for v in vifs},
                               stations={(s.ifname, s.mac): s for s in stations})

    async def configure(self, radio: RadioConfig, stall_us: int | None) -> None:
        """Attach the qdisc where it is missing, then push the radio's
        scheduler parameters and its vifs' guarantees and caps.

        Guarantees that go down are applied before those that go up, so
        that their sum never exceeds 100 % on the way.
        """
        vifs = radio.active_vifs()
        if not vifs:
            return
        async with self._lock:
            attached = {v.ifname for v in await self._call("GET_VIF dump", lambda nl: nl.vifs())}
            for vif in vifs:
                if vif.name not in attached:
                    await self._run("tc", "qdisc", "replace", "dev", vif.name, "root", QDISC_KIND)
            current = {v.ifname: v for v in await self._call("GET_VIF dump", lambda nl: nl.vifs())}
            missing = [v.name for v in vifs if v.name not in current]
            if missing:
                raise AirtimeError(errno.ENODEV,
                                   f"the airtime qdisc did not attach to {', '.join(missing)}")
            first = current[vifs[0].name].ifindex
            sched = radio.scheduler
            await self._call(f"SET_PHY {radio.name}", lambda nl: nl.set_phy(
                first, interval_us=sched.interval_us, inflight_budget_us=sched.inflight_budget_us,
                overhead=Overhead.DCF if sched.overhead_model == "dcf" else Overhead.NONE,
                stall_us=stall_us))
            for vif in sorted(vifs, key=lambda v: v.share_bp - current[v.name].share):
                await self._set_vif(current[vif.name].ifindex, vif.name,
                                    VifAirtime(vif.share_bp, vif.cap_bp))

    async def _set_vif(self, ifindex: int, name: str, value: VifAirtime) -> None:
        await self._call(f"SET_VIF {name} {value}", lambda nl: nl.set_vif(
            ifindex, share=value.share, cap=value.cap, no_cap=value.cap is None))

    async def set_vifs(self, steps: Sequence[AirtimeStep]) -> None:
        """Take ``steps`` in order, all or nothing: when one fails, those
        already taken are undone (in reverse order, which keeps the sum of
        guarantees within 100 % too) and the error is raised."""
        done: list[tuple[int, AirtimeStep]] = []
        async with self._lock:
            try:
                for step in steps:
                    ifindex = self._ifindex(step.vif)
                    await self._set_vif(ifindex, step.vif, step.after)
                    done.append((ifindex, step))
            except (AirtimeError, OSError):
                for ifindex, step in reversed(done):
                    try:
                        await self._set_vif(ifindex, step.vif, step.before)
                    except (AirtimeError, OSError) as exc:  # the first failure is the one to report
                        log.error("restoring %s to %s failed: %s", step.vif, step.before, exc)
                raise
