"""The NETCONF operations (RFC 6241 section 7 and 8, RFC 5277, RFC 6022)
and the node modules' own RPCs, which the backend serves.

Each handler takes the session and the operation element and returns the
content of the ``<rpc-reply>``, or raises :class:`RpcError`.
"""

from __future__ import annotations

import json
import logging
import time
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from _libyang import ffi, lib
from lxml import etree

from agent.backends.base import EVERYTHING, BackendError, StateSelection
from agent.datastore.errors import from_failure
from agent.datastore.store import DEFAULT_CONFIRM_TIMEOUT
from agent.datastore.tree import (
    WITH_DEFAULTS_MODES,
    DataTree,
    LyFailure,
    WithDefaults,
    print_nodes,
)
from agent.notifications import STREAM, parse_time

from . import filters
from .errors import RpcError, RpcErrors
from .lru import Lru
from .xml import BASE_NS, MONITORING_NS, NOTIF_NS, WITH_DEFAULTS_NS, escape, text_of

if TYPE_CHECKING:
    from .server import NetconfServer
    from .session import NetconfSession

log = logging.getLogger(__name__)

OK = "<ok/>"
Handler = Callable[["NetconfSession", etree._Element], Awaitable[str]]

_EDIT_DEFAULT_OPS = ("merge", "replace", "none")
_TEST_OPTIONS = ("test-then-set", "set", "test-only")
_ERROR_OPTIONS = ("stop-on-error", "continue-on-error", "rollback-on-error")
_UINT32_MAX = 4294967295


def _q(name: str, ns: str = BASE_NS) -> str:
    return f"{{{ns}}}{name}"


def _params(op: etree._Element, allowed: dict[str, str | tuple[str, ...]]) -> dict[str, etree._Element]:
    """The operation's parameters by local name; reject unknown ones.

    ``allowed`` maps each parameter's local name to its namespace(s).
    """
    out: dict[str, etree._Element] = {}
    for child in op:
        if not isinstance(child.tag, str):
            continue
        q = etree.QName(child)
        # Accept a parameter in no namespace too: widespread client code
        # (ncclient examples among it) sends a bare <config>.
        spaces = allowed.get(q.localname, ())
        if q.namespace is not None and q.namespace not in ((spaces,) if isinstance(spaces, str) else spaces):
            spaces = ()
        if not spaces:
            raise RpcError(
                "unknown-element",
                f'"{q.localname}" is not a parameter of <{etree.QName(op).localname}>.',
                type="protocol",
            ).with_info("bad-element", q.localname)
        if q.localname in out:
            raise RpcError(
                "bad-element", f'Parameter "{q.localname}" given twice.', type="protocol"
            ).with_info("bad-element", q.localname)
        out[q.localname] = child
    return out


def _required(params: dict[str, etree._Element], name: str) -> etree._Element:
    if name not in params:
        raise RpcError("missing-element", f'Parameter "{name}" is missing.', type="protocol").with_info(
            "bad-element", name
        )
    return params[name]


def _datastore(elem: etree._Element, *, allow_config: bool = False) -> str | etree._Element:
    """The datastore a <target>/<source> names; the <config> element if allowed."""
    kids = [c for c in elem if isinstance(c.tag, str)]
    name = etree.QName(elem).localname
    if len(kids) != 1:
        raise RpcError(
            "missing-element" if not kids else "bad-element",
            f"<{name}> must name exactly one datastore.",
            type="protocol",
        ).with_info("bad-element", name)
    ds = kids[0]
    q = etree.QName(ds)
    base = q.namespace in (BASE_NS, None)
    if base and q.localname in ("running", "candidate"):
        return q.localname
    if allow_config and base and q.localname == "config":
        return ds
    if base and q.localname in ("startup", "url"):
        raise RpcError(
            "operation-not-supported",
            f"The :{q.localname} capability is not supported.",
            type="protocol",
        ).with_info("bad-element", q.localname)
    raise RpcError("bad-element", f'"{q.localname}" is not a datastore.', type="protocol").with_info(
        "bad-element", q.localname
    )


