"""Which agents a farm runs: a city description, or a grid.

A topology file is JSON::

    {
      "nodes": [
        {"name": "ap-market-1", "kind": "wifi", "position": [0, 0],
         "radios": [{"name": "phy0", "band": "2.4ghz", "channel": 6},
                    {"name": "phy1", "band": "5ghz", "channel": 36}]},
        {"name": "cell-market", "kind": "lte", "position": [30, 10],
         "cell": {"max_plmns": 6, "s1_setup_delay": 0.1}},
        {"name": "ap-broken", "kind": "wifi", "position": [60, 0],
         "options": {"fail_apply_when": {"ssid": "reject-me"}}}
      ]
    }

An optional ``"medium"`` member sets how radios hear each other in the
shared medium: ``{"range_m": {"2.4ghz": 150, "5ghz": 100}, "hearing":
[[["ap-1", "phy0"], ["ap-2", "phy0"]], ...]}`` (``hearing``, when given,
is the complete list of radio pairs that hear each other; otherwise radios
of a band within its range do).  Other top-level members are ignored.

``name`` (unique, 1..64 of ``[A-Za-z0-9._-]``) and ``kind`` are required.
``position`` (metres) defaults to the origin, ``port`` to an ephemeral
one.  ``radios`` and ``cell`` are the sim backend's options of the same
name (see :mod:`agent.backends.sim.options`); ``options`` holds any other
sim backend option.  Every node's options are checked when the topology
is loaded, so a bad file fails before any agent starts.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from agent.backends.base import JsonTree
from agent.backends.sim.options import BAND_CHANNELS, OptionsError, parse_options
from testbed.medium.propagation import HearingError, Propagation

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class TopologyError(ValueError):
    """The topology is malformed; the message says where."""


@dataclass(frozen=True)
class NodePlan:
    """One agent the farm runs."""

    name: str
    kind: str
    position: tuple[float, float] = (0.0, 0.0)
    port: int = 0
    options: JsonTree = field(default_factory=dict)

    def backend_options(self) -> JsonTree:
        return {**self.options, "position": list(self.position)}


@dataclass(frozen=True)
class Topology:
    nodes: list[NodePlan]
    #: How radios hear each other; None for the medium's defaults.
    propagation: Propagation | None = None


def load_topology(source: Path | JsonTree) -> list[NodePlan]:
    """Node plans from a topology file or an already parsed document."""
    return read_topology(source).nodes


def read_topology(source: Path | JsonTree) -> Topology:
    """Nodes and medium settings from a topology file or parsed document."""
    if isinstance(source, Path):
        try:
            doc = json.loads(source.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise TopologyError(f"{source}: {exc}") from exc
    else:
        doc = source
    if not isinstance(doc, dict) or not isinstance(doc.get("nodes"), list):
        raise TopologyError('a topology is an object with a "nodes" list')
    plans = [_node(i, n) for i, n in enumerate(doc["nodes"])]
    _check_unique(plans)
    return Topology(plans, _propagation(doc.get("medium"), plans))


def _propagation(raw: Any, plans: list[NodePlan]) -> Propagation | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) - {"range_m", "hearing"}:
        raise TopologyError('medium must be an object with "range_m" and/or "hearing"')
    ranges = raw.get("range_m", {})
    if not isinstance(ranges, dict) or any(
        b not in BAND_CHANNELS or isinstance(m, bool) or not isinstance(m, (int, float)) or m <= 0
        for b, m in ranges.items()
    ):
        raise TopologyError("medium.range_m maps bands to positive distances in metres")
    kwargs: dict[str, Any] = {"range_m": {b: float(m) for b, m in ranges.items()}} if ranges else {}
    hearing = raw.get("hearing")
    if hearing is None:
        return Propagation(**kwargs)
    radios = {
        (p.name, r.name)
        for p in plans
        if p.kind == "wifi"
        for r in parse_options(p.name, p.backend_options()).radios
    }
    pairs = []
    for i, pair in enumerate(hearing if isinstance(hearing, list) else [None]):
        try:
            a, b = (tuple(end) for end in pair)
            if len(a) != 2 or len(b) != 2:
                raise ValueError
        except (TypeError, ValueError):
            raise TopologyError(f"medium.hearing[{i}] must be [[node, radio], [node, radio]]") from None
        for end in (a, b):
            if end not in radios:
                raise TopologyError(f"medium.hearing[{i}] names no radio of the topology: {list(end)}")
        pairs.append((a, b))
    try:
        return Propagation.with_graph(pairs, **kwargs)
    except HearingError as exc:
        raise TopologyError(f"medium.hearing: {exc}") from exc


def grid(
    wifi: int,
    lte: int,
    *,
    channels: Sequence[int] = (1, 6, 11),
    channels_5ghz: Sequence[int] = (36, 40, 44, 48),
    radios_per_node: int = 2,
    spacing: float = 50.0,
) -> list[NodePlan]:
    """Wi-Fi nodes on a square grid, cells between them.

    Neighbouring nodes take consecutive entries of ``channels`` (and of
    ``channels_5ghz`` for their second radio), so with the default 50 m
    spacing some co-channel radios are within range of each other.
    """
    if wifi < 0 or lte < 0:
        raise TopologyError("node counts must not be negative")
    if radios_per_node not in (1, 2):
        raise TopologyError("radios_per_node must be 1 or 2")
    if not channels or (radios_per_node == 2 and not channels_5ghz):
        raise TopologyError("channel lists must not be empty")
    columns = max(1, math.ceil(math.sqrt(wifi)))
    plans = []
    for i in range(wifi):
        row, col = divmod(i, columns)
        radios = [{"name": "phy0", "band": "2.4ghz", "channel": channels[i % len(channels)]}]
        if radios_per_node == 2:
            radios.append(
                {"name": "phy1", "band": "5ghz", "channel": channels_5ghz[i % len(channels_5ghz)]}
            )
        plans.append(
            NodePlan(
                name=f"wifi-{i + 1}",
                kind="wifi",
                position=(col * spacing, row * spacing),
                options={"radios": radios},
            )
        )
    for j in range(lte):
        row, col = divmod(j, columns)
        plans.append(
            NodePlan(
                name=f"lte-{j + 1}",
                kind="lte",
                position=((col + 0.5) * spacing, (row + 0.5) * spacing),
            )
        )
    _check_options(plans)
    return plans


def _node(index: int, raw: Any) -> NodePlan:
    where = f"nodes[{index}]"
    if not isinstance(raw, dict):
        raise TopologyError(f"{where} must be an object")
    unknown = sorted(set(raw) - {"name", "kind", "position", "port", "radios", "cell", "options"})
    if unknown:
        raise TopologyError(f"{where}: unknown field(s) {unknown}")
    name = raw.get("name")
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise TopologyError(f"{where}.name must match {NAME_RE.pattern}")
    kind = raw.get("kind")
    if kind not in ("wifi", "lte"):
        raise TopologyError(f"{where} ({name}): kind must be 'wifi' or 'lte'")
    position = raw.get("position", [0.0, 0.0])
    if (
        not isinstance(position, list)
        or len(position) != 2
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in position)
    ):
        raise TopologyError(f"{where} ({name}): position must be [x, y] in metres")
    port = raw.get("port", 0)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise TopologyError(f"{where} ({name}): port must be 0..65535")
    options = dict(raw.get("options", {}))
    if kind == "wifi" and "radios" in raw:
        options["radios"] = raw["radios"]
    if kind == "lte" and "cell" in raw:
        options["cell"] = raw["cell"]
    if kind == "wifi" and "cell" in raw or kind == "lte" and "radios" in raw:
        raise TopologyError(f"{where} ({name}): a {kind} node has no {'cell' if kind == 'wifi' else 'radios'}")
    plan = NodePlan(name, kind, (float(position[0]), float(position[1])), port, options)
    _check_options([plan], where)
    return plan


def _check_options(plans: list[NodePlan], where: str | None = None) -> None:
    for plan in plans:
        try:
            parse_options(plan.name, plan.backend_options())
        except OptionsError as exc:
            raise TopologyError(f"{where or plan.name} ({plan.name}): {exc}") from exc


def _check_unique(plans: list[NodePlan]) -> None:
    seen: set[str] = set()
    for p in plans:
        if p.name in seen:
            raise TopologyError(f"node name {p.name} is used twice")
        seen.add(p.name)
    ports = [p.port for p in plans if p.port]
    if len(ports) != len(set(ports)):
        raise TopologyError("two nodes ask for the same port")
