"""A thin owner of libyang data trees, used through libyang's C API directly.

The Python binding flattens libyang's error list into one string; the agent
needs each error's validation code, data path and error-app-tag to build
precise ``<rpc-error>`` elements, so parsing, validation and the tree edits
the edit-config engine needs go straight to the C functions via cffi.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from enum import IntFlag
from typing import TYPE_CHECKING, Any, Iterator

from _libyang import ffi, lib

if TYPE_CHECKING:
    from .schema import Schema

Node = Any  # cffi ``struct lyd_node *``

#: libyang node flags (tree_data.h).
LYD_DEFAULT = 0x01


class WithDefaults(IntFlag):
    """RFC 6243 retrieval modes, as libyang printer flags."""

    EXPLICIT = lib.LYD_PRINT_WD_EXPLICIT
    TRIM = lib.LYD_PRINT_WD_TRIM
    REPORT_ALL = lib.LYD_PRINT_WD_ALL
    REPORT_ALL_TAGGED = lib.LYD_PRINT_WD_ALL_TAG


WITH_DEFAULTS_MODES = {
    "explicit": WithDefaults.EXPLICIT,
    "trim": WithDefaults.TRIM,
    "report-all": WithDefaults.REPORT_ALL,
    "report-all-tagged": WithDefaults.REPORT_ALL_TAGGED,
}


@dataclass(frozen=True)
class LyError:
    """One error libyang recorded."""

    vecode: int
    message: str
    #: "Data location" path (JSON form) or None.
    data_path: str | None
    #: "Schema location" path or None.
    schema_path: str | None
    app_tag: str | None


class LyFailure(Exception):
    """A libyang call failed; ``errors`` says why."""

    def __init__(self, errors: list[LyError]) -> None:
        super().__init__("; ".join(e.message for e in errors) or "libyang failure")
        self.errors = errors


def _c2s(c: Any) -> str | None:
    return None if c == ffi.NULL else ffi.string(c).decode("utf-8", "replace")


_LOCATION = re.compile(r'([Dd]ata|[Ss]chema) location "(.*?)"(?=(?:,|\.)(?: |$))')


def _split_location(loc: str | None) -> tuple[str | None, str | None]:
    """Split libyang's 'Data location "...", line number 1.' text."""
    data = schema = None
    for kind, path in _LOCATION.findall(loc or ""):
        if kind.lower() == "data":
            data = path
        else:
            schema = path
    return data, schema


def take_errors(ctx_cdata: Any) -> list[LyError]:
    """Collect and clear the errors libyang stored for this context."""
    out: list[LyError] = []
    err = lib.ly_err_first(ctx_cdata)
    while err:
        if err.level == lib.LY_LLERR:
            data, schema = _split_location(_c2s(err.path))
            out.append(
                LyError(
                    vecode=int(err.vecode),
                    message=_c2s(err.msg) or "",
                    data_path=data,
                    schema_path=schema,
                    app_tag=_c2s(err.apptag),
                )
            )
        err = err.next
    lib.ly_err_clean(ctx_cdata, ffi.NULL)
    return out


def node_path(node: Node) -> str:
    p = lib.lyd_path(node, lib.LYD_PATH_STD, ffi.NULL, 0)
    try:
        return ffi.string(p).decode()
    finally:
        lib.free(p)


def node_name(node: Node) -> str:
    return ffi.string(node.schema.name).decode()


def node_module(node: Node) -> str:
    return ffi.string(node.schema.module.name).decode()


def node_value(node: Node) -> str:
    return ffi.string(lib.lyd_get_value(node)).decode()


def children(node: Node) -> Iterator[Node]:
    child = lib.lyd_child(node)
    while child != ffi.NULL:
        nxt = child.next
        yield child
        child = nxt


def siblings(first: Node) -> Iterator[Node]:
    node = first
    while node != ffi.NULL:
        nxt = node.next
        yield node
        node = nxt


