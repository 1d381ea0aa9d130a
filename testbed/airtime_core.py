"""The kernel module's airtime scheduling core, from Python.

``kmod/core`` is plain C that the kernel module links in and that
``make -C kmod userspace`` also builds as ``kmod/build/libairtime.so``.
This module binds that library with ctypes, so tests and the
shared-medium simulator run the very code the kernel runs.

Two ways in:

* :class:`Scheduler` is one radio's scheduler driven call by call, the
  way the kernel module drives it: :meth:`~Scheduler.enqueue`,
  :meth:`~Scheduler.poll` (or :meth:`~Scheduler.pick`),
  :meth:`~Scheduler.dequeue`, :meth:`~Scheduler.complete`.  Good for
  tests of the policy; every frame crosses into C.
* :class:`SimRadio` is a simulated radio whose frames never leave C: one
  :meth:`~SimRadio.step` hands over each vif's offered traffic and the
  channel time the radio wins, and C runs every frame through the same
  core calls.  :func:`step_many` steps a whole city of radios in one call
  on numpy arrays.  See ``kmod/core/airtime_sim.h`` for the model.

Units follow the C API: nanoseconds, bytes, kbit/s.  Shares are percent
(as in YANG, at most two decimals) and become basis points in C.
"""

from __future__ import annotations

import ctypes
import enum
import functools
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np

__all__ = [
    "AirtimeError",
    "Band",
    "Offer",
    "Overhead",
    "RadioStats",
    "SATURATED",
    "STEP_IN_DTYPE",
    "STEP_OUT_DTYPE",
    "Scheduler",
    "SchedulerParams",
    "SimRadio",
    "SimStepError",
    "StepResult",
    "TxRecord",
    "VIF_IN_DTYPE",
    "VIF_OUT_DTYPE",
    "Verdict",
    "Vif",
    "VifStats",
    "VifStepResult",
    "library_path",
    "overhead_ns",
    "ppdu_ns",
    "share_to_bp",
    "step_many",
]

LIBRARY_ENV = "RANSDN_LIBAIRTIME"
MAX_VIFS = 32
SHARE_ONE = 10_000
NO_CAP = 0xFFFF_FFFF
CF_ONE = 1 << 16
CF_MAX = 1000 << 16
U64_MAX = (1 << 64) - 1
SATURATED = U64_MAX
"""``Offer.offered_bytes`` that keeps a vif's queue full."""

_EINVAL = 22
_ENOSPC = 28


class AirtimeError(ValueError):
    """The core refused a request; nothing changed."""


class Overhead(enum.IntEnum):
    NONE = 0
    DCF = 1


class Band(enum.IntEnum):
    GHZ5 = 0
    GHZ2 = 1


class Verdict(enum.IntEnum):
    SEND = 0
    WAIT_INFLIGHT = 1
    WAIT_TURN = 2
    WAIT_CAP = 3
    IDLE = 4


# ---- The library -------------------------------------------------------------


#: Resolved once: the medium asks for the library on every step.
_CHECKOUT_LIBRARY = Path(__file__).resolve().parents[1] / "kmod" / "build" / "libairtime.so"


def library_path() -> Path:
    """Where the library is: ``$RANSDN_LIBAIRTIME`` or the checkout's build."""
    env = os.environ.get(LIBRARY_ENV)
    return Path(env) if env else _CHECKOUT_LIBRARY


class _Params(ctypes.Structure):
    _fields_ = [
        ("interval_ns", ctypes.c_uint64),
        ("inflight_budget_ns", ctypes.c_uint64),
        ("stall_ns", ctypes.c_uint64),
        ("overhead", ctypes.c_uint32),
        ("band", ctypes.c_uint32),
        ("cf_ewma_shift", ctypes.c_uint32),
        ("reserved", ctypes.c_uint32),
    ]


class _Tx(ctypes.Structure):
    _fields_ = [
        ("charge_ns", ctypes.c_uint32),
        ("raw_ns", ctypes.c_uint32),
        ("gen", ctypes.c_uint16),
        ("slot", ctypes.c_uint8),
        ("flags", ctypes.c_uint8),
    ]


