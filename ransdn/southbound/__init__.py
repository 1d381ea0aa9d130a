"""NETCONF southbound: sessions to nodes.  Knows no HTTP."""

from ransdn.southbound.connection import Backoff, NodeConnection
from ransdn.southbound.keys import ClientKey, fingerprint, load_or_create_client_key
from ransdn.southbound.netconf import (
    ConnectError,
    ConnectParams,
    NetconfError,
    NetconfExecutor,
    NetconfSession,
)

__all__ = [
    "Backoff",
    "ClientKey",
    "ConnectError",
    "ConnectParams",
    "NetconfError",
    "NetconfExecutor",
    "NetconfSession",
    "NodeConnection",
    "fingerprint",
    "load_or_create_client_key",
]
