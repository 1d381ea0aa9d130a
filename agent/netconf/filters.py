"""``<filter>`` for get, get-config and create-subscription: subtree
(RFC 6241 section 6) and XPath (section 8.9).

Both kinds are compiled to a list of libyang XPath expressions that select
the nodes to return; :func:`apply` copies the selected nodes with their
ancestors (and so the list keys that identify them) into a new tree.  A
subtree filter becomes one expression per selection node: content match
nodes become predicates on their parent, and are selected too, since the
RFC returns them.

A compiled filter also tells the backend which schema nodes it can select
(:class:`~agent.backends.base.StateSelection`), so that a backend can skip
reading what would be filtered away.  That is a hint: the filter is applied
to whatever the backend returns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libyang
from _libyang import ffi, lib
from lxml import etree

from agent.backends.base import EVERYTHING, StateSelection
from agent.datastore.tree import DataTree, LyFailure, Node, take_errors

from .errors import RpcError
from .lru import Lru
from .xml import BASE_NS

if TYPE_CHECKING:
    from agent.datastore.schema import Schema

_TYPE_ATTR = "type"
_SELECT_ATTR = "select"


@dataclass(frozen=True)
class Filter:
    kind: str
    #: XPath expressions in libyang's JSON-prefix form.
    expressions: tuple[str, ...]
    #: Top-level modules the filter can select from (None: any).
    modules: frozenset[str] | None
    #: The schema nodes the expressions can select or look at.
    selection: StateSelection = EVERYTHING

    def touches(self, module: str) -> bool:
        return self.modules is None or module in self.modules


def parse(elem: etree._Element | None, schema: "Schema") -> Filter | None:
    """Compile a ``<filter>`` element; None means "everything"."""
    if elem is None:
        return None
    kind = elem.get(_TYPE_ATTR) or elem.get(f"{{{BASE_NS}}}{_TYPE_ATTR}") or "subtree"
    if kind == "subtree":
        exprs: list[str] = []
        modules: set[str] = set()
        paths: set[str] = set()
        for child in elem:
            if isinstance(child.tag, str):
                for expr, path, module in _subtree(child, schema):
                    exprs.append(expr)
                    paths.add(path)
                    modules.add(module)
        return Filter("subtree", tuple(exprs), frozenset(modules), StateSelection.of(paths))
    if kind == "xpath":
        select = elem.get(_SELECT_ATTR)
        if select is None:
            raise RpcError(
                "missing-attribute", "An XPath filter needs a select attribute.", type="protocol"
            ).with_info("bad-attribute", "select").with_info("bad-element", "filter")
        expr = _rewrite_prefixes(select, elem.nsmap, schema)
        paths = xpath_paths(expr)
        if paths is None or any(schema.snode(p) is None for p in paths):
            # Too complex, or naming what no module has: libyang will tell.
            return Filter("xpath", (expr,), None)
        top = frozenset(p.split("/")[1].partition(":")[0] for p in paths)
        return Filter("xpath", (expr,), top, StateSelection.of(paths))
    raise RpcError(
        "bad-attribute", f'Filter type "{kind}" is not supported.', type="protocol"
    ).with_info("bad-attribute", "type").with_info("bad-element", "filter")


class FilterCache:
    """Compiled filters by their text: a client polling with the same filter
    compiles it once.  Errors are not cached (they are raised again)."""

    def __init__(self, schema: "Schema", size: int = 128) -> None:
        self.schema = schema
        self._compiled: Lru[tuple[bytes, frozenset[tuple[str | None, str]]], Filter | None] = Lru(size)

    def parse(self, elem: etree._Element | None) -> Filter | None:
        if elem is None:
            return None
        # The namespaces in scope belong to the key: an XPath select's
        # prefixes are bound by them, not by the filter's own text.
        key = (etree.tostring(elem), frozenset(elem.nsmap.items()))
        if key in self._compiled:
            return self._compiled.get(key)
        flt = parse(elem, self.schema)
        self._compiled.put(key, flt)
        return flt


def _literal(value: str) -> str:
    if "'" not in value:
        return f"'{value}'"
    if '"' not in value:
        return f'"{value}"'
    parts = value.split("'")
    return "concat(" + ", \"'\", ".join(f"'{p}'" for p in parts) + ")"


_NUMERIC = {
    libyang.Type.INT8, libyang.Type.INT16, libyang.Type.INT32, libyang.Type.INT64,
    libyang.Type.UINT8, libyang.Type.UINT16, libyang.Type.UINT32, libyang.Type.UINT64,
    libyang.Type.DEC64,
}
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


def _match_literal(el: etree._Element, snode: object) -> str:
    """A content-match value as an XPath literal.

    Numbers compare as numbers, so that "30" matches a decimal64 stored as
    "30.0"; everything else compares as its string.
    """
    text = (el.text or "").strip()
    if isinstance(snode, libyang.SLeaf) and snode.type().base() in _NUMERIC and _NUMBER.match(text):
        return text.lstrip("+")
    return _literal(text)


def _subtree(top: etree._Element, schema: "Schema") -> list[tuple[str, str, str]]:
    """(expression, schema path it selects, top-level module) per selection."""
    q = etree.QName(top)
    if q.namespace:
        mod = schema.module_by_namespace(q.namespace)
        candidates = [mod.name] if mod and mod.implemented else []
    else:  # no namespace: RFC 6241 6.2.2 says match in every namespace
        candidates = [m.name for m in schema.modules if m.implemented]
    out = []
    for module in candidates:
        for expr, path in _subtree_node(top, schema, "", "", module):
            out.append((expr, path, module))
    return out


def _subtree_node(
    f: etree._Element, schema: "Schema", xp: str, spath: str, module: str
) -> list[tuple[str, str]]:
    """(expression, schema path) of each node ``f`` selects.

    Content match nodes only ever narrow a selection whose schema path is
    their parent's (when they are alone) or their own (which is selected
    too), so the paths cover everything the predicates look at.
    """
    q = etree.QName(f)
    if q.namespace:
        mod = schema.module_by_namespace(q.namespace)
        if mod is None:
            return []
        module = mod.name
    step = f"{module}:{q.localname}"
    spath = f"{spath}/{step}"
    snode = schema.snode(spath)
    if snode is None:
        return []
    here = f"{xp}/{step}"
    kids = [c for c in f if isinstance(c.tag, str)]
    text = (f.text or "").strip()
    if not kids:
        if text and isinstance(snode, (libyang.SLeaf, libyang.SLeafList)):
            return [(f"{here}[.={_literal(text)}]", spath)]
        return [(here, spath)]
    content, others = [], []
    for c in kids:
        csn = schema.snode(f"{spath}/{_step(c, schema, module)}")
        if (
            len(c) == 0
            and (c.text or "").strip()
            and isinstance(csn, libyang.SLeaf)
            and not isinstance(csn, libyang.SLeafList)
        ):
            content.append(c)
        else:
            others.append(c)
    preds = "".join(
        f"[{_step(c, schema, module)}={_match_literal(c, schema.snode(f'{spath}/{_step(c, schema, module)}'))}]"
        for c in content
    )
    base = here + preds
    if not others:
        return [(base, spath)]
    out = [(f"{base}/{_step(c, schema, module)}", f"{spath}/{_step(c, schema, module)}") for c in content]
    for c in others:
        out.extend(_subtree_node(c, schema, base, spath, module))
    return out


def _step(el: etree._Element, schema: "Schema", module: str) -> str:
    q = etree.QName(el)
    if q.namespace:
        mod = schema.module_by_namespace(q.namespace)
        if mod is not None:
            module = mod.name
    return f"{module}:{q.localname}"


_NAME_PREFIX = re.compile(r"(?<![\w.\-$@])([A-Za-z_][\w.\-]*):(?![:])")


def _rewrite_prefixes(expr: str, nsmap: dict[str | None, str], schema: "Schema") -> str:
    """Turn XML namespace prefixes into the module names libyang expects."""
    out, i = [], 0
    for m in re.finditer(r"'[^']*'|\"[^\"]*\"", expr):
        out.append(_replace_prefixes(expr[i : m.start()], nsmap, schema))
        out.append(m.group(0))
        i = m.end()
    out.append(_replace_prefixes(expr[i:], nsmap, schema))
    return "".join(out)


def _replace_prefixes(part: str, nsmap: dict[str | None, str], schema: "Schema") -> str:
    def sub(m: re.Match[str]) -> str:
        ns = nsmap.get(m.group(1))
        mod = schema.module_by_namespace(ns) if ns else None
        return f"{mod.name}:" if mod else m.group(0)

    return _NAME_PREFIX.sub(sub, part)


_XPATH_TOKEN = re.compile(
    r"""\s*(?:
        (?P<literal>'[^']*'|"[^"]*")
      | (?P<number>\d+(?:\.\d*)?|\.\d+)
      | (?P<name>[A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?)
      | (?P<op>!=|<=|>=|=|<|>|\[|\]|/|\||\.)
    )""",
    re.VERBOSE,
)


def _xpath_tokens(expr: str) -> list[tuple[str, str]] | None:
    out, i = [], 0
    expr = expr.rstrip()
    while i < len(expr):
        m = _XPATH_TOKEN.match(expr, i)
        if m is None or m.end() == i:
            return None
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        i = m.end()
    return out


def xpath_paths(expr: str) -> list[str] | None:
    """The schema paths an XPath filter can select or look at, or None
    when the expression is more than this analysis understands.

    Understood: unions of absolute location paths of child steps, each
    step with predicates that test a relative child path (or ``.``) for
    existence or compare it to a literal or number, or that are a position.  Anything else (``//``,
    wildcards, axes, functions, ``..``) yields None: the backend is then
    asked for everything.
    """
    tokens = _xpath_tokens(expr)
    if not tokens:
        return None
    paths: list[str] = []
    pos = 0

    def peek(kind: str, value: str | None = None) -> bool:
        return pos < len(tokens) and tokens[pos][0] == kind and (value is None or tokens[pos][1] == value)

    def take(kind: str, value: str | None = None) -> str:
        nonlocal pos
        if not peek(kind, value):
            raise ValueError
        pos += 1
        return tokens[pos - 1][1]

    def relative() -> list[str]:
        if peek("op", "."):
            take("op", ".")
            return []
        steps = [take("name")]
        while peek("op", "/"):
            take("op", "/")
            steps.append(take("name"))
        return steps

    def value() -> None:
        take("literal" if peek("literal") else "number")

    def comparison() -> None:
        if take("op") not in ("=", "!=", "<", "<=", ">", ">="):
            raise ValueError

    def predicate(at: str) -> None:
        take("op", "[")
        if peek("literal") or peek("number"):
            value()  # a position, or a constant compared with a path
            steps: list[str] = []
            if not peek("op", "]"):
                comparison()
                steps = relative()
        else:
            steps = relative()  # an existence test, or a path compared with a constant
            if not peek("op", "]"):
                comparison()
                value()
        if steps:
            paths.append("/".join([at, *steps]))
        take("op", "]")

    try:
        while True:
            at = ""
            take("op", "/")
            first = take("name")
            if ":" not in first:
                raise ValueError
            at = "/" + first
            while peek("op", "["):
                predicate(at)
            while peek("op", "/"):
                take("op", "/")
                at = f"{at}/{take('name')}"
                while peek("op", "["):
                    predicate(at)
            paths.append(at)
            if pos == len(tokens):
                return paths
            take("op", "|")
    except (ValueError, IndexError):
        return None


def apply(tree: DataTree, flt: Filter) -> DataTree:
    """The nodes ``flt`` selects from ``tree``, with their ancestors."""
    result = DataTree(tree.schema)
    if tree.empty:
        return result
    ctx = tree.schema.ctx.cdata
    flags = lib.LYD_DUP_RECURSIVE | lib.LYD_DUP_WITH_PARENTS | lib.LYD_DUP_WITH_FLAGS
    out = ffi.new("struct lyd_node **")
    for expr in flt.expressions:
        try:
            nodes = tree.xpath(expr)
        except LyFailure as exc:
            if flt.kind == "subtree":
                continue  # a subtree filter naming nothing selects nothing
            msg = exc.errors[0].message if exc.errors else "invalid XPath expression"
            raise RpcError("invalid-value", f"Invalid XPath filter: {msg}", type="protocol").with_info(
                "bad-attribute", "select"
            ) from None
        for node in nodes:
            if lib.lyd_dup_single(node, ffi.NULL, flags, out) != lib.LY_SUCCESS:
                raise RpcError("operation-failed", "; ".join(e.message for e in take_errors(ctx)))
            top: Node = out[0]
            while top.parent != ffi.NULL:
                top = ffi.cast("struct lyd_node *", top.parent)
            result.merge(DataTree(tree.schema, top))
    return result


def matches(tree: DataTree, flt: Filter) -> bool:
    """Whether a notification tree passes a subscription's filter."""
    for expr in flt.expressions:
        try:
            if tree.xpath(expr):
                return True
        except LyFailure:
            continue
    return False