class _VifStats(ctypes.Structure):
    _fields_ = [
        ("estimated_ns", ctypes.c_uint64),
        ("charged_ns", ctypes.c_uint64),
        ("measured_ns", ctypes.c_uint64),
        ("borrowed_ns", ctypes.c_uint64),
        ("credit_ns", ctypes.c_int64),
        ("interval_charged_ns", ctypes.c_uint64),
        ("backlogged_ns", ctypes.c_uint64),
        ("throttled_ns", ctypes.c_uint64),
        ("tx_packets", ctypes.c_uint64),
        ("tx_bytes", ctypes.c_uint64),
        ("status_packets", ctypes.c_uint64),
        ("estimate_packets", ctypes.c_uint64),
        ("drop_packets", ctypes.c_uint64),
        ("drop_bytes", ctypes.c_uint64),
        ("backlog_bytes", ctypes.c_uint64),
        ("backlog_packets", ctypes.c_uint32),
        ("congestion_q16", ctypes.c_uint32),
        ("guaranteed", ctypes.c_uint32),
        ("cap", ctypes.c_uint32),
        ("slot", ctypes.c_uint32),
        ("held", ctypes.c_uint32),
    ]


class _SchedStats(ctypes.Structure):
    _fields_ = [
        ("inflight_ns", ctypes.c_uint64),
        ("outstanding_ns", ctypes.c_uint64),
        ("vclock_lead_ns", ctypes.c_uint64),
        ("interval_start_ns", ctypes.c_uint64),
        ("intervals", ctypes.c_uint64),
        ("orphan_completions", ctypes.c_uint64),
        ("inflight_packets", ctypes.c_uint32),
        ("vifs", ctypes.c_uint32),
        ("guaranteed_sum", ctypes.c_uint32),
        ("reserved", ctypes.c_uint32),
    ]


VIF_IN_DTYPE = np.dtype(
    [("offered_bytes", "<u8"), ("frame_bytes", "<u4"), ("rate_kbps", "<u4")], align=True
)
"""One vif's input to a step (``struct airtime_sim_vif_in``)."""

STEP_IN_DTYPE = np.dtype(
    [
        ("duration_ns", "<u8"),
        ("airtime_ns", "<u8"),
        ("measured_q16", "<u4"),
        ("tx_status", "<u4"),
    ],
    align=True,
)
"""One radio's input to a step (``struct airtime_sim_step_in``)."""

VIF_OUT_DTYPE = np.dtype(
    [
        ("tx_packets", "<u8"),
        ("tx_bytes", "<u8"),
        ("airtime_ns", "<u8"),
        ("drop_packets", "<u8"),
        ("drop_bytes", "<u8"),
        ("backlog_packets", "<u8"),
        ("backlog_bytes", "<u8"),
    ],
    align=True,
)
"""One vif's result of a step (``struct airtime_sim_vif_out``)."""

STEP_OUT_DTYPE = np.dtype(
    [
        ("airtime_ns", "<u8"),
        ("busy_ns", "<u8"),
        ("tx_packets", "<u8"),
        ("tx_bytes", "<u8"),
        ("now_ns", "<u8"),
        ("error", "<u4"),
        ("error_slot", "<u4"),
    ],
    align=True,
)
"""One radio's result of a step (``struct airtime_sim_step_out``)."""

_SIM_ERRORS = {
    1: "step duration must be 1 ns .. 60 s and keep the radio's clock below 2^64",
    2: "airtime won exceeds the step duration",
    3: "a vif with traffic or queued frames has no bitrate (rate_kbps 0)",
    4: "a vif with traffic has frame_bytes 0 or above 65535",
    5: "traffic offered to a slot that has no vif",
    6: "measured scale above 1000",
}

_u32, _u64, _s32 = ctypes.c_uint32, ctypes.c_uint64, ctypes.c_int32
_p = ctypes.c_void_p

