"""``ransdn node add|list|show|remove``."""

from __future__ import annotations

from typing import Any

from ransdn.cli.main import Context, UsageError, add_command
from ransdn.cli.output import details, table
from ransdn.cli.slices import load_document

def plmn_status(s: dict[str, Any]) -> str:
    """A PLMN configured on a cell and whether it is in service: ``001-01
    S1 up``, ``001-01 S1 connecting``, ``001-01 not broadcast``."""
    if s.get("broadcast") is False:
        return f"{s['plmn']} not broadcast"
    states = [m.get("s1_state") for m in s.get("mmes", [])]
    s1 = next((st for st in ("up", "connecting", "down") if st in states), "?")
    return f"{s['plmn']} S1 {s1}"


def _radios_or_plmns(n: dict[str, Any]) -> Any:
    if n["kind"] == "wifi":
        return [f"{r['name']}@ch{r['channel']}" for r in n.get("radios", [])]
    # Every PLMN configured on the cell, each with its state: a slice
    # just created shows up at once, marked until its S1 link is up.
    return ", ".join(plmn_status(s) for s in (n.get("cell") or {}).get("slices", [])) or None


NODE_COLUMNS = [
    ("NAME", lambda n: n["name"]),
    ("KIND", lambda n: n["kind"]),
    ("ADDRESS", lambda n: f"{n['address']}:{n['port']}"),
    ("STATE", lambda n: n["connection"]["state"]),
    ("RADIOS / PLMNS", _radios_or_plmns),
    ("LAST ERROR", lambda n: n["connection"].get("last_error")),
]


def register(sub: Any) -> None:
    node = add_command(sub, "node", "register, list, show and remove nodes")
    nsub = node.add_subparsers(dest="node_command", metavar="ACTION", required=True)

    add = add_command(nsub, "add", "register a Wi-Fi AP or an LTE small cell")
    add.add_argument("name", nargs="?", help="node name")
    add.add_argument("--kind", choices=["wifi", "lte"])
    add.add_argument("--address", help="IP address or host name of its NETCONF server")
    add.add_argument("--port", type=int, help="NETCONF port (default 830)")
    add.add_argument("--host-key", help="host key fingerprint, SHA256:...")
    add.add_argument("--username", help="SSH user (default ransdn)")
    add.add_argument("--description")
    add.add_argument("--radio", action="append", default=[], metavar="NAME:BAND:CHANNEL",
                     help="declare a radio until the node reports its own (repeatable)")
    add.add_argument("--file", "-f", help="node document (YAML or JSON; '-' for stdin)")
    add.set_defaults(func=node_add)

    ls = add_command(nsub, "list", "list nodes and their connection state")
    ls.add_argument("--kind", choices=["wifi", "lte"])
    ls.set_defaults(func=node_list)

    show = add_command(nsub, "show", "show one node: connection, capabilities, radios or cell")
    show.add_argument("name")
    show.set_defaults(func=node_show)

    rm = add_command(nsub, "remove", "unregister a node (refused while slices use it)")
    rm.add_argument("name")
    rm.set_defaults(func=node_remove)


def _radio(text: str) -> dict[str, Any]:
    parts = text.split(":")
    if len(parts) != 3 or not parts[2].isdigit():
        raise UsageError(f"--radio {text!r}: expected NAME:BAND:CHANNEL, e.g. phy0:2.4ghz:6")
    return {"name": parts[0], "band": parts[1], "channel": int(parts[2])}


def node_add(ctx: Context) -> int:
    a = ctx.args
    doc: dict[str, Any] = load_document(a.file) if a.file else {}
    for key, value in (("name", a.name), ("kind", a.kind), ("address", a.address),
                       ("port", a.port), ("host_key", a.host_key), ("username", a.username),
                       ("description", a.description)):
        if value is not None:
            doc[key] = value
    if a.radio:
        doc["radios"] = [_radio(r) for r in a.radio]
    missing = [k for k in ("name", "kind", "address", "host_key") if k not in doc]
    if missing:
        raise UsageError("node add needs " + ", ".join("--" + m.replace("_", "-") for m in missing))
    node = ctx.api.request("POST", "/api/v1/nodes", doc).body
    ctx.out.show(node, lambda n: f"node {n['name']} registered; connection: {n['connection']['state']}")
    return 0


def node_list(ctx: Context) -> int:
    q = f"?kind={ctx.args.kind}" if ctx.args.kind else ""
    body = ctx.api.get("/api/v1/nodes" + q)
    ctx.out.show(body, lambda b: table(b["items"], NODE_COLUMNS))
    return 0


def render_node(n: dict[str, Any]) -> str:
    c = n["connection"]
    lines = [details(n, [
        ("Name", lambda n: n["name"]), ("Kind", lambda n: n["kind"]),
        ("Address", lambda n: f"{n['address']}:{n['port']} (user {n.get('username')})"),
        ("Host key", lambda n: n["host_key"]),
        ("Connection", lambda n: f"{c['state']} since {c.get('since')}"),
        ("Last error", lambda n: c.get("last_error")),
        ("Session", lambda n: c.get("session_id")),
        ("Capabilities", lambda n: len(n.get("capabilities", []))),
    ])]
    if n["kind"] == "wifi":
        lines += ["", "Radios:", table(n.get("radios", []), [
            ("NAME", lambda r: r["name"]), ("BAND", lambda r: r["band"]),
            ("CHANNEL", lambda r: r["channel"]),
            ("AIRTIME SCHEDULER", lambda r: r.get("airtime_scheduler")),
            ("MAX VIFS", lambda r: r.get("max_vifs"))])]
    elif n.get("cell"):
        cell = n["cell"]
        lines += ["", f"Cell: {cell.get('oper_status') or '-'}, PLMNs {', '.join(cell['plmns']) or '-'}, "
                  f"rejected attaches {cell.get('rejected_attaches', 0)}",
                  table(cell["slices"], CELL_SLICE_COLUMNS)]
    return "\n".join(lines)


CELL_SLICE_COLUMNS = [
    ("SLICE", lambda s: s["slice"]), ("TENANT", lambda s: s.get("tenant")),
    ("PLMN", lambda s: s["plmn"]), ("BROADCAST", lambda s: s.get("broadcast")),
    ("MMES (S1)", lambda s: [f"{m['address']}:{m['port']}={m.get('s1_state') or '?'}"
                             for m in s["mmes"]]),
    ("ACL", lambda s: f"{len(s['imsi_acl']['imsis'])} imsis, {len(s['imsi_acl']['prefixes'])} "
                      f"prefixes, default {s['imsi_acl']['default_action']}"),
    ("UES", lambda s: s["attached_ues"]), ("REJECTED", lambda s: s["attach_rejected"]),
]


def node_show(ctx: Context) -> int:
    ctx.out.show(ctx.api.get(f"/api/v1/nodes/{ctx.args.name}"), render_node)
    return 0


def node_remove(ctx: Context) -> int:
    ctx.api.request("DELETE", f"/api/v1/nodes/{ctx.args.name}")
    ctx.out.show({"removed": ctx.args.name}, lambda b: f"node {b['removed']} removed")
    return 0


