"""``ransdn``: the network engineer's command line, a client of the REST API.

Each subcommand lives in its own module with a ``register(subparsers)``
function; add a module to :data:`COMMAND_MODULES` to add a command (for
example ``ransdn sla watch``).

Exit codes: 0 success; 1 the controller refused the request (4xx);
2 usage error; 3 the controller is unreachable; 4 the controller or a node
failed (5xx: nothing was changed).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from dataclasses import dataclass
from typing import Any

from ransdn.cli.client import ApiClient, ApiError, ConnectionFailed
from ransdn.cli.output import Printer

COMMAND_MODULES = (
    "ransdn.cli.nodes",
    "ransdn.cli.slices",
    "ransdn.cli.events",
    "ransdn.cli.watch",
    "ransdn.cli.sla",
    "ransdn.cli.scenario",
    "ransdn.cli.info",
    "ransdn.cli.demo",
)

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_UNREACHABLE, EXIT_FAILED = 0, 1, 2, 3, 4


@dataclass
class Context:
    api: ApiClient
    out: Printer
    args: argparse.Namespace


class UsageError(Exception):
    """Bad command-line input found after parsing (e.g. an unreadable file)."""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ransdn",
        description="Manage the ransdn controller: nodes, slices, events. "
                    "A client of the controller's REST API.",
        epilog="Exit codes: 0 ok, 1 refused by the controller, 2 usage, "
               "3 controller unreachable, 4 controller or node failure.")
    p.add_argument("--url", default=os.environ.get("RANSDN_URL", "http://127.0.0.1:8080"),
                   help="controller URL (env RANSDN_URL; default http://127.0.0.1:8080)")
    p.add_argument("--token", default=os.environ.get("RANSDN_TOKEN"),
                   help="bearer token (env RANSDN_TOKEN)")
    p.add_argument("--output", "-o", choices=["table", "json"], default="table",
                   help="output format (default table)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return p


def print_problem(e: ApiError) -> None:
    p = e.problem
    title = p.get("title") or f"HTTP {e.status}"
    print(f"error: {title} ({e.status}): {p.get('detail', '')}".rstrip(": "), file=sys.stderr)
    for fe in p.get("errors", []) or []:
        print(f"  {fe.get('field') or '/'}: {fe.get('reason')}", file=sys.stderr)
    tx = p.get("transaction")
    if tx:
        for n in tx.get("nodes", []):
            err = f" - {n['error']}" if n.get("error") else ""
            print(f"  node {n['node']}: {n['outcome']}{err}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    ctx = Context(ApiClient(args.url, args.token), Printer(args.output), args)
    try:
        return int(args.func(ctx) or 0)
    except UsageError as e:
        print(f"ransdn: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except ApiError as e:
        print_problem(e)
        return EXIT_FAILED if e.status >= 500 else EXIT_REFUSED
    except ConnectionFailed as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_UNREACHABLE
    except KeyboardInterrupt:
        return 130


def add_command(sub: Any, name: str, help: str, **kw: Any) -> argparse.ArgumentParser:
    return sub.add_parser(name, help=help, description=help, **kw)


if __name__ == "__main__":
    raise SystemExit(main())