_SIGNATURES: dict[str, tuple[object, list[object]]] = {
    "airtime_abi_sizeof": (_u32, [ctypes.c_char_p]),
    "airtime_params_validate": (ctypes.c_int, [ctypes.POINTER(_Params)]),
    "airtime_sched_init": (ctypes.c_int, [_p, ctypes.POINTER(_Params), _u64]),
    "airtime_sched_set_params": (ctypes.c_int, [_p, ctypes.POINTER(_Params), _u64]),
    "airtime_sched_advance": (_u64, [_p, _u64]),
    "airtime_sched_interval_end": (_u64, [_p]),
    "airtime_sched_take_wakeups": (_u32, [_p]),
    "airtime_sched_get_stats": (None, [_p, _u64, ctypes.POINTER(_SchedStats)]),
    "airtime_vif_add": (ctypes.c_int, [_p, _p, _u32, _u32, _u64]),
    "airtime_vif_remove": (None, [_p, _p, _u64]),
    "airtime_vif_set_share": (ctypes.c_int, [_p, _p, _u32, _u32, _u64]),
    "airtime_vif_enqueue": (ctypes.c_int, [_p, _p, _u32, _u64]),
    "airtime_vif_drop": (ctypes.c_int, [_p, _p, _u32, ctypes.c_bool, _u64]),
    "airtime_vif_purge": (None, [_p, _p, _u64]),
    "airtime_vif_poll": (ctypes.c_int, [_p, _p, _u64, ctypes.POINTER(_u64)]),
    "airtime_sched_pick": (_p, [_p, _u64, ctypes.POINTER(_u64)]),
    "airtime_vif_dequeue": (ctypes.c_int, [_p, _p, _u32, _u32, _u64, ctypes.POINTER(_Tx)]),
    "airtime_tx_complete": (None, [_p, ctypes.POINTER(_Tx), _u32, _u64]),
    "airtime_vif_get_stats": (None, [_p, _p, _u64, ctypes.POINTER(_VifStats)]),
    "airtime_ppdu_ns": (_u32, [_u32, _u32, _u32]),
    "airtime_overhead_ns": (_u32, [_u32, _u32, _u32]),
    "airtime_estimate_ns": (_u32, [_p, _u32, _u32]),
    "airtime_sim_create": (_p, [ctypes.POINTER(_Params), _u64]),
    "airtime_sim_destroy": (None, [_p]),
    "airtime_sim_set_params": (ctypes.c_int, [_p, ctypes.POINTER(_Params)]),
    "airtime_sim_set_queue_limit": (ctypes.c_int, [_p, _u32]),
    "airtime_sim_vif_add": (ctypes.c_int, [_p, _u32, _u32]),
    "airtime_sim_vif_remove": (ctypes.c_int, [_p, _u32]),
    "airtime_sim_vif_set_share": (ctypes.c_int, [_p, _u32, _u32, _u32]),
    "airtime_sim_vif_stats": (ctypes.c_int, [_p, _u32, ctypes.POINTER(_VifStats)]),
    "airtime_sim_sched_stats": (None, [_p, ctypes.POINTER(_SchedStats)]),
    "airtime_sim_now": (_u64, [_p]),
    "airtime_sim_sched": (_p, [_p]),
    "airtime_sim_step": (ctypes.c_int, [_p, _p, _p, _u32, _p, _p]),
    "airtime_sim_step_many": (
        ctypes.c_int,
        [_p, _u32, _p, _p, _u32, _p, _p, ctypes.POINTER(_u32)],
    ),
}

_MIRRORS = {
    "airtime_params": ctypes.sizeof(_Params),
    "airtime_tx": ctypes.sizeof(_Tx),
    "airtime_vif_stats": ctypes.sizeof(_VifStats),
    "airtime_sched_stats": ctypes.sizeof(_SchedStats),
    "airtime_sim_vif_in": VIF_IN_DTYPE.itemsize,
    "airtime_sim_step_in": STEP_IN_DTYPE.itemsize,
    "airtime_sim_vif_out": VIF_OUT_DTYPE.itemsize,
    "airtime_sim_step_out": STEP_OUT_DTYPE.itemsize,
}


@dataclass(frozen=True)
class _Lib:
    dll: ctypes.CDLL
    sizeof_sched: int
    sizeof_vif: int


@functools.cache
def _load(path: Path) -> _Lib:
    if not path.exists():
        raise FileNotFoundError(
            f"{path} does not exist: build it with `make -C kmod userspace` "
            f"(or point ${LIBRARY_ENV} at a build)"
        )
    dll = ctypes.CDLL(str(path))
    for name, (restype, argtypes) in _SIGNATURES.items():
        fn = getattr(dll, name)
        fn.restype = restype
        fn.argtypes = argtypes
    for name, size in _MIRRORS.items():
        c_size = dll.airtime_abi_sizeof(name.encode())
        if c_size != size:
            raise ImportError(f"{path}: struct {name} is {c_size} bytes in C, {size} here")
    return _Lib(
        dll=dll,
        sizeof_sched=dll.airtime_abi_sizeof(b"airtime_sched"),
        sizeof_vif=dll.airtime_abi_sizeof(b"airtime_vif"),
    )


def _lib() -> _Lib:
    return _load(library_path())


# ---- Values ------------------------------------------------------------------------


def share_to_bp(percent: float | int | str | Decimal) -> int:
    """A share in percent (two decimals at most, 0..100) as basis points."""
    try:
        d = Decimal(str(percent))
    except InvalidOperation:
        raise AirtimeError(f"share {percent!r} is not a number") from None
    bp = d * 100
    if not d.is_finite() or bp != bp.to_integral_value():
        raise AirtimeError(f"share {percent!r} has more than two decimals")
    if not 0 <= bp <= SHARE_ONE:
        raise AirtimeError(f"share {percent!r} is outside 0..100 percent")
    return int(bp)


def _cap_to_bp(cap: float | int | str | Decimal | None) -> int:
    return NO_CAP if cap is None else share_to_bp(cap)


def _bp_to_percent(bp: int) -> float | None:
    return None if bp == NO_CAP else bp / 100


