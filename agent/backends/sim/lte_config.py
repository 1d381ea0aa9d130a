"""The ``ransdn-lte:lte-cell`` configuration as value objects."""

from __future__ import annotations

from dataclasses import dataclass

from agent.backends.base import JsonTree
from agent.backends.rfc7951 import to_int

LTE_CELL = "ransdn-lte:lte-cell"


@dataclass(frozen=True)
class CellConfig:
    cell_identity: int | None = None
    pci: int | None = None
    tac: int | None = None
    earfcn_dl: int | None = None
    bandwidth: str = "10mhz"
    tx_power: int | None = None
    enabled: bool = True


@dataclass(frozen=True)
class ImsiAcl:
    default_action: str = "reject"
    imsis: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()

    def admits(self, imsi: str) -> bool:
        if imsi in self.imsis or any(imsi.startswith(p) for p in self.prefixes):
            return True
        return self.default_action == "accept"


@dataclass(frozen=True)
class SliceConfig:
    id: str
    tenant: str
    mcc: str
    mnc: str
    reserved: bool
    mmes: tuple[tuple[str, int], ...]
    acl: ImsiAcl

    @property
    def plmn(self) -> str:
        return self.mcc + self.mnc


@dataclass(frozen=True)
class LteConfig:
    cell: CellConfig
    slices: tuple[SliceConfig, ...]


def parse_lte_config(tree: JsonTree) -> LteConfig:
    """The cell and its slices from a validated config tree."""
    node = tree.get(LTE_CELL) or {}
    c = node.get("cell") or {}
    cell = CellConfig(
        cell_identity=to_int(c["cell-identity"]) if "cell-identity" in c else None,
        pci=to_int(c["pci"]) if "pci" in c else None,
        tac=to_int(c["tac"]) if "tac" in c else None,
        earfcn_dl=to_int(c["earfcn-dl"]) if "earfcn-dl" in c else None,
        bandwidth=c.get("bandwidth", "10mhz"),
        tx_power=to_int(c["tx-power"]) if "tx-power" in c else None,
        enabled=bool(c.get("enabled", True)),
    )
    slices = []
    for s in node.get("slice", []):
        plmn = s.get("plmn") or {}
        acl = s.get("imsi-acl") or {}
        slices.append(
            SliceConfig(
                id=s["id"],
                tenant=s["tenant"],
                # The model makes mcc and mnc mandatory inside a
                # non-presence container; a slice without them is never
                # broadcast.
                mcc=plmn.get("mcc", ""),
                mnc=plmn.get("mnc", ""),
                reserved=bool(s.get("reserved", False)),
                mmes=tuple((m["address"], to_int(m["port"])) for m in s.get("mme", [])),
                acl=ImsiAcl(
                    default_action=acl.get("default-action", "reject"),
                    imsis=frozenset(acl.get("imsi", [])),
                    prefixes=tuple(acl.get("imsi-prefix", [])),
                ),
            )
        )
    return LteConfig(cell=cell, slices=tuple(slices))
