"""``ransdn events``: the controller's event log, paginated, optionally followed."""

from __future__ import annotations

import time
import urllib.parse
from typing import Any

from ransdn.cli.main import Context, add_command
from ransdn.cli.output import table

EVENT_COLUMNS = [
    ("SEQ", lambda e: e["seq"]), ("TIME", lambda e: e["time"]),
    ("SEVERITY", lambda e: e["severity"]), ("KIND", lambda e: e["kind"]),
    ("NODE", lambda e: e.get("node")), ("SLICE", lambda e: e.get("slice")),
    ("MESSAGE", lambda e: e["message"]),
]


def register(sub: Any) -> None:
    p = add_command(sub, "events", "show events: node state changes, provisioning, drift repairs")
    p.add_argument("--after", type=int, default=0, help="only events after this sequence number")
    p.add_argument("--limit", type=int, default=100, help="page size (1..1000)")
    p.add_argument("--node")
    p.add_argument("--slice")
    p.add_argument("--kind", help="kind or kind prefix, e.g. drift or node.connected")
    p.add_argument("--all", action="store_true", help="follow next_after through every page")
    p.add_argument("--follow", action="store_true", help="keep printing new events (Ctrl-C stops)")
    p.set_defaults(func=events)


def _page(ctx: Context, after: int) -> dict[str, Any]:
    a = ctx.args
    q = {"after": after, "limit": a.limit}
    q.update({k: v for k, v in (("node", a.node), ("slice", a.slice), ("kind", a.kind)) if v})
    return ctx.api.get("/api/v1/events?" + urllib.parse.urlencode(q))


def events(ctx: Context) -> int:
    a = ctx.args
    after = a.after
    items: list[dict[str, Any]] = []
    while True:
        page = _page(ctx, after)
        items += page["items"]
        if page["items"]:
            after = page["items"][-1]["seq"]
        if not (a.all or a.follow) or page["next_after"] is None:
            break
    if ctx.out.mode == "json" and not a.follow:
        ctx.out.json({"items": items, "next_after": page["next_after"]})
        return 0
    _print(ctx, items, header=True)
    while a.follow:
        time.sleep(1.0)
        page = _page(ctx, after)
        if page["items"]:
            after = page["items"][-1]["seq"]
            _print(ctx, page["items"], header=False)
    return 0


def _print(ctx: Context, items: list[dict[str, Any]], header: bool) -> None:
    if ctx.out.mode == "json":
        for e in items:
            ctx.out.json(e)
        return
    text = table(items, EVENT_COLUMNS)
    lines = text.splitlines()
    ctx.out.out.write("\n".join(lines if header else lines[1:]) + "\n")
    ctx.out.out.flush()
