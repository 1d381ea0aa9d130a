"""The YANG schema an agent serves: one libyang context with the node's
modules and the IETF housekeeping modules the NETCONF server implements.

A context is immutable once built.  Many agents in one process (the farm)
may share one :class:`Schema` through a :class:`SchemaLibrary`: the agent is
single-threaded, and libyang keeps errors per context and thread, which are
read right after the failing call, so sharing is safe.
"""

from __future__ import annotations

import os
import sys
import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import libyang
from _libyang import ffi, lib

from agent.backends.base import KIND_MODULES

#: The repository's own modules.
PROJECT_YANG_DIR = Path(__file__).resolve().parents[2] / "yang"

#: ietf-netconf and the NETCONF housekeeping modules come from the system,
#: not from this repository: Debian's yuma123 ships them, pyang too.
SYSTEM_YANG_DIRS = (
    Path("/usr/share/yuma/modules/ietf"),
    Path(sys.prefix) / "share" / "yang" / "modules" / "ietf",
    Path("/usr/share/yang/modules/ietf"),
    Path("/usr/share/yang/modules/libyang"),
)

#: Features of ietf-netconf the server implements.
NETCONF_FEATURES = ("writable-running", "candidate", "confirmed-commit",
                    "rollback-on-error", "validate", "xpath")

#: Modules every agent implements besides the node's own.
HOUSEKEEPING_MODULES = (
    "ietf-netconf",
    "ietf-netconf-with-defaults",
    "ietf-netconf-monitoring",
    "ietf-netconf-notifications",
)

#: Typedefs whose values are secrets: never returned to clients, never logged.
SECRET_TYPEDEFS = frozenset({"wpa-psk"})


class SchemaError(RuntimeError):
    """The modules cannot be found or do not compile."""


@dataclass(frozen=True)
class ModuleInfo:
    name: str
    revision: str | None
    namespace: str
    prefix: str
    implemented: bool
    features: tuple[str, ...]
    filepath: str | None


def _enable_error_paths() -> None:
    # Make libyang record the data path of each error ("Data location ...").
    # A process-wide switch of the library, idempotent and harmless.
    lib.ly_set_log_clb(ffi.NULL, True)


def find_yang_dirs(extra: Iterable[Path] = ()) -> list[Path]:
    """Search directories: given ones, the project's, the system's."""
    dirs = [Path(p) for p in extra]
    env = os.environ.get("RANSDN_YANG_PATH")
    if env:
        dirs.extend(Path(p) for p in env.split(":") if p)
    dirs.append(PROJECT_YANG_DIR)
    dirs.extend(SYSTEM_YANG_DIRS)
    seen: list[Path] = []
    for d in dirs:
        if d.is_dir() and d not in seen:
            seen.append(d)
    return seen


class ContextOwner:
    """Owns a libyang context and destroys it after its last data tree.

    Python runs the finalizers of a garbage cycle in no particular order, so
    a context destroyed by its own finalizer (as the libyang binding does)
    may go before the trees that point into it.  Here every live tree holds
    a count, and the context goes only once the schema is gone *and* the
    count is zero.
    """

    def __init__(self, search_path: str) -> None:
        out = ffi.new("struct ly_ctx **")
        options = lib.LY_CTX_DISABLE_SEARCHDIR_CWD | lib.LY_CTX_SET_PRIV_PARSED
        if lib.ly_ctx_new(search_path.encode(), options, out) != lib.LY_SUCCESS:
            raise SchemaError("cannot create a libyang context")
        self.cdata = out[0]
        self.trees = 0
        self.closed = False

    def acquire(self) -> None:
        self.trees += 1

    def release(self) -> None:
        self.trees -= 1
        self._destroy_if_unused()

    def close(self) -> None:
        self.closed = True
        self._destroy_if_unused()

    def _destroy_if_unused(self) -> None:
        if self.closed and self.trees <= 0 and self.cdata != ffi.NULL:
            cdata, self.cdata = self.cdata, ffi.NULL
            lib.ly_ctx_destroy(cdata)

    def __del__(self) -> None:
        self.close()


