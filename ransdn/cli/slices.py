"""``ransdn slice create|list|show|update|delete|lte``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

from ransdn.cli.main import Context, UsageError, add_command
from ransdn.cli.output import details, table

SLICE_COLUMNS = [
    ("ID", lambda s: s["id"]),
    ("TENANT", lambda s: s["tenant"]),
    ("STATE", lambda s: s["state"]),
    ("SSID", lambda s: (s.get("wifi") or {}).get("ssid")),
    ("SHARE%", lambda s: (s.get("wifi") or {}).get("guaranteed_share")),
    ("VLAN", lambda s: (s.get("wifi") or {}).get("vlan")),
    ("PLMN", lambda s: "{mcc}-{mnc}".format(**s["lte"]["plmn"]) if s.get("lte") else None),
    ("NODES", lambda s: len(s.get("nodes", []))),
    ("VERSION", lambda s: s["version"]),
]


def load_document(path: str) -> dict[str, Any]:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text()
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror}") from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise UsageError(f"{path} is neither YAML nor JSON: {e}") from None
    if not isinstance(doc, dict):
        raise UsageError(f"{path} must hold a mapping (a JSON object)")
    return doc


def register(sub: Any) -> None:
    sl = add_command(sub, "slice", "create, list, show, update and delete slices")
    ssub = sl.add_subparsers(dest="slice_command", metavar="ACTION", required=True)

    create = add_command(ssub, "create", "create a slice from flags or a YAML/JSON file")
    _slice_flags(create)
    create.add_argument("--idempotency-key", help="make the create safe to retry")
    create.set_defaults(func=slice_create)

    ls = add_command(ssub, "list", "list slices")
    ls.add_argument("--tenant")
    ls.set_defaults(func=slice_list)

    show = add_command(ssub, "show", "show a slice and the outcome of its last transaction per node")
    show.add_argument("id")
    show.set_defaults(func=slice_show)

    upd = add_command(ssub, "update", "modify a slice; flags change only what they name")
    upd.add_argument("id")
    _slice_flags(upd, update=True)
    upd.set_defaults(func=slice_update)

    rm = add_command(ssub, "delete", "delete a slice from every node it is on")
    rm.add_argument("id")
    rm.add_argument("--force", action="store_true",
                    help="forget it even if some nodes are unreachable (they are cleaned later)")
    rm.set_defaults(func=slice_delete)

    lte = add_command(ssub, "lte", "per cell of an LTE slice: S1 state, attached/rejected UEs")
    lte.add_argument("id")
    lte.set_defaults(func=slice_lte)


def _slice_flags(p: Any, update: bool = False) -> None:
    if not update:
        p.add_argument("--id", help="slice id (default: generated from the tenant)")
        p.add_argument("--tenant", help="tenant owning the slice")
    p.add_argument("--file", "-f", help="slice document, YAML or JSON ('-' for stdin); flags override it")
    p.add_argument("--description")
    w = p.add_argument_group("Wi-Fi part")
    w.add_argument("--ssid")
    sec = w.add_mutually_exclusive_group()
    sec.add_argument("--passphrase", help="WPA2 passphrase (only the derived PSK is stored)")
    sec.add_argument("--passphrase-file", help="read the WPA2 passphrase from a file")
    sec.add_argument("--open", action="store_true", help="no security")
    w.add_argument("--share", type=float, help="guaranteed airtime share, percent")
    w.add_argument("--cap", type=float, help="airtime cap, percent")
    w.add_argument("--vlan", type=int)
    w.add_argument("--node", action="append", default=[], metavar="NODE[:RADIO,...]",
                   help="Wi-Fi node (and radios) to put the vif on (repeatable)")
    l = p.add_argument_group("LTE part")
    l.add_argument("--plmn", metavar="MCC-MNC", help="e.g. 001-01")
    l.add_argument("--mme", action="append", default=[], metavar="ADDRESS[:PORT]",
                   help="MME endpoint (repeatable; port default 36412)")
    l.add_argument("--imsi", action="append", default=[], help="admitted IMSI (repeatable)")
    l.add_argument("--imsi-prefix", action="append", default=[], help="admitted IMSI prefix (repeatable)")
    l.add_argument("--default-action", choices=["accept", "reject"])
    l.add_argument("--cell", action="append", default=[], help="small cell (repeatable)")


def _apply_flags(a: Any, doc: dict[str, Any]) -> dict[str, Any]:
    for key in ("id", "tenant", "description"):
        if getattr(a, key, None) is not None:
            doc[key] = getattr(a, key)
    wifi_flags = (a.ssid, a.passphrase, a.passphrase_file, a.open or None, a.share, a.cap,
                  a.vlan, a.node or None)
    if any(v is not None for v in wifi_flags):
        w = doc.setdefault("wifi", {})
        if a.ssid is not None:
            w["ssid"] = a.ssid
        if a.passphrase_file:
            try:
                a.passphrase = Path(a.passphrase_file).read_text().rstrip("\n")
            except OSError as e:
                raise UsageError(f"cannot read {a.passphrase_file}: {e.strerror}") from None
        if a.passphrase is not None:
            w["security"] = {"mode": "wpa2-psk", "passphrase": a.passphrase}
        elif a.open:
            w["security"] = {"mode": "open"}
        if a.share is not None:
            w["guaranteed_share"] = a.share
        if a.cap is not None:
            w["cap"] = a.cap
        if a.vlan is not None:
            w["vlan"] = a.vlan
        if a.node:
            w["nodes"] = []
            for spec in a.node:
                name, _, radios = spec.partition(":")
                ref: dict[str, Any] = {"node": name}
                if radios:
                    ref["radios"] = [r for r in radios.split(",") if r]
                w["nodes"].append(ref)
    lte_flags = (a.plmn, a.mme or None, a.imsi or None, a.imsi_prefix or None,
                 a.default_action, a.cell or None)
    if any(v is not None for v in lte_flags):
        l = doc.setdefault("lte", {})
        if a.plmn:
            mcc, sep, mnc = a.plmn.partition("-")
            if not sep:
                raise UsageError(f"--plmn {a.plmn!r}: expected MCC-MNC, e.g. 001-01")
            l["plmn"] = {"mcc": mcc, "mnc": mnc}
        if a.mme:
            l["mmes"] = []
            for m in a.mme:
                addr, port = m, None
                if m.count(":") == 1:
                    addr, _, p = m.partition(":")
                    if not p.isdigit():
                        raise UsageError(f"--mme {m!r}: the port must be a number")
                    port = int(p)
                l["mmes"].append({"address": addr, **({"port": port} if port else {})})
        acl = l.setdefault("imsi_acl", {}) if (a.imsi or a.imsi_prefix or a.default_action) else None
        if acl is not None:
            if a.imsi:
                acl["imsis"] = a.imsi
            if a.imsi_prefix:
                acl["prefixes"] = a.imsi_prefix
            if a.default_action:
                acl["default_action"] = a.default_action
        if a.cell:
            l["cells"] = a.cell
    return doc


def render_slice(s: dict[str, Any]) -> str:
    fields = [("Id", lambda s: s["id"]), ("Tenant", lambda s: s["tenant"]),
              ("State", lambda s: s["state"]), ("Version", lambda s: s["version"]),
              ("Updated", lambda s: s["updated_at"])]
    if s.get("wifi"):
        w = s["wifi"]
        fields += [("SSID", lambda s: w["ssid"]), ("Security", lambda s: w["security"]["mode"]),
                   ("Guaranteed share", lambda s: f"{w['guaranteed_share']:g}%"),
                   ("Cap", lambda s: f"{w['cap']:g}%" if w.get("cap") is not None else None),
                   ("VLAN", lambda s: w.get("vlan"))]
    if s.get("lte"):
        l = s["lte"]
        fields += [("PLMN", lambda s: "{mcc}-{mnc}".format(**l["plmn"])),
                   ("MMEs", lambda s: [f"{m['address']}:{m.get('port', 36412)}" for m in l["mmes"]]),
                   ("IMSI ACL", lambda s: f"{len(l['imsi_acl'].get('imsis', []))} imsis, "
                                          f"{len(l['imsi_acl'].get('prefixes', []))} prefixes, default "
                                          f"{l['imsi_acl'].get('default_action', 'reject')}"),
                   ("Cells", lambda s: l["cells"])]
    out = [details(s, fields)]
    if s.get("wifi", {}).get("vifs"):
        # The airtime in force may be the global scheduler's correction
        # of the slice's own setting.
        out += ["", "Vifs:", table(s["wifi"]["vifs"], [
            ("VIF", lambda v: v["vif"]), ("NODE", lambda v: v["node"]), ("RADIO", lambda v: v["radio"]),
            ("SHARE", lambda v: f"{v['airtime']['guaranteed_share']:g}%"),
            ("CAP", lambda v: f"{v['airtime']['cap']:g}%" if v["airtime"]["cap"] is not None else "-"),
            ("SET BY", lambda v: v["airtime"]["set_by"])])]
    out += ["", "Nodes:"]
    tx = s.get("last_transaction") or {}
    outcomes = {n["node"]: n for n in tx.get("nodes", [])}
    out.append(table(s.get("nodes", []), [
        ("NODE", lambda n: n["node"]), ("CONNECTION", lambda n: n["connection"]),
        ("LAST OUTCOME", lambda n: (outcomes.get(n["node"]) or {}).get("outcome")),
        ("ERROR", lambda n: (outcomes.get(n["node"]) or {}).get("error"))]))
    return "\n".join(out)


def slice_create(ctx: Context) -> int:
    a = ctx.args
    doc = load_document(a.file) if a.file else {}
    doc = _apply_flags(a, doc)
    if "tenant" not in doc:
        raise UsageError("slice create needs --tenant (or a file with 'tenant')")
    if "wifi" not in doc and "lte" not in doc:
        raise UsageError("slice create needs a Wi-Fi part (--ssid, --node ...) or an LTE part "
                         "(--plmn, --mme, --cell ...)")
    headers = {"Idempotency-Key": a.idempotency_key} if a.idempotency_key else None
    s = ctx.api.request("POST", "/api/v1/slices", doc, headers=headers).body
    ctx.out.show(s, lambda s: f"slice {s['id']} created\n" + render_slice(s))
    return 0


def slice_list(ctx: Context) -> int:
    q = f"?tenant={ctx.args.tenant}" if ctx.args.tenant else ""
    ctx.out.show(ctx.api.get("/api/v1/slices" + q), lambda b: table(b["items"], SLICE_COLUMNS))
    return 0


def slice_show(ctx: Context) -> int:
    ctx.out.show(ctx.api.get(f"/api/v1/slices/{ctx.args.id}"), render_slice)
    return 0


def slice_update(ctx: Context) -> int:
    a = ctx.args
    current = ctx.api.request("GET", f"/api/v1/slices/{a.id}")
    etag = current.headers.get("ETag") or current.headers.get("Etag")
    patch = load_document(a.file) if a.file else {}
    patch = _apply_flags(a, patch)
    if not patch:
        raise UsageError("nothing to change: give flags or --file")
    s = ctx.api.request("PATCH", f"/api/v1/slices/{a.id}", patch,
                        headers={"If-Match": etag or "*"},
                        content_type="application/merge-patch+json").body
    ctx.out.show(s, lambda s: f"slice {s['id']} updated (version {s['version']})\n" + render_slice(s))
    return 0


def slice_delete(ctx: Context) -> int:
    q = "?force=true" if ctx.args.force else ""
    body = ctx.api.request("DELETE", f"/api/v1/slices/{ctx.args.id}{q}").body
    ctx.out.show(body, lambda b: f"slice {b['deleted']} deleted from " + (
        ", ".join(f"{n['node']} ({n['outcome']})" for n in b["transaction"]["nodes"]) or "no node"))
    return 0


def slice_lte(ctx: Context) -> int:
    body = ctx.api.get(f"/api/v1/slices/{ctx.args.id}/lte")
    ctx.out.show(body, lambda b: table(b["cells"], [
        ("CELL", lambda c: c["cell"]), ("REACHABLE", lambda c: c["reachable"]),
        ("CONFIGURED", lambda c: c["configured"]), ("BROADCAST", lambda c: c.get("broadcast")),
        ("S1", lambda c: c.get("s1_state")), ("UES", lambda c: c.get("attached_ues")),
        ("ACCEPTED", lambda c: c.get("attach_accepted")),
        ("REJECTED", lambda c: c.get("attach_rejected"))]))
    return 0


