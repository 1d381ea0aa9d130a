"""Desired configuration of a node = render(slices) + airtime overlay.

The controller owns, on a Wi-Fi node, the vif lists of its radios, and on
an LTE cell, the slice (PLMN) list.  Radio parameters (channel, power,
scheduler interval) and cell parameters belong to whoever configures the
node; the controller only names a radio's band and channel when it has to
create the radio entry (the model makes them mandatory).

The overlay holds per-vif airtime settings from the global scheduler.  They
replace the slice's guaranteed share and cap on that vif, so reconciliation
pushes the scheduler's values instead of fighting them.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable

from ransdn.model.node import Node, RadioInfo
from ransdn.model.slice import Slice, WifiPart, format_share
from ransdn.store.sqlite import AirtimeOverride

JsonTree = dict[str, Any]


def vif_name(slice_id: str, radio: str) -> str:
    """A stable Linux interface name (14 characters) for a slice's vif on a
    radio: unique per node because the radio is part of the hash."""
    digest = hashlib.sha256(f"{slice_id}\0{radio}".encode()).digest()
    return "rs" + base64.b32encode(digest).decode().lower()[:12]


@dataclass
class DesiredConfig:
    """What the controller wants on one node."""

    node: str
    kind: str
    #: radio name -> radio (band/channel to create it when absent).
    radios: dict[str, RadioInfo] = field(default_factory=dict)
    #: (radio, vif name) -> vif subtree (ransdn-wifi), PSK included.
    vifs: dict[tuple[str, str], JsonTree] = field(default_factory=dict)
    #: slice id -> slice subtree (ransdn-lte).
    lte_slices: dict[str, JsonTree] = field(default_factory=dict)

    def tree(self) -> JsonTree:
        """The owned configuration as one RFC 7951 tree (for validation)."""
        if self.kind == "lte":
            return {"ransdn-lte:lte-cell": {"slice": [self.lte_slices[k] for k in sorted(self.lte_slices)]}}
        radios = []
        for rname in sorted({r for r, _ in self.vifs} | set(self.radios)):
            info = self.radios.get(rname)
            entry: JsonTree = {"name": rname}
            if info:
                entry.update(band=info.band, channel=info.channel)
            vifs = [v for (r, _), v in sorted(self.vifs.items()) if r == rname]
            if vifs:
                entry["vif"] = vifs
            radios.append(entry)
        return {"ransdn-wifi:wifi-node": {"radio": radios}}


def render_all(nodes: Iterable[Node], slices: Iterable[Slice],
               overrides: Iterable[AirtimeOverride] = ()) -> dict[str, DesiredConfig]:
    slices = sorted(slices, key=lambda s: s.id)
    by_vif = {(o.node, o.radio, o.vif): o for o in overrides}
    return {n.name: render_node(n, slices, by_vif) for n in nodes}


def render_node(node: Node, slices: Iterable[Slice],
                overrides: dict[tuple[str, str, str], AirtimeOverride]) -> DesiredConfig:
    desired = DesiredConfig(node.name, node.kind)
    if node.kind == "wifi":
        radios = node.radios()
        for s in slices:
            if not s.wifi:
                continue
            for ref in s.wifi.nodes:
                if ref.node != node.name:
                    continue
                for radio in ref.radios:
                    name = vif_name(s.id, radio)
                    desired.vifs[(radio, name)] = _vif(s, name, overrides.get((node.name, radio, name)))
                    if radio in radios:
                        desired.radios[radio] = radios[radio]
    else:
        for s in slices:
            if s.lte and node.name in s.lte.cells:
                desired.lte_slices[s.id] = _lte_slice(s)
    return desired


def vif_airtime(w: WifiPart, override: AirtimeOverride | None) -> tuple[Decimal, Decimal | None]:
    """The guaranteed share and cap in force on a slice's vif: the slice's
    own, as corrected by the global scheduler's overlay if it has one."""
    guaranteed: Decimal = w.guaranteed_share
    cap: Decimal | None = w.cap
    if override:
        if override.guaranteed_share is not None:
            guaranteed = override.guaranteed_share
        if override.clear_cap:
            cap = None
        elif override.cap is not None:
            cap = override.cap
    if cap is not None and cap < guaranteed:
        cap = guaranteed  # the model requires cap >= guaranteed-share
    return guaranteed, cap


def _vif(s: Slice, name: str, override: AirtimeOverride | None) -> JsonTree:
    assert s.wifi
    w = s.wifi
    guaranteed, cap = vif_airtime(w, override)
    vif: JsonTree = {"name": name, "ssid": w.ssid, "tenant": s.tenant, "slice-id": s.id}
    if w.vlan is not None:
        vif["vlan"] = w.vlan
    vif["enabled"] = True
    security: JsonTree = {"mode": w.security.mode}
    if w.security.psk:
        security["psk"] = w.security.psk
    vif["security"] = security
    airtime: JsonTree = {"guaranteed-share": format_share(guaranteed)}
    if cap is not None:
        airtime["cap"] = format_share(cap)
    vif["airtime"] = airtime
    return vif


def _lte_slice(s: Slice) -> JsonTree:
    assert s.lte
    l = s.lte
    mmes = []
    for m in sorted(l.mmes, key=lambda m: (m.address, m.port)):
        entry: JsonTree = {"address": m.address, "port": m.port}
        if m.name:
            entry["name"] = m.name
        mmes.append(entry)
    acl: JsonTree = {"default-action": l.imsi_acl.default_action}
    if l.imsi_acl.imsis:
        acl["imsi"] = sorted(l.imsi_acl.imsis)
    if l.imsi_acl.prefixes:
        acl["imsi-prefix"] = sorted(l.imsi_acl.prefixes)
    return {
        "id": s.id,
        "tenant": s.tenant,
        "plmn": {"mcc": l.plmn.mcc, "mnc": l.plmn.mnc},
        "reserved": l.reserved,
        "mme": mmes,
        "imsi-acl": acl,
    }
