"""XML plumbing shared by the NETCONF layer: namespaces, a hardened parser,
and the few escaping helpers replies are built with.

Replies are assembled as text rather than as lxml trees: the data part comes
from libyang's printer already serialised, and wrapping it in an envelope by
string concatenation avoids re-parsing it.
"""

from __future__ import annotations

from xml.sax.saxutils import escape as _escape
from xml.sax.saxutils import quoteattr

from lxml import etree

BASE_NS = "urn:ietf:params:xml:ns:netconf:base:1.0"
NOTIF_NS = "urn:ietf:params:xml:ns:netconf:notification:1.0"
NETMOD_NOTIF_NS = "urn:ietf:params:xml:ns:netmod:notification"
MONITORING_NS = "urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring"
WITH_DEFAULTS_NS = "urn:ietf:params:xml:ns:yang:ietf-netconf-with-defaults"
YANG_NS = "urn:ietf:params:xml:ns:yang:1"

__all__ = [
    "BASE_NS",
    "MONITORING_NS",
    "NETMOD_NOTIF_NS",
    "NOTIF_NS",
    "WITH_DEFAULTS_NS",
    "YANG_NS",
    "XmlError",
    "escape",
    "local",
    "parse_message",
    "quoteattr",
    "text_of",
]


class XmlError(ValueError):
    """A message is not well-formed XML, or uses a forbidden construct."""


def _parser() -> etree.XMLParser:
    # No DTDs, no entity expansion, no network: a NETCONF message never
    # needs them and each is an attack surface (billion laughs, XXE).
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )


_PARSER = _parser()


def parse_message(data: bytes) -> etree._Element:
    """Parse one framed NETCONF message into an element tree."""
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise XmlError(f"not well-formed XML: {exc}") from None
    except ValueError as exc:  # e.g. an unsupported encoding declaration
        raise XmlError(str(exc)) from None
    if root.getroottree().docinfo.doctype:
        raise XmlError("document type declarations are not allowed")
    return root


def local(tag: object) -> str:
    """The local name of a Clark-notation tag (``{ns}name`` -> ``name``)."""
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


def text_of(elem: etree._Element | None) -> str:
    """The element's text with surrounding whitespace removed."""
    if elem is None or elem.text is None:
        return ""
    return elem.text.strip()


def escape(text: str) -> str:
    """Escape character data."""
    return _escape(text)
