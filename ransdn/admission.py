"""Admission control: may this slice join the network as it is?

Runs before anything is sent to a node.  Every rejection names the
conflict: the field of the request, and the node, radio, cell, slice or
tenant it collides with.  The checks:

- each node exists and has the kind (and radio capability) the part needs;
- the guaranteed airtime shares on each radio add up to at most 100 %,
  counting the slices already there;
- a cell broadcasts at most six PLMNs (SIB1, maxPLMN-r11);
- a PLMN, an SSID and a VLAN each belong to one tenant;
- a radio carries an SSID once and at most as many vifs as it can.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Iterable

from ransdn.model.errors import AdmissionRejected, ErrorCollector
from ransdn.model.node import Node
from ransdn.model.slice import Slice, WifiNodeRef

MAX_PLMNS_PER_CELL = 6
MAX_VIFS_PER_RADIO = 16  # ransdn-wifi: list vif max-elements


def admit(candidate: Slice, others: Iterable[Slice], nodes: dict[str, Node]) -> Slice:
    """Return ``candidate`` with every node's radio set resolved, or raise
    :class:`AdmissionRejected` listing every conflict.

    ``others`` are the stored slices except the candidate's own previous
    version (on modify).
    """
    others = [s for s in others if s.id != candidate.id]
    errs = ErrorCollector()
    if candidate.wifi:
        candidate = _admit_wifi(candidate, others, nodes, errs)
    if candidate.lte:
        _admit_lte(candidate, others, nodes, errs)
    if errs.errors:
        raise AdmissionRejected(
            "; ".join(e.reason for e in errs.errors), errors=errs.errors)
    return candidate


def _admit_wifi(s: Slice, others: list[Slice], nodes: dict[str, Node],
                errs: ErrorCollector) -> Slice:
    assert s.wifi
    w = s.wifi
    resolved: list[WifiNodeRef] = []
    for i, ref in enumerate(w.nodes):
        node = nodes.get(ref.node)
        where = f"/wifi/nodes/{i}"
        if node is None:
            errs.add(f"{where}/node", f"unknown node {ref.node!r}")
            continue
        if node.kind != "wifi":
            errs.add(f"{where}/node", f"node {ref.node!r} is an {node.kind} node, not a Wi-Fi node")
            continue
        radios = node.radios()
        names = ref.radios or tuple(sorted(radios))
        if not names:
            errs.add(f"{where}/radios",
                     f"node {ref.node!r} has not reported its radios yet (it never connected); "
                     "name the radios or wait for it to connect")
            continue
        for r in names:
            info = radios.get(r)
            if radios and info is None:
                errs.add(f"{where}/radios", f"node {ref.node!r} has no radio {r!r} "
                         f"(it has {', '.join(sorted(radios))})")
            elif info and info.airtime_scheduler is False and w.guaranteed_share > 0:
                errs.add(f"{where}/radios", f"radio {ref.node}/{r} has no airtime scheduler, "
                         "so it cannot guarantee a share")
        resolved.append(WifiNodeRef(ref.node, tuple(names)))
    w = replace(w, nodes=tuple(resolved))

    for o in others:
        if not o.wifi:
            continue
        if o.wifi.ssid == w.ssid and o.tenant != s.tenant:
            errs.add("/wifi/ssid", f"SSID {w.ssid!r} belongs to tenant {o.tenant!r} (slice {o.id!r})")
        if w.vlan is not None and o.wifi.vlan == w.vlan and o.tenant != s.tenant:
            errs.add("/wifi/vlan", f"VLAN {w.vlan} belongs to tenant {o.tenant!r} (slice {o.id!r})")

    for node_name, radio in w.radios():
        holders = [o for o in others if o.wifi and (node_name, radio) in o.wifi.radios()]
        used = sum((o.wifi.guaranteed_share for o in holders if o.wifi), Decimal(0))
        if used + w.guaranteed_share > 100:
            held = ", ".join(f"{o.id} ({o.wifi.guaranteed_share}%)" for o in holders if o.wifi)
            errs.add("/wifi/guaranteed_share",
                     f"radio {node_name}/{radio} would be over-subscribed: "
                     f"{used + w.guaranteed_share}% guaranteed in total; {held} already hold {used}%")
        for o in holders:
            if o.wifi and o.wifi.ssid == w.ssid:
                errs.add("/wifi/ssid", f"radio {node_name}/{radio} already broadcasts SSID "
                         f"{w.ssid!r} for slice {o.id!r}")
        info = nodes[node_name].radios().get(radio)
        limit = min(MAX_VIFS_PER_RADIO, info.max_vifs or MAX_VIFS_PER_RADIO) if info else MAX_VIFS_PER_RADIO
        if len(holders) + 1 > limit:
            errs.add("/wifi/nodes", f"radio {node_name}/{radio} already carries {len(holders)} "
                     f"vifs, the most it can")
    return replace(s, wifi=w)


def _admit_lte(s: Slice, others: list[Slice], nodes: dict[str, Node],
               errs: ErrorCollector) -> None:
    assert s.lte
    l = s.lte
    for o in others:
        if o.lte and o.lte.plmn == l.plmn and o.tenant != s.tenant:
            errs.add("/lte/plmn", f"PLMN {l.plmn} belongs to tenant {o.tenant!r} (slice {o.id!r})")
    for i, cell in enumerate(l.cells):
        node = nodes.get(cell)
        where = f"/lte/cells/{i}"
        if node is None:
            errs.add(where, f"unknown cell {cell!r}")
            continue
        if node.kind != "lte":
            errs.add(where, f"node {cell!r} is a {node.kind} node, not an LTE small cell")
            continue
        on_cell = [o for o in others if o.lte and cell in o.lte.cells]
        if len(on_cell) + 1 > MAX_PLMNS_PER_CELL:
            plmns = ", ".join(f"{o.lte.plmn} ({o.id})" for o in on_cell if o.lte)
            errs.add(where, f"cell {cell!r} already broadcasts {len(on_cell)} PLMNs, the most "
                     f"SIB1 allows: {plmns}")
        for o in on_cell:
            if o.lte and o.lte.plmn == l.plmn:
                errs.add("/lte/plmn", f"cell {cell!r} already broadcasts PLMN {l.plmn} "
                         f"for slice {o.id!r}")