@dataclass(frozen=True)
class SchedulerParams:
    """Per-radio parameters (``struct airtime_params``)."""

    interval_ns: int = 100_000_000
    inflight_budget_ns: int = 4_000_000
    overhead: Overhead = Overhead.DCF
    band: Band = Band.GHZ5
    stall_ns: int = 10_000_000
    cf_ewma_shift: int = 4

    @classmethod
    def from_us(
        cls, interval_us: int, inflight_budget_us: int, overhead_model: str = "dcf", **kw: int
    ) -> SchedulerParams:
        """From the YANG scheduler-parameters (microseconds, model name)."""
        return cls(
            interval_ns=interval_us * 1000,
            inflight_budget_ns=inflight_budget_us * 1000,
            overhead=Overhead[overhead_model.upper()],
            **kw,
        )

    def _c(self) -> _Params:
        return _Params(
            interval_ns=self.interval_ns,
            inflight_budget_ns=self.inflight_budget_ns,
            stall_ns=self.stall_ns,
            overhead=int(self.overhead),
            band=int(self.band),
            cf_ewma_shift=self.cf_ewma_shift,
            reserved=0,
        )

    def validate(self) -> None:
        for name in ("interval_ns", "inflight_budget_ns", "stall_ns"):
            if not 0 <= getattr(self, name) <= U64_MAX:
                raise AirtimeError(f"{name} out of range")
        if _lib().dll.airtime_params_validate(ctypes.byref(self._c())) != 0:
            raise AirtimeError(
                f"bad scheduler parameters {self}: interval 1 ms..1 s, "
                "in-flight budget 100 us..100 ms, stall 1 ms..1 s, "
                "EWMA shift 0..12"
            )


@dataclass(frozen=True)
class VifStats:
    """Counters of one vif (``struct airtime_vif_stats``)."""

    slot: int
    guaranteed: float
    cap: float | None
    estimated_ns: int
    charged_ns: int
    measured_ns: int
    borrowed_ns: int
    credit_ns: int
    interval_charged_ns: int
    backlogged_ns: int
    throttled_ns: int
    tx_packets: int
    tx_bytes: int
    status_packets: int
    estimate_packets: int
    drop_packets: int
    drop_bytes: int
    backlog_packets: int
    backlog_bytes: int
    congestion_factor: float
    held: bool

    @property
    def source(self) -> str:
        """'tx-status' once any frame was charged from TX status, as in YANG."""
        return "tx-status" if self.status_packets else "estimate"

    @classmethod
    def _from_c(cls, st: _VifStats) -> VifStats:
        return cls(
            slot=st.slot,
            guaranteed=st.guaranteed / 100,
            cap=_bp_to_percent(st.cap),
            estimated_ns=st.estimated_ns,
            charged_ns=st.charged_ns,
            measured_ns=st.measured_ns,
            borrowed_ns=st.borrowed_ns,
            credit_ns=st.credit_ns,
            interval_charged_ns=st.interval_charged_ns,
            backlogged_ns=st.backlogged_ns,
            throttled_ns=st.throttled_ns,
            tx_packets=st.tx_packets,
            tx_bytes=st.tx_bytes,
            status_packets=st.status_packets,
            estimate_packets=st.estimate_packets,
            drop_packets=st.drop_packets,
            drop_bytes=st.drop_bytes,
            backlog_packets=st.backlog_packets,
            backlog_bytes=st.backlog_bytes,
            congestion_factor=st.congestion_q16 / CF_ONE,
            held=bool(st.held),
        )


@dataclass(frozen=True)
class RadioStats:
    """State of a radio as a whole (``struct airtime_sched_stats``)."""

    inflight_ns: int
    outstanding_ns: int
    vclock_lead_ns: int
    interval_start_ns: int
    intervals: int
    orphan_completions: int
    inflight_packets: int
    vifs: int
    guaranteed_sum: float

    @classmethod
    def _from_c(cls, st: _SchedStats) -> RadioStats:
        return cls(
            inflight_ns=st.inflight_ns,
            outstanding_ns=st.outstanding_ns,
            vclock_lead_ns=st.vclock_lead_ns,
            interval_start_ns=st.interval_start_ns,
            intervals=st.intervals,
            orphan_completions=st.orphan_completions,
            inflight_packets=st.inflight_packets,
            vifs=st.vifs,
            guaranteed_sum=st.guaranteed_sum / 100,
        )


def ppdu_ns(length: int, rate_kbps: int, band: Band = Band.GHZ5) -> int:
    """Duration of a data PPDU (see ``airtime_ppdu_ns``)."""
    _check_u32("length", length)
    _check_u32("rate_kbps", rate_kbps)
    if rate_kbps == 0:
        raise AirtimeError("rate_kbps must be positive")
    return int(_lib().dll.airtime_ppdu_ns(length, rate_kbps, int(band)))