def _choice(params: dict[str, etree._Element], name: str, allowed: tuple[str, ...], default: str) -> str:
    if name not in params:
        return default
    value = text_of(params[name])
    if value not in allowed:
        raise RpcError("invalid-value", f'"{value}" is not a valid {name}.', type="protocol").with_info(
            "bad-element", name
        )
    return value


def _with_defaults(params: dict[str, etree._Element]) -> int:
    if "with-defaults" not in params:
        return WithDefaults.EXPLICIT
    value = text_of(params["with-defaults"])
    try:
        return WITH_DEFAULTS_MODES[value]
    except KeyError:
        raise RpcError("invalid-value", f'"{value}" is not a with-defaults mode.', type="protocol").with_info(
            "bad-element", "with-defaults"
        ) from None


def _uint32(elem: etree._Element, name: str) -> int:
    text = text_of(elem)
    if not text.isdigit() or int(text) > _UINT32_MAX:
        raise RpcError("invalid-value", f'"{text}" is not a valid {name}.', type="protocol").with_info(
            "bad-element", name
        )
    return int(text)


_FILTERED = {"filter": BASE_NS, "with-defaults": WITH_DEFAULTS_NS}


class Operations:
    def __init__(self, server: "NetconfServer") -> None:
        self.server = server
        self.schema = server.schema
        self.store = server.store
        self.filters = filters.FilterCache(server.schema)
        #: get-config replies while the datastores stay as they were.
        self._config_replies: Lru[tuple[object, ...], str] = Lru(16)
        self.handlers: dict[str, Handler] = {
            _q("get"): self.get,
            _q("get-config"): self.get_config,
            _q("edit-config"): self.edit_config,
            _q("copy-config"): self.copy_config,
            _q("delete-config"): self.delete_config,
            _q("lock"): self.lock,
            _q("unlock"): self.unlock,
            _q("close-session"): self.close_session,
            _q("kill-session"): self.kill_session,
            _q("commit"): self.commit,
            _q("cancel-commit"): self.cancel_commit,
            _q("discard-changes"): self.discard_changes,
            _q("validate"): self.validate,
            _q("get-schema", MONITORING_NS): self.get_schema,
            _q("create-subscription", NOTIF_NS): self.create_subscription,
        }

    async def dispatch(self, session: "NetconfSession", op: etree._Element) -> str:
        handler = self.handlers.get(op.tag)
        if handler is not None:
            return await handler(session, op)
        q = etree.QName(op)
        mod = self.schema.module_by_namespace(q.namespace or "")
        if mod is None:
            raise RpcError(
                "unknown-namespace", f'No module implements namespace "{q.namespace}".', type="protocol"
            ).with_info("bad-element", q.localname).with_info("bad-namespace", q.namespace or "")
        if mod.name in self.schema.node_modules and self.schema.snode(f"/{mod.name}:{q.localname}") is not None:
            return await self.module_rpc(mod.name, op)
        raise RpcError(
            "operation-not-supported", f'Operation "{q.localname}" is not supported.', type="protocol"
        ).with_info("bad-element", q.localname)

    # -- retrieval -----------------------------------------------------------

    def _config_for_client(self, tree: DataTree, flt: filters.Filter | None) -> DataTree | None:
        """``tree`` filtered and without secrets; None if ``tree`` can be printed as is.

        Secrets go before the filter runs, so that a content-match node
        cannot be used to guess a key.
        """
        if self.schema.secret_paths and tree.has_secrets():
            tree = tree.without_secrets()
            return tree if flt is None else filters.apply(tree, flt)
        return None if flt is None else filters.apply(tree, flt)

    async def get_config(self, session: "NetconfSession", op: etree._Element) -> str:
        params = _params(op, {"source": BASE_NS, **_FILTERED})
        source = _datastore(_required(params, "source"))
        assert isinstance(source, str)
        flt = self.filters.parse(params.get("filter"))
        wd = _with_defaults(params)
        key = (source, self.store.generation, flt, int(wd))
        reply = self._config_replies.get(key)
        if reply is None:
            tree = self.store.tree(source)  # type: ignore[arg-type]
            shown = self._config_for_client(tree, flt)
            reply = f"<data>{(shown if shown is not None else tree).print('xml', wd)}</data>"
            self._config_replies.put(key, reply)
        return reply

    async def get(self, session: "NetconfSession", op: etree._Element) -> str:
        params = _params(op, _FILTERED)
        flt = self.filters.parse(params.get("filter"))
        wd = _with_defaults(params)
        touches = (lambda m: True) if flt is None else flt.touches
        data = DataTree(self.schema)
        node_modules = self.schema.node_modules
        if any(touches(m) for m in node_modules):
            data.merge(self.store.running.dup())
            data.merge(await self._operational_state(EVERYTHING if flt is None else flt.selection))
        if touches("ietf-netconf-monitoring"):
            data.merge(DataTree.from_json(self.schema, self.server.monitoring.state(), validate=False))
        if touches("ietf-yang-library"):
            yl = self.schema.ctx.get_yanglib_data("%u")
            data.merge(DataTree(self.schema, yl.cdata))
        shown = self._config_for_client(data, flt)
        return f"<data>{(shown if shown is not None else data).print('xml', wd)}</data>"

    async def _operational_state(self, selection: StateSelection) -> DataTree:
        try:
            state = await self.server.backend.operational_state_for(selection)
        except BackendError as exc:
            raise RpcError(exc.error_tag, exc.message, path=exc.path) from None
        if not state:
            return DataTree(self.schema)
        try:
            return DataTree.from_json(self.schema, state, validate=False)
        except LyFailure as exc:
            log.error("the backend reported state that does not match the YANG: %s", exc)
            raise RpcError("operation-failed", f"The backend reported invalid state: {exc}") from None

    # -- editing -------------------------------------------------------------------

    async def edit_config(self, session: "NetconfSession", op: etree._Element) -> str:
        params = _params(
            op,
            {
                "target": BASE_NS,
                "default-operation": BASE_NS,
                "test-option": BASE_NS,
                "error-option": BASE_NS,
                "config": BASE_NS,
                "url": BASE_NS,
            },
        )
        target = _datastore(_required(params, "target"))
        if "url" in params:
            raise RpcError("operation-not-supported", "The :url capability is not supported.", type="protocol")
        config = _required(params, "config")
        errors = await self.store.edit(
            target,  # type: ignore[arg-type]
            config,
            session.origin,
            default_operation=_choice(params, "default-operation", _EDIT_DEFAULT_OPS, "merge"),  # type: ignore[arg-type]
            test_option=_choice(params, "test-option", _TEST_OPTIONS, "test-then-set"),  # type: ignore[arg-type]
            error_option=_choice(params, "error-option", _ERROR_OPTIONS, "stop-on-error"),  # type: ignore[arg-type]
        )
        if errors:
            raise RpcErrors(errors)
        return OK

    async def copy_config(self, session: "NetconfSession", op: etree._Element) -> str:
        params = _params(op, {"target": BASE_NS, "source": BASE_NS, "with-defaults": WITH_DEFAULTS_NS})
        target = _datastore(_required(params, "target"))
        source = _datastore(_required(params, "source"), allow_config=True)
        if isinstance(source, str):
            if source == target:
                raise RpcError("invalid-value", "Source and target are the same datastore.", type="protocol")
            tree = self.store.tree(source).dup()  # type: ignore[arg-type]
        else:
            tree = self.store.parse_config(source)
        await self.store.copy(target, session.origin, tree)  # type: ignore[arg-type]
        return OK

    async def delete_config(self, session: "NetconfSession", op: etree._Element) -> str:
        params = _params(op, {"target": BASE_NS})
        target = _datastore(_required(params, "target"))
        raise RpcError(
            "operation-failed",
            f"The {target} datastore cannot be deleted; only startup and url targets can, and neither is supported.",
            type="protocol",
        )

    async def validate(self, session: "NetconfSession", op: etree._Element) -> str:
        params = _params(op, {"source": BASE_NS})
        source = _datastore(_required(params, "source"), allow_config=True)
        if isinstance(source, str):
            self.store.validate(source)  # type: ignore[arg-type]
        else:
            self.store.parse_config(source)
        return OK

    # -- locking ------------------------------------------------------------------

    async def lock(self, session: "NetconfSession", op: etree._Element) -> str:
        params = _params(op, {"target": BASE_NS})
        target = _datastore(_required(params, "target"))
        await self.store.lock(target, session.origin)  # type: ignore[arg-type]
        return OK

    async def unlock(self, session: "NetconfSession", op: etree._Element) -> str:
        params = _params(op, {"target": BASE_NS})
        target = _datastore(_required(params, "target"))
        self.store.unlock(target, session.origin)  # type: ignore[arg-type]
        return OK

    # -- candidate and confirmed commit ----------------------------------------------

    async def commit(self, session: "NetconfSession", op: etree._Element) -> str:
        params = _params(
            op, {"confirmed": BASE_NS, "confirm-timeout": BASE_NS, "persist": BASE_NS, "persist-id": BASE_NS}
        )
        confirmed = "confirmed" in params
        timeout = DEFAULT_CONFIRM_TIMEOUT
        if "confirm-timeout" in params:
            timeout = _uint32(params["confirm-timeout"], "confirm-timeout")
            if timeout == 0:
                raise RpcError("invalid-value", "confirm-timeout must be at least 1 second.", type="protocol")
        persist = text_of(params["persist"]) if "persist" in params else None
        persist_id = text_of(params["persist-id"]) if "persist-id" in params else None
        if not confirmed and ("confirm-timeout" in params or "persist" in params):
            raise RpcError(
                "invalid-value", "confirm-timeout and persist need <confirmed/>.", type="protocol"
            ).with_info("bad-element", "confirm-timeout" if "confirm-timeout" in params else "persist")
        await self.store.commit(
            session.origin, confirmed=confirmed, timeout=timeout, persist=persist, persist_id=persist_id
        )
        return OK

    async def cancel_commit(self, session: "NetconfSession", op: etree._Element) -> str:
        params = _params(op, {"persist-id": BASE_NS})
        persist_id = text_of(params["persist-id"]) if "persist-id" in params else None
        await self.store.cancel_commit(session.origin, persist_id)
        return OK

    async def discard_changes(self, session: "NetconfSession", op: etree._Element) -> str:
        _params(op, {})
        self.store.discard_changes(session.origin)
        return OK

    # -- sessions -------------------------------------------------------------------

    async def close_session(self, session: "NetconfSession", op: etree._Element) -> str:
        _params(op, {})
        session.close_after_reply()
        return OK

    async def kill_session(self, session: "NetconfSession", op: etree._Element) -> str:
        params = _params(op, {"session-id": BASE_NS})
        sid_el = _required(params, "session-id")
        sid = _uint32(sid_el, "session-id")
        if sid == session.session_id:
            raise RpcError("invalid-value", "A session cannot kill itself; use close-session.", type="protocol")
        victim = self.server.sessions.get(sid)
        if victim is None:
            raise RpcError("invalid-value", f"There is no session {sid}.", type="protocol").with_info(
                "bad-element", "session-id"
            )
        await victim.kill(by=session.session_id)
        return OK

    # -- monitoring ---------------------------------------------------------------

    async def get_schema(self, session: "NetconfSession", op: etree._Element) -> str:
        params = _params(op, {"identifier": MONITORING_NS, "version": MONITORING_NS, "format": MONITORING_NS})
        ident = text_of(_required(params, "identifier"))
        version = text_of(params["version"]) if "version" in params else None
        fmt = text_of(params["format"]) if "format" in params else None
        text = self.server.monitoring.get_schema(ident, version, fmt)
        return f'<data xmlns="{MONITORING_NS}">{escape(text)}</data>'

    # -- notifications ------------------------------------------------------------

    async def create_subscription(self, session: "NetconfSession", op: etree._Element) -> str:
        params = _params(
            op,
            # ncclient sends the filter in the base namespace
            {"stream": NOTIF_NS, "filter": (NOTIF_NS, BASE_NS), "startTime": NOTIF_NS, "stopTime": NOTIF_NS},
        )
        bus = self.server.bus
        if bus.subscribed(session.session_id):
            raise RpcError(
                "operation-failed", "This session already has a subscription.", type="protocol"
            )
        stream = text_of(params["stream"]) if "stream" in params else STREAM
        if stream != STREAM:
            raise RpcError("invalid-value", f'No stream "{stream}"; the only stream is NETCONF.').with_info(
                "bad-element", "stream"
            )
        start = self._time(params, "startTime")
        stop = self._time(params, "stopTime")
        now = time.time()
        if start is not None and start > now:
            raise RpcError("bad-element", "startTime is in the future.").with_info("bad-element", "startTime")
        if stop is not None and start is None:
            raise RpcError("missing-element", "stopTime needs startTime.").with_info("bad-element", "startTime")
        if stop is not None and start is not None and stop < start:
            raise RpcError("bad-element", "stopTime is before startTime.").with_info("bad-element", "stopTime")
        flt = self.filters.parse(params.get("filter"))
        sub = bus.subscribe(session, flt, start, stop)
        session.after_reply(lambda: self._start_subscription(sub))
        return OK

    def _start_subscription(self, sub: Any) -> None:
        bus = self.server.bus
        bus.replay(sub)
        if sub.stop_time is not None and not sub.done:
            delay = max(0.0, sub.stop_time - time.time())
            self.server.loop.call_later(delay, bus.complete, sub)

    @staticmethod
    def _time(params: dict[str, etree._Element], name: str) -> float | None:
        if name not in params:
            return None
        try:
            return parse_time(text_of(params[name]))
        except ValueError:
            raise RpcError("invalid-value", f"{name} is not an RFC 3339 date-time.").with_info(
                "bad-element", name
            ) from None

    # -- the node modules' RPCs -------------------------------------------------

    async def module_rpc(self, module: str, op: etree._Element) -> str:
        name = f"{module}:{etree.QName(op).localname}"
        rpc = self._parse_op(etree.tostring(op), "xml", lib.LYD_TYPE_RPC_YANG, op)
        try:
            doc = json.loads(print_nodes(rpc.root, "json", WithDefaults.REPORT_ALL, siblings=True) or "{}")
        finally:
            rpc.free()
        try:
            output = await self.server.backend.rpc(name, doc.get(name, {}))
        except BackendError as exc:
            raise RpcError(exc.error_tag, exc.message, path=exc.path) from None
        if not output:
            return OK
        reply = self._parse_op(json.dumps({name: output}).encode(), "json", lib.LYD_TYPE_REPLY_YANG, None)
        child = lib.lyd_child(reply.root)
        body = print_nodes(child, "xml", WithDefaults.EXPLICIT, siblings=True) if child != ffi.NULL else ""
        reply.free()
        return body or OK

    def _parse_op(self, data: bytes, fmt: str, dtype: int, source: etree._Element | None) -> DataTree:
        try:
            return DataTree.parse_op(self.schema, data, fmt, dtype, validate=True)
        except LyFailure as failure:
            err = from_failure(failure, self.schema, source=source)
            if source is None:  # the backend's output is wrong, not the request
                log.error("backend RPC output does not match the YANG: %s", failure)
                raise RpcError("operation-failed", f"The backend returned invalid output: {err.message}") from None
            raise err from None
