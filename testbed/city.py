"""Simulated cities: where the APs are, which tenants they carry, what
traffic each tenant offers.

A :class:`City` is the in-process form; :meth:`City.to_document` gives the
agent farm's topology file (``{"nodes": [...]}``, see
:mod:`agent.farm.topology`) with the rest of the city under a ``"city"``
member the farm ignores::

    {"nodes": [{"name": "ap1", "kind": "wifi", "position": [0, 0],
                "radios": [{"name": "phy0", "band": "5ghz", "channel": 36,
                            "mac": "02:00:00:00:01:00"}]}, ...],
     "medium": {"range_m": {"5ghz": 100.0},
                "hearing": [[["ap1", "phy0"], ["ap2", "phy0"]]]},  # optional
     "city": {"name": "seed",
              "tenants": [{"name": "A", "share": 30.0, "ssid": "tenant-A"}],
              "vifs": [{"node": "ap1", "radio": "phy0", "tenant": "A",
                        "vif": "wlan-A",
                        "traffic": {"pattern": "saturating"},
                        "stations": [{"mac": "06:..", "tx_bitrate_kbps": 54000}]}]}}

A city may also have LTE small cells (``"kind": "lte"`` nodes, which the
farm runs as sim eNBs) and UEs that attach through them (under
``"city"``: ``"ues": [{"imsi": "001010000000001", "cell": "lte-1",
"plmn": "001-01"}]``).

Generators: :func:`seed_city` (the 2-AP 30/70 case), :func:`random_city`
(APs on a random geometric graph, tenants with shares and mixed demand;
scenarios (b) and (c)), :func:`demo_city` (the neighbourhood of ``ransdn
demo``).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from testbed.medium.model import TrafficSpec
from testbed.medium.propagation import DEFAULT_RANGE_M

RadioKey = tuple[str, str]


class CityError(ValueError):
    """A city description that cannot be built; the message says where."""


@dataclass(frozen=True)
class CityRadio:
    node: str
    radio: str
    band: str
    channel: int
    position: tuple[float, float]
    mac: str

    @property
    def key(self) -> RadioKey:
        return (self.node, self.radio)


@dataclass(frozen=True)
class Tenant:
    name: str
    #: Guaranteed airtime share on every radio it is on, percent.
    share: float
    ssid: str


@dataclass(frozen=True)
class CityStation:
    mac: str
    tx_bitrate_kbps: int = 54_000


@dataclass(frozen=True)
class CityVif:
    node: str
    radio: str
    tenant: str
    vif: str
    traffic: TrafficSpec = field(default_factory=TrafficSpec)
    stations: tuple[CityStation, ...] = ()

    @property
    def radio_key(self) -> RadioKey:
        return (self.node, self.radio)


@dataclass(frozen=True)
class CityCell:
    """An LTE small cell (the farm runs a sim eNB for it)."""

    name: str
    position: tuple[float, float] = (0.0, 0.0)


IMSI_RE = re.compile(r"[0-9]{6,15}")
PLMN_RE = re.compile(r"([0-9]{3})-([0-9]{2,3})")


@dataclass(frozen=True)
class CityUe:
    """A subscriber's UE that attaches through ``cell`` to ``plmn``
    ("MCC-MNC"; None sends no PLMN, which a sim cell rejects, as the
    ``ue-attach`` RPC needs one)."""

    imsi: str
    cell: str
    plmn: str | None = None

    def plmn_id(self) -> tuple[str, str] | None:
        """(MCC, MNC), or None for the home PLMN."""
        if self.plmn is None:
            return None
        m = PLMN_RE.fullmatch(self.plmn)
        assert m is not None, "checked when the city was built"
        return m.group(1), m.group(2)


@dataclass(frozen=True)
class City:
    name: str
    radios: tuple[CityRadio, ...]
    tenants: tuple[Tenant, ...]
    vifs: tuple[CityVif, ...]
    #: The complete hearing graph, or None to derive it from positions.
    hearing: tuple[tuple[RadioKey, RadioKey], ...] | None = None
    range_m: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_RANGE_M))
    cells: tuple[CityCell, ...] = ()
    ues: tuple[CityUe, ...] = ()

    def __post_init__(self) -> None:
        keys = [r.key for r in self.radios]
        if len(set(keys)) != len(keys):
            raise CityError("a radio is listed twice")
        tenants = {t.name: t for t in self.tenants}
        if len(tenants) != len(self.tenants):
            raise CityError("a tenant is listed twice")
        known = set(keys)
        load: dict[RadioKey, float] = {}
        seen: set[tuple[str, str, str]] = set()
        for v in self.vifs:
            if v.radio_key not in known:
                raise CityError(f"vif {v.vif} is on unknown radio {v.node}/{v.radio}")
            if v.tenant not in tenants:
                raise CityError(f"vif {v.node}/{v.radio}/{v.vif} belongs to unknown tenant {v.tenant}")
            if (v.node, v.radio, v.vif) in seen:
                raise CityError(f"vif {v.node}/{v.radio}/{v.vif} is listed twice")
            seen.add((v.node, v.radio, v.vif))
            load[v.radio_key] = load.get(v.radio_key, 0.0) + tenants[v.tenant].share
        for key, total in load.items():
            if total > 100.0 + 1e-9:
                raise CityError(f"the shares on radio {key[0]}/{key[1]} add up to {total:g} > 100")
        for pair in self.hearing or ():
            for key in pair:
                if tuple(key) not in known:
                    raise CityError(f"the hearing graph names unknown radio {key[0]}/{key[1]}")
        cells = [c.name for c in self.cells]
        if len(set(cells)) != len(cells):
            raise CityError("a cell is listed twice")
        clash = sorted(set(cells) & {r.node for r in self.radios})
        if clash:
            raise CityError(f"{clash[0]} is both a Wi-Fi node and a cell")
        imsis: set[str] = set()
        for ue in self.ues:
            if not IMSI_RE.fullmatch(ue.imsi):
                raise CityError(f"UE {ue.imsi!r}: an IMSI is 6 to 15 digits")
            if ue.imsi in imsis:
                raise CityError(f"UE {ue.imsi} is listed twice")
            imsis.add(ue.imsi)
            if ue.cell not in cells:
                raise CityError(f"UE {ue.imsi} attaches through unknown cell {ue.cell}")
            if ue.plmn is not None and not PLMN_RE.fullmatch(ue.plmn):
                raise CityError(f"UE {ue.imsi}: PLMN {ue.plmn!r} is not MCC-MNC (e.g. 001-01)")

    def tenant(self, name: str) -> Tenant:
        return next(t for t in self.tenants if t.name == name)

    def vifs_on(self, key: RadioKey) -> list[CityVif]:
        return [v for v in self.vifs if v.radio_key == key]

    def to_document(self) -> dict[str, Any]:
        nodes: dict[str, dict[str, Any]] = {}
        for r in self.radios:
            node = nodes.setdefault(
                r.node, {"name": r.node, "kind": "wifi", "position": list(r.position), "radios": []}
            )
            node["radios"].append(
                {"name": r.radio, "band": r.band, "channel": r.channel, "mac": r.mac, "position": list(r.position)}
            )
        for c in self.cells:
            nodes[c.name] = {"name": c.name, "kind": "lte", "position": list(c.position)}
        medium: dict[str, Any] = {"range_m": dict(self.range_m)}
        if self.hearing is not None:
            medium["hearing"] = [[list(a), list(b)] for a, b in self.hearing]
        doc: dict[str, Any] = {
            "nodes": list(nodes.values()),
            "medium": medium,
            "city": {
                "name": self.name,
                "tenants": [asdict(t) for t in self.tenants],
                "vifs": [
                    {
                        "node": v.node,
                        "radio": v.radio,
                        "tenant": v.tenant,
                        "vif": v.vif,
                        "traffic": asdict(v.traffic),
                        "stations": [asdict(s) for s in v.stations],
                    }
                    for v in self.vifs
                ],
            },
        }
        if self.ues:
            doc["city"]["ues"] = [asdict(u) for u in self.ues]
        return doc

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_document(), indent=1) + "\n")

    @classmethod
    def from_document(cls, doc: Any) -> "City":
        try:
            spec = doc["city"]
            medium = doc.get("medium", {})
            radios = tuple(
                CityRadio(
                    node=n["name"],
                    radio=r["name"],
                    band=r["band"],
                    channel=int(r["channel"]),
                    position=tuple(r.get("position", n.get("position", [0.0, 0.0]))),
                    mac=r["mac"],
                )
                for n in doc["nodes"]
                if n.get("kind", "wifi") == "wifi"
                for r in n["radios"]
            )
            hearing = medium.get("hearing")
            return cls(
                name=spec["name"],
                radios=radios,
                tenants=tuple(Tenant(t["name"], float(t["share"]), t["ssid"]) for t in spec["tenants"]),
                vifs=tuple(
                    CityVif(
                        node=v["node"],
                        radio=v["radio"],
                        tenant=v["tenant"],
                        vif=v["vif"],
                        traffic=TrafficSpec(**v.get("traffic", {})),
                        stations=tuple(CityStation(**s) for s in v.get("stations", [])),
                    )
                    for v in spec["vifs"]
                ),
                hearing=None
                if hearing is None
                else tuple((tuple(a), tuple(b)) for a, b in hearing),  # type: ignore[misc]
                range_m=dict(medium.get("range_m", DEFAULT_RANGE_M)),
                cells=tuple(
                    CityCell(n["name"], tuple(n.get("position", [0.0, 0.0])))  # type: ignore[arg-type]
                    for n in doc["nodes"]
                    if n.get("kind") == "lte"
                ),
                ues=tuple(CityUe(**u) for u in spec.get("ues", [])),
            )
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, CityError):
                raise
            raise CityError(f"not a city document: {exc!r}") from exc

    @classmethod
    def read(cls, path: Path) -> "City":
        try:
            return cls.from_document(json.loads(path.read_text()))
        except json.JSONDecodeError as exc:
            raise CityError(f"{path}: {exc}") from exc


def _mac(index: int, radio: int = 0) -> str:
    return f"02:00:{(index >> 16) & 0xFF:02x}:{(index >> 8) & 0xFF:02x}:{index & 0xFF:02x}:{radio << 4:02x}"


def _station_mac(vif_index: int, station: int) -> str:
    return f"06:{(vif_index >> 24) & 0xFF:02x}:{(vif_index >> 16) & 0xFF:02x}:{(vif_index >> 8) & 0xFF:02x}:{vif_index & 0xFF:02x}:{station:02x}"


def seed_city(*, bitrate_kbps: int = 54_000) -> City:
    """Scenario (a): AP1 and AP2 on one channel, in range of each other.
    Tenant A (30 %) sends only through AP1, tenant B (70 %) only through
    AP2; each has a vif on both APs with one station."""
    radios = (
        CityRadio("ap1", "phy0", "5ghz", 36, (0.0, 0.0), _mac(1)),
        CityRadio("ap2", "phy0", "5ghz", 36, (40.0, 0.0), _mac(2)),
    )
    tenants = (Tenant("A", 30.0, "tenant-A"), Tenant("B", 70.0, "tenant-B"))
    vifs = []
    for i, (node, tenant, busy) in enumerate(
        [("ap1", "A", True), ("ap1", "B", False), ("ap2", "A", False), ("ap2", "B", True)]
    ):
        vifs.append(
            CityVif(
                node,
                "phy0",
                tenant,
                f"wlan-{tenant}",
                TrafficSpec("saturating") if busy else TrafficSpec("idle"),
                (CityStation(_station_mac(i, 1), bitrate_kbps),),
            )
        )
    return City(
        "seed",
        radios,
        tenants,
        tuple(vifs),
        hearing=((("ap1", "phy0"), ("ap2", "phy0")),),
    )


#: Tenant shares of the generated cities, percent (they add up to 100).
TENANT_SHARES = (30.0, 20.0, 15.0, 10.0, 10.0, 5.0, 5.0, 5.0)
BITRATES_KBPS = (12_000, 24_000, 54_000, 65_000, 130_000)


def random_city(
    name: str,
    *,
    aps: int,
    channels: tuple[int, ...] = (36, 40, 44),
    band: str = "5ghz",
    tenants: int = 6,
    mean_neighbours: float = 4.0,
    tenant_presence: float = 0.6,
    demand_mix: dict[str, float] | None = None,
    seed: int = 1,
) -> City:
    """APs uniformly at random in a square sized so that each hears about
    ``mean_neighbours`` co-channel APs; channels assigned at random; each AP
    carries each tenant with probability ``tenant_presence`` (at least
    one).  Each vif gets one or two stations at random bitrates and a
    demand drawn from ``demand_mix`` (saturating, on-off, poisson, constant,
    idle), rates sized against its stations' bitrate."""
    if not 4 <= tenants <= len(TENANT_SHARES):
        raise CityError(f"tenants must be 4..{len(TENANT_SHARES)}")
    if aps < 1 or not channels:
        raise CityError("a city needs APs and channels")
    rng = np.random.default_rng(seed)
    reach = DEFAULT_RANGE_M[band]
    # Co-channel neighbours ~ density * pi r^2 / channels.
    side = math.sqrt(aps * math.pi * reach**2 / (len(channels) * max(mean_neighbours, 0.1)))
    positions = rng.uniform(0.0, side, size=(aps, 2))
    chans = rng.choice(np.array(channels), size=aps)
    tenant_list = tuple(
        Tenant(f"t{i + 1}", TENANT_SHARES[i], f"tenant-{i + 1}") for i in range(tenants)
    )
    mix = demand_mix or {"saturating": 0.35, "on-off": 0.2, "poisson": 0.2, "constant": 0.15, "idle": 0.1}
    patterns = list(mix)
    weights = np.array([mix[p] for p in patterns], dtype=float)
    weights /= weights.sum()
    radios = []
    vifs = []
    for i in range(aps):
        node = f"ap{i + 1}"
        radios.append(
            CityRadio(node, "phy0", band, int(chans[i]), (float(positions[i, 0]), float(positions[i, 1])), _mac(i + 1))
        )
        present = rng.random(tenants) < tenant_presence
        if not present.any():
            present[rng.integers(tenants)] = True
        for t in np.flatnonzero(present):
            tenant = tenant_list[t]
            index = len(vifs)
            stations = tuple(
                CityStation(_station_mac(index, s + 1), int(rng.choice(BITRATES_KBPS)))
                for s in range(int(rng.integers(1, 3)))
            )
            pattern = str(rng.choice(patterns, p=weights))
            slowest = min(s.tx_bitrate_kbps for s in stations)
            # Light to heavy: 5..60 % of the airtime at the slowest station's
            # rate (goodput is about 60 % of the bitrate).
            rate = int(slowest * 0.6 * rng.uniform(0.05, 0.6))
            traffic = TrafficSpec(
                pattern=pattern,  # type: ignore[arg-type]
                rate_kbps=rate if pattern in ("constant", "poisson") else 0,
                on_ms=int(rng.choice([500, 1000, 3000])),
                off_ms=int(rng.choice([500, 1000, 3000])),
            )
            vifs.append(CityVif(node, "phy0", tenant.name, f"wlan-{tenant.name}", traffic, stations))
    return City(name, tuple(radios), tenant_list, tuple(vifs), None, {band: reach})


