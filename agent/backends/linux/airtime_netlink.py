"""Async client of the airtime kernel module's generic netlink family.

Talks to ``ransdn_airtime`` (see ``kmod/uapi/ransdn_airtime.h``) through
pyroute2's asyncio generic netlink socket: reads per-phy, per-vif and
per-station state, sets phy parameters and vif shares, and follows the
per-interval multicast report.  Shares are basis points (10000 = 100 %),
as in the kernel interface; callers convert from the YANG percentages.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass
from typing import Any, AsyncIterator

from pyroute2.netlink import NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, genlmsg, nla
from pyroute2.netlink.exceptions import NetlinkError
from pyroute2.netlink.generic import AsyncGenericNetlinkSocket

from agent.backends.linux.airtime_uapi import (
    GENL_NAME,
    GENL_VERSION,
    MCGRP_REPORT,
    SHARE_FULL,
    Attr,
    Cmd,
    Overhead,
    RateSource,
    Source,
)

_PREFIX = "RANSDN_AIRTIME_ATTR_"

_TYPES: dict[Attr, str] = {
    Attr.UNSPEC: "none", Attr.PAD: "hex",
    Attr.IFINDEX: "uint32", Attr.IFNAME: "asciiz", Attr.PHY_NAME: "asciiz",
    Attr.INTERVAL_US: "uint32", Attr.INFLIGHT_BUDGET_US: "uint32",
    Attr.OVERHEAD_MODEL: "uint8", Attr.INFLIGHT_US: "uint32",
    Attr.INFLIGHT_PACKETS: "uint32", Attr.NUM_VIFS: "uint32", Attr.STALL_US: "uint32",
    Attr.TX_STATUS_SEEN: "flag",
    Attr.SHARE: "uint32", Attr.CAP: "uint32", Attr.QUEUE_LIMIT: "uint32",
    Attr.CREDIT_US: "int64", Attr.CONGESTION: "uint32", Attr.SOURCE: "uint8",
    Attr.BACKLOG_PACKETS: "uint32", Attr.BACKLOG_BYTES: "uint32",
    Attr.STA_MAC: "l2addr", Attr.STA_RATE_KBPS: "uint32",
    Attr.STA_RATE_SOURCE: "uint8", Attr.STA_FRAME_US: "uint32",
    Attr.VIF: "vif",
}


def _nla_map(nested: str | None) -> tuple[tuple[str, str], ...]:
    out = []
    for attr in Attr:
        kind = _TYPES.get(attr, "uint64")
        if kind == "vif" and nested is None:
            kind = "hex"
        out.append((_PREFIX + attr.name, kind))
    return tuple(out)


class airtime_msg(genlmsg):
    """Messages of the ransdn_airtime family."""

    prefix = _PREFIX
    nla_map = _nla_map("vif")

    class vif(nla):
        prefix = _PREFIX
        nla_map = _nla_map(None)


class AirtimeError(Exception):
    """The kernel refused a request; ``message`` is its extended ACK."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{message} (errno {code})")
        self.code = code
        self.message = message


class AirtimeUnavailable(AirtimeError):
    """The module is not loaded (the family does not exist)."""


@dataclass(frozen=True)
class PhyState:
    name: str
    interval_us: int
    inflight_budget_us: int
    overhead: Overhead
    stall_us: int
    inflight_us: int
    inflight_packets: int
    num_vifs: int
    intervals: int
    aged_packets: int
    tx_status_seen: bool


@dataclass(frozen=True)
class VifState:
    ifindex: int
    ifname: str
    phy: str
    share: int               #: guaranteed, basis points
    cap: int | None          #: basis points, None without a cap
    queue_limit: int
    estimated_us: int
    measured_us: int         #: charged: TX status where available, else estimate x factor
    status_us: int           #: the part measured from TX status
    borrowed_us: int
    credit_us: int
    congestion: float
    source: Source
    backlog_packets: int
    backlog_bytes: int
    tx_packets: int
    tx_bytes: int
    drops: int
    throttled_us: int
    backlogged_us: int
    bypass_packets: int
    status_packets: int
    estimate_packets: int
    untracked_packets: int


@dataclass(frozen=True)
class StationEstimate:
    ifindex: int
    ifname: str
    mac: str
    rate_kbps: int
    rate_source: RateSource
    frame_us: int            #: estimate for a 1500-octet payload, overhead included


