"""The ``<edit-config>`` engine (RFC 6241 section 7.2).

An edit is applied to a copy of the target datastore, never in place, so a
failed edit leaves the datastore untouched whatever the error-option.  The
caller validates the result and swaps it in.

How it works:

1. The ``<config>`` element is checked with lxml: every ``nc:operation``
   attribute must name an RFC 6241 operation, and a ``delete``/``remove`` of a
   leaf may come without a value, which libyang would reject as invalid for
   the leaf's type; such leaves get the current value filled in (or, when
   absent, a ``data-missing`` error for ``delete``, nothing for ``remove``).
2. libyang parses the edit against the schema without validation; type,
   range, pattern, unknown element and namespace errors surface here.  The
   ``nc:operation`` attributes become metadata on the parsed nodes.
3. Without any operation attribute and with default-operation merge, the edit
   is merged in one libyang call.  Otherwise the edit tree is walked together
   with the target, and subtrees that carry no operation attribute are copied
   in one call each, so the Python-level work grows with the number of
   operation attributes, not with the size of the edit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import libyang
from _libyang import ffi, lib
from lxml import etree

from agent.netconf.errors import RpcError
from agent.netconf.xml import BASE_NS

from .errors import from_failure
from .tree import LYD_DEFAULT, DataTree, LyFailure, Node, node_path, node_value, siblings, take_errors

if TYPE_CHECKING:
    from .schema import Schema

DefaultOperation = Literal["merge", "replace", "none"]
ErrorOption = Literal["stop-on-error", "continue-on-error", "rollback-on-error"]

OPERATIONS = frozenset({"merge", "replace", "create", "delete", "remove"})
_NC_OPERATION = f"{{{BASE_NS}}}operation"
_INNER = lib.LYS_CONTAINER | lib.LYS_LIST
_LEAF = lib.LYS_LEAF


@dataclass
class EditResult:
    """The target datastore after the edit, and the errors met on the way
    (only with continue-on-error can there be errors and a result)."""

    tree: DataTree
    errors: list[RpcError] = field(default_factory=list)


def apply_edit(
    schema: "Schema",
    current: DataTree,
    config: etree._Element,
    default_operation: DefaultOperation = "merge",
    error_option: ErrorOption = "stop-on-error",
) -> EditResult:
    """Apply ``<config>``'s content to a copy of ``current``.

    Raises :class:`RpcError` on the first error unless ``error_option`` is
    continue-on-error, in which case failed nodes are skipped and reported
    in :attr:`EditResult.errors`.  The result is not validated.
    """
    keep_going = error_option == "continue-on-error"
    errors: list[RpcError] = []
    op_elements = config.xpath(".//*[@nc:operation]", namespaces={"nc": BASE_NS})
    for el in op_elements:
        op = el.get(_NC_OPERATION)
        if op not in OPERATIONS:
            raise RpcError(
                "bad-attribute",
                f'"{op}" is not a NETCONF edit operation',
                type="protocol",
            ).with_info("bad-attribute", "operation").with_info("bad-element", etree.QName(el).localname)
        if op in ("delete", "remove") and len(el) == 0 and not (el.text or "").strip():
            try:
                _fill_valueless_leaf(schema, current, config, el, op)
            except RpcError as exc:
                if not keep_going:
                    raise
                errors.append(exc)

    base = DataTree(schema) if default_operation == "replace" else current.dup()
    edit = parse_config(schema, config)
    if edit.empty:
        return EditResult(base, errors)

    effective = "merge" if default_operation == "replace" else default_operation
    if not op_elements and effective == "merge":
        try:
            base.merge(edit)
        except LyFailure as failure:
            raise from_failure(failure, schema) from None
        return EditResult(base, errors)

    walker = _Walker(schema, base, errors, keep_going, _nodes_with_operations(edit))
    for node in siblings(edit.root):
        walker.node(node, effective, ffi.NULL)
    base.fix_root()
    return EditResult(base, errors)


def parse_config(schema: "Schema", config: etree._Element) -> DataTree:
    """The content of a ``<config>`` element as a data tree, not validated.

    Types, ranges, patterns, unknown elements and namespaces are checked;
    errors name the offending element.
    """
    payload = b"".join(etree.tostring(c) for c in config if isinstance(c.tag, str))
    if not payload.strip():
        return DataTree(schema)
    try:
        return DataTree.parse(schema, payload, "xml", config_only=True, validate=False)
    except LyFailure as failure:
        raise from_failure(failure, schema, source=config) from None


def _fill_valueless_leaf(
    schema: "Schema", current: DataTree, config: etree._Element, el: etree._Element, op: str
) -> None:
    """Give a value-less ``delete``/``remove`` of a leaf its current value."""
    paths = _paths_of(schema, config, el)
    if paths is None:
        return  # not resolvable here; libyang reports the real problem
    spath, dpath = paths
    snode = schema.snode(spath)
    if not isinstance(snode, libyang.SLeaf) or isinstance(snode, libyang.SLeafList):
        return
    node = current.find(dpath)
    if node is None or node.flags & LYD_DEFAULT:
        el.getparent().remove(el)
        if op == "delete":
            raise RpcError("data-missing", "Data to delete does not exist.", path=dpath)
        return
    el.text = node_value(node)


def _quote(value: str) -> str | None:
    if "'" not in value:
        return f"'{value}'"
    if '"' not in value:
        return f'"{value}"'
    return None


def _paths_of(schema: "Schema", config: etree._Element, el: etree._Element) -> tuple[str, str] | None:
    """Schema path and data path (with list keys) of an element in <config>."""
    chain = []
    cur = el
    while cur is not None and cur is not config:
        chain.append(cur)
        cur = cur.getparent()
    chain.reverse()
    spath = dpath = ""
    prev_module = None
    for node in chain:
        q = etree.QName(node)
        mod = schema.module_by_namespace(q.namespace or "")
        if mod is None:
            return None
        step = q.localname if mod.name == prev_module else f"{mod.name}:{q.localname}"
        spath += "/" + step
        dpath += "/" + step
        snode = schema.snode(spath)
        if snode is None:
            return None
        if isinstance(snode, libyang.SList):
            for key in snode.keys():
                kel = node.find(f"{{{q.namespace}}}{key.name()}")
                quoted = _quote((kel.text or "").strip()) if kel is not None else None
                if quoted is None:
                    return None
                dpath += f"[{key.name()}={quoted}]"
        prev_module = mod.name
    return spath, dpath


def _addr(node: Node) -> int:
    return int(ffi.cast("uintptr_t", node))


def _operation_of(node: Node, ctx: object) -> str | None:
    meta = node.meta
    while meta != ffi.NULL:
        if ffi.string(meta.name) == b"operation":
            return ffi.string(lib.lyd_value_get_canonical(ctx, ffi.addressof(meta.value))).decode()
        meta = meta.next
    return None


def _nodes_with_operations(edit: DataTree) -> set[int]:
    ctx = edit.schema.ctx.cdata
    """Addresses of edit nodes that carry an operation or have a descendant that does."""
    marked: set[int] = set()

    def walk(node: Node) -> bool:
        found = _operation_of(node, ctx) is not None
        if node.schema.nodetype & _INNER:
            child = lib.lyd_child(node)
            while child != ffi.NULL:
                found = walk(child) or found
                child = child.next
        if found:
            marked.add(_addr(node))
        return found

    for top in siblings(edit.root):
        walk(top)
    return marked


def _is_explicit(node: Node) -> bool:
    """A node exists in the datastore's eyes: set by a client, not a default."""
    if not node.flags & LYD_DEFAULT:
        return True
    if node.schema.nodetype & _INNER:
        child = lib.lyd_child(node)
        while child != ffi.NULL:
            if _is_explicit(child):
                return True
            child = child.next
    return False


