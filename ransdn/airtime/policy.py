"""Policies: how entitlements become local-scheduler settings.

A policy is a small plug-in.  Each period the scheduler hands it a
:class:`PeriodView` (the layout, the period's measurements and the
entitlements) and the policy's own :class:`PolicyMemory`; it returns the
guaranteed share and cap of every vif.  The memory belongs to the scheduler
and survives policy swaps, so switching policies at run time loses neither
state nor a control period.

Third-party policies register under the ``ransdn.airtime_policies`` entry
point group (``name = "module:Class"``) or are passed to
:class:`PolicyRegistry` directly.

Built in:

``local-only``
    The baseline: every vif keeps its contract (guaranteed share and cap),
    as hostapd's per-BSS airtime policy would.  Each local scheduler
    honours its shares on its own radio, and co-channel radios split the
    medium as DCF does, regardless of the slices' shares.

``contention-aware``
    Steers each contention domain to its entitlements.  DCF gives every
    contending radio roughly equal access, so the lever is the **cap**:
    in every domain, every vif that wants more than its entitlement is
    capped at it, except on one radio per domain, the *residual taker* —
    the one with the largest entitlement — which stays uncapped and gets
    what the others leave.  (In the 2-AP seed case: A's vif on AP1 is
    capped at 30 %, AP2 takes the other 70 %.)  Vifs that get all they
    want are not capped and keep their contract share as guarantee (as
    far as the radio has room), so new demand is served at once by the
    local scheduler; a radio without contention keeps its contracts.
    An integral term corrects caps that the local schedulers enforce
    imperfectly (estimated versus measured airtime, in-flight overshoot);
    it learns only from periods that ran entirely under the cap it decided
    (a push lands mid-period), and only while the cap binds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, ClassVar, Protocol

import numpy as np
from numpy.typing import NDArray

from .allocation import EPSILON, Allocation
from .measurement import Measurement
from .topology import Topology

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class PeriodView:
    """What a policy may look at.  Shares are fractions of channel time."""

    period: int
    topology: Topology
    measurement: Measurement
    allocation: Allocation


@dataclass(frozen=True)
class Settings:
    """Per vif: guaranteed share and cap, fractions; ``nan`` cap = none."""

    guaranteed: FloatArray
    cap: FloatArray


@dataclass
class PolicyMemory:
    """State a policy keeps between periods, owned by the scheduler.

    ``vif`` arrays are re-indexed by the scheduler when the layout changes
    (rows of new vifs get the array's fill value, see :meth:`vif_array`).
    """

    vif: dict[str, FloatArray] = field(default_factory=dict)
    fills: dict[str, float] = field(default_factory=dict)
    other: dict[str, Any] = field(default_factory=dict)

    def vif_array(self, name: str, n_vifs: int, fill: float) -> FloatArray:
        array = self.vif.get(name)
        if array is None or array.shape[0] != n_vifs:
            array = np.full(n_vifs, fill)
            self.vif[name] = array
            self.fills[name] = fill
        return array

    def realign(self, old: Topology, new: Topology) -> None:
        if old.signature == new.signature or not self.vif:
            return
        row = {k: i for i, k in enumerate(old.vif_keys)}
        index = np.array([row.get(k, -1) for k in new.vif_keys], dtype=np.intp)
        present = index >= 0
        for name, array in self.vif.items():
            moved = np.full(new.n_vifs, self.fills.get(name, np.nan))
            moved[present] = array[index[present]]
            self.vif[name] = moved


class Policy(Protocol):
    name: ClassVar[str]

    def decide(self, view: PeriodView, memory: PolicyMemory) -> Settings: ...


def _keep_unmeasured(view: PeriodView, settings: Settings) -> Settings:
    """Vifs with no usable measurement keep what they have (or their
    contract when nothing is known)."""
    m = view.measurement
    keep = ~m.valid_vif
    if not keep.any():
        return settings
    current_share = np.where(np.isnan(m.applied_share), m.contract_share, m.applied_share)
    known = ~np.isnan(m.applied_share)
    current_cap = np.where(known, m.applied_cap, m.contract_cap)
    return Settings(
        guaranteed=np.where(keep, current_share, settings.guaranteed),
        cap=np.where(keep, current_cap, settings.cap),
    )


class LocalOnlyPolicy:
    """Every vif keeps its contract; no correction."""

    name: ClassVar[str] = "local-only"

    def decide(self, view: PeriodView, memory: PolicyMemory) -> Settings:
        m = view.measurement
        return Settings(guaranteed=m.contract_share.copy(), cap=m.contract_cap.copy())


@dataclass
class ContentionAwarePolicy:
    """Caps vifs so that each contention domain splits as entitled."""

    name: ClassVar[str] = "contention-aware"
    #: Integral gain on the error of capped vifs (0 disables feedback).
    integral_gain: float = 0.5
    #: Largest correction the integral term may apply to a cap.
    integral_limit: float = 0.1

    def decide(self, view: PeriodView, memory: PolicyMemory) -> Settings:
        topology = view.topology
        m = view.measurement
        n_vifs = topology.n_vifs
        x = view.allocation.vif
        radio = topology.vif_radio
        n_radios = topology.n_radios

        constrained = m.valid_vif & (x < m.demand - EPSILON)
        entitled = np.bincount(radio, weights=x, minlength=n_radios)
        uncapped_radio = _residual_takers(topology, entitled, constrained)

        offset = memory.vif_array("cap-offset", n_vifs, 0.0)
        aimed = memory.vif_array("aimed", n_vifs, np.nan)
        decided = memory.vif_array("decided-cap", n_vifs, np.nan)
        cap_before = memory.vif_array("applied-cap", n_vifs, np.nan)
        share_before = memory.vif_array("applied-share", n_vifs, np.nan)
        # The period measured ran under the cap decided last time only if
        # the node reported it both before and after the period.
        in_force = _same(m.applied_share, m.applied_cap, decided) & _same(share_before, cap_before, decided)
        offset[:] = np.where(in_force, self._integrate(m, offset, aimed), offset)
        cap_before[:] = m.applied_cap
        share_before[:] = m.applied_share

        capped = constrained & ~uncapped_radio[radio]
        cap = np.where(capped, np.clip(x + offset, 0.0, 1.0), np.nan)
        aimed[:] = np.where(capped, x, np.nan)
        offset[:] = np.where(capped, offset, 0.0)

        guaranteed = _guarantees(radio, n_radios, x, m.contract_share, constrained)

        contract_cap = m.contract_cap
        has_contract_cap = ~np.isnan(contract_cap)
        cap = np.where(has_contract_cap, np.fmin(cap, contract_cap), cap)
        guaranteed = np.where(np.isnan(cap), guaranteed, np.minimum(guaranteed, cap))
        decided[:] = np.round(cap, 4)
        return _keep_unmeasured(view, Settings(guaranteed=guaranteed, cap=cap))

    def _integrate(self, m: Measurement, offset: FloatArray, aimed: FloatArray) -> FloatArray:
        if self.integral_gain <= 0:
            return np.zeros_like(offset)
        was_capped = ~np.isnan(aimed) & m.valid_vif
        error = np.where(was_capped, aimed - m.achieved, 0.0)
        # Integrate only while the cap is what limits the vif (it was held
        # back, or it overshot); otherwise the term would wind up.
        binding = was_capped & ((m.throttled > 0.0) | (error < 0.0))
        updated = np.where(binding, offset + self.integral_gain * error, 0.5 * offset)
        return np.clip(updated, -self.integral_limit, self.integral_limit)


def _same(applied_share: FloatArray, applied_cap: FloatArray, decided: FloatArray) -> NDArray[np.bool_]:
    """Whether the applied cap is the one decided.  Telemetry that reports
    no applied settings cannot say, and counts as yes; a reported share
    without a cap is "no cap"."""
    unknown = np.isnan(applied_share)
    both_none = np.isnan(applied_cap) & np.isnan(decided)
    return unknown | both_none | (np.abs(applied_cap - decided) <= 2e-4)


def _guarantees(
    radio: NDArray[np.intp],
    n_radios: int,
    x: FloatArray,
    contract: FloatArray,
    constrained: NDArray[np.bool_],
) -> FloatArray:
    """Guaranteed shares for one radio's local scheduler.

    The vifs that want more than their entitlement are guaranteed their
    entitlement (their radio gets that much of the channel: the caps see to
    it).  Every other vif keeps its contract share as far as the rest of
    the radio allows, so that demand arriving there is served by the local
    scheduler at once, not a control period later; while it is idle its
    credit is lent to the others anyway.  A radio where nobody is
    constrained keeps its contracts as they are: nothing to push.
    """
    tight = np.where(constrained, x, 0.0)
    tight_sum = np.bincount(radio, weights=tight, minlength=n_radios)
    tight = tight / np.maximum(tight_sum, 1.0)[radio]
    room = np.clip(1.0 - tight_sum, 0.0, 1.0)
    open_ = np.where(constrained, 0.0, contract)
    open_sum = np.bincount(radio, weights=open_, minlength=n_radios)
    scale = np.where(open_sum > room, room / np.maximum(open_sum, EPSILON), 1.0)
    return np.minimum(np.where(constrained, tight, open_ * scale[radio]), 1.0)


def _residual_takers(
    topology: Topology, entitled: FloatArray, constrained: NDArray[np.bool_]
) -> NDArray[np.bool_]:
    """Radios that may stay uncapped: in every domain they belong to they
    are the constrained radio with the largest entitlement (lowest index
    on ties)."""
    n_radios = topology.n_radios
    wants = np.bincount(topology.vif_radio, weights=constrained, minlength=n_radios) > 0
    domains = topology.domains
    members = domains.members
    if members.shape[0] == 0:
        return np.zeros(n_radios, dtype=bool)
    value = np.where(wants[members], entitled[members], -1.0)
    starts = domains.ptr[:-1]
    best = np.maximum.reduceat(value, starts)
    n_members = members.shape[0]
    top = np.where((value == best[topology.member_domain]) & wants[members], np.arange(n_members), n_members)
    first = np.minimum.reduceat(top, starts)
    taker_entry = np.zeros(n_members + 1, dtype=bool)
    taker_entry[first] = True
    taker_entry = taker_entry[:n_members]
    memberships = np.bincount(members, minlength=n_radios)
    taken = np.bincount(members, weights=taker_entry, minlength=n_radios)
    return wants & (taken == memberships)


PolicyFactory = Callable[[], Policy]

BUILTIN_POLICIES: dict[str, PolicyFactory] = {
    LocalOnlyPolicy.name: LocalOnlyPolicy,
    ContentionAwarePolicy.name: ContentionAwarePolicy,
}

ENTRY_POINT_GROUP = "ransdn.airtime_policies"


class UnknownPolicyError(KeyError):
    def __init__(self, name: str, known: Iterable[str]) -> None:
        super().__init__(name)
        self.name = name
        self.known = sorted(known)

    def __str__(self) -> str:
        return f"unknown airtime policy {self.name!r}; known: {', '.join(self.known)}"


class PolicyRegistry:
    """Policy factories by name: the built-ins, installed entry points and
    whatever is registered explicitly."""

    def __init__(self, factories: dict[str, PolicyFactory] | None = None, *, entry_point_group: str | None = ENTRY_POINT_GROUP) -> None:
        self._factories: dict[str, PolicyFactory] = dict(BUILTIN_POLICIES if factories is None else factories)
        if entry_point_group:
            for ep in entry_points(group=entry_point_group):
                self._factories.setdefault(ep.name, ep.load())

    def register(self, name: str, factory: PolicyFactory) -> None:
        self._factories[name] = factory

    def names(self) -> list[str]:
        return sorted(self._factories)

    def create(self, name: str, **options: Any) -> Policy:
        factory = self._factories.get(name)
        if factory is None:
            raise UnknownPolicyError(name, self._factories)
        return factory(**options)  # type: ignore[call-arg]