@dataclass(frozen=True)
class Report:
    phy: PhyState
    timestamp_ns: int
    vifs: tuple[VifState, ...]


def _get(msg: Any, attr: Attr, default: Any = 0) -> Any:
    value = msg.get_attr(_PREFIX + attr.name)
    return default if value is None else value


def _phy(msg: Any) -> PhyState:
    return PhyState(
        name=_get(msg, Attr.PHY_NAME, ""),
        interval_us=_get(msg, Attr.INTERVAL_US),
        inflight_budget_us=_get(msg, Attr.INFLIGHT_BUDGET_US),
        overhead=Overhead(_get(msg, Attr.OVERHEAD_MODEL)),
        stall_us=_get(msg, Attr.STALL_US),
        inflight_us=_get(msg, Attr.INFLIGHT_US),
        inflight_packets=_get(msg, Attr.INFLIGHT_PACKETS),
        num_vifs=_get(msg, Attr.NUM_VIFS),
        intervals=_get(msg, Attr.INTERVALS),
        aged_packets=_get(msg, Attr.AGED_PACKETS),
        tx_status_seen=msg.get_attr(_PREFIX + "TX_STATUS_SEEN") is not None,
    )


def _vif(msg: Any) -> VifState:
    cap = _get(msg, Attr.CAP, SHARE_FULL)
    return VifState(
        ifindex=_get(msg, Attr.IFINDEX),
        ifname=_get(msg, Attr.IFNAME, ""),
        phy=_get(msg, Attr.PHY_NAME, ""),
        share=_get(msg, Attr.SHARE),
        cap=None if cap >= SHARE_FULL else cap,
        queue_limit=_get(msg, Attr.QUEUE_LIMIT),
        estimated_us=_get(msg, Attr.ESTIMATED_US),
        measured_us=_get(msg, Attr.MEASURED_US),
        status_us=_get(msg, Attr.STATUS_US),
        borrowed_us=_get(msg, Attr.BORROWED_US),
        credit_us=_get(msg, Attr.CREDIT_US),
        congestion=_get(msg, Attr.CONGESTION, 1000) / 1000.0,
        source=Source(_get(msg, Attr.SOURCE)),
        backlog_packets=_get(msg, Attr.BACKLOG_PACKETS),
        backlog_bytes=_get(msg, Attr.BACKLOG_BYTES),
        tx_packets=_get(msg, Attr.TX_PACKETS),
        tx_bytes=_get(msg, Attr.TX_BYTES),
        drops=_get(msg, Attr.DROPS),
        throttled_us=_get(msg, Attr.THROTTLED_US),
        backlogged_us=_get(msg, Attr.BACKLOGGED_US),
        bypass_packets=_get(msg, Attr.BYPASS_PACKETS),
        status_packets=_get(msg, Attr.STATUS_PACKETS),
        estimate_packets=_get(msg, Attr.ESTIMATE_PACKETS),
        untracked_packets=_get(msg, Attr.UNTRACKED_PACKETS),
    )


def _station(msg: Any) -> StationEstimate:
    return StationEstimate(
        ifindex=_get(msg, Attr.IFINDEX),
        ifname=_get(msg, Attr.IFNAME, ""),
        mac=_get(msg, Attr.STA_MAC, ""),
        rate_kbps=_get(msg, Attr.STA_RATE_KBPS),
        rate_source=RateSource(_get(msg, Attr.STA_RATE_SOURCE)),
        frame_us=_get(msg, Attr.STA_FRAME_US),
    )


def _given(*pairs: tuple[Attr, Any]) -> list[tuple[Attr, Any]]:
    """The attributes that have a value."""
    return [(attr, value) for attr, value in pairs if value is not None]


