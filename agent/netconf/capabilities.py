"""The capabilities the agent advertises in its ``<hello>`` (RFC 6241
section 8, RFC 5277, RFC 6243, RFC 7950 section 5.6.4)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    from agent.datastore.schema import Schema

BASE_10 = "urn:ietf:params:netconf:base:1.0"
BASE_11 = "urn:ietf:params:netconf:base:1.1"
_CAP = "urn:ietf:params:netconf:capability:"

#: Protocol capabilities, each fully implemented.
PROTOCOL = (
    BASE_10,
    BASE_11,
    _CAP + "writable-running:1.0",
    _CAP + "candidate:1.0",
    _CAP + "confirmed-commit:1.0",
    _CAP + "confirmed-commit:1.1",
    _CAP + "rollback-on-error:1.0",
    _CAP + "validate:1.0",
    _CAP + "validate:1.1",
    _CAP + "xpath:1.0",
    _CAP + "notification:1.0",
    _CAP + "interleave:1.0",
    _CAP + "with-defaults:1.0?basic-mode=explicit&also-supported=report-all,report-all-tagged,trim",
)


def server_capabilities(schema: "Schema") -> list[str]:
    caps = list(PROTOCOL)
    yanglib = schema.module("ietf-yang-library")
    if yanglib is not None:
        caps.append(
            f"{_CAP}yang-library:1.0?revision={yanglib.revision}"
            f"&module-set-id={schema.yang_library_content_id()}"
        )
    for m in schema.modules:
        if not m.implemented:
            continue
        uri = f"{m.namespace}?module={quote(m.name)}"
        if m.revision:
            uri += f"&revision={m.revision}"
        if m.features:
            uri += "&features=" + ",".join(m.features)
        caps.append(uri)
    return caps


def base_versions(client_caps: list[str]) -> set[str]:
    """Which base protocol versions a peer's hello offers."""
    out = set()
    for cap in client_caps:
        if cap == BASE_10:
            out.add("1.0")
        elif cap == BASE_11:
            out.add("1.1")
    return out
