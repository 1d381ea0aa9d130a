"""A node: a Wi-Fi AP or an LTE small cell the controller manages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

NodeKind = Literal["wifi", "lte"]
ConnectionState = Literal["connecting", "connected", "unable-to-connect", "disabled"]


@dataclass(frozen=True)
class RadioInfo:
    """A radio of a Wi-Fi node as the node reports (or the operator declared) it."""

    name: str
    band: str
    channel: int
    airtime_scheduler: bool | None = None
    max_vifs: int | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "band": self.band, "channel": self.channel}
        if self.airtime_scheduler is not None:
            d["airtime_scheduler"] = self.airtime_scheduler
        if self.max_vifs is not None:
            d["max_vifs"] = self.max_vifs
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RadioInfo:
        return cls(d["name"], d["band"], int(d["channel"]), d.get("airtime_scheduler"),
                   d.get("max_vifs"))


@dataclass(frozen=True)
class Node:
    """A registered node.  ``radios`` merges what the operator declared at
    registration with what the node reported the last time it connected
    (reported values win)."""

    name: str
    kind: NodeKind
    address: str
    port: int
    host_key: str
    username: str = "ransdn"
    description: str = ""
    declared_radios: tuple[RadioInfo, ...] = ()
    reported_radios: tuple[RadioInfo, ...] = ()
    created_at: str = ""
    capabilities: tuple[str, ...] = field(default=())

    def radios(self) -> dict[str, RadioInfo]:
        out = {r.name: r for r in self.declared_radios}
        out.update({r.name: r for r in self.reported_radios})
        return out

    def spec(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "address": self.address,
            "port": self.port,
            "host_key": self.host_key,
            "username": self.username,
            "description": self.description,
            "radios": [r.to_dict() for r in self.declared_radios],
        }
