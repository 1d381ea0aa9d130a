"""The property every backend's use of a :class:`StateSelection` must have:
the state it returns for a filter's selection, filtered, is exactly its
full state filtered.  Filters are generated from the paths and values of a
full read, so that they select (and content-match) what is really there.

Used by the linux backend's tests (with canned command outputs) and the
sim backend's (with a stopped clock); see tests/kernel and tests/sim.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Iterable, Mapping

from hypothesis import strategies as st
from lxml import etree

from agent.backends.base import EVERYTHING, JsonTree, StateSelection
from agent.datastore.schema import Schema
from agent.datastore.tree import DataTree
from agent.netconf import filters
from ransdn.provisioning import PSK_STATE_FILTER
from testbed.kernel.e2e_scenario import AIRTIME_STATE_FILTER

BASE_NS = "urn:ietf:params:xml:ns:netconf:base:1.0"
#: The controller's PSK drift check, as it sends it.
PSK_FILTER = f'<filter xmlns="{BASE_NS}">{PSK_STATE_FILTER}</filter>'
#: The kernel end-to-end test's airtime read.
AIRTIME_FILTER = f'<filter xmlns="{BASE_NS}">{AIRTIME_STATE_FILTER}</filter>'

StateRead = Callable[[StateSelection], Awaitable[JsonTree]]


def _text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def leaf_values(tree: Mapping[str, Any], prefix: str = "") -> dict[str, set[str]]:
    """Each schema path of ``tree`` (an RFC 7951 tree) and, for leaves,
    the values seen there as XML text (containers and lists map to an
    empty set)."""
    out: dict[str, set[str]] = {}
    for key, value in tree.items():
        path = f"{prefix}/{key}"
        entries = value if isinstance(value, list) else [value]
        for entry in entries:
            if isinstance(entry, dict):
                out.setdefault(path, set())
                for sub, values in leaf_values(entry, path).items():
                    out.setdefault(sub, set()).update(values)
            else:
                out.setdefault(path, set()).add(_text(entry))
    return out


def subtree_filter(namespaces: Mapping[str, str], paths: Iterable[str],
                   matches: Iterable[tuple[str, str]] = ()) -> etree._Element:
    """A subtree ``<filter>`` selecting ``paths`` (schema paths with the
    module on the first step), plus content match nodes ``(path, value)``
    where their parent is a selection that has children.  A path below
    another selected path is dropped: the ancestor selects it already."""
    root = etree.Element(f"{{{BASE_NS}}}filter", type="subtree")
    chosen = sorted(set(paths), key=lambda p: p.count("/"))
    whole: list[str] = []
    nodes: dict[str, etree._Element] = {}

    def element(path: str) -> etree._Element:
        if path in nodes:
            return nodes[path]
        parent_path, _, step = path.rpartition("/")
        module, _, name = step.rpartition(":")
        if parent_path:
            parent = element(parent_path)
            ns = etree.QName(parent).namespace
        else:
            parent, ns = root, namespaces[module]
        nodes[path] = etree.SubElement(parent, f"{{{ns}}}{name}")
        return nodes[path]

    for path in chosen:
        if any(path == w or path.startswith(w + "/") for w in whole):
            continue
        element(path)
        whole.append(path)
    for path, value in matches:
        parent = path.rpartition("/")[0]
        inside = any(parent == w or parent.startswith(w + "/") for w in whole)
        if parent in nodes and not inside and path not in nodes:
            element(path).text = value
    return root


@st.composite
def subtree_filters(draw: st.DrawFn, namespaces: Mapping[str, str],
                    values: Mapping[str, set[str]]) -> etree._Element:
    paths = sorted(values)
    leaves = sorted((p, v) for p, vs in values.items() for v in vs)
    chosen = draw(st.lists(st.sampled_from(paths), min_size=1, max_size=4, unique=True))
    matches = draw(st.lists(st.sampled_from(leaves), max_size=2)) if leaves else []
    return subtree_filter(namespaces, chosen, matches)


def xpath_filter(select: str, namespaces: Mapping[str, str]) -> etree._Element:
    return etree.Element(f"{{{BASE_NS}}}filter", type="xpath", select=select,
                         nsmap=dict(namespaces))


def filtered(schema: Schema, state: JsonTree, flt: filters.Filter) -> str:
    tree = DataTree.from_json(schema, state, validate=False)
    return filters.apply(tree, flt).print("xml")


async def assert_selection_is_sound(schema: Schema, read: StateRead,
                                    elem: etree._Element) -> filters.Filter:
    """Filtering what ``read`` returns for the filter's selection gives
    what filtering the full state gives."""
    flt = filters.parse(elem, schema)
    assert flt is not None
    want = filtered(schema, await read(EVERYTHING), flt)
    got = filtered(schema, await read(flt.selection), flt)
    assert got == want, (etree.tostring(elem).decode(), flt.selection)
    return flt