#: The tenants of :func:`demo_city`.
DEMO_TENANTS = (
    Tenant("city", 20.0, "CityFree"),
    Tenant("acme", 40.0, "AcmeSecure"),
    Tenant("campus", 25.0, "CampusNet"),
)


def demo_city(*, spacing_m: float = 100.0) -> City:
    """The neighbourhood of ``ransdn demo``.

    Twelve APs ``wifi-1`` .. ``wifi-12`` on a 4 x 3 grid ``spacing_m``
    apart, one 2.4 GHz radio each on channel 1, 6 or 11 by (column + row)
    mod 3: straight neighbours never share a channel, diagonal ones (about
    141 m apart, inside the 150 m carrier-sense range) do and hear each
    other.  So channel 1 holds the chain wifi-4 - wifi-7 - wifi-10, and
    wifi-1 alone.  Four small cells ``lte-1`` .. ``lte-4`` stand between
    the APs.

    Tenants (:data:`DEMO_TENANTS`): ``city`` on every AP, ``acme`` on
    wifi-1..6, ``campus`` on wifi-7..12.  The contended pair is DESIGN
    section 1's example: acme sends only through wifi-4 and campus only
    through wifi-7, both saturating.  On their own the two APs split
    channel 1 about evenly, while acme is entitled to 40 / (40 + 25) =
    61.5 % of it.  Elsewhere a few light loads (Poisson and constant, well
    below capacity) are never backlogged.

    Two UEs: ``001010000000001`` selects PLMN 001-01 on lte-1, and
    ``001209999999999`` selects 001-20 on lte-3.
    """
    columns, rows = 4, 3
    channels = (1, 6, 11)
    radios = []
    for i in range(columns * rows):
        row, col = divmod(i, columns)
        radios.append(
            CityRadio(
                f"wifi-{i + 1}", "phy0", "2.4ghz", channels[(col + row) % 3],
                (col * spacing_m, row * spacing_m), _mac(i + 1),
            )
        )
    half = len(radios) // 2
    placement = {
        "city": [r.node for r in radios],
        "acme": [r.node for r in radios[:half]],
        "campus": [r.node for r in radios[half:]],
    }
    # (node, tenant) -> traffic and station bitrates (kbit/s).
    active: dict[tuple[str, str], tuple[TrafficSpec, tuple[int, ...]]] = {
        ("wifi-4", "acme"): (TrafficSpec("saturating"), (54_000, 24_000)),
        ("wifi-7", "campus"): (TrafficSpec("saturating"), (54_000, 36_000)),
        ("wifi-1", "city"): (TrafficSpec("poisson", rate_kbps=2_000), (24_000,)),
        ("wifi-2", "acme"): (TrafficSpec("constant", rate_kbps=4_000), (54_000,)),
        ("wifi-9", "campus"): (TrafficSpec("poisson", rate_kbps=3_000), (54_000,)),
        ("wifi-12", "city"): (TrafficSpec("poisson", rate_kbps=1_000), (12_000,)),
    }
    vifs = []
    for tenant in DEMO_TENANTS:
        for node in placement[tenant.name]:
            traffic, bitrates = active.get((node, tenant.name), (TrafficSpec("idle"), ()))
            index = len(vifs)
            stations = tuple(CityStation(_station_mac(index, s + 1), b) for s, b in enumerate(bitrates))
            vifs.append(CityVif(node, "phy0", tenant.name, f"wlan-{tenant.name}", traffic, stations))
    cells = tuple(
        CityCell(f"lte-{j + 1}", ((0.5 + 2 * (j % 2)) * spacing_m, (0.5 + j // 2) * spacing_m)) for j in range(4)
    )
    ues = (CityUe("001010000000001", "lte-1", "001-01"), CityUe("001209999999999", "lte-3", "001-20"))
    return City("demo", tuple(radios), DEMO_TENANTS, tuple(vifs), None, {"2.4ghz": DEFAULT_RANGE_M["2.4ghz"]},
                cells, ues)


def main(argv: list[str] | None = None) -> int:
    """Write a city as an agent-farm topology file."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m testbed.city", description=main.__doc__)
    parser.add_argument("kind", choices=["seed", "random", "demo"])
    parser.add_argument("output", type=Path)
    parser.add_argument("--aps", type=int, default=120)
    parser.add_argument("--channels", default="36,40,44", help="comma-separated channel numbers")
    parser.add_argument("--band", default="5ghz", choices=sorted(DEFAULT_RANGE_M))
    parser.add_argument("--tenants", type=int, default=6)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    try:
        if args.kind == "seed":
            city = seed_city()
        elif args.kind == "demo":
            city = demo_city()
        else:
            channels = tuple(int(c) for c in args.channels.split(","))
            city = random_city(
                args.output.stem, aps=args.aps, channels=channels, band=args.band, tenants=args.tenants, seed=args.seed
            )
    except (CityError, ValueError) as exc:
        parser.error(str(exc))
    city.write(args.output)
    print(f"{args.output}: {len(city.radios)} radios, {len(city.tenants)} tenants, {len(city.vifs)} vifs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
