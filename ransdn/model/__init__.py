"""Value objects of the controller: slices, nodes and events."""

from ransdn.model.node import Node, NodeKind, RadioInfo
from ransdn.model.slice import (
    ImsiAcl,
    LtePart,
    Mme,
    Plmn,
    Slice,
    SliceState,
    WifiNodeRef,
    WifiPart,
    WifiSecurity,
)

__all__ = [
    "ImsiAcl",
    "LtePart",
    "Mme",
    "Node",
    "NodeKind",
    "Plmn",
    "RadioInfo",
    "Slice",
    "SliceState",
    "WifiNodeRef",
    "WifiPart",
    "WifiSecurity",
]
