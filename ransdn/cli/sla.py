"""``ransdn sla list|watch`` and ``ransdn airtime [policy NAME]``: SLA
compliance per slice and contention domain, and the global airtime
scheduler's policy."""

from __future__ import annotations

import sys
import time
from typing import Any

from ransdn.cli.main import Context, add_command
from ransdn.cli.output import details, table

CLEAR = "\x1b[H\x1b[2J"

SLA_COLUMNS = [
    ("SLICE", lambda e: e["slice"]),
    ("DOMAIN", lambda e: e.get("domain")),
    ("RADIOS", lambda e: len(e.get("radios", []))),
    ("GUAR%", lambda e: e.get("guaranteed")),
    ("TARGET%", lambda e: e["target"]),
    ("ACHIEVED%", lambda e: e["achieved"]),
    ("ERROR", lambda e: e.get("error")),
    ("STATE", lambda e: e.get("state")),
    ("SINCE", lambda e: e.get("since")),
    ("CAUSE", lambda e: e.get("cause")),
]



def domain_label(e: dict[str, Any]) -> str:
    """Where a contention domain is, for people: ``ch1 wifi-4+wifi-7``
    (node names when each radio is on its own node; three at most)."""
    radios = list(e.get("radios") or [])
    nodes = [r.partition("/")[0] for r in radios]
    names = nodes if len(set(nodes)) == len(nodes) else radios
    where = "+".join(names[:3]) + (f"+{len(names) - 3} more" if len(names) > 3 else "")
    channel = e.get("channel")
    return f"ch{channel} {where}".strip() if channel is not None else where or e.get("domain", "")


def _points(v: Any) -> str | None:
    if v is None:
        return None
    # "-0.0" would read as a shortfall; a tenth of a point either way is 0.0.
    return f"{round(float(v), 1) or 0.0:.1f}"


#: A narrower SLA table: where the domain is instead of its id.
SLA_BRIEF_COLUMNS = [
    ("SLICE", lambda e: e["slice"]),
    ("DOMAIN", domain_label),
    ("TARGET%", lambda e: _points(e["target"])),
    ("ACHIEVED%", lambda e: _points(e["achieved"])),
    ("ERROR", lambda e: _points(e.get("error"))),
    ("STATE", lambda e: e.get("state")),
    ("CAUSE", lambda e: e.get("cause")),
]

AIRTIME_FIELDS = [
    ("enabled", lambda a: a["enabled"]),
    ("period (s)", lambda a: a.get("period")),
    ("policy", lambda a: a["policy"]),
    ("policies", lambda a: a["policies"]),
    ("periods run", lambda a: a.get("periods_run")),
    ("last period", lambda a: (a.get("last_period") or {}).get("time")),
    ("radios/domains", lambda a: "{radios}/{domains}".format(**a["last_period"]) if a.get("last_period") else None),
    ("violations", lambda a: (a.get("last_period") or {}).get("violations")),
    ("last push", lambda a: _push(a.get("last_push"))),
]


def _push(push: dict[str, Any] | None) -> str | None:
    if not push:
        return None
    if push["ok"]:
        return f"{push['time']} ok ({push.get('vifs', 0)} vifs on {len(push.get('nodes', []))} nodes)"
    return f"{push['time']} FAILED: {push.get('error')}"


def register(sub: Any) -> None:
    sla = add_command(sub, "sla", "SLA compliance per slice and contention domain")
    ssub = sla.add_subparsers(dest="sla_command", metavar="ACTION", required=True)
    ls = add_command(ssub, "list", "the last control period's SLA, one row per slice and domain")
    _filters(ls)
    ls.set_defaults(func=sla_list)
    watch = add_command(ssub, "watch", "live-refreshing SLA table, violations first")
    _filters(watch)
    watch.add_argument("--interval", type=float, default=2.0, help="seconds between refreshes")
    watch.add_argument("--count", type=int, default=0, help="stop after this many refreshes (0: never)")
    watch.set_defaults(func=sla_watch)

    air = add_command(sub, "airtime", "the global airtime scheduler: show it, or switch its policy")
    asub = air.add_subparsers(dest="airtime_command", metavar="ACTION")
    policy = add_command(asub, "policy", "switch the policy (takes effect at the next period)")
    policy.add_argument("name", help="e.g. contention-aware or local-only")
    policy.set_defaults(func=airtime_policy)
    air.set_defaults(func=airtime_show)


def _filters(p: Any) -> None:
    p.add_argument("--slice", help="only this slice")
    p.add_argument("--violated", action="store_true", help="only violated or under-served entries")


def _entries(ctx: Context) -> list[dict[str, Any]]:
    args = ctx.args
    path = f"/api/v1/slices/{args.slice}/sla" if args.slice else "/api/v1/sla"
    items = ctx.api.get(path)["items"]
    if args.violated:
        items = [e for e in items if e.get("state") == "violated" or (e.get("error") or 0) > 0]
    # Violations first, then the largest shortfall.
    return sorted(items, key=lambda e: (e.get("state") != "violated", -(e.get("error") or 0), e["slice"]))


def render(items: list[dict[str, Any]], status: dict[str, Any], url: str) -> str:
    violated = sum(1 for e in items if e.get("state") == "violated")
    head = (f"ransdn @ {url}   {time.strftime('%H:%M:%S')}   policy {status['policy']}"
            f"{'' if status['enabled'] else ' (scheduler off)'}   "
            f"{len(items)} slice-domains, {violated} violated")
    return head + "\n\n" + table(items, SLA_COLUMNS)


def sla_list(ctx: Context) -> int:
    ctx.out.show({"items": _entries(ctx)}, lambda doc: table(doc["items"], SLA_COLUMNS))
    return 0


def sla_watch(ctx: Context) -> int:
    n = 0
    tty = sys.stdout.isatty()
    while True:
        items = _entries(ctx)
        status = ctx.api.get("/api/v1/airtime")
        if ctx.out.mode == "json":
            ctx.out.json({"airtime": status, "items": items})
        else:
            sys.stdout.write((CLEAR if tty else "") + render(items, status, ctx.api.url) + "\n")
            sys.stdout.flush()
        n += 1
        if ctx.args.count and n >= ctx.args.count:
            return 0
        time.sleep(ctx.args.interval)


def airtime_show(ctx: Context) -> int:
    ctx.out.show(ctx.api.get("/api/v1/airtime"), lambda a: details(a, AIRTIME_FIELDS))
    return 0


def airtime_policy(ctx: Context) -> int:
    status = ctx.api.request("PUT", "/api/v1/airtime/policy", {"policy": ctx.args.name}).body
    ctx.out.show(status, lambda a: f"airtime policy: {a['policy']} (from the next control period)")
    return 0