def overhead_ns(model: Overhead, band: Band, rate_kbps: int) -> int:
    """MAC overhead per frame under a model (see ``airtime_overhead_ns``)."""
    _check_u32("rate_kbps", rate_kbps)
    return int(_lib().dll.airtime_overhead_ns(int(model), int(band), rate_kbps))


def _check_u32(name: str, value: int) -> None:
    if not 0 <= value <= 0xFFFF_FFFF:
        raise AirtimeError(f"{name} {value} does not fit 32 bits")


def _check_u64(name: str, value: int) -> None:
    if not 0 <= value <= U64_MAX:
        raise AirtimeError(f"{name} {value} does not fit 64 bits")


# ---- One scheduler, call by call ---------------------------------------------------


@dataclass(frozen=True)
class Vif:
    """A registered vif of a :class:`Scheduler`: its slot and generation."""

    slot: int
    generation: int


@dataclass(frozen=True)
class TxRecord:
    """What :meth:`Scheduler.dequeue` charged, for :meth:`Scheduler.complete`."""

    charge_ns: int
    raw_ns: int
    borrowed: bool
    _c: _Tx

    @classmethod
    def _from_c(cls, tx: _Tx) -> TxRecord:
        return cls(
            charge_ns=tx.charge_ns,
            raw_ns=tx.raw_ns,
            borrowed=bool(tx.flags & 0x01),
            _c=tx,
        )