class DataTree:
    """Owns one libyang data tree: a list of top-level sibling nodes.

    libyang is not thread-safe, and Python may collect a tree that sits in a
    reference cycle on any thread that happens to trigger the collector
    (a worker of ``asyncio.to_thread``, a test's thread).  A tree released
    off its schema's thread is therefore parked and freed later on that
    thread.
    """

    __slots__ = ("schema", "root")

    def __init__(self, schema: "Schema", root: Node = ffi.NULL) -> None:
        self.schema = schema
        self.root = root
        schema.owner.acquire()
        if schema.graveyard and threading.get_ident() == schema.thread:
            schema.bury()

    # -- life cycle ---------------------------------------------------------

    def __del__(self) -> None:
        root, self.root = self.root, ffi.NULL
        if threading.get_ident() == self.schema.thread:
            if root != ffi.NULL:
                lib.lyd_free_all(root)
            self.schema.owner.release()
        else:
            # freed (and the count released) by Schema.bury on its thread
            self.schema.graveyard.append(root)

    def free(self) -> None:
        """Free the nodes now; the tree is empty afterwards."""
        root = self.root
        if root != ffi.NULL:
            self.root = ffi.NULL
            if threading.get_ident() == self.schema.thread:
                lib.lyd_free_all(root)
            else:
                self.schema.graveyard.append(root)
                self.schema.owner.acquire()  # balanced by the release in bury

    def release(self) -> Node:
        """Give up ownership of the nodes (after a destructive merge)."""
        root, self.root = self.root, ffi.NULL
        return root

    @property
    def empty(self) -> bool:
        return self.root == ffi.NULL

    def fix_root(self) -> None:
        """Re-find the first sibling after nodes were inserted or freed."""
        if self.root != ffi.NULL:
            self.root = lib.lyd_first_sibling(self.root)

    # -- parsing ------------------------------------------------------------

    @classmethod
    def parse(
        cls,
        schema: "Schema",
        data: bytes | str,
        fmt: str = "xml",
        *,
        config_only: bool = False,
        validate: bool = True,
    ) -> "DataTree":
        """Parse data; raise :class:`LyFailure` with libyang's errors.

        ``validate=False`` parses and type-checks values only (an edit, a
        candidate under construction, operational state); ``config_only``
        rejects config-false nodes.
        """
        if isinstance(data, str):
            data = data.encode("utf-8")
        ctx = schema.ctx.cdata
        buf = ffi.new("char[]", data)
        inp = ffi.new("struct ly_in **")
        if lib.ly_in_new_memory(buf, inp) != lib.LY_SUCCESS:
            raise LyFailure(take_errors(ctx))
        pflags = lib.LYD_PARSE_STRICT
        vflags = 0
        if config_only:
            pflags |= lib.LYD_PARSE_NO_STATE
            vflags |= lib.LYD_VALIDATE_NO_STATE
        if not validate:
            pflags |= lib.LYD_PARSE_ONLY
        out = ffi.new("struct lyd_node **")
        fmt_c = lib.LYD_XML if fmt == "xml" else lib.LYD_JSON
        ret = lib.lyd_parse_data(ctx, ffi.NULL, inp[0], fmt_c, pflags, vflags, out)
        lib.ly_in_free(inp[0], 0)
        if ret != lib.LY_SUCCESS:
            errors = take_errors(ctx)
            if out[0] != ffi.NULL:
                lib.lyd_free_all(out[0])
            raise LyFailure(errors)
        return cls(schema, out[0])

    @classmethod
    def parse_op(cls, schema: "Schema", data: bytes, fmt: str, dtype: int, *, validate: bool = False) -> "DataTree":
        """Parse an RPC, RPC reply or notification (``dtype`` a LYD_TYPE_*)."""
        ctx = schema.ctx.cdata
        buf = ffi.new("char[]", data)
        inp = ffi.new("struct ly_in **")
        if lib.ly_in_new_memory(buf, inp) != lib.LY_SUCCESS:
            raise LyFailure(take_errors(ctx))
        tree = ffi.new("struct lyd_node **")
        op = ffi.new("struct lyd_node **")
        fmt_c = lib.LYD_XML if fmt == "xml" else lib.LYD_JSON
        ret = lib.lyd_parse_op(ctx, ffi.NULL, inp[0], fmt_c, dtype, tree, op)
        lib.ly_in_free(inp[0], 0)
        result = cls(schema, tree[0] if ret == lib.LY_SUCCESS else ffi.NULL)
        if ret == lib.LY_SUCCESS and validate:
            ret = lib.lyd_validate_op(result.root, ffi.NULL, dtype, ffi.NULL)
        if ret != lib.LY_SUCCESS:
            errors = take_errors(ctx)
            result.free()
            raise LyFailure(errors)
        return result

    @classmethod
    def from_json(cls, schema: "Schema", tree: dict[str, Any], **kw: Any) -> "DataTree":
        return cls.parse(schema, json.dumps(tree), "json", **kw)

    # -- whole-tree operations ---------------------------------------------

    def dup(self) -> "DataTree":
        if self.root == ffi.NULL:
            return DataTree(self.schema)
        out = ffi.new("struct lyd_node **")
        flags = lib.LYD_DUP_RECURSIVE | lib.LYD_DUP_WITH_FLAGS
        if lib.lyd_dup_siblings(self.root, ffi.NULL, flags, out) != lib.LY_SUCCESS:
            raise LyFailure(take_errors(self.schema.ctx.cdata))
        return DataTree(self.schema, out[0])

    def merge(self, other: "DataTree") -> None:
        """Merge ``other`` into this tree, consuming ``other``."""
        if other.root == ffi.NULL:
            return
        holder = ffi.new("struct lyd_node **", self.root)
        ret = lib.lyd_merge_siblings(holder, other.root, lib.LYD_MERGE_DESTRUCT)
        other.root = ffi.NULL
        if ret != lib.LY_SUCCESS:
            raise LyFailure(take_errors(self.schema.ctx.cdata))
        self.root = holder[0]
        self.fix_root()

    def validate(self, config_only: bool = True) -> None:
        """Validate the whole tree (adding default nodes); raise LyFailure."""
        holder = ffi.new("struct lyd_node **", self.root)
        flags = lib.LYD_VALIDATE_NO_STATE if config_only else 0
        ret = lib.lyd_validate_all(holder, self.schema.ctx.cdata, flags, ffi.NULL)
        self.root = holder[0]
        if ret != lib.LY_SUCCESS:
            raise LyFailure(take_errors(self.schema.ctx.cdata))
        self.fix_root()

    # -- lookups -------------------------------------------------------------

    def find(self, path: str) -> Node | None:
        """The node at an absolute JSON data path, or None."""
        if self.root == ffi.NULL:
            return None
        out = ffi.new("struct lyd_node **")
        ret = lib.lyd_find_path(self.root, path.encode(), 0, out)
        if ret == lib.LY_SUCCESS:
            return out[0]
        lib.ly_err_clean(self.schema.ctx.cdata, ffi.NULL)
        return None

    def xpath(self, expr: str) -> list[Node]:
        """Nodes selected by an XPath 1.0 expression (JSON prefixes)."""
        if self.root == ffi.NULL:
            return []
        out = ffi.new("struct ly_set **")
        ret = lib.lyd_find_xpath(self.root, expr.encode(), out)
        if ret != lib.LY_SUCCESS:
            raise LyFailure(take_errors(self.schema.ctx.cdata))
        try:
            s = out[0]
            return [s.dnodes[i] for i in range(s.count)]
        finally:
            lib.ly_set_free(out[0], ffi.NULL)

    # -- output --------------------------------------------------------------

    def print(self, fmt: str = "xml", wd: int = WithDefaults.EXPLICIT, pretty: bool = False) -> str:
        if self.root == ffi.NULL:
            return "" if fmt == "xml" else "{}"
        return print_nodes(self.root, fmt, wd, pretty, siblings=True)

    def to_json(self, wd: int = WithDefaults.REPORT_ALL) -> dict[str, Any]:
        """RFC 7951 JSON, as crosses the backend seam."""
        text = self.print("json", wd)
        return json.loads(text) if text.strip() else {}

    def without_secrets(self) -> "DataTree":
        """A copy without the leaves a client must never read back."""
        copy = self.dup()
        for path in self.schema.secret_paths:
            for node in copy.xpath(path):
                lib.lyd_free_tree(node)
        return copy

    def has_secrets(self) -> bool:
        return any(self.xpath(p) for p in self.schema.secret_paths)


def print_nodes(node: Node, fmt: str, wd: int, pretty: bool = False, siblings: bool = False) -> str:
    flags = int(wd)
    if siblings:
        flags |= lib.LYD_PRINT_WITHSIBLINGS
    if not pretty:
        flags |= lib.LYD_PRINT_SHRINK
    out = ffi.new("char **")
    fmt_c = lib.LYD_XML if fmt == "xml" else lib.LYD_JSON
    if lib.lyd_print_mem(out, node, fmt_c, flags) != lib.LY_SUCCESS:
        raise LyFailure([])
    if out[0] == ffi.NULL:
        return ""
    try:
        return ffi.string(out[0]).decode("utf-8")
    finally:
        lib.free(out[0])
