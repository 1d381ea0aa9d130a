"""Scenarios of the global airtime scheduler: a city, a timeline of demand
changes, and the figures the run must reach.

``seed`` (a)
    Two co-channel APs in range; tenant A (30 %) sends through AP1 only,
    B (70 %) through AP2 only.  B goes idle at period 10 and comes back at
    period 16.
``city100`` (b)
    120 APs on 3 channels on a random geometric graph, 6 tenants with
    shares 30/20/15/10/10/5 and mixed demand (saturating, on-off, Poisson,
    constant, idle).
``city1000`` (c)
    A city of 1000 radios: 500 nodes with a 2.4 GHz radio (channels 1, 6,
    11) and a 5 GHz radio (36, 40, 44, 48), 8 tenants, mixed demand.

:mod:`.runner` runs a scenario offline (medium and scheduler in one
process, no NETCONF); the controller's integration runs the same scenarios
through the agent farm.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from testbed.city import City, CityRadio, CityVif, random_city, seed_city
from testbed.medium.model import TrafficSpec


@dataclass(frozen=True)
class TrafficChange:
    """At the start of ``period``, the vif's traffic becomes ``traffic``."""

    period: int
    node: str
    radio: str
    vif: str
    traffic: TrafficSpec


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    build: Callable[[], City]
    periods: int
    period_s: float = 1.0
    changes: tuple[TrafficChange, ...] = ()
    #: Named phases (first period, end period exclusive) for the report.
    phases: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: Error tolerance (percentage points) that counts as converged.
    tolerance: float = 2.0
    #: Medium step: shorter steps waste less channel time when a radio's
    #: scheduler holds its frames mid-step, longer ones simulate faster.
    step_ms: float = 1.0


def _seed() -> Scenario:
    return Scenario(
        name="seed",
        description="(a) 2 co-channel APs; A 30 % on AP1, B 70 % on AP2",
        build=seed_city,
        periods=22,
        changes=(
            TrafficChange(10, "ap2", "phy0", "wlan-B", TrafficSpec("idle")),
            TrafficChange(16, "ap2", "phy0", "wlan-B", TrafficSpec("saturating")),
        ),
        phases={"both": (1, 10), "b-idle": (10, 16), "b-back": (16, 22)},
        tolerance=1.0,
    )


def _city100() -> Scenario:
    return Scenario(
        name="city100",
        description="(b) 120 APs, 3 channels, random geometric graph, 6 tenants, mixed demand",
        build=lambda: random_city("city100", aps=120, channels=(36, 40, 44), tenants=6, seed=100),
        periods=30,
        phases={"all": (1, 30)},
    )


def _dual_band_city(nodes: int, tenants: int, seed: int) -> City:
    """Nodes with a 2.4 GHz and a 5 GHz radio: two random cities on the
    same node positions."""
    low = random_city("low", aps=nodes, channels=(1, 6, 11), band="2.4ghz", tenants=tenants, seed=seed)
    high = random_city("high", aps=nodes, channels=(36, 40, 44, 48), band="5ghz", tenants=tenants, seed=seed + 1)
    radios: list[CityRadio] = list(low.radios)
    vifs: list[CityVif] = list(low.vifs)
    for r, moved in zip(high.radios, low.radios):
        radios.append(CityRadio(r.node, "phy1", r.band, r.channel, moved.position, r.mac[:-2] + "10"))
    for v in high.vifs:
        vifs.append(
            CityVif(
                v.node,
                "phy1",
                v.tenant,
                v.vif,
                v.traffic,
                tuple(type(s)(s.mac[:-2] + f"{int(s.mac[-2:], 16) | 0x80:02x}", s.tx_bitrate_kbps) for s in v.stations),
            )
        )
    return City(f"city{2 * nodes}", tuple(radios), low.tenants, tuple(vifs), None, {**low.range_m, **high.range_m})


def _city1000() -> Scenario:
    return Scenario(
        name="city1000",
        description="(c) 1000 radios: 500 dual-band nodes, 7 channels, 8 tenants, mixed demand",
        build=lambda: _dual_band_city(500, 8, seed=1000),
        periods=16,
        phases={"all": (1, 16)},
        step_ms=2.0,
    )


SCENARIOS: dict[str, Callable[[], Scenario]] = {
    "seed": _seed,
    "city100": _city100,
    "city1000": _city1000,
}


def scenario(name: str) -> Scenario:
    try:
        return SCENARIOS[name]()
    except KeyError:
        raise KeyError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}") from None