class Scheduler:
    """One radio's airtime scheduler (``struct airtime_sched``).

    Not thread safe: like the kernel module's per-wiphy lock, the caller
    serialises calls.  Times are the caller's clock in nanoseconds.
    """

    def __init__(self, params: SchedulerParams | None = None, now_ns: int = 0) -> None:
        self._l = _lib()
        params = params or SchedulerParams()
        _check_u64("now_ns", now_ns)
        params.validate()
        self._mem = ctypes.create_string_buffer(self._l.sizeof_sched)
        self._s = ctypes.addressof(self._mem)
        self._vifs: dict[int, tuple[Vif, ctypes.Array[ctypes.c_char]]] = {}
        self._generation = 0
        if self._l.dll.airtime_sched_init(self._s, ctypes.byref(params._c()), now_ns):
            raise AirtimeError(f"bad scheduler parameters {params}")
        self._params = params

    @property
    def params(self) -> SchedulerParams:
        return self._params

    def set_params(self, params: SchedulerParams, now_ns: int) -> None:
        _check_u64("now_ns", now_ns)
        params.validate()
        if self._l.dll.airtime_sched_set_params(self._s, ctypes.byref(params._c()), now_ns):
            raise AirtimeError(f"bad scheduler parameters {params}")
        self._params = params

    def _vif(self, vif: Vif) -> int:
        entry = self._vifs.get(vif.slot)
        if entry is None or entry[0] != vif:
            raise KeyError(f"{vif} is not a vif of this scheduler")
        return ctypes.addressof(entry[1])

    @property
    def vifs(self) -> list[Vif]:
        return [v for v, _ in self._vifs.values()]

    def add_vif(self, guaranteed: float | str | Decimal, cap: float | str | Decimal | None = None,
                *, now_ns: int) -> Vif:
        """Register a vif with a guaranteed share and an optional cap (percent)."""
        _check_u64("now_ns", now_ns)
        g, c = share_to_bp(guaranteed), _cap_to_bp(cap)
        if c != NO_CAP and c < g:
            raise AirtimeError(f"cap {cap} is below the guaranteed share {guaranteed}")
        mem = ctypes.create_string_buffer(self._l.sizeof_vif)
        slot = self._l.dll.airtime_vif_add(self._s, ctypes.addressof(mem), g, c, now_ns)
        if slot == -_ENOSPC:
            raise AirtimeError(f"a radio holds at most {MAX_VIFS} vifs")
        if slot < 0:
            raise AirtimeError(f"shares {guaranteed}/{cap} refused")
        self._generation += 1
        vif = Vif(slot=slot, generation=self._generation)
        self._vifs[slot] = (vif, mem)
        return vif

    def remove_vif(self, vif: Vif, *, now_ns: int) -> None:
        _check_u64("now_ns", now_ns)
        self._l.dll.airtime_vif_remove(self._s, self._vif(vif), now_ns)
        # The storage may be freed: the core no longer points at it.
        del self._vifs[vif.slot]

    def set_share(self, vif: Vif, guaranteed: float | str | Decimal,
                  cap: float | str | Decimal | None = None, *, now_ns: int) -> None:
        _check_u64("now_ns", now_ns)
        g, c = share_to_bp(guaranteed), _cap_to_bp(cap)
        if self._l.dll.airtime_vif_set_share(self._s, self._vif(vif), g, c, now_ns):
            raise AirtimeError(f"cap {cap} is below the guaranteed share {guaranteed}")

    def enqueue(self, vif: Vif, length: int, *, now_ns: int) -> None:
        _check_u64("now_ns", now_ns)
        _check_u32("length", length)
        self._l.dll.airtime_vif_enqueue(self._s, self._vif(vif), length, now_ns)

    def drop(self, vif: Vif, length: int, *, queued: bool, now_ns: int) -> None:
        _check_u64("now_ns", now_ns)
        _check_u32("length", length)
        if self._l.dll.airtime_vif_drop(self._s, self._vif(vif), length, queued, now_ns):
            raise AirtimeError("drop of a queued frame from an empty queue")

    def purge(self, vif: Vif, *, now_ns: int) -> None:
        _check_u64("now_ns", now_ns)
        self._l.dll.airtime_vif_purge(self._s, self._vif(vif), now_ns)

    def poll(self, vif: Vif, *, now_ns: int) -> tuple[Verdict, int]:
        """May the vif send now?  The verdict and the latest time to poll again."""
        _check_u64("now_ns", now_ns)
        wake = ctypes.c_uint64()
        verdict = self._l.dll.airtime_vif_poll(self._s, self._vif(vif), now_ns, ctypes.byref(wake))
        return Verdict(verdict), wake.value

    def pick(self, *, now_ns: int) -> tuple[Vif | None, int]:
        """The vif to serve next, or None and when to ask again."""
        _check_u64("now_ns", now_ns)
        wake = ctypes.c_uint64()
        addr = self._l.dll.airtime_sched_pick(self._s, now_ns, ctypes.byref(wake))
        if not addr:
            return None, wake.value
        for vif, mem in self._vifs.values():
            if ctypes.addressof(mem) == addr:
                return vif, wake.value
        raise RuntimeError("the core picked a vif this binding does not know")

    def dequeue(self, vif: Vif, length: int, raw_ns: int, *, now_ns: int) -> TxRecord:
        """Charge a frame taken from the vif's queue; raw_ns from :meth:`estimate_ns`."""
        _check_u64("now_ns", now_ns)
        _check_u32("length", length)
        _check_u32("raw_ns", raw_ns)
        tx = _Tx()
        if self._l.dll.airtime_vif_dequeue(self._s, self._vif(vif), length, raw_ns, now_ns,
                                           ctypes.byref(tx)):
            if raw_ns == 0:
                raise AirtimeError("a frame needs a non-zero airtime estimate (rate 0?)")
            raise AirtimeError("dequeue from a vif with no queued frame")
        return TxRecord._from_c(tx)

    def complete(self, tx: TxRecord, measured_ns: int | None, *, now_ns: int) -> None:
        """The frame left the driver; measured_ns from TX status, None if none."""
        _check_u64("now_ns", now_ns)
        measured = measured_ns or 0
        _check_u32("measured_ns", measured)
        self._l.dll.airtime_tx_complete(self._s, ctypes.byref(tx._c), measured, now_ns)

    def take_wakeups(self) -> list[Vif]:
        mask = self._l.dll.airtime_sched_take_wakeups(self._s)
        return [v for slot, (v, _) in self._vifs.items() if mask & (1 << slot)]

    def advance(self, now_ns: int) -> int:
        _check_u64("now_ns", now_ns)
        return int(self._l.dll.airtime_sched_advance(self._s, now_ns))

    @property
    def interval_end_ns(self) -> int:
        return int(self._l.dll.airtime_sched_interval_end(self._s))

    def estimate_ns(self, length: int, rate_kbps: int) -> int:
        """Raw estimate (PPDU + overhead, no congestion factor); 0 for rate 0."""
        _check_u32("length", length)
        _check_u32("rate_kbps", rate_kbps)
        return int(self._l.dll.airtime_estimate_ns(self._s, length, rate_kbps))

    def stats(self, vif: Vif, *, now_ns: int) -> VifStats:
        _check_u64("now_ns", now_ns)
        st = _VifStats()
        self._l.dll.airtime_vif_get_stats(self._s, self._vif(vif), now_ns, ctypes.byref(st))
        return VifStats._from_c(st)

    def radio_stats(self, *, now_ns: int) -> RadioStats:
        _check_u64("now_ns", now_ns)
        st = _SchedStats()
        self._l.dll.airtime_sched_get_stats(self._s, now_ns, ctypes.byref(st))
        return RadioStats._from_c(st)


# ---- Simulated radios ------------------------------------------------------------------


