"""The seam between the agent's NETCONF datastores and the world.

The datastore layer owns configuration, validation, locking and
transactions.  A backend owns everything physical (or simulated): it makes
the world match a committed configuration, and it reports what the world is
doing as operational state and notifications.

All data crossing this seam is RFC 7951 JSON as produced by libyang, with
module-qualified top-level member names, for example::

    {"ransdn-wifi:wifi-node": {"radio": [{"name": "phy0", ...}]}}

RFC 7951 encodes 64-bit integers and decimal64 values as JSON strings
("30.5"); backends convert them.  Configuration handed to a backend contains
secrets (the WPA2 PSK) in clear text: the agent strips them only from what
it returns to NETCONF clients.
"""

from __future__ import annotations

import abc
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Literal

JsonTree = dict[str, Any]
NodeKind = Literal["wifi", "lte"]

#: YANG modules each node kind implements, besides ietf-* housekeeping.
KIND_MODULES: dict[str, tuple[str, ...]] = {
    "wifi": ("ransdn-types", "ransdn-wifi"),
    "lte": ("ransdn-types", "ransdn-lte"),
}


@dataclass(frozen=True)
class Notification:
    """A YANG notification raised by the world.

    ``name`` is the module-qualified notification, e.g.
    ``"ransdn-wifi:vif-state-change"``; ``body`` its children as RFC 7951
    JSON, without the module prefix on member names.
    """

    name: str
    body: JsonTree
    event_time: float = field(default_factory=time.time)


class BackendError(Exception):
    """The backend cannot apply a configuration or serve a request.

    The agent reports it as an ``<rpc-error>`` with error-tag
    ``operation-failed`` (or ``error_tag`` when given), and commits nothing.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        error_tag: str = "operation-failed",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.error_tag = error_tag


@dataclass(frozen=True)
class BackendContext:
    """What the agent tells a backend about where it runs."""

    kind: NodeKind
    node_id: str
    state_dir: Path
    #: Backend-specific settings, from ``--backend-config FILE`` (JSON).
    options: JsonTree = field(default_factory=dict)


NotifySink = Callable[[Notification], None]


def _canonical(path: str) -> str:
    """``path`` with a module prefix only where the module changes (the
    top-level node always has one), as libyang prints schema paths."""
    out, module = [], None
    for step in path.strip("/").split("/"):
        prefix, sep, name = step.rpartition(":")
        if sep and prefix != module:
            module = prefix
            out.append(step)
        else:
            out.append(name)
    return "/" + "/".join(out)


@dataclass(frozen=True)
class StateSelection:
    """The part of the operational state a request asks for: a hint that
    lets a backend skip reads whose results would be filtered away.

    ``paths`` are schema node paths, module-qualified at the top, such as
    ``/ransdn-wifi:wifi-node-state/radio/vif/psk-sha256``; each selects
    that node and everything below it.  ``None`` selects everything (no
    filter, or one too complex to analyse).

    The agent derives the selection from the request's filter and still
    applies the filter to what the backend returns, so a backend may
    return more than selected.  For every selected node, though, it must
    return what a full read would (list entries in the same order), with
    its ancestors and their list keys; what it leaves out it must leave
    out, not guess.
    """

    paths: frozenset[str] | None = None

    @classmethod
    def of(cls, paths: Iterable[str]) -> "StateSelection":
        return cls(frozenset(_canonical(p) for p in paths))

    @property
    def everything(self) -> bool:
        return self.paths is None

    def wants(self, path: str) -> bool:
        """Whether a reply needs anything at, below or above ``path``."""
        if self.paths is None:
            return True
        path = _canonical(path)
        return any(p == path or p.startswith(path + "/") or path.startswith(p + "/")
                   for p in self.paths)

    def __repr__(self) -> str:
        shown = "everything" if self.paths is None else sorted(self.paths)
        return f"StateSelection({shown})"


#: No filter: the whole state.
EVERYTHING = StateSelection()


class Backend(abc.ABC):
    """Applies configuration and reports operational state.

    Lifecycle: ``start`` once, then any number of ``apply`` /
    ``operational_state`` / ``operational_state_for`` / ``rpc`` calls (never
    two ``apply`` at once), then ``stop``.
    """

    #: YANG modules the backend implements on top of ``KIND_MODULES[kind]``
    #: (for example the sim backend's ``ransdn-sim`` RPCs).
    extra_modules: tuple[str, ...] = ()

    def __init__(self, context: BackendContext) -> None:
        self.context = context

    @abc.abstractmethod
    async def start(self, notify: NotifySink) -> None:
        """Begin observing the world; ``notify`` delivers notifications."""

    @abc.abstractmethod
    async def apply(self, old: JsonTree, new: JsonTree) -> None:
        """Make the world match ``new``, given that it matches ``old``.

        Called with the full validated configuration of the running
        datastore before and after a commit (or a rollback).  It is
        all-or-nothing: on failure raise :class:`BackendError` with the world
        left as ``old``; the agent then keeps ``old`` as running.
        """

    @abc.abstractmethod
    async def operational_state(self) -> JsonTree:
        """Return the config-false tree(s) of the node's modules."""

    async def operational_state_for(self, selection: StateSelection) -> JsonTree:
        """The operational state of which a request needs only ``selection``.

        The agent calls this for every ``<get>``.  A backend whose state is
        costly to read overrides it to skip what is not selected (see
        :class:`StateSelection` for what it must still return); the default
        reads everything.
        """
        return await self.operational_state()

    async def rpc(self, name: str, input: JsonTree) -> JsonTree:
        """Serve a module RPC (``name`` module-qualified); return its output."""
        raise BackendError(
            f"RPC {name} is not supported by this backend",
            error_tag="operation-not-supported",
        )

    async def stop(self) -> None:
        """Release what ``start`` acquired."""
