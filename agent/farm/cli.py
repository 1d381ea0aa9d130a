"""``ransdn-agent-farm``: run a city of sim agents until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from agent.farm.farm import Farm
from agent.farm.topology import Topology, TopologyError, grid, read_topology


def _channels(text: str) -> list[int]:
    try:
        values = [int(c) for c in text.split(",") if c.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of channels: {text!r}")
    if not values:
        raise argparse.ArgumentTypeError("at least one channel is needed")
    return values


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ransdn-agent-farm",
        description="Run many sim-backend NETCONF agents in one process, all Wi-Fi "
        "agents sharing one simulated radio medium, and write an inventory of them.",
    )
    layout = p.add_argument_group("which agents (a topology file, or a grid)")
    layout.add_argument("--topology", type=Path, help="JSON city description (nodes, radios, positions)")
    layout.add_argument("--wifi", type=int, default=0, metavar="N", help="Wi-Fi agents on a grid")
    layout.add_argument("--lte", type=int, default=0, metavar="M", help="LTE cell agents on the grid")
    layout.add_argument("--channels", type=_channels, default=[1, 6, 11],
                        help="2.4 GHz channels given to grid nodes in turn (default 1,6,11)")
    layout.add_argument("--channels-5ghz", type=_channels, default=[36, 40, 44, 48],
                        help="5 GHz channels for grid nodes' second radio (default 36,40,44,48)")
    layout.add_argument("--radios-per-node", type=int, choices=(1, 2), default=2)
    layout.add_argument("--spacing", type=float, default=50.0, help="grid spacing in metres (default 50)")
    p.add_argument("--state-dir", type=Path, required=True, help="one sub-directory per agent")
    p.add_argument("--authorized-keys", type=Path, required=True,
                   help="OpenSSH authorized_keys accepted by every agent")
    p.add_argument("--inventory", type=Path, required=True, help="where to write the inventory JSON")
    p.add_argument("--address", default="127.0.0.1", help="address the agents listen on")
    p.add_argument("--base-port", type=int, default=0,
                   help="agent i listens on BASE+i (default: ephemeral ports)")
    p.add_argument("-v", "--verbose", action="store_true")
    return p


async def run(args: argparse.Namespace) -> int:
    if args.topology is not None:
        if args.wifi or args.lte:
            raise TopologyError("give either --topology or --wifi/--lte, not both")
        topology = read_topology(args.topology)
    else:
        topology = Topology(grid(
            args.wifi,
            args.lte,
            channels=args.channels,
            channels_5ghz=args.channels_5ghz,
            radios_per_node=args.radios_per_node,
            spacing=args.spacing,
        ))
    plans = topology.nodes
    if not plans:
        raise TopologyError("no agents to run: give --wifi/--lte or a --topology with nodes")
    if not args.authorized_keys.is_file():
        raise TopologyError(f"authorized keys file not found: {args.authorized_keys}")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with Farm(
        plans,
        state_dir=args.state_dir,
        authorized_keys=args.authorized_keys,
        address=args.address,
        base_port=args.base_port,
        propagation=topology.propagation,
    ) as farm:
        farm.write_inventory(args.inventory)
        logging.getLogger("ransdn.farm").info(
            "%d agents up; inventory in %s", len(farm.agents), args.inventory
        )
        await stop.wait()
    return 0


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    try:
        sys.exit(asyncio.run(run(args)))
    except TopologyError as exc:
        print(f"ransdn-agent-farm: {exc}", file=sys.stderr)
        sys.exit(2)
