"""The sim backend's options: what simulated hardware a node has.

Options come from ``BackendContext.options`` (``--backend-config FILE``,
or the agent farm).  Every key is optional::

    {
      "position": [120.0, 40.5],          # metres; default [0, 0]
      "radios": [                         # Wi-Fi; default: phy0 2.4 GHz ch 6, phy1 5 GHz ch 36
        {"name": "phy0",
         "mac": "02:5a:00:00:00:00",      # default derived from the node id
         "band": "2.4ghz",                # the band the radio starts in
         "channel": 6,                    # the channel it starts on
         "bands": ["2.4ghz"],             # bands the hardware supports; default [band]
         "supported_channels": [1, 6, 11],# default: every channel of those bands
         "position": [120.0, 40.5],       # default: the node's position
         "max_vifs": 8}                   # BSSes the radio can carry; default 8
      ],
      "max_vifs": 8,                      # default for radios without their own
      "cell": {                           # LTE
        "earfcn_dl_ranges": [[0, 599], [1200, 1949]],  # default: any EARFCN
        "max_plmns": 6,                   # PLMNs SIB1 of this eNB can carry (<= 6)
        "s1_setup_delay": 0.1,            # seconds from SCTP up to S1 Setup Response
        "unreachable_mmes": ["10.0.0.9", "10.0.0.8:36413"]
      },
      "fail_apply_when": {"ssid": "reject-me", "slice": "s-bad", "plmn": "00199"},
      "fault_file": "/tmp/node3.fault"
    }

Hardware limits (``max_vifs``, ``supported_channels``, ``bands``,
``earfcn_dl_ranges``, ``max_plmns``) make ``apply`` fail the way a real
radio would.  ``fail_apply_when`` refuses any configuration that contains
the named SSID, slice id or PLMN (MCC followed by MNC); while the file
named by ``fault_file`` exists, every configuration change fails with the
file's content as the reason.  Both exist so that tests can make one node
of many refuse a transaction.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.backends.base import JsonTree

BAND_CHANNELS: dict[str, tuple[int, ...]] = {
    "2.4ghz": tuple(range(1, 15)),
    "5ghz": (
        36, 40, 44, 48, 52, 56, 60, 64,
        100, 104, 108, 112, 116, 120, 124, 128, 132, 136, 140, 144,
        149, 153, 157, 161, 165, 169, 173, 177,
    ),
    "6ghz": tuple(range(1, 234, 4)),
}

DEFAULT_MAX_VIFS = 8
DEFAULT_S1_SETUP_DELAY = 0.1
S1_PORT = 36412


class OptionsError(ValueError):
    """The backend options are malformed; the message says where."""


@dataclass(frozen=True)
class RadioHardware:
    name: str
    mac: str
    band: str
    channel: int
    bands: tuple[str, ...]
    supported_channels: frozenset[int]
    position: tuple[float, float]
    max_vifs: int

    def supports(self, band: str, channel: int) -> str | None:
        """Why the radio cannot operate there, or None if it can."""
        if band not in self.bands:
            return f"radio {self.name} supports only {', '.join(self.bands)}, not {band}"
        if channel not in self.supported_channels or channel not in BAND_CHANNELS[band]:
            return f"radio {self.name} does not support channel {channel} in the {band} band"
        return None


@dataclass(frozen=True)
class CellHardware:
    earfcn_dl_ranges: tuple[tuple[int, int], ...] = ()
    max_plmns: int = 6
    s1_setup_delay: float = DEFAULT_S1_SETUP_DELAY
    unreachable_mmes: frozenset[tuple[str, int | None]] = frozenset()

    def supports_earfcn(self, earfcn: int) -> bool:
        return not self.earfcn_dl_ranges or any(lo <= earfcn <= hi for lo, hi in self.earfcn_dl_ranges)

    def mme_reachable(self, address: str, port: int) -> bool:
        return (address, port) not in self.unreachable_mmes and (
            address, None
        ) not in self.unreachable_mmes


@dataclass(frozen=True)
class FailureTriggers:
    ssids: frozenset[str] = frozenset()
    slices: frozenset[str] = frozenset()
    plmns: frozenset[str] = frozenset()
    fault_file: Path | None = None

    def fault(self) -> str | None:
        """Why the node is faulty now (the fault file's text), or None."""
        if self.fault_file is None or not self.fault_file.exists():
            return None
        return self.fault_file.read_text(errors="replace").strip() or "hardware fault"


@dataclass(frozen=True)
class SimOptions:
    position: tuple[float, float] = (0.0, 0.0)
    radios: tuple[RadioHardware, ...] = ()
    cell: CellHardware = field(default_factory=CellHardware)
    failures: FailureTriggers = field(default_factory=FailureTriggers)


def parse_options(node_id: str, raw: JsonTree) -> SimOptions:
    """Validate ``raw`` and fill in defaults; raise :class:`OptionsError`."""
    if not isinstance(raw, dict):
        raise OptionsError("backend options must be a JSON object")
    _reject_unknown(raw, {"position", "radios", "max_vifs", "cell", "fail_apply_when", "fault_file"}, "")
    position = _position(raw.get("position", [0.0, 0.0]), "position")
    max_vifs = _int(raw.get("max_vifs", DEFAULT_MAX_VIFS), "max_vifs", 1, 16)
    raw_radios = raw.get("radios")
    if raw_radios is None:
        raw_radios = [
            {"name": "phy0", "band": "2.4ghz", "channel": 6},
            {"name": "phy1", "band": "5ghz", "channel": 36},
        ]
    if not isinstance(raw_radios, list):
        raise OptionsError("radios must be a list")
    radios = tuple(
        _radio(node_id, i, r, position, max_vifs) for i, r in enumerate(raw_radios)
    )
    names = [r.name for r in radios]
    if len(set(names)) != len(names):
        raise OptionsError(f"radio names are not unique: {names}")
    macs = [r.mac for r in radios]
    if len(set(macs)) != len(macs):
        raise OptionsError(f"radio MACs are not unique: {macs}")
    return SimOptions(
        position=position,
        radios=radios,
        cell=_cell(raw.get("cell", {})),
        failures=_failures(raw.get("fail_apply_when", {}), raw.get("fault_file")),
    )


def default_mac(node_id: str, index: int) -> str:
    """A stable, locally administered radio MAC; BSSIDs vary the last octet."""
    digest = hashlib.sha256(node_id.encode()).digest()
    octets = [0x02, digest[0], digest[1], digest[2], index & 0xFF, 0x00]
    return ":".join(f"{o:02x}" for o in octets)


def _radio(
    node_id: str, index: int, raw: Any, node_position: tuple[float, float], max_vifs: int
) -> RadioHardware:
    where = f"radios[{index}]"
    if not isinstance(raw, dict):
        raise OptionsError(f"{where} must be an object")
    _reject_unknown(
        raw,
        {"name", "mac", "band", "channel", "bands", "supported_channels", "position", "max_vifs"},
        where,
    )
    name = raw.get("name", f"phy{index}")
    if not isinstance(name, str) or not 1 <= len(name) <= 15:
        raise OptionsError(f"{where}.name must be an interface name")
    band = raw.get("band", "2.4ghz")
    if band not in BAND_CHANNELS:
        raise OptionsError(f"{where}.band must be one of {sorted(BAND_CHANNELS)}")
    bands = tuple(raw.get("bands", [band]))
    if band not in bands or any(b not in BAND_CHANNELS for b in bands):
        raise OptionsError(f"{where}.bands must list known bands including {band}")
    all_channels = {c for b in bands for c in BAND_CHANNELS[b]}
    supported = raw.get("supported_channels")
    if supported is None:
        supported_set = frozenset(all_channels)
    else:
        if not isinstance(supported, list) or not all(isinstance(c, int) for c in supported):
            raise OptionsError(f"{where}.supported_channels must be a list of channel numbers")
        supported_set = frozenset(supported) & all_channels
        if not supported_set:
            raise OptionsError(f"{where}.supported_channels has no channel of {bands}")
    default_channel = min(c for c in supported_set if c in BAND_CHANNELS[band])
    channel = _int(raw.get("channel", default_channel), f"{where}.channel", 1, 233)
    if channel not in supported_set or channel not in BAND_CHANNELS[band]:
        raise OptionsError(f"{where}.channel {channel} is not a supported {band} channel")
    mac = raw.get("mac", default_mac(node_id, index))
    if not isinstance(mac, str) or not _is_mac(mac):
        raise OptionsError(f"{where}.mac must be a MAC address like 02:00:00:00:01:00")
    return RadioHardware(
        name=name,
        mac=mac.lower(),
        band=band,
        channel=channel,
        bands=bands,
        supported_channels=supported_set,
        position=_position(raw.get("position", list(node_position)), f"{where}.position"),
        max_vifs=_int(raw.get("max_vifs", max_vifs), f"{where}.max_vifs", 1, 16),
    )


def _cell(raw: Any) -> CellHardware:
    if not isinstance(raw, dict):
        raise OptionsError("cell must be an object")
    _reject_unknown(raw, {"earfcn_dl_ranges", "max_plmns", "s1_setup_delay", "unreachable_mmes"}, "cell")
    ranges = []
    for i, r in enumerate(raw.get("earfcn_dl_ranges", [])):
        if not (isinstance(r, list) and len(r) == 2 and all(isinstance(x, int) for x in r) and r[0] <= r[1]):
            raise OptionsError(f"cell.earfcn_dl_ranges[{i}] must be [low, high]")
        ranges.append((r[0], r[1]))
    delay = raw.get("s1_setup_delay", DEFAULT_S1_SETUP_DELAY)
    if not isinstance(delay, (int, float)) or not 0 <= delay <= 60:
        raise OptionsError("cell.s1_setup_delay must be seconds between 0 and 60")
    unreachable: set[tuple[str, int | None]] = set()
    for i, m in enumerate(raw.get("unreachable_mmes", [])):
        if not isinstance(m, str) or not m:
            raise OptionsError(f"cell.unreachable_mmes[{i}] must be 'address' or 'address:port'")
        unreachable.add(_mme_endpoint(m, f"cell.unreachable_mmes[{i}]"))
    return CellHardware(
        earfcn_dl_ranges=tuple(ranges),
        max_plmns=_int(raw.get("max_plmns", 6), "cell.max_plmns", 1, 6),
        s1_setup_delay=float(delay),
        unreachable_mmes=frozenset(unreachable),
    )


def _mme_endpoint(text: str, where: str) -> tuple[str, int | None]:
    # "[v6]:port", "v4:port", or a bare address of either family.
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else None
    elif text.count(":") == 1:
        host, port = text.split(":")
    else:
        host, port = text, None
    if port is None:
        return host, None
    if not port.isdigit():
        raise OptionsError(f"{where}: bad port in {text!r}")
    return host, int(port)


def _failures(raw: Any, fault_file: Any) -> FailureTriggers:
    if not isinstance(raw, dict):
        raise OptionsError("fail_apply_when must be an object")
    _reject_unknown(raw, {"ssid", "slice", "plmn"}, "fail_apply_when")

    def names(key: str) -> frozenset[str]:
        value = raw.get(key, [])
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise OptionsError(f"fail_apply_when.{key} must be a string or a list of strings")
        return frozenset(values)

    if fault_file is not None and not isinstance(fault_file, str):
        raise OptionsError("fault_file must be a path")
    return FailureTriggers(
        ssids=names("ssid"),
        slices=names("slice"),
        plmns=names("plmn"),
        fault_file=Path(fault_file) if fault_file else None,
    )


def _reject_unknown(raw: dict, known: set[str], where: str) -> None:
    unknown = sorted(set(raw) - known)
    if unknown:
        prefix = f"{where}: " if where else ""
        raise OptionsError(f"{prefix}unknown option(s) {unknown}; known: {sorted(known)}")


def _int(value: Any, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise OptionsError(f"{where} must be an integer in {low}..{high}, not {value!r}")
    return value


def _position(value: Any, where: str) -> tuple[float, float]:
    if (
        not isinstance(value, (list, tuple))
        or len(value) != 2
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
    ):
        raise OptionsError(f"{where} must be [x, y] in metres")
    return float(value[0]), float(value[1])


def _is_mac(text: str) -> bool:
    parts = text.split(":")
    return len(parts) == 6 and all(
        len(p) == 2 and all(c in "0123456789abcdefABCDEF" for c in p) for p in parts
    )
