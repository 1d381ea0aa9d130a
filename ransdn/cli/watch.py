"""``ransdn watch``: a live-refreshing view of nodes, slices and recent events."""

from __future__ import annotations

import sys
import time
from typing import Any

from ransdn.cli.events import EVENT_COLUMNS
from ransdn.cli.main import Context, add_command
from ransdn.cli.nodes import NODE_COLUMNS
from ransdn.cli.output import table
from ransdn.cli.slices import SLICE_COLUMNS

CLEAR = "\x1b[H\x1b[2J"


def register(sub: Any) -> None:
    p = add_command(sub, "watch", "live-refreshing table of nodes, slices and recent events")
    p.add_argument("--interval", type=float, default=2.0, help="seconds between refreshes")
    p.add_argument("--count", type=int, default=0, help="stop after this many refreshes (0: never)")
    p.set_defaults(func=watch)


def snapshot(ctx: Context) -> dict[str, Any]:
    nodes = ctx.api.get("/api/v1/nodes")["items"]
    slices = ctx.api.get("/api/v1/slices")["items"]
    events = ctx.api.get("/api/v1/events?after=0&limit=1000")["items"][-8:]
    return {"nodes": nodes, "slices": slices, "events": events}


def render(snap: dict[str, Any], url: str) -> str:
    nodes, slices = snap["nodes"], snap["slices"]
    connected = sum(1 for n in nodes if n["connection"]["state"] == "connected")
    return "\n".join([
        f"ransdn @ {url}   {time.strftime('%H:%M:%S')}   nodes {connected}/{len(nodes)} connected, "
        f"slices {len(slices)}",
        "", table(nodes, NODE_COLUMNS), "", table(slices, SLICE_COLUMNS), "",
        "Recent events:", table(snap["events"], EVENT_COLUMNS[1:]),
    ])


def watch(ctx: Context) -> int:
    n = 0
    tty = sys.stdout.isatty()
    while True:
        snap = snapshot(ctx)
        if ctx.out.mode == "json":
            ctx.out.json(snap)
        else:
            sys.stdout.write((CLEAR if tty else "") + render(snap, ctx.api.url) + "\n")
            sys.stdout.flush()
        n += 1
        if ctx.args.count and n >= ctx.args.count:
            return 0
        time.sleep(ctx.args.interval)
