"""``ransdn demo``: the embedded demo (controller + simulated city)."""

from __future__ import annotations

import argparse
from typing import Any

from ransdn.cli.main import Context, add_command


def register(sub: Any) -> None:
    p = add_command(sub, "demo", "run a controller and a simulated city (12 Wi-Fi APs, 4 LTE cells) "
                    "with the global airtime scheduler correcting co-channel contention; Ctrl-C stops")
    p.add_argument("--airtime-period", type=_period, default=2.0, metavar="SECONDS",
                   help="global airtime scheduler period (default 2)")
    p.add_argument("--data-dir", help="keep the controller's data here (default: a temporary dir)")
    p.add_argument("--listen", default="127.0.0.1:0", type=_listen, metavar="HOST:PORT",
                   help="controller API address (default 127.0.0.1 on a free port)")
    p.add_argument("--once", action="store_true",
                   help="set up, show the status and the SLA story, then stop")
    p.set_defaults(func=run_demo)


def _period(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0.2 <= value <= 60:
        raise argparse.ArgumentTypeError(f"{text!r}: a period is 0.2 to 60 seconds")
    return value


def _listen(text: str) -> str:
    from ransdn.service import parse_listen

    parse_listen(text)  # raises ArgumentTypeError, which argparse reports
    return text


def run_demo(ctx: Context) -> int:
    from ransdn.demo import run

    return run(ctx.args)
