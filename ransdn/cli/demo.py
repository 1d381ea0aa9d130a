"""``ransdn demo``: the embedded demo (controller + simulated city)."""

from __future__ import annotations

from typing import Any

from ransdn.cli.main import Context, add_command


def register(sub: Any) -> None:
    p = add_command(sub, "demo", "run a controller and a simulated city of agents; Ctrl-C stops")
    p.add_argument("--wifi", type=int, default=12, help="Wi-Fi APs (default 12, on 3 channels)")
    p.add_argument("--lte", type=int, default=4, help="LTE small cells (default 4)")
    p.add_argument("--data-dir", help="keep the controller's data here (default: a temporary dir)")
    p.add_argument("--listen", default="127.0.0.1:0", help="controller API address")
    p.add_argument("--once", action="store_true", help="set up, show the status, then stop")
    p.set_defaults(func=run_demo)


def run_demo(ctx: Context) -> int:
    from ransdn.demo import run

    return run(ctx.args)
