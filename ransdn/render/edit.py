"""Compare a node's running configuration with the desired one, and build
the ``<edit-config>`` that makes running match.

The comparison looks only at what the controller owns (vifs, LTE slices)
and at what it renders, with YANG defaults applied, so a node that prints
defaults or decimals differently is not seen as drifted.  The PSK is never
returned by a node: it is compared through the ``psk-sha256`` state leaf.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from lxml import etree

from ransdn.model.psk import psk_matches
from ransdn.render.desired import DesiredConfig
from ransdn.yangdata import NAMESPACES, NC_NS, json_to_xml

JsonTree = dict[str, Any]
WIFI_NS = NAMESPACES["ransdn-wifi"]
LTE_NS = NAMESPACES["ransdn-lte"]


@dataclass
class NodeDiff:
    """What differs on one node, and the edit that repairs it."""

    node: str
    #: Human-readable differences, one per vif/slice (no secrets).
    changes: list[str] = field(default_factory=list)
    #: ``<config>`` element for edit-config, or None when nothing differs.
    edit: etree._Element | None = None

    @property
    def empty(self) -> bool:
        return self.edit is None

    def edit_xml(self) -> str:
        return etree.tostring(self.edit, encoding="unicode") if self.edit is not None else ""


class RenderError(ValueError):
    """The desired configuration cannot be expressed on this node."""


def diff_node(desired: DesiredConfig, running: JsonTree, state: JsonTree | None = None) -> NodeDiff:
    if desired.kind == "lte":
        return _diff_lte(desired, running)
    return _diff_wifi(desired, running, state or {})


# -- Wi-Fi ------------------------------------------------------------------

def _running_vifs(running: JsonTree) -> tuple[dict[str, JsonTree], dict[tuple[str, str], JsonTree]]:
    radios: dict[str, JsonTree] = {}
    vifs: dict[tuple[str, str], JsonTree] = {}
    for radio in (running.get("ransdn-wifi:wifi-node") or {}).get("radio", []):
        radios[radio["name"]] = radio
        for vif in radio.get("vif", []):
            vifs[(radio["name"], vif["name"])] = vif
    return radios, vifs


def _state_psk_hashes(state: JsonTree) -> dict[tuple[str, str], str]:
    out = {}
    for radio in (state.get("ransdn-wifi:wifi-node-state") or {}).get("radio", []):
        for vif in radio.get("vif", []):
            if vif.get("psk-sha256"):
                out[(radio["name"], vif["name"])] = vif["psk-sha256"]
    return out


def needs_psk_hashes(desired: DesiredConfig, running: JsonTree) -> bool:
    """Whether comparing ``desired`` with ``running`` hinges on a PSK.

    Nodes never return the PSK, so it is compared through the
    ``psk-sha256`` state leaf; reading state can be costly on a real radio
    (station dumps, surveys), so it is read only when a WPA2 vif matches on
    every other setting and its key is therefore the open question.
    """
    if desired.kind != "wifi":
        return False
    _, run_vifs = _running_vifs(running)
    for key, want in desired.vifs.items():
        have = run_vifs.get(key)
        if (have is not None and (want.get("security") or {}).get("psk")
                and (have.get("security") or {}).get("psk") is None
                and _canonical_vif(want) == _canonical_vif(have)):
            return True
    return False


def _dec(v: Any, default: str | None = "0") -> Decimal | None:
    if v is None:
        return Decimal(default) if default is not None else None
    return Decimal(str(v)).normalize()


def _canonical_vif(v: JsonTree) -> tuple:
    sec = v.get("security") or {}
    air = v.get("airtime") or {}
    vlan = v.get("vlan")
    return (
        v.get("ssid"), v.get("tenant"), v.get("slice-id"),
        int(vlan) if vlan is not None else None,
        v.get("enabled", True) in (True, "true"),
        sec.get("mode", "open"),
        _dec(air.get("guaranteed-share")), _dec(air.get("cap"), None),
    )


def _vif_differs(want: JsonTree, have: JsonTree, reported_hash: str | None) -> str | None:
    if _canonical_vif(want) != _canonical_vif(have):
        return "settings differ"
    psk = (want.get("security") or {}).get("psk")
    if psk:
        have_psk = (have.get("security") or {}).get("psk")
        if have_psk is not None:
            if have_psk.lower() != psk.lower():
                return "PSK differs"
        elif reported_hash is not None and not psk_matches(psk, reported_hash):
            return "PSK differs"
    return None


def _diff_wifi(desired: DesiredConfig, running: JsonTree, state: JsonTree) -> NodeDiff:
    diff = NodeDiff(desired.node)
    run_radios, run_vifs = _running_vifs(running)
    hashes = _state_psk_hashes(state)
    per_radio: dict[str, list[tuple[str, JsonTree | None]]] = {}
    for key, want in sorted(desired.vifs.items()):
        have = run_vifs.get(key)
        if have is None:
            diff.changes.append(f"vif {key[0]}/{key[1]} (SSID {want['ssid']!r}) missing")
        else:
            why = _vif_differs(want, have, hashes.get(key))
            if why is None:
                continue
            diff.changes.append(f"vif {key[0]}/{key[1]}: {why}")
        per_radio.setdefault(key[0], []).append((key[1], want))
    for key in sorted(set(run_vifs) - set(desired.vifs)):
        diff.changes.append(f"vif {key[0]}/{key[1]} (SSID {run_vifs[key].get('ssid')!r}) not wanted")
        per_radio.setdefault(key[0], []).append((key[1], None))
    if not per_radio:
        return diff

    config = etree.Element(f"{{{NC_NS}}}config", nsmap={"nc": NC_NS})
    top = etree.SubElement(config, f"{{{WIFI_NS}}}wifi-node", nsmap={None: WIFI_NS})
    for rname in sorted(per_radio):
        radio = etree.SubElement(top, f"{{{WIFI_NS}}}radio")
        etree.SubElement(radio, f"{{{WIFI_NS}}}name").text = rname
        if rname not in run_radios:
            info = desired.radios.get(rname)
            if info is None:
                raise RenderError(f"node {desired.node} has no radio {rname!r} configured and "
                                  "its band and channel are unknown")
            etree.SubElement(radio, f"{{{WIFI_NS}}}band").text = info.band
            etree.SubElement(radio, f"{{{WIFI_NS}}}channel").text = str(info.channel)
        for vname, want in per_radio[rname]:
            if want is None:
                vif = etree.SubElement(radio, f"{{{WIFI_NS}}}vif")
                vif.set(f"{{{NC_NS}}}operation", "remove")
                etree.SubElement(vif, f"{{{WIFI_NS}}}name").text = vname
            else:
                json_to_xml({"ransdn-wifi:vif": want}, radio)[0].set(
                    f"{{{NC_NS}}}operation", "replace")
    diff.edit = config
    return diff


# -- LTE --------------------------------------------------------------------

def _addr(a: str) -> str:
    try:
        return str(ipaddress.ip_address(a))
    except ValueError:
        return a


def _canonical_lte(s: JsonTree) -> tuple:
    acl = s.get("imsi-acl") or {}
    plmn = s.get("plmn") or {}
    return (
        s.get("tenant"), plmn.get("mcc"), plmn.get("mnc"),
        s.get("reserved", False) in (True, "true"),
        frozenset((_addr(m.get("address", "")), int(m.get("port", 0)), m.get("name"))
                  for m in s.get("mme", [])),
        acl.get("default-action", "reject"),
        frozenset(acl.get("imsi", [])), frozenset(acl.get("imsi-prefix", [])),
    )


def _diff_lte(desired: DesiredConfig, running: JsonTree) -> NodeDiff:
    diff = NodeDiff(desired.node)
    have = {s["id"]: s for s in (running.get("ransdn-lte:lte-cell") or {}).get("slice", [])}
    ops: list[tuple[str, JsonTree | None]] = []
    # Removals first, so a cell at six PLMNs can swap one in a single edit.
    for sid in sorted(set(have) - set(desired.lte_slices)):
        plmn = have[sid].get("plmn") or {}
        diff.changes.append(f"slice {sid} (PLMN {plmn.get('mcc')}-{plmn.get('mnc')}) not wanted")
        ops.append((sid, None))
    for sid, want in sorted(desired.lte_slices.items()):
        if sid not in have:
            diff.changes.append(f"slice {sid} (PLMN {want['plmn']['mcc']}-{want['plmn']['mnc']}) missing")
        elif _canonical_lte(want) != _canonical_lte(have[sid]):
            diff.changes.append(f"slice {sid}: settings differ")
        else:
            continue
        ops.append((sid, want))
    if not ops:
        return diff
    config = etree.Element(f"{{{NC_NS}}}config", nsmap={"nc": NC_NS})
    top = etree.SubElement(config, f"{{{LTE_NS}}}lte-cell", nsmap={None: LTE_NS})
    for sid, want in ops:
        if want is None:
            el = etree.SubElement(top, f"{{{LTE_NS}}}slice")
            el.set(f"{{{NC_NS}}}operation", "remove")
            etree.SubElement(el, f"{{{LTE_NS}}}id").text = sid
        else:
            json_to_xml({"ransdn-lte:slice": want}, top)[0].set(f"{{{NC_NS}}}operation", "replace")
    diff.edit = config
    return diff
