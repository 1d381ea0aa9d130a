"""A simulated LTE small cell: PLMN slices, S1 to each MME, UE attaches.

It behaves like an eNB relaying attaches for a shared (MOCN) cell:

- a slice's PLMN is in SIB1 while the slice is configured and the cell is
  enabled; a cell with no PLMN to broadcast is down;
- each configured MME gets an S1 association that goes ``connecting`` and
  then, after the S1 Setup delay, ``up`` if the MME is reachable or
  ``down`` if not; a reachable MME that becomes unreachable drops to
  ``down``, an unreachable one that becomes reachable reconnects;
- a UE attach names a PLMN (or, without one, its home PLMN from the
  IMSI); it is rejected when no broadcast slice has that PLMN, when none
  of the slice's MMEs is up, or when the slice's IMSI ACL does not admit
  it;
- reconfiguring detaches the UEs a slice no longer admits, and all of a
  removed slice's UEs.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Callable

from agent.backends.base import (
    EVERYTHING,
    BackendError,
    JsonTree,
    Notification,
    NotifySink,
    StateSelection,
)
from agent.backends import rfc7951 as enc
from agent.backends.sim.lte_config import CellConfig, LteConfig, SliceConfig, parse_lte_config
from agent.backends.sim.options import S1_PORT, CellHardware, FailureTriggers

LTE = "ransdn-lte"

S1Key = tuple[str, str, int]  # slice id, MME address, MME port


@dataclass
class _S1Association:
    state: str
    last_change: float
    timer: asyncio.TimerHandle | None = None


@dataclass
class _SliceCounters:
    accepted: int = 0
    rejected: int = 0


@dataclass(frozen=True)
class _Ue:
    slice_id: str
    since: float


@dataclass
class _AttachOutcome:
    result: str
    slice_id: str | None = None
    cause: str | None = None


class LteCell:
    def __init__(
        self,
        node_id: str,
        hardware: CellHardware,
        failures: FailureTriggers,
        notify: NotifySink,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.node_id = node_id
        self._hw = hardware
        self._failures = failures
        self._notify = notify
        self._clock = clock
        self._config = LteConfig(cell=CellConfig(), slices=())
        self._s1: dict[S1Key, _S1Association] = {}
        self._reachable: dict[tuple[str, int], bool] = {}
        self._ues: dict[str, _Ue] = {}
        self._counters: dict[str, _SliceCounters] = {}
        self._rejected_total = 0
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()

    async def stop(self) -> None:
        for assoc in self._s1.values():
            if assoc.timer is not None:
                assoc.timer.cancel()
        self._s1.clear()

    # Configuration

    async def apply(self, old: JsonTree, new: JsonTree) -> None:
        del old
        target = parse_lte_config(new)
        self._check(target)
        events: list[Notification] = []
        slices = {s.id: s for s in target.slices} if target.cell.enabled else {}
        for imsi, ue in list(self._ues.items()):
            slice_ = slices.get(ue.slice_id)
            before = self._slice(ue.slice_id)
            if slice_ is None or slice_.plmn != before.plmn or not slice_.acl.admits(imsi):
                del self._ues[imsi]
        wanted = {(s.id, a, p) for s in slices.values() for a, p in s.mmes}
        for key in sorted(set(self._s1) - wanted):
            assoc = self._s1.pop(key)
            if assoc.timer is not None:
                assoc.timer.cancel()
            if assoc.state == "up":
                events.append(_s1_event(key, "down"))
        self._counters = {s.id: self._counters.get(s.id, _SliceCounters()) for s in target.slices}
        self._config = target
        for key in sorted(wanted - set(self._s1)):
            self._s1[key] = _S1Association("down", self._clock())
            self._connect(key)
        for event in events:
            self._notify(event)

    def _check(self, target: LteConfig) -> None:
        reason = self._failures.fault()
        if reason is not None:
            raise BackendError(f"cell {self.node_id} is faulty: {reason}")
        earfcn = target.cell.earfcn_dl
        if earfcn is not None and not self._hw.supports_earfcn(earfcn):
            ranges = ", ".join(f"{lo}-{hi}" for lo, hi in self._hw.earfcn_dl_ranges)
            raise BackendError(
                f"the radio of cell {self.node_id} cannot transmit on EARFCN {earfcn} "
                f"(supported: {ranges})",
                path=f"/{LTE}:lte-cell/cell/earfcn-dl",
            )
        if len(target.slices) > self._hw.max_plmns:
            raise BackendError(
                f"cell {self.node_id} can broadcast at most {self._hw.max_plmns} PLMNs, "
                f"not {len(target.slices)}",
                path=f"/{LTE}:lte-cell/slice",
            )
        for s in target.slices:
            if s.id in self._failures.slices or s.plmn in self._failures.plmns:
                raise BackendError(
                    f"cell {self.node_id} refused slice {s.id} (PLMN {s.mcc}-{s.mnc}) "
                    "(simulated failure)",
                    path=f"/{LTE}:lte-cell/slice[id='{s.id}']",
                )

    def _slice(self, slice_id: str) -> SliceConfig:
        return next(s for s in self._config.slices if s.id == slice_id)

    # S1

    def _is_reachable(self, address: str, port: int) -> bool:
        override = self._reachable.get((address, port))
        if override is not None:
            return override
        return self._hw.mme_reachable(address, port)

    def _connect(self, key: S1Key) -> None:
        assoc = self._s1[key]
        self._set_state(key, assoc, "connecting")
        assert self._loop is not None, "start() was not called"
        assoc.timer = self._loop.call_later(self._hw.s1_setup_delay, self._setup_finished, key, assoc)

    def _setup_finished(self, key: S1Key, assoc: _S1Association) -> None:
        if self._s1.get(key) is not assoc:
            return
        assoc.timer = None
        self._set_state(key, assoc, "up" if self._is_reachable(key[1], key[2]) else "down")

    def _set_state(self, key: S1Key, assoc: _S1Association, state: str) -> None:
        if state == assoc.state:
            return
        was_up = assoc.state == "up"
        assoc.state = state
        assoc.last_change = self._clock()
        if state == "up" or was_up:
            self._notify(_s1_event(key, state if state == "up" else "down"))

    async def set_mme_reachable(self, args: JsonTree) -> JsonTree:
        address = args["address"]
        port = enc.to_int(args.get("port"), S1_PORT)
        reachable = bool(args["reachable"])
        self._reachable[(address, port)] = reachable
        for key, assoc in sorted(self._s1.items()):
            if key[1:] != (address, port):
                continue
            if reachable and assoc.state == "down":
                self._connect(key)
            elif not reachable and assoc.state == "up":
                self._set_state(key, assoc, "down")
        return {}

    # UEs

    async def ue_attach(self, args: JsonTree) -> JsonTree:
        imsi = args["imsi"]
        plmn = args.get("plmn") or {}
        outcome = self._admit(imsi, plmn)
        if outcome.result == "rejected":
            self._rejected_total += 1
            body: JsonTree = {"imsi": imsi}
            if plmn.get("mcc") and plmn.get("mnc"):
                body["plmn"] = {"mcc": plmn["mcc"], "mnc": plmn["mnc"]}
            body["cause"] = outcome.cause
            self._notify(Notification(f"{LTE}:ue-attach-rejected", body))
        reply: JsonTree = {"result": outcome.result}
        if outcome.slice_id is not None:
            reply["slice"] = outcome.slice_id
        if outcome.cause is not None:
            reply["cause"] = outcome.cause
        return reply

    def _admit(self, imsi: str, plmn: JsonTree) -> _AttachOutcome:
        slice_ = self._serving_slice(imsi, plmn)
        if slice_ is None:
            return _AttachOutcome("rejected", cause="plmn-not-broadcast")
        if not any(self._s1[(slice_.id, a, p)].state == "up" for a, p in slice_.mmes):
            return _AttachOutcome("rejected", slice_.id, "s1-down")
        counters = self._counters[slice_.id]
        if not slice_.acl.admits(imsi):
            counters.rejected += 1
            return _AttachOutcome("rejected", slice_.id, "imsi-not-allowed")
        counters.accepted += 1
        previous = self._ues.get(imsi)
        if previous is None or previous.slice_id != slice_.id:
            self._ues[imsi] = _Ue(slice_.id, self._clock())
        return _AttachOutcome("accepted", slice_.id)

    def _serving_slice(self, imsi: str, plmn: JsonTree) -> SliceConfig | None:
        broadcast = self._broadcast_slices()
        if plmn.get("mcc") and plmn.get("mnc"):
            wanted = plmn["mcc"] + plmn["mnc"]
            return next((s for s in broadcast if s.plmn == wanted), None)
        # No PLMN selected: the UE looks for its home PLMN, which its IMSI
        # starts with (MCC then a 2- or 3-digit MNC).
        home = [s for s in broadcast if imsi.startswith(s.plmn)]
        return max(home, key=lambda s: len(s.plmn), default=None)

    def _broadcast_slices(self) -> list[SliceConfig]:
        if not self._config.cell.enabled:
            return []
        return list(self._config.slices)

    async def ue_detach(self, args: JsonTree) -> JsonTree:
        imsi = args["imsi"]
        if self._ues.pop(imsi, None) is None:
            raise BackendError(f"UE {imsi} is not attached", error_tag="invalid-value")
        return {}

    # Operational state

    async def operational_state(self, selection: StateSelection = EVERYTHING) -> JsonTree:
        del selection  # all of it is bookkeeping in memory: nothing to skip
        cfg = self._config.cell
        cell: JsonTree = {}
        for leaf, value in (
            ("cell-identity", cfg.cell_identity),
            ("pci", cfg.pci),
            ("tac", cfg.tac),
            ("earfcn-dl", cfg.earfcn_dl),
        ):
            if value is not None:
                cell[leaf] = value
        broadcast = {s.id for s in self._broadcast_slices()}
        cell["oper-status"] = "up" if broadcast else "down"
        state: JsonTree = {
            "cell": cell,
            "rejected-attaches": enc.uint64(self._rejected_total),
        }
        slices = [self._slice_state(s, s.id in broadcast) for s in self._config.slices]
        if slices:
            state["slice"] = slices
        return {f"{LTE}:lte-cell-state": state}

    def _slice_state(self, s: SliceConfig, broadcast: bool) -> JsonTree:
        counters = self._counters[s.id]
        ues = sorted((imsi, ue) for imsi, ue in self._ues.items() if ue.slice_id == s.id)
        state: JsonTree = {
            "id": s.id,
            "tenant": s.tenant,
            "plmn": {"mcc": s.mcc, "mnc": s.mnc},
            "broadcast": broadcast,
        }
        mmes = []
        for address, port in s.mmes:
            assoc = self._s1.get((s.id, address, port))
            mmes.append(
                {
                    "address": address,
                    "port": port,
                    "s1-state": assoc.state if assoc else "down",
                    "last-change": enc.date_and_time(assoc.last_change if assoc else self._clock()),
                }
            )
        if mmes:
            state["mme"] = mmes
        state.update(
            {
                "attached-ues": enc.gauge32(len(ues)),
                "attach-accepted": enc.uint64(counters.accepted),
                "attach-rejected": enc.uint64(counters.rejected),
            }
        )
        if ues:
            state["ue"] = [
                {"imsi": imsi, "attached-since": enc.date_and_time(ue.since)} for imsi, ue in ues
            ]
        return state


def _s1_event(key: S1Key, state: str) -> Notification:
    slice_id, address, port = key
    return Notification(
        f"{LTE}:s1-state-change",
        {"slice": slice_id, "address": address, "port": port, "s1-state": state},
    )
