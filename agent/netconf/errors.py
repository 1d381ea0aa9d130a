"""``<rpc-error>``: the one way every layer of the agent reports a failure to a
NETCONF client (RFC 6241 section 4.3 and appendix A).

Error paths are kept internally in libyang's JSON form
(``/ransdn-wifi:wifi-node/radio[name='phy0']``) and turned into an XML XPath
with every step prefixed only when the reply is written, because only then
the namespace of each module is at hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Literal

from .xml import BASE_NS, escape, quoteattr

ErrorType = Literal["transport", "rpc", "protocol", "application"]

#: The error-tags of RFC 6241 appendix A.
ERROR_TAGS = frozenset(
    {
        "in-use",
        "invalid-value",
        "too-big",
        "missing-attribute",
        "bad-attribute",
        "unknown-attribute",
        "missing-element",
        "bad-element",
        "unknown-element",
        "unknown-namespace",
        "access-denied",
        "lock-denied",
        "resource-denied",
        "rollback-failed",
        "data-exists",
        "data-missing",
        "operation-not-supported",
        "operation-failed",
        "partial-operation",
        "malformed-message",
    }
)


@dataclass
class RpcError(Exception):
    """One ``<rpc-error>``; raise it, or collect several in a :class:`RpcErrors`."""

    tag: str
    message: str | None = None
    type: ErrorType = "application"
    app_tag: str | None = None
    #: Data path in libyang's JSON form, or None.
    path: str | None = None
    #: ``<error-info>`` children as (local name, text, namespace or None for
    #: the base namespace).
    info: list[tuple[str, str, str | None]] = field(default_factory=list)
    severity: Literal["error", "warning"] = "error"

    def __post_init__(self) -> None:
        if self.tag not in ERROR_TAGS:
            raise ValueError(f"unknown error-tag {self.tag!r}")
        super().__init__(self.message or self.tag)

    def __str__(self) -> str:
        where = f" at {self.path}" if self.path else ""
        return f"{self.tag}{where}: {self.message or ''}"

    def with_info(self, name: str, text: str, ns: str | None = None) -> "RpcError":
        self.info.append((name, text, ns))
        return self

    def to_xml(self, namespace_of: Callable[[str], str | None]) -> str:
        """Serialise; ``namespace_of`` maps a module name to its namespace."""
        parts = [
            "<rpc-error>",
            f"<error-type>{self.type}</error-type>",
            f"<error-tag>{self.tag}</error-tag>",
            f"<error-severity>{self.severity}</error-severity>",
        ]
        if self.app_tag:
            parts.append(f"<error-app-tag>{escape(self.app_tag)}</error-app-tag>")
        if self.path:
            xpath, prefixes = json_path_to_xpath(self.path)
            decls = "".join(
                f" xmlns:{p}={quoteattr(ns)}"
                for p in sorted(prefixes)
                if (ns := namespace_of(p)) is not None
            )
            parts.append(f"<error-path{decls}>{escape(xpath)}</error-path>")
        if self.message:
            parts.append(f'<error-message xml:lang="en">{escape(self.message)}</error-message>')
        if self.info:
            parts.append("<error-info>")
            for name, text, ns in self.info:
                xmlns = f" xmlns={quoteattr(ns)}" if ns and ns != BASE_NS else ""
                parts.append(f"<{name}{xmlns}>{escape(text)}</{name}>")
            parts.append("</error-info>")
        parts.append("</rpc-error>")
        return "".join(parts)


class RpcErrors(Exception):
    """Several errors answering one request (error-option continue-on-error)."""

    def __init__(self, errors: list[RpcError]) -> None:
        super().__init__("; ".join(map(str, errors)))
        self.errors = errors


def json_path_to_xpath(path: str) -> tuple[str, set[str]]:
    """Rewrite a libyang JSON data path so every name carries its module prefix.

    libyang writes ``/ransdn-wifi:wifi-node/radio[name='phy0']``, where a name
    without a prefix inherits its parent's module.  An XPath in an XML
    document needs the prefix on every step, bound to the namespace: module
    names are valid NCNames, so they serve as prefixes.
    """
    out: list[str] = []
    prefixes: set[str] = set()
    module = ""
    i, n = 0, len(path)

    def qualify(name: str) -> str:
        nonlocal module
        if name in (".", "*") or not name or name[0].isdigit():
            return name
        if ":" in name:
            module = name.split(":", 1)[0]
            prefixes.add(module)
            return name
        if module:
            prefixes.add(module)
            return f"{module}:{name}"
        return name

    while i < n:
        c = path[i]
        if c == "/":
            out.append("/")
            i += 1
            j = i
            while j < n and path[j] not in "/[":
                j += 1
            out.append(qualify(path[i:j]))
            i = j
        elif c == "[":
            j = i + 1
            while j < n and path[j] not in "=]":
                j += 1
            key = path[i + 1 : j]
            step_module = module
            out.append("[" + qualify(key))
            module = step_module
            i = j
            if i < n and path[i] == "=":
                out.append("=")
                i += 1
                quote = path[i] if i < n else ""
                if quote in "'\"":
                    end = path.index(quote, i + 1)
                    out.append(path[i : end + 1])
                    i = end + 1
            if i < n and path[i] == "]":
                out.append("]")
                i += 1
        else:  # a relative path
            j = i
            while j < n and path[j] not in "/[":
                j += 1
            out.append(qualify(path[i:j]))
            i = j
    return "".join(out), prefixes
