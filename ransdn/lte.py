"""LTE slice/PLMN manager: views of the small cells' PLMN lists, IMSI ACLs,
MMEs, S1 associations and UE counts, from the cells' ``lte-cell`` config
and ``lte-cell-state``.  Pure functions over RFC 7951 trees."""

from __future__ import annotations

from typing import Any

from ransdn.model.slice import Slice

JsonTree = dict[str, Any]


def _int(v: Any) -> int:
    try:
        return int(v)
    except (TypeError, ValueError):
        return 0


def cell_view(cell: str, running: JsonTree | None, state: JsonTree | None) -> JsonTree:
    """One cell: its PLMN list and, per slice, ACL, MMEs with S1 state, UEs."""
    cfg = (running or {}).get("ransdn-lte:lte-cell") or {}
    st = (state or {}).get("ransdn-lte:lte-cell-state") or {}
    st_slices = {s.get("id"): s for s in st.get("slice", [])}
    slices = []
    for s in cfg.get("slice", []):
        live = st_slices.get(s["id"], {})
        s1 = {(m.get("address"), _int(m.get("port"))): m for m in live.get("mme", [])}
        acl = s.get("imsi-acl") or {}
        slices.append({
            "slice": s["id"],
            "tenant": s.get("tenant"),
            "plmn": f"{s['plmn']['mcc']}-{s['plmn']['mnc']}",
            "reserved": bool(s.get("reserved", False)),
            "broadcast": live.get("broadcast"),
            "imsi_acl": {
                "default_action": acl.get("default-action", "reject"),
                "imsis": list(acl.get("imsi", [])),
                "prefixes": list(acl.get("imsi-prefix", [])),
            },
            "mmes": [{
                "address": m.get("address"), "port": _int(m.get("port")), "name": m.get("name"),
                "s1_state": (s1.get((m.get("address"), _int(m.get("port")))) or {}).get("s1-state"),
            } for m in s.get("mme", [])],
            "attached_ues": _int(live.get("attached-ues")),
            "attach_accepted": _int(live.get("attach-accepted")),
            "attach_rejected": _int(live.get("attach-rejected")),
        })
    cell_state = st.get("cell") or {}
    return {
        "cell": cell,
        "oper_status": cell_state.get("oper-status"),
        "plmns": [x["plmn"] for x in slices],
        "rejected_attaches": _int(st.get("rejected-attaches")),
        "slices": slices,
    }


def slice_cell_status(s: Slice, views: dict[str, JsonTree | None]) -> list[JsonTree]:
    """Per cell of an LTE slice: S1 state, attached and rejected UEs.

    ``views`` maps cell name to :func:`cell_view` output, or None when the
    cell could not be read (not connected).
    """
    assert s.lte
    out = []
    for cell in s.lte.cells:
        view = views.get(cell)
        entry: JsonTree = {"cell": cell, "reachable": view is not None}
        mine = next((x for x in (view or {}).get("slices", []) if x["slice"] == s.id), None)
        if mine:
            states = [m["s1_state"] for m in mine["mmes"]]
            entry.update(
                configured=True,
                broadcast=mine["broadcast"],
                s1_state="up" if "up" in states else ("connecting" if "connecting" in states else "down"),
                mmes=mine["mmes"],
                attached_ues=mine["attached_ues"],
                attach_accepted=mine["attach_accepted"],
                attach_rejected=mine["attach_rejected"],
            )
        else:
            entry.update(configured=False, broadcast=None, s1_state=None, mmes=[],
                         attached_ues=0, attach_accepted=0, attach_rejected=0)
        out.append(entry)
    return out