class Schema:
    """A compiled set of YANG modules and what the agent derives from it."""

    def __init__(self, modules: Sequence[str], yang_dirs: Sequence[Path] = ()) -> None:
        _enable_error_paths()
        #: The thread that may use the context (see DataTree.free).
        self.thread = threading.get_ident()
        self.graveyard: deque[object] = deque()
        self.yang_dirs = find_yang_dirs(yang_dirs)
        self.owner = ContextOwner(":".join(map(str, self.yang_dirs)))
        self.ctx = libyang.Context(cdata=self.owner.cdata)
        self.node_modules = tuple(modules)
        for name in HOUSEKEEPING_MODULES + self.node_modules:
            self._load(name)
        netconf = self.ctx.get_module("ietf-netconf")
        feats = [ffi.new("char[]", f.encode()) for f in NETCONF_FEATURES]
        arr = ffi.new("char *[]", feats + [ffi.NULL])
        if lib.lys_set_implemented(netconf.cdata, arr) != lib.LY_SUCCESS:
            raise SchemaError("cannot enable ietf-netconf features")
        self.modules: tuple[ModuleInfo, ...] = tuple(self._module_infos())
        self._by_name = {m.name: m for m in self.modules}
        self._by_ns = {m.namespace: m for m in self.modules}
        self.secret_paths: tuple[str, ...] = tuple(self._find_secret_paths())
        self._snode_cache: dict[str, object] = {}

    def _load(self, name: str) -> None:
        if lib.ly_ctx_load_module(self.ctx.cdata, name.encode(), ffi.NULL, ffi.NULL) == ffi.NULL:
            msgs = []
            err = lib.ly_err_first(self.ctx.cdata)
            while err:
                msgs.append(libyang.util.c2str(err.msg))
                err = err.next
            lib.ly_err_clean(self.ctx.cdata, ffi.NULL)
            raise SchemaError(
                f"cannot load YANG module {name} from {':'.join(map(str, self.yang_dirs))}: "
                + "; ".join(msgs)
            )

    def _module_infos(self) -> Iterable[ModuleInfo]:
        idx = ffi.new("uint32_t *")
        while True:
            mod = lib.ly_ctx_get_module_iter(self.ctx.cdata, idx)
            if mod == ffi.NULL:
                break
            m = libyang.Module(self.ctx, mod)
            feats = tuple(f.name() for f in m.features() if f.state())
            yield ModuleInfo(
                name=m.name(),
                revision=libyang.util.c2str(mod.revision),
                namespace=libyang.util.c2str(mod.ns),
                prefix=m.prefix(),
                implemented=bool(mod.implemented),
                features=feats,
                filepath=libyang.util.c2str(mod.filepath),
            )

    def _find_secret_paths(self) -> Iterable[str]:
        def walk(node: libyang.SNode, path: str) -> Iterable[str]:
            here = f"{path}/{node.name()}" if path else f"/{node.module().name()}:{node.name()}"
            if isinstance(node, libyang.SLeaf):
                if node.type().name().split(":")[-1] in SECRET_TYPEDEFS:
                    yield here
            elif isinstance(node, (libyang.SContainer, libyang.SList)):
                for child in node.children():
                    yield from walk(child, here)

        for name in self.node_modules:
            for top in self.ctx.get_module(name).children():
                yield from walk(top, "")

    def claim(self) -> None:
        """Make the calling thread the one that uses (and frees on) this schema.

        An agent claims its schema when it starts on its event loop; agents
        sharing a schema must run on the same thread.
        """
        self.thread = threading.get_ident()

    def bury(self) -> None:
        """Free trees released on other threads (call on ``self.thread``)."""
        while self.graveyard:
            lib.lyd_free_all(self.graveyard.popleft())
            self.owner.release()

    # -- lookups -------------------------------------------------------

    def module(self, name: str) -> ModuleInfo | None:
        return self._by_name.get(name)

    def module_by_namespace(self, ns: str) -> ModuleInfo | None:
        return self._by_ns.get(ns)

    def namespace_of(self, module_name: str) -> str | None:
        m = self._by_name.get(module_name)
        return m.namespace if m else None

    def snode(self, schema_path: str) -> libyang.SNode | None:
        """The schema node at a JSON schema path, or None."""
        if schema_path not in self._snode_cache:
            try:
                self._snode_cache[schema_path] = next(self.ctx.find_path(schema_path), None)
            except libyang.LibyangError:
                lib.ly_err_clean(self.ctx.cdata, ffi.NULL)
                self._snode_cache[schema_path] = None
        return self._snode_cache[schema_path]  # type: ignore[return-value]

    def is_secret(self, data_path: str) -> bool:
        """Whether a data path (keys allowed) names a secret leaf."""
        stripped = _strip_predicates(data_path)
        return any(stripped == p or _same_schema_path(stripped, p) for p in self.secret_paths)

    def yang_text(self, name: str, revision: str | None = None) -> str | None:
        """The YANG source of a module, for ``<get-schema>``."""
        info = self._by_name.get(name)
        if info is None or (revision and info.revision != revision):
            return None
        if info.filepath and os.path.isfile(info.filepath) and info.filepath.endswith(".yang"):
            with open(info.filepath, encoding="utf-8") as f:
                return f.read()
        # Built into libyang: print its parsed form, which is valid YANG.
        return self.ctx.get_module(name).print_mem("yang")

    def yang_library_content_id(self) -> str:
        tree = self.ctx.get_yanglib_data("%u")
        try:
            node = next(iter(tree.find_all("/ietf-yang-library:yang-library/content-id")), None)
            return str(node.value()) if node is not None else "0"
        finally:
            tree.free()


def _strip_predicates(path: str) -> str:
    out, depth, quote = [], 0, ""
    for c in path:
        if quote:
            if c == quote:
                quote = ""
            continue
        if depth and c in "'\"":
            quote = c
        elif c == "[":
            depth += 1
        elif c == "]":
            depth -= 1
        elif not depth:
            out.append(c)
    return "".join(out)


def _same_schema_path(a: str, b: str) -> bool:
    """Compare schema paths ignoring prefixes on non-top-level steps."""
    strip = lambda p: [s.split(":")[-1] for s in p.split("/")]  # noqa: E731
    return strip(a) == strip(b)


class SchemaLibrary:
    """Builds each distinct module set once and hands out the shared Schema.

    Give one library to every :class:`~agent.server.AgentServer` of a process
    that hosts many agents; by default each agent builds its own.
    """

    def __init__(self, yang_dirs: Sequence[Path] = ()) -> None:
        self._yang_dirs = tuple(yang_dirs)
        self._schemas: dict[tuple[str, ...], Schema] = {}

    def get(self, kind: str, extra_modules: Sequence[str] = ()) -> Schema:
        modules = tuple(dict.fromkeys(KIND_MODULES[kind] + tuple(extra_modules)))
        schema = self._schemas.get(modules)
        if schema is None:
            schema = self._schemas[modules] = Schema(modules, self._yang_dirs)
        return schema
