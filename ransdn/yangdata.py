"""The project's YANG modules as the controller uses them: parse XML data
from nodes into RFC 7951 JSON, print JSON as XML, and validate rendered
configuration against the models' own constraints (ranges, patterns,
``must``).  One libyang context per instance; not thread-safe, so it is used
on the event loop only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import libyang
from lxml import etree

JsonTree = dict[str, Any]

YANG_DIR = Path(__file__).resolve().parent.parent / "yang"

NAMESPACES = {
    "ransdn-types": "urn:ransdn:params:xml:ns:yang:ransdn-types",
    "ransdn-wifi": "urn:ransdn:params:xml:ns:yang:ransdn-wifi",
    "ransdn-lte": "urn:ransdn:params:xml:ns:yang:ransdn-lte",
    "ransdn-sim": "urn:ransdn:params:xml:ns:yang:ransdn-sim",
}
NC_NS = "urn:ietf:params:xml:ns:netconf:base:1.0"
REVISION = "2026-11-21"

#: Modules (and revisions) a node of each kind must implement.
REQUIRED_MODULES: dict[str, dict[str, str]] = {
    "wifi": {"ransdn-types": REVISION, "ransdn-wifi": REVISION},
    "lte": {"ransdn-types": REVISION, "ransdn-lte": REVISION},
}


class YangDataError(ValueError):
    """Data does not conform to the YANG modules."""


class YangModels:
    def __init__(self, yang_dir: Path = YANG_DIR) -> None:
        self._ctx = libyang.Context(str(yang_dir))
        for name in ("ransdn-types", "ransdn-wifi", "ransdn-lte"):
            self._ctx.load_module(name)

    def xml_to_json(self, xml: str | bytes) -> JsonTree:
        """Parse the children of a ``<data>`` reply into RFC 7951 JSON.

        Elements of modules the controller does not know are skipped; no
        validation (a node omits its PSK, which a strict parse rejects).
        """
        if not xml or not str(xml if isinstance(xml, str) else xml.decode()).strip():
            return {}
        try:
            tree = self._ctx.parse_data_mem(xml, "xml", parse_only=True)
        except libyang.LibyangError as e:
            raise YangDataError(str(e)) from e
        if tree is None:
            return {}
        try:
            return json.loads(tree.print_mem("json", with_siblings=True) or "{}")
        finally:
            tree.free()

    def validate_config(self, tree: JsonTree) -> None:
        """Raise :class:`YangDataError` unless ``tree`` is valid configuration."""
        try:
            data = self._ctx.parse_data_mem(json.dumps(tree), "json", no_state=True, strict=True)
        except libyang.LibyangError as e:
            raise YangDataError(str(e).removeprefix("failed to parse data tree: ")) from e
        if data is not None:
            data.free()


def json_to_xml(tree: JsonTree, parent: etree._Element | None = None) -> list[etree._Element]:
    """Turn an RFC 7951 tree of the project's modules into XML elements.

    Member order is kept, so callers put list keys first (as RFC 7950
    requires in XML).  Values print as their JSON text (decimal64 and
    64-bit integers are already strings; booleans become ``true``/``false``).
    """
    out = []
    for qname, value in tree.items():
        module, _, name = qname.partition(":")
        ns = NAMESPACES[module]
        out.extend(_members(parent, ns, name, value))
    return out


def _members(parent: etree._Element | None, ns: str, name: str, value: Any) -> list[etree._Element]:
    values = value if isinstance(value, list) else [value]
    made = []
    for v in values:
        el = etree.Element(f"{{{ns}}}{name}", nsmap={None: ns}) if parent is None \
            else etree.SubElement(parent, f"{{{ns}}}{name}")
        if isinstance(v, dict):
            for k, child in v.items():
                _members(el, ns, k, child)
        elif isinstance(v, bool):
            el.text = "true" if v else "false"
        elif v is not None:
            el.text = str(v)
        made.append(el)
    return made
