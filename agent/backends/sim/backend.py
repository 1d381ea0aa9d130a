"""The sim backend: a Wi-Fi node or LTE small cell of the test bed.

Wi-Fi nodes share a :class:`~testbed.medium.model.Medium` when one is
passed in (the agent farm hosts a whole city in one process and gives
every node the same medium, so co-channel nodes contend); a standalone
agent gets a private one.  Options are described in
:mod:`agent.backends.sim.options`.
"""

from __future__ import annotations

from typing import Awaitable, Callable

from agent.backends.base import (
    EVERYTHING,
    Backend,
    BackendContext,
    BackendError,
    JsonTree,
    NotifySink,
    StateSelection,
)
from agent.backends.sim.lte import LteCell
from agent.backends.sim.options import OptionsError, parse_options
from agent.backends.sim.wifi import WifiNode
from testbed.medium.model import Medium
from testbed.medium.propagation import Propagation
from testbed.medium.shared import SharedMedium

SIM = "ransdn-sim"

Rpc = Callable[[JsonTree], Awaitable[JsonTree]]


def new_medium(propagation: Propagation | None = None) -> SharedMedium:
    """A medium for one standalone node, or for a farm to share.

    It must be started (``await medium.start()``) to keep simulated time
    running, and closed with ``await medium.aclose()``.
    """
    return SharedMedium(propagation=propagation)


class SimBackend(Backend):
    extra_modules = (SIM,)

    def __init__(self, context: BackendContext, *, medium: Medium | None = None) -> None:
        super().__init__(context)
        try:
            self.options = parse_options(context.node_id, context.options)
        except OptionsError as exc:
            raise ValueError(f"sim backend options: {exc}") from exc
        self._shared_medium = medium
        self._private_medium: SharedMedium | None = None
        self._node: WifiNode | LteCell | None = None
        self._rpcs: dict[str, Rpc] = {}

    async def start(self, notify: NotifySink) -> None:
        if self.context.kind == "wifi":
            medium = self._shared_medium
            if medium is None:
                medium = self._private_medium = new_medium()
                await self._private_medium.start()
            node = WifiNode(self.context.node_id, self.options, medium, notify)
            self._rpcs = {
                "station-attach": node.station_attach,
                "station-detach": node.station_detach,
                "set-traffic": node.set_traffic,
            }
        else:
            node = LteCell(self.context.node_id, self.options.cell, self.options.failures, notify)
            self._rpcs = {
                "ue-attach": node.ue_attach,
                "ue-detach": node.ue_detach,
                "set-mme-reachable": node.set_mme_reachable,
            }
        try:
            await node.start()
        except BaseException:
            await self._close_private_medium()
            raise
        self._node = node

    async def apply(self, old: JsonTree, new: JsonTree) -> None:
        await self._running().apply(old, new)

    async def operational_state(self) -> JsonTree:
        return await self._running().operational_state(EVERYTHING)

    async def operational_state_for(self, selection: StateSelection) -> JsonTree:
        return await self._running().operational_state(selection)

    async def rpc(self, name: str, input: JsonTree) -> JsonTree:
        module, _, op = name.partition(":")
        handler = self._rpcs.get(op) if module == SIM else None
        if handler is None:
            if module == SIM:
                raise BackendError(
                    f"{name} does not apply to a {self.context.kind} node",
                    error_tag="operation-not-supported",
                )
            return await super().rpc(name, input)
        # Accept the input with or without the RPC's own wrapper member.
        args = input.get(name, input) if len(input) == 1 else input
        return await handler(args or {})

    async def stop(self) -> None:
        if self._node is not None:
            await self._node.stop()
            self._node = None
        await self._close_private_medium()

    async def _close_private_medium(self) -> None:
        medium, self._private_medium = self._private_medium, None
        if medium is not None:
            await medium.aclose()

    def _running(self) -> WifiNode | LteCell:
        if self._node is None:
            raise BackendError("the sim backend is not started")
        return self._node