class _Walker:
    def __init__(
        self,
        schema: "Schema",
        target: DataTree,
        errors: list[RpcError],
        keep_going: bool,
        with_ops: set[int],
    ) -> None:
        self.schema = schema
        self.ctx = schema.ctx.cdata
        self.target = target
        self.errors = errors
        self.keep_going = keep_going
        self.with_ops = with_ops

    def node(self, e: Node, inherited: str, tparent: Node) -> None:
        try:
            self._node(e, inherited, tparent)
        except RpcError as exc:
            if not self.keep_going:
                raise
            self.errors.append(exc)

    def _node(self, e: Node, inherited: str, tparent: Node) -> None:
        op = _operation_of(e, self.ctx) or inherited
        path = node_path(e)
        t = self.target.find(path)
        kind = e.schema.nodetype
        if op in ("delete", "remove"):
            if t is None or not _is_explicit(t):
                if op == "delete":
                    raise RpcError("data-missing", "Data to delete does not exist.", path=path)
                return
            self._free(t)
            return
        if op == "create" and t is not None and _is_explicit(t):
            raise RpcError("data-exists", "Data to create already exists.", path=path)
        if op == "replace" and t is not None:
            self._free(t)
            t = None
        if not kind & _INNER:
            if op == "none":
                return
            if t is not None:
                if kind == _LEAF and (t.flags & LYD_DEFAULT or node_value(t) != node_value(e)):
                    self._free(t)
                else:
                    return
            self._insert(e, tparent, recursive=False)
            return
        child_op = "none" if op == "none" else "merge"
        if t is None:
            if op == "none":
                for c in self._children(e):
                    self.node(c, child_op, ffi.NULL)
                return
            recursive = not self._ops_below(e)
            t = self._insert(e, tparent, recursive=recursive)
            if recursive:
                return
        for c in self._children(e):
            self.node(c, child_op, t)

    def _ops_below(self, e: Node) -> bool:
        return any(_addr(c) in self.with_ops for c in self._children(e))

    @staticmethod
    def _children(e: Node) -> list[Node]:
        out = []
        child = lib.lyd_child_no_keys(e)
        while child != ffi.NULL:
            out.append(child)
            child = child.next
        return out

    def _free(self, t: Node) -> None:
        if t == self.target.root:
            self.target.root = t.next
        lib.lyd_free_tree(t)

    def _parent_in_target(self, e: Node, tparent: Node) -> Node:
        """The target node to insert a copy of ``e`` under, created if missing."""
        if tparent != ffi.NULL or e.parent == ffi.NULL:
            return tparent
        parent = ffi.cast("struct lyd_node *", e.parent)
        path = node_path(parent)
        found = self.target.find(path)
        if found is not None:
            return found
        out = ffi.new("struct lyd_node **")
        if lib.lyd_new_path(self.target.root, self.ctx, path.encode(), ffi.NULL, 0, out) != lib.LY_SUCCESS:
            raise from_failure(LyFailure(take_errors(self.ctx)), self.schema)
        if self.target.root == ffi.NULL:
            self.target.root = out[0]
        self.target.fix_root()
        found = self.target.find(path)
        assert found is not None
        return found

    def _insert(self, e: Node, tparent: Node, recursive: bool) -> Node:
        flags = lib.LYD_DUP_NO_META | (lib.LYD_DUP_RECURSIVE if recursive else 0)
        out = ffi.new("struct lyd_node **")
        if lib.lyd_dup_single(e, ffi.NULL, flags, out) != lib.LY_SUCCESS:
            raise from_failure(LyFailure(take_errors(self.ctx)), self.schema)
        dup = out[0]
        parent = self._parent_in_target(e, tparent)
        if parent == ffi.NULL:
            if self.target.root == ffi.NULL:
                self.target.root = dup
                return dup
            holder = ffi.new("struct lyd_node **", self.target.root)
            if lib.lyd_merge_siblings(holder, dup, lib.LYD_MERGE_DESTRUCT) != lib.LY_SUCCESS:
                raise from_failure(LyFailure(take_errors(self.ctx)), self.schema)
            self.target.root = holder[0]
            self.target.fix_root()
            found = self.target.find(node_path(e))
            assert found is not None
            return found
        if lib.lyd_insert_child(parent, dup) != lib.LY_SUCCESS:
            lib.lyd_free_tree(dup)
            raise from_failure(LyFailure(take_errors(self.ctx)), self.schema)
        # An implicit (default) container that gets an explicit child is no
        # longer implicit.
        p = parent
        while p != ffi.NULL and p.flags & LYD_DEFAULT:
            p.flags &= ~LYD_DEFAULT
            p = ffi.cast("struct lyd_node *", p.parent)
        return dup