@dataclass(frozen=True)
class Offer:
    """One vif's traffic for one step: bytes arriving evenly over the step
    (:data:`SATURATED` keeps the queue full), in frames of frame_bytes, sent
    at rate_kbps."""

    offered_bytes: int
    frame_bytes: int = 1500
    rate_kbps: int = 54_000

    def __post_init__(self) -> None:
        _check_u64("offered_bytes", self.offered_bytes)
        _check_u32("frame_bytes", self.frame_bytes)
        _check_u32("rate_kbps", self.rate_kbps)


@dataclass(frozen=True)
class VifStepResult:
    tx_packets: int
    tx_bytes: int
    airtime_ns: int
    drop_packets: int
    drop_bytes: int
    backlog_packets: int
    backlog_bytes: int


@dataclass(frozen=True)
class StepResult:
    airtime_ns: int
    busy_ns: int
    tx_packets: int
    tx_bytes: int
    now_ns: int
    vifs: dict[int, VifStepResult]


class SimStepError(AirtimeError):
    """A step was refused; no radio ran."""

    def __init__(self, radio: int, slot: int, code: int) -> None:
        self.radio, self.slot, self.code = radio, slot, code
        super().__init__(f"radio {radio}, vif slot {slot}: {_SIM_ERRORS.get(code, code)}")


class SimRadio:
    """A simulated radio scheduled by the core, frame by frame in C."""

    def __init__(self, params: SchedulerParams | None = None, now_ns: int = 0,
                 queue_limit: int = 1000) -> None:
        self._h: int | None = None
        self._l = _lib()
        params = params or SchedulerParams()
        params.validate()
        _check_u64("now_ns", now_ns)
        self._h = self._l.dll.airtime_sim_create(ctypes.byref(params._c()), now_ns)
        if not self._h:
            raise MemoryError("airtime_sim_create failed")
        self._params = params
        self._slots: set[int] = set()
        self.set_queue_limit(queue_limit)

    def close(self) -> None:
        if self._h:
            self._l.dll.airtime_sim_destroy(self._h)
            self._h = None

    def __del__(self) -> None:
        if getattr(self, "_h", None):
            self.close()

    def __enter__(self) -> SimRadio:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def handle(self) -> int:
        if not self._h:
            raise ValueError("the radio is closed")
        return self._h

    @property
    def params(self) -> SchedulerParams:
        return self._params

    @property
    def now_ns(self) -> int:
        return int(self._l.dll.airtime_sim_now(self.handle))

    @property
    def slots(self) -> list[int]:
        return sorted(self._slots)

    def set_params(self, params: SchedulerParams) -> None:
        params.validate()
        if self._l.dll.airtime_sim_set_params(self.handle, ctypes.byref(params._c())):
            raise AirtimeError(f"bad scheduler parameters {params}")
        self._params = params

    def set_queue_limit(self, frames: int) -> None:
        if not 1 <= frames <= 1_000_000 or self._l.dll.airtime_sim_set_queue_limit(
                self.handle, frames):
            raise AirtimeError("queue limit must be 1 .. 1000000 frames")

    def add_vif(self, guaranteed: float | str | Decimal,
                cap: float | str | Decimal | None = None) -> int:
        """Add a vif; returns its slot, the index of its traffic in :meth:`step`."""
        g, c = share_to_bp(guaranteed), _cap_to_bp(cap)
        if c != NO_CAP and c < g:
            raise AirtimeError(f"cap {cap} is below the guaranteed share {guaranteed}")
        slot = self._l.dll.airtime_sim_vif_add(self.handle, g, c)
        if slot < 0:
            raise AirtimeError(f"a radio holds at most {MAX_VIFS} vifs")
        self._slots.add(slot)
        return slot

    def remove_vif(self, slot: int) -> None:
        if self._l.dll.airtime_sim_vif_remove(self.handle, slot):
            raise KeyError(f"no vif in slot {slot}")
        self._slots.discard(slot)

    def set_share(self, slot: int, guaranteed: float | str | Decimal,
                  cap: float | str | Decimal | None = None) -> None:
        g, c = share_to_bp(guaranteed), _cap_to_bp(cap)
        if slot not in self._slots:
            raise KeyError(f"no vif in slot {slot}")
        if self._l.dll.airtime_sim_vif_set_share(self.handle, slot, g, c):
            raise AirtimeError(f"cap {cap} is below the guaranteed share {guaranteed}")

    def vif_stats(self, slot: int) -> VifStats:
        st = _VifStats()
        if self._l.dll.airtime_sim_vif_stats(self.handle, slot, ctypes.byref(st)):
            raise KeyError(f"no vif in slot {slot}")
        return VifStats._from_c(st)

    def radio_stats(self) -> RadioStats:
        st = _SchedStats()
        self._l.dll.airtime_sim_sched_stats(self.handle, ctypes.byref(st))
        return RadioStats._from_c(st)

    def estimate_ns(self, length: int, rate_kbps: int) -> int:
        _check_u32("length", length)
        _check_u32("rate_kbps", rate_kbps)
        sched = self._l.dll.airtime_sim_sched(self.handle)
        return int(self._l.dll.airtime_estimate_ns(sched, length, rate_kbps))

    def step(self, duration_ns: int, airtime_ns: int, offers: Mapping[int, Offer],
             *, measured_scale: float = 1.0, tx_status: bool = False) -> StepResult:
        """Run one step of duration_ns in which the radio wins airtime_ns.

        offers maps vif slots to their traffic; a vif without an offer gets
        no new traffic (its queued frames still need a rate: offer it with
        offered_bytes=0).  Raises :class:`SimStepError` on bad input, with
        nothing changed.
        """
        _check_u64("duration_ns", duration_ns)
        _check_u64("airtime_ns", airtime_ns)
        step = np.zeros(1, STEP_IN_DTYPE)
        step[0] = (duration_ns, airtime_ns, _scale_q16(measured_scale), int(tx_status))
        vifs = np.zeros((1, MAX_VIFS), VIF_IN_DTYPE)
        for slot, offer in offers.items():
            if not 0 <= slot < MAX_VIFS:
                raise SimStepError(0, slot, 5)
            vifs[0, slot] = (offer.offered_bytes, offer.frame_bytes, offer.rate_kbps)
        out, vout = step_many([self], step, vifs)
        return StepResult(
            airtime_ns=int(out[0]["airtime_ns"]),
            busy_ns=int(out[0]["busy_ns"]),
            tx_packets=int(out[0]["tx_packets"]),
            tx_bytes=int(out[0]["tx_bytes"]),
            now_ns=int(out[0]["now_ns"]),
            vifs={slot: VifStepResult(*(int(x) for x in vout[0, slot])) for slot in self.slots},
        )


