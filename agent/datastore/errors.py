"""libyang's validation errors as NETCONF ``<rpc-error>`` elements.

The mapping follows RFC 7950 section 15 where it defines one (unique,
max-elements, min-elements, must, require-instance, mandatory choice) and
RFC 6241 appendix A otherwise:

=================================  ==================  =====================
libyang says                       error-tag           error-app-tag
=================================  ==================  =====================
value fails type/range/pattern     invalid-value
node not in the schema             unknown-element     (bad-element)
namespace of no loaded module      unknown-namespace   (bad-namespace)
mandatory node missing             missing-element     (bad-element)
list entry without its key         missing-element     (bad-element)
must / unique / max / min          operation-failed    must-violation, ...
when condition false               unknown-element     (bad-element)
leafref target missing             data-missing        instance-required
state data in a configuration      invalid-value
anything else                      operation-failed
=================================  ==================  =====================

The message is libyang's, which for a ``must`` is the model's own
``error-message``.  Values of secret leaves are blanked out of messages.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from _libyang import lib

from agent.netconf.errors import RpcError

from .tree import DataTree, LyError, LyFailure, node_path

if TYPE_CHECKING:
    from lxml import etree

    from .schema import Schema

_NAME_PATTERNS = (
    re.compile(r'^Node "([^"]+)" not found'),
    re.compile(r'^Mandatory node "([^"]+)"'),
    re.compile(r'missing its key "([^"]+)"'),
    re.compile(r'^Too (?:many|few) "([^"]+)"'),
    re.compile(r'^Duplicate instance of "([^"]+)"'),
)
_VALUE_ERRORS = ("Unsatisfied", "Invalid", "Value ", "Unexpected data state node")


def _element_name(err: LyError) -> str | None:
    for pat in _NAME_PATTERNS:
        m = pat.search(err.message)
        if m:
            return m.group(1)
    path = err.data_path or err.schema_path
    if path:
        last = path.rstrip("/").rsplit("/", 1)[-1]
        return last.split("[", 1)[0].split(":")[-1]
    return None


def _instance_of_schema_path(schema_path: str, child: str | None, tree: DataTree | None) -> str | None:
    """Find the data instance an error given only as a schema path is about.

    libyang reports a missing mandatory node or too few list entries with the
    schema path of the missing node; the client needs the parent instance.
    """
    if tree is None or tree.empty:
        return None
    parent = schema_path.rsplit("/", 1)[0]
    if not parent:
        return None
    try:
        candidates = tree.xpath(f"{parent}[not({child})]") if child else []
        if not candidates:
            candidates = tree.xpath(parent)
    except LyFailure:
        return None
    return node_path(candidates[0]) if candidates else None


def _redact(message: str) -> str:
    return re.sub(r'"[^"]*"', '"(secret)"', message, count=1)


def from_libyang(
    err: LyError,
    schema: "Schema",
    *,
    tree: DataTree | None = None,
    source: "etree._Element | None" = None,
) -> RpcError:
    """One libyang error as an :class:`RpcError`.

    ``tree`` is the data tree that failed validation (to resolve schema
    paths to instances); ``source`` the XML the data was parsed from (to name
    the element an unknown namespace was found on).
    """
    msg = err.message
    name = _element_name(err)
    path = err.data_path
    if path is None and err.schema_path:
        path = _instance_of_schema_path(err.schema_path, name, tree)
    if path and schema.is_secret(path):
        msg = _redact(msg)

    if err.vecode == lib.LYVE_REFERENCE and msg.startswith("No module with namespace"):
        m = re.search(r'namespace "([^"]*)"', msg)
        ns = m.group(1) if m else ""
        e = RpcError("unknown-namespace", msg, path=path)
        bad = _first_element_in_namespace(source, ns) if source is not None else None
        if bad:
            e.with_info("bad-element", bad)
        return e.with_info("bad-namespace", ns)
    if msg.startswith("Missing XML namespace"):
        bad = _first_element_without_namespace(source) if source is not None else None
        e = RpcError("unknown-element", msg, path=path)
        return e.with_info("bad-element", bad) if bad else e
    if err.vecode == lib.LYVE_REFERENCE and msg.startswith("Node "):
        return RpcError("unknown-element", msg, path=path).with_info("bad-element", name or "")
    if msg.startswith("Mandatory node") or "missing its key" in msg:
        return RpcError("missing-element", msg, path=path).with_info("bad-element", name or "")
    if msg.startswith("When condition"):
        return RpcError("unknown-element", msg, path=path).with_info("bad-element", name or "")
    if err.app_tag == "instance-required" or msg.startswith("Invalid leafref"):
        return RpcError("data-missing", msg, path=path, app_tag="instance-required")
    if err.app_tag or msg.startswith(("Too many", "Too few", "Unique data", "Must condition")):
        app_tag = err.app_tag
        if app_tag is None:
            if msg.startswith("Too many"):
                app_tag = "too-many-elements"
            elif msg.startswith("Too few"):
                app_tag = "too-few-elements"
            elif msg.startswith("Unique data"):
                app_tag = "data-not-unique"
            else:
                app_tag = "must-violation"
        return RpcError("operation-failed", msg, path=path, app_tag=app_tag)
    if msg.startswith(_VALUE_ERRORS) or err.vecode in (lib.LYVE_SYNTAX, lib.LYVE_SYNTAX_XML):
        e = RpcError("invalid-value", msg, path=path)
        return e.with_info("bad-element", name) if name else e
    return RpcError("operation-failed", msg, path=path)


def from_failure(
    failure: LyFailure,
    schema: "Schema",
    *,
    tree: DataTree | None = None,
    source: "etree._Element | None" = None,
) -> RpcError:
    """The first error of a failed libyang call (libyang stops at the first)."""
    if not failure.errors:
        return RpcError("operation-failed", "libyang failed without an error message")
    return from_libyang(failure.errors[0], schema, tree=tree, source=source)


def _first_element_without_namespace(source: "etree._Element") -> str | None:
    for el in source.iter():
        if isinstance(el.tag, str) and not el.tag.startswith("{"):
            return el.tag
    return None


def _first_element_in_namespace(source: "etree._Element", ns: str) -> str | None:
    for el in source.iter(f"{{{ns}}}*"):
        return el.tag.rpartition("}")[2]
    return None
