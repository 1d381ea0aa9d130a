"""The linux backend's options (``ransdn-agent --backend-config FILE``).

Example::

    {
      "hostapd": "/usr/sbin/hostapd",
      "radios": {"phy0": {"legacy_ofdm_only": true, "country": "DE"}},
      "vlan_bridge": "br-ransdn",
      "uplink": "eth0",
      "scheduler_stall_us": 50000,
      "require_airtime_module": true
    }

``legacy_ofdm_only`` runs the radio without HT and with OFDM rates only
(6 Mb/s basic), which lets per-vif legacy rate masks take effect (used by
the kernel test bed to pin stations to a rate).  ``vlan_bridge`` is the
VLAN-aware bridge a vif with a VLAN joins as an untagged member (created
if missing); ``uplink``, if given, carries those VLANs tagged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.backends.base import BackendError, JsonTree


@dataclass(frozen=True)
class RadioOptions:
    legacy_ofdm_only: bool = False
    country: str | None = None


@dataclass(frozen=True)
class LinuxOptions:
    run_dir: Path
    hostapd: str = "hostapd"
    radios: dict[str, RadioOptions] = field(default_factory=dict)
    vlan_bridge: str = "br-ransdn"
    uplink: str | None = None
    scheduler_stall_us: int | None = None
    require_airtime_module: bool = True

    def radio(self, name: str) -> RadioOptions:
        return self.radios.get(name, RadioOptions())


def _typed(options: JsonTree, key: str, kind: type | tuple[type, ...], default: Any) -> Any:
    value = options.get(key, default)
    if value is not default and not isinstance(value, kind):
        raise BackendError(f"backend option {key!r} must be {getattr(kind, '__name__', kind)}")
    return value


def parse_options(options: JsonTree, state_dir: Path) -> LinuxOptions:
    known = {"hostapd", "radios", "vlan_bridge", "uplink", "scheduler_stall_us",
             "require_airtime_module", "run_dir"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise BackendError(f"unknown linux backend options: {', '.join(unknown)}")
    radios: dict[str, RadioOptions] = {}
    for name, r in _typed(options, "radios", dict, {}).items():
        if not isinstance(r, dict) or set(r) - {"legacy_ofdm_only", "country"}:
            raise BackendError(f"backend option radios.{name} takes legacy_ofdm_only and country")
        radios[name] = RadioOptions(legacy_ofdm_only=bool(r.get("legacy_ofdm_only", False)),
                                    country=r.get("country"))
    stall = _typed(options, "scheduler_stall_us", int, None)
    if stall is not None and not 1000 <= stall <= 1_000_000:
        raise BackendError("backend option scheduler_stall_us must be within 1000..1000000")
    return LinuxOptions(
        run_dir=Path(_typed(options, "run_dir", str, str(state_dir / "run"))),
        hostapd=_typed(options, "hostapd", str, "hostapd"),
        radios=radios,
        vlan_bridge=_typed(options, "vlan_bridge", str, "br-ransdn"),
        uplink=_typed(options, "uplink", str, None),
        scheduler_stall_us=stall,
        require_airtime_module=_typed(options, "require_airtime_module", bool, True),
    )