def _scale_q16(scale: float) -> int:
    q = round(scale * CF_ONE)
    if not 0 < q <= CF_MAX:
        raise AirtimeError(f"measured scale {scale} outside (0, 1000]")
    return q


class SimBatch:
    """Radios stepped together by :func:`step_many`, with the C handle
    array built once (a medium steps the same radios a thousand times a
    second)."""

    def __init__(self, radios: Sequence[SimRadio]) -> None:
        self.radios = tuple(radios)
        self.handles = (ctypes.c_void_p * len(self.radios))(*(r.handle for r in self.radios))

    def __len__(self) -> int:
        return len(self.radios)


def step_many(radios: Sequence[SimRadio] | SimBatch, steps: np.ndarray, vifs: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    """Step every radio once, in C, in one call.

    steps is an array of :data:`STEP_IN_DTYPE` with one entry per radio;
    vifs an array of :data:`VIF_IN_DTYPE` of shape (radios, columns) whose
    column is the vif slot (columns <= 32).  Returns arrays of
    :data:`STEP_OUT_DTYPE` (radios,) and :data:`VIF_OUT_DTYPE` (radios,
    columns).  On bad input no radio runs and :class:`SimStepError` names
    the first bad radio and vif.
    """
    batch = radios if isinstance(radios, SimBatch) else SimBatch(radios)
    n = len(batch)
    if steps.dtype != STEP_IN_DTYPE or steps.shape != (n,):
        raise AirtimeError(f"steps must be an array of STEP_IN_DTYPE with shape ({n},)")
    if vifs.dtype != VIF_IN_DTYPE or vifs.ndim != 2 or vifs.shape[0] != n:
        raise AirtimeError(f"vifs must be an array of VIF_IN_DTYPE with shape ({n}, columns)")
    cols = vifs.shape[1]
    if cols > MAX_VIFS:
        raise AirtimeError(f"at most {MAX_VIFS} vif columns")
    lib = batch.radios[0]._l if n else _lib()
    steps = np.ascontiguousarray(steps)
    vifs = np.ascontiguousarray(vifs)
    out = np.zeros(n, STEP_OUT_DTYPE)
    vout = np.zeros((n, cols), VIF_OUT_DTYPE)
    bad = ctypes.c_uint32()
    rc = lib.dll.airtime_sim_step_many(
        batch.handles, n, steps.ctypes.data, vifs.ctypes.data, cols,
        vout.ctypes.data, out.ctypes.data, ctypes.byref(bad),
    )
    if rc:
        r = bad.value if n else 0
        raise SimStepError(r, int(out[r]["error_slot"]), int(out[r]["error"]))
    return out, vout
