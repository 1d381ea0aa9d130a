"""``ransdn-agent``: the node agent's command line.

    ransdn-agent --kind wifi|lte --backend sim|linux --listen HOST:PORT \\
                 --state-dir DIR --authorized-keys FILE \\
                 [--backend-config FILE] [--node-id ID] [--log-level LEVEL] \\
                 [--max-message-bytes N] [--ready-file FILE]

Logs go to stderr.  SIGTERM and SIGINT stop the agent cleanly (exit 0).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from pathlib import Path

from agent.datastore.persistence import write_atomic
from agent.netconf.server import Limits
from agent.server import AgentConfig, AgentServer

log = logging.getLogger("ransdn-agent")


def _host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    host = host.strip("[]") or "127.0.0.1"
    return host, int(port)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ransdn-agent",
        description="NETCONF agent of a ransdn Wi-Fi node or LTE small cell.",
    )
    p.add_argument("--kind", required=True, choices=("wifi", "lte"), help="what the node is")
    p.add_argument(
        "--backend", required=True,
        help="what applies the configuration: sim, linux (or package.module:Class)",
    )
    p.add_argument(
        "--listen", required=True, type=_host_port, metavar="HOST:PORT",
        help="address for NETCONF over SSH; port 0 picks a free one",
    )
    p.add_argument("--state-dir", required=True, type=Path, help="host key and configuration live here")
    p.add_argument(
        "--authorized-keys", required=True, type=Path, metavar="FILE",
        help="OpenSSH authorized_keys of the clients allowed in (re-read when changed)",
    )
    p.add_argument("--backend-config", type=Path, metavar="FILE", help="JSON options for the backend")
    p.add_argument("--node-id", help="name of the node (default: the host name)")
    p.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    p.add_argument(
        "--max-message-bytes", type=int, default=Limits().max_message_bytes,
        help="largest NETCONF message accepted (default %(default)s)",
    )
    p.add_argument(
        "--ready-file", type=Path, metavar="FILE",
        help="once listening, write {host, port, fingerprint, kind, node_id, pid} here as JSON",
    )
    return p


async def run(args: argparse.Namespace) -> int:
    options = {}
    if args.backend_config:
        try:
            options = json.loads(args.backend_config.read_text())
        except (OSError, ValueError) as exc:
            log.error("cannot read --backend-config %s: %s", args.backend_config, exc)
            return 2
        if not isinstance(options, dict):
            log.error("--backend-config %s must hold a JSON object", args.backend_config)
            return 2
    host, port = args.listen
    config = AgentConfig(
        kind=args.kind,
        state_dir=args.state_dir,
        authorized_keys=args.authorized_keys,
        listen_host=host,
        listen_port=port,
        node_id=args.node_id,
        backend=args.backend,
        backend_options=options,
        limits=Limits(max_message_bytes=args.max_message_bytes),
    )
    agent = AgentServer(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    bound_host, bound_port = await agent.start()
    try:
        if args.ready_file:
            info = {
                "host": bound_host,
                "port": bound_port,
                "fingerprint": agent.host_key_fingerprint,
                "host_key": agent.host_public_key,
                "kind": args.kind,
                "node_id": agent.node_id,
                "pid": os.getpid(),
            }
            write_atomic(args.ready_file, json.dumps(info).encode(), mode=0o644)
        await stop.wait()
        log.info("stopping")
    finally:
        await agent.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, args.log_level.upper()),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("asyncssh").setLevel(max(logging.WARNING, logging.root.level))
    try:
        return asyncio.run(run(args))
    except Exception as exc:  # a clear one-line reason, not a traceback
        log.error("%s", exc, exc_info=args.log_level == "debug")
        return 1


if __name__ == "__main__":
    sys.exit(main())
