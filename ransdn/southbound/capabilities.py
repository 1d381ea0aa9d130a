"""Which YANG modules and NETCONF features a node offers.

YANG 1.0 modules are announced in ``<hello>`` as capability URIs with
``module=`` and ``revision=`` parameters.  YANG 1.1 modules (ours) are not
(RFC 7950, 5.6.4): they are listed in ietf-yang-library (RFC 7895), and many
servers also list them in ietf-netconf-monitoring's schema list (RFC 6022).
The controller reads all three.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from lxml import etree

BASE = "urn:ietf:params:netconf:"
YANG_LIBRARY_CAP = "urn:ietf:params:netconf:capability:yang-library:1.0"
YANG_LIBRARY_NS = "urn:ietf:params:xml:ns:yang:ietf-yang-library"
MONITORING_NS = "urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring"

YANG_LIBRARY_FILTER = f'<modules-state xmlns="{YANG_LIBRARY_NS}"><module/></modules-state>'
MONITORING_FILTER = f'<netconf-state xmlns="{MONITORING_NS}"><schemas/></netconf-state>'


@dataclass
class NodeCapabilities:
    uris: list[str] = field(default_factory=list)
    #: module name -> set of revisions the node implements
    modules: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def from_hello(cls, uris: list[str]) -> NodeCapabilities:
        caps = cls(sorted(uris))
        for uri in uris:
            parts = urlsplit(uri)
            q = parse_qs(parts.query)
            if "module" in q:
                caps.add(q["module"][0], q.get("revision", [""])[0])
        return caps

    def add(self, module: str, revision: str) -> None:
        self.modules.setdefault(module, set()).add(revision)

    def has(self, feature: str) -> bool:
        """``feature`` like ``:candidate`` or ``:confirmed-commit:1.1``."""
        name = feature.lstrip(":")
        for uri in self.uris:
            if uri.startswith(BASE + "capability:" + name):
                rest = uri[len(BASE + "capability:" + name):]
                if rest == "" or rest[0] in "?:":
                    return True
        return False

    def wants_yang_library(self) -> bool:
        return any(u.startswith(YANG_LIBRARY_CAP) for u in self.uris)

    def add_from_yang_library(self, data_xml: str) -> None:
        for mod in _children(data_xml, YANG_LIBRARY_NS, "module"):
            name = mod.findtext(f"{{{YANG_LIBRARY_NS}}}name")
            if name:
                self.add(name, mod.findtext(f"{{{YANG_LIBRARY_NS}}}revision") or "")

    def add_from_monitoring(self, data_xml: str) -> None:
        for schema in _children(data_xml, MONITORING_NS, "schema"):
            name = schema.findtext(f"{{{MONITORING_NS}}}identifier")
            if name:
                self.add(name, schema.findtext(f"{{{MONITORING_NS}}}version") or "")

    def missing(self, required: dict[str, str], features: tuple[str, ...]) -> list[str]:
        """What the node lacks, as operator-readable phrases."""
        out = []
        for module, revision in sorted(required.items()):
            have = self.modules.get(module)
            if not have:
                out.append(f"module {module}@{revision}")
            elif revision not in have:
                out.append(f"module {module}@{revision} (node has {', '.join(sorted(have))})")
        out += [f"capability {f}" for f in features if not self.has(f)]
        return out


def _children(data_xml: str, ns: str, local: str) -> list[etree._Element]:
    if not data_xml.strip():
        return []
    root = etree.fromstring(f"<r>{data_xml}</r>".encode())
    return list(root.iter(f"{{{ns}}}{local}"))