class AirtimeNetlink:
    """One generic netlink socket to the airtime module.

    Use as ``async with AirtimeNetlink() as nl: ...``.  Raises
    :class:`AirtimeUnavailable` on entry when the module is not loaded.
    """

    def __init__(self) -> None:
        self._sock: AsyncGenericNetlinkSocket | None = None

    async def __aenter__(self) -> "AirtimeNetlink":
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    async def open(self) -> None:
        sock = AsyncGenericNetlinkSocket(ext_ack=True)
        try:
            await sock.bind(GENL_NAME, airtime_msg)
        except NetlinkError as err:
            sock.close()
            if err.code == errno.ENOENT:
                raise AirtimeUnavailable(err.code, f"the {GENL_NAME} module is not loaded") from None
            raise AirtimeError(err.code, str(err.args[1] if len(err.args) > 1 else err)) from None
        self._sock = sock

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    @property
    def sock(self) -> AsyncGenericNetlinkSocket:
        if self._sock is None:
            raise RuntimeError("AirtimeNetlink is not open")
        return self._sock

    async def _request(self, cmd: Cmd, attrs: list[tuple[Attr, Any]], dump: bool) -> list[Any]:
        msg = airtime_msg()
        msg["cmd"] = int(cmd)
        msg["version"] = GENL_VERSION
        msg["attrs"] = [(_PREFIX + a.name, v) for a, v in attrs]
        flags = NLM_F_REQUEST | (NLM_F_DUMP if dump else NLM_F_ACK)
        try:
            replies = await self.sock.nlm_request(msg, msg_type=self.sock.prid, msg_flags=flags)
            return [m async for m in replies if m.get("cmd") == int(cmd)]
        except NetlinkError as err:
            text = err.args[1] if len(err.args) > 1 else str(err)
            raise AirtimeError(err.code, str(text)) from None

    async def _get(self, cmd: Cmd, ifindex: int | None) -> list[Any]:
        """Every entry (a dump), or the one of a vif's ifindex."""
        if ifindex is None:
            return await self._request(cmd, [], dump=True)
        return await self._request(cmd, [(Attr.IFINDEX, ifindex)], dump=False)

    async def phys(self) -> list[PhyState]:
        return [_phy(m) for m in await self._get(Cmd.GET_PHY, None)]

    async def phy(self, ifindex: int) -> PhyState:
        """The phy that carries the vif of this ifindex."""
        (msg,) = await self._get(Cmd.GET_PHY, ifindex)
        return _phy(msg)

    async def set_phy(
        self,
        ifindex: int,
        *,
        interval_us: int | None = None,
        inflight_budget_us: int | None = None,
        overhead: Overhead | None = None,
        stall_us: int | None = None,
    ) -> None:
        await self._request(Cmd.SET_PHY, _given(
            (Attr.IFINDEX, ifindex), (Attr.INTERVAL_US, interval_us),
            (Attr.INFLIGHT_BUDGET_US, inflight_budget_us),
            (Attr.OVERHEAD_MODEL, None if overhead is None else int(overhead)),
            (Attr.STALL_US, stall_us)), dump=False)

    async def vifs(self) -> list[VifState]:
        return [_vif(m) for m in await self._get(Cmd.GET_VIF, None)]

    async def vif(self, ifindex: int) -> VifState:
        (msg,) = await self._get(Cmd.GET_VIF, ifindex)
        return _vif(msg)

    async def set_vif(
        self,
        ifindex: int,
        *,
        share: int | None = None,
        cap: int | None = None,
        no_cap: bool = False,
        queue_limit: int | None = None,
    ) -> None:
        """Set the guarantee and/or cap (basis points); ``no_cap`` lifts the cap."""
        await self._request(Cmd.SET_VIF, _given(
            (Attr.IFINDEX, ifindex), (Attr.SHARE, share),
            (Attr.CAP, SHARE_FULL if no_cap else cap), (Attr.QUEUE_LIMIT, queue_limit)),
            dump=False)

    async def stations(self, ifindex: int | None = None) -> list[StationEstimate]:
        attrs = [] if ifindex is None else [(Attr.IFINDEX, ifindex)]
        return [_station(m) for m in await self._request(Cmd.GET_STA, attrs, dump=True)]

    async def reports(self) -> AsyncIterator[Report]:
        """Yield the module's per-interval reports as they arrive."""
        self.sock.add_membership(MCGRP_REPORT)
        try:
            while True:
                async for msg in self.sock.get():
                    if msg.get("cmd") != int(Cmd.REPORT):
                        continue
                    vifs = tuple(_vif(v) for v in msg.get_attrs(_PREFIX + "VIF"))
                    yield Report(phy=_phy(msg), timestamp_ns=_get(msg, Attr.TIMESTAMP_NS), vifs=vifs)
        finally:
            if self._sock is not None:
                self._sock.drop_membership(MCGRP_REPORT)

