"""Many sim agents in one process, sharing one radio medium.

Each agent is a complete NETCONF server (its own port on the loopback
address, its own state directory and SSH host key); only the medium is
shared, so co-channel Wi-Fi nodes in range of each other contend for
airtime as they would in a city.

    async with Farm(grid(wifi=6, lte=2), state_dir=d, authorized_keys=k) as farm:
        for agent in farm.agents:
            print(agent.name, agent.port, agent.host_key_fingerprint)
        farm.write_inventory(d / "inventory.json")
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Sequence

from agent.backends.base import BackendContext, JsonTree
from agent.backends.sim import SimBackend
from agent.backends.sim.backend import new_medium
from agent.backends.sim.options import parse_options
from agent.datastore.schema import SchemaLibrary
from agent.farm.topology import NodePlan, TopologyError
from agent.server import AgentConfig, AgentServer
from testbed.medium.model import Medium
from testbed.medium.propagation import Propagation

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FarmAgent:
    """A running agent of the farm, as the inventory lists it."""

    name: str
    kind: str
    address: str
    port: int
    host_key_fingerprint: str
    state_dir: Path
    plan: NodePlan

    def inventory_entry(self) -> JsonTree:
        entry: JsonTree = {
            "name": self.name,
            "kind": self.kind,
            "address": self.address,
            "port": self.port,
            "host_key_fingerprint": self.host_key_fingerprint,
            "state_dir": str(self.state_dir),
            "position": list(self.plan.position),
        }
        options = parse_options(self.name, self.plan.backend_options())
        if self.kind == "wifi":
            entry["radios"] = [
                {
                    "name": r.name,
                    "mac": r.mac,
                    "band": r.band,
                    "channel": r.channel,
                    "position": list(r.position),
                    "max_vifs": r.max_vifs,
                }
                for r in options.radios
            ]
        else:
            entry["cells"] = [
                {
                    "position": list(options.position),
                    "max_plmns": options.cell.max_plmns,
                    "earfcn_dl_ranges": [list(r) for r in options.cell.earfcn_dl_ranges],
                }
            ]
        return entry


class Farm:
    """Runs one sim agent per :class:`NodePlan` until exited."""

    def __init__(
        self,
        nodes: Sequence[NodePlan],
        *,
        authorized_keys: Path,
        state_dir: Path | None = None,
        address: str = "127.0.0.1",
        base_port: int = 0,
        medium: Medium | None = None,
        propagation: Propagation | None = None,
    ) -> None:
        names = [n.name for n in nodes]
        if len(set(names)) != len(names):
            raise TopologyError("node names must be unique")
        self.nodes = list(nodes)
        self.authorized_keys = authorized_keys
        self.address = address
        self.base_port = base_port
        if medium is not None and propagation is not None:
            raise ValueError("give a medium or the propagation for a new one, not both")
        #: A medium passed in is the caller's to start and close.
        self.medium = medium if medium is not None else new_medium(propagation)
        self._owns_medium = medium is None
        self._state_dir_arg = state_dir
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.state_dir: Path | None = None
        # One compiled YANG library for every agent of the process.
        self._schemas = SchemaLibrary()
        self._servers: list[AgentServer] = []
        self.agents: list[FarmAgent] = []

    async def __aenter__(self) -> "Farm":
        if self._state_dir_arg is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="ransdn-farm-")
            self.state_dir = Path(self._tmp.name)
        else:
            self.state_dir = self._state_dir_arg
            self.state_dir.mkdir(parents=True, exist_ok=True)
        try:
            if self._owns_medium:
                await self.medium.start()
            for index, plan in enumerate(self.nodes):
                self.agents.append(await self._start_agent(index, plan))
        except BaseException:
            await self._stop_all()
            raise
        log.info("farm: %d agents running", len(self.agents))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._stop_all()

    def agent(self, name: str) -> FarmAgent:
        return next(a for a in self.agents if a.name == name)

    def inventory(self) -> list[JsonTree]:
        return [a.inventory_entry() for a in self.agents]

    def write_inventory(self, path: Path) -> None:
        """Write the inventory atomically, so readers never see half of it."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        with open(tmp, "w") as f:
            json.dump(self.inventory(), f, indent=2)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    async def _start_agent(self, index: int, plan: NodePlan) -> FarmAgent:
        assert self.state_dir is not None
        node_dir = self.state_dir / plan.name
        port = plan.port or (self.base_port + index if self.base_port else 0)
        options = plan.backend_options()
        backend = SimBackend(
            BackendContext(kind=plan.kind, node_id=plan.name, state_dir=node_dir, options=options),
            medium=self.medium,
        )
        server = AgentServer(
            AgentConfig(
                kind=plan.kind,
                state_dir=node_dir,
                authorized_keys=self.authorized_keys,
                listen_host=self.address,
                listen_port=port,
                node_id=plan.name,
                backend=backend,
                schema_library=self._schemas,
            )
        )
        await server.start()
        self._servers.append(server)
        return FarmAgent(
            name=plan.name,
            kind=plan.kind,
            address=server.host,
            port=server.port,
            host_key_fingerprint=server.host_key_fingerprint,
            state_dir=node_dir,
            plan=plan,
        )

    async def _stop_all(self) -> None:
        servers, self._servers = self._servers, []
        results = await asyncio.gather(*(s.stop() for s in servers), return_exceptions=True)
        for server, result in zip(servers, results):
            if isinstance(result, BaseException):
                log.warning("farm: stopping %s failed: %r", server, result)
        self.agents.clear()
        if self._owns_medium:
            await self.medium.aclose()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
