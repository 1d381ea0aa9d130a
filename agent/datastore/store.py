"""The running and candidate datastores, their locks and transactions
(RFC 6241 sections 7.5, 8.3 and 8.4).

Every change to running goes through :meth:`Datastores._set_running`: the
new tree is validated, the backend applies it (all-or-nothing), the file is
written atomically, and only then does running point at the new tree.  A
failure at any step leaves running, the file and the world as they were.

Changes to running are transactions, one at a time (``_txn``); they await
the backend and the disk, and other sessions are served meanwhile:

- The candidate is shared by every session that has not locked it.  A
  commit makes running what the candidate held when the commit began; an
  edit that lands while it is in flight stays in the candidate (it was
  answered <ok/>) for the next commit.
- A lock is granted only between transactions, so no change that began
  before it completes under it; a change that was queued behind the lock
  finds the datastore locked (RFC 6241 7.5).
- A rollback of a confirmed commit replays the candidate's own later
  edits onto the restored configuration.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Literal, Protocol

from lxml import etree

from agent.backends.base import Backend, BackendError
from agent.netconf.errors import RpcError

from .edit import DefaultOperation, ErrorOption, apply_edit, parse_config
from .errors import from_failure
from .persistence import ConfigFiles
from .tree import DataTree, LyFailure, WithDefaults

if TYPE_CHECKING:
    from .schema import Schema

log = logging.getLogger(__name__)

Datastore = Literal["running", "candidate"]
TestOption = Literal["test-then-set", "set", "test-only"]
DATASTORES: tuple[Datastore, ...] = ("running", "candidate")

#: RFC 6241 section 8.4.5.1: the default confirm-timeout.
DEFAULT_CONFIRM_TIMEOUT = 600


@dataclass(frozen=True)
class Origin:
    """Who changed something; ``session_id`` None means the server itself."""

    session_id: int | None = None
    username: str | None = None
    source_host: str | None = None


SERVER = Origin()


class StoreListener(Protocol):
    def running_changed(self, old: DataTree, new: DataTree, origin: Origin) -> None: ...

    def confirmed_commit(
        self, event: str, origin: Origin, timeout: int | None, persist_id: str | None
    ) -> None: ...


class _NoListener:
    def running_changed(self, old: DataTree, new: DataTree, origin: Origin) -> None:
        pass

    def confirmed_commit(self, event: str, origin: Origin, timeout: int | None, persist_id: str | None) -> None:
        pass


@dataclass
class PendingCommit:
    """A confirmed commit awaiting its confirming commit."""

    rollback_to: DataTree
    origin: Origin
    persist: str | None
    timeout: int
    timer: asyncio.TimerHandle | None = field(default=None, repr=False)


class Datastores:
    def __init__(
        self,
        schema: "Schema",
        backend: Backend,
        state_dir: Path,
        listener: StoreListener | None = None,
    ) -> None:
        self.schema = schema
        self.backend = backend
        self.files = ConfigFiles(state_dir)
        self.listener: StoreListener = listener or _NoListener()
        self.running = DataTree(schema)
        #: Goes up whenever running or the candidate changes, so that what
        #: was derived from them (a get-config reply) can be reused until then.
        self.generation = 0
        #: None while the candidate equals running (not modified).
        self._candidate: DataTree | None = None
        #: Whether the candidate passed validation since its last change
        #: (it may not have, after test-option "set").
        self._candidate_valid = True
        self.candidate_modified_by: int | None = None
        # running as stored (explicit values) and as handed to the backend
        # (with defaults), kept to avoid printing it again on every commit
        self._running_text = b"{}"
        self._running_full = "{}"
        self.locks: dict[str, tuple[int, float]] = {}
        self.pending: PendingCommit | None = None
        self._txn = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        #: One thread does the disk writes, in order, off the event loop:
        #: an fsync takes milliseconds on flash and other sessions go on.
        self._disk = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="ransdn-datastore-disk")

    # -- start and stop -------------------------------------------------------

    async def load(self) -> None:
        """Restore running from the state directory and apply it to the backend."""
        data, was_rollback = self.files.load()
        tree = DataTree(self.schema)
        if data is not None and data.strip() not in (b"", b"{}"):
            try:
                tree = DataTree.parse(self.schema, data, "json", config_only=True)
            except LyFailure as exc:
                raise RuntimeError(f"{self.files.running}: stored configuration is invalid: {exc}") from None
        else:
            tree.validate()
        full = tree.print("json", WithDefaults.REPORT_ALL) or "{}"
        await self._apply_backend("{}", full)
        self.running = tree
        self.generation += 1
        self._running_text = self._serialise(tree)
        self._running_full = full
        if was_rollback:
            log.warning("an unconfirmed commit was pending at shutdown; restored the configuration before it")
            self.files.save_running(self._running_text)
            self.files.drop_rollback()

    async def close(self) -> None:
        if self.pending and self.pending.timer:
            self.pending.timer.cancel()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.get_running_loop().run_in_executor(None, self._disk.shutdown)
        self.files.close()
        # Let change reports already queued run, then free the trees here
        # and now, on this thread, before anyone closes the schema.
        await asyncio.sleep(0)
        for tree in (self.running, self._candidate, self.pending.rollback_to if self.pending else None):
            if tree is not None:
                tree.free()
        self.pending = None
        self._reset_candidate()

    # -- reading --------------------------------------------------------------

    @property
    def candidate(self) -> DataTree:
        return self._candidate if self._candidate is not None else self.running

    @property
    def candidate_modified(self) -> bool:
        return self._candidate is not None

    def tree(self, name: Datastore) -> DataTree:
        """The datastore's tree; callers must not modify it."""
        return self.running if name == "running" else self.candidate

    # -- locks ------------------------------------------------------------------

    def lock_holder(self, name: str) -> int | None:
        held = self.locks.get(name)
        return held[0] if held else None

    def _check_writable(self, name: Datastore, origin: Origin) -> None:
        holder = self.lock_holder(name)
        if holder is not None and holder != origin.session_id:
            raise RpcError(
                "in-use",
                f"The {name} datastore is locked by session {holder}.",
                type="protocol",
            ).with_info("session-id", str(holder))

    async def lock(self, name: Datastore, origin: Origin) -> None:
        """Grant a lock (RFC 6241 7.5) once no change is in flight.

        A change that was allowed when it arrived may still be waiting for
        the backend or the disk; a lock granted meanwhile would see the
        locked datastore change under it.  So the lock queues behind such
        changes, and changes queued after it find the datastore locked.
        """
        async with self._txn:
            self._grant_lock(name, origin)

    def _grant_lock(self, name: Datastore, origin: Origin) -> None:
        holder = self.lock_holder(name)
        if holder is not None:
            raise RpcError(
                "lock-denied",
                f"The {name} datastore is already locked by session {holder}.",
                type="protocol",
            ).with_info("session-id", str(holder))
        if name == "candidate" and self.candidate_modified:
            by = self.candidate_modified_by or 0
            raise RpcError(
                "lock-denied",
                "The candidate datastore has uncommitted changes; commit or discard them first.",
                type="protocol",
            ).with_info("session-id", str(by))
        pending = self.pending
        if name == "running" and pending is not None and pending.origin.session_id != origin.session_id:
            by = pending.origin.session_id or 0
            raise RpcError(
                "lock-denied",
                f"A confirmed commit by session {by} is outstanding; confirm or cancel it first.",
                type="protocol",
            ).with_info("session-id", str(by))
        assert origin.session_id is not None
        self.locks[name] = (origin.session_id, time.time())

    def unlock(self, name: Datastore, origin: Origin) -> None:
        holder = self.lock_holder(name)
        if holder is None:
            raise RpcError("operation-failed", f"The {name} datastore is not locked.", type="protocol")
        if holder != origin.session_id:
            raise RpcError(
                "operation-failed",
                f"The {name} datastore is locked by session {holder}, not by this session.",
                type="protocol",
            ).with_info("session-id", str(holder))
        del self.locks[name]
        if name == "candidate":
            # RFC 6241 8.3.5.2: outstanding changes go when the lock goes.
            self._reset_candidate()

    # -- edit-config, copy-config, validate, discard ----------------------------------

    async def edit(
        self,
        target: Datastore,
        config: etree._Element,
        origin: Origin,
        default_operation: DefaultOperation = "merge",
        test_option: TestOption = "test-then-set",
        error_option: ErrorOption = "stop-on-error",
    ) -> list[RpcError]:
        """Apply an edit; return the errors tolerated by continue-on-error."""
        self._check_writable(target, origin)
        if target == "running":
            async with self._txn:
                # A lock may have been granted while this edit waited.
                self._check_writable(target, origin)
                result = apply_edit(self.schema, self.running, config, default_operation, error_option)
                self._validate(result.tree)
                if test_option != "test-only":
                    await self._set_running(result.tree, origin)
                return result.errors
        result = apply_edit(self.schema, self.candidate, config, default_operation, error_option)
        if test_option != "set":
            self._validate(result.tree)
        if test_option != "test-only":
            self._set_candidate(result.tree, origin, valid=test_option != "set")
        return result.errors

    async def copy(self, target: Datastore, origin: Origin, source: DataTree) -> None:
        """Replace a datastore with ``source`` (owned by the callee afterwards)."""
        self._check_writable(target, origin)
        self._validate(source)
        if target == "running":
            async with self._txn:
                self._check_writable(target, origin)
                await self._set_running(source, origin)
        else:
            self._set_candidate(source, origin)

    def parse_config(self, config: etree._Element) -> DataTree:
        """An inline ``<config>`` element as a (validated) data tree."""
        tree = parse_config(self.schema, config)
        self._validate(tree)
        return tree

    def validate(self, name: Datastore) -> None:
        self._validate(self.tree(name).dup())

    def discard_changes(self, origin: Origin) -> None:
        self._check_writable("candidate", origin)
        self._reset_candidate()

    def _validate(self, tree: DataTree) -> None:
        try:
            tree.validate()
        except LyFailure as exc:
            raise from_failure(exc, self.schema, tree=tree) from None

    def _set_candidate(self, tree: DataTree, origin: Origin, valid: bool = True) -> None:
        self.generation += 1
        self._candidate = tree
        self._candidate_valid = valid
        self.candidate_modified_by = origin.session_id

    def _candidate_committed(self, committed: DataTree) -> None:
        """The candidate tree ``committed`` is running now.

        The candidate is shared by every session that does not lock it, and
        a commit awaits the backend and the disk: another session's edit or
        copy may have replaced the candidate meanwhile.  That change was
        answered <ok/> and is not part of what was committed, so it stays.
        """
        if self._candidate is committed:
            self._reset_candidate()

    def _reset_candidate(self) -> None:
        self.generation += 1
        self._candidate = None
        self._candidate_valid = True
        self.candidate_modified_by = None

    # -- commit --------------------------------------------------------------------

    async def commit(
        self,
        origin: Origin,
        *,
        confirmed: bool = False,
        timeout: int = DEFAULT_CONFIRM_TIMEOUT,
        persist: str | None = None,
        persist_id: str | None = None,
    ) -> None:
        self._check_writable("running", origin)
        self._check_writable("candidate", origin)
        async with self._txn:
            self._check_writable("running", origin)
            self._check_writable("candidate", origin)
            pending = self.pending
            if pending is None and persist_id is not None:
                raise RpcError(
                    "invalid-value",
                    "No confirmed commit is pending for this persist-id.",
                    type="protocol",
                ).with_info("bad-element", "persist-id")
            if pending is not None:
                self._check_pending_owner(pending, origin, persist_id, "commit")
            # The candidate tree itself becomes running: after the commit the
            # candidate is running again, and on failure it is left as it was.
            new = self.candidate
            if not self._candidate_valid:
                self._validate(new)  # adds the default nodes, in place
                self._candidate_valid = True
                self.generation += 1
            if pending is None and confirmed:
                rollback_to = self.running.dup()
                await self._on_disk(self.files.save_rollback, self._running_text)
                try:
                    await self._set_running(new, origin)
                except BaseException:
                    await self._on_disk(self.files.drop_rollback)
                    raise
                self.pending = PendingCommit(rollback_to, origin, persist, timeout)
                self._arm(self.pending)
                self._candidate_committed(new)
                self.listener.confirmed_commit("start", origin, timeout, persist)
                return
            await self._set_running(new, origin)
            self._candidate_committed(new)
            if pending is None:
                return
            if confirmed:
                # A follow-up confirmed commit: keep the rollback point, restart the clock.
                if pending.timer:
                    pending.timer.cancel()
                pending.timeout = timeout
                if persist is not None:
                    pending.persist = persist
                pending.origin = origin if pending.persist is None else pending.origin
                self._arm(pending)
                self.listener.confirmed_commit("extend", origin, timeout, pending.persist)
            else:
                await self._finish_pending()
                self.listener.confirmed_commit("complete", origin, None, pending.persist)

    async def cancel_commit(self, origin: Origin, persist_id: str | None) -> None:
        async with self._txn:
            pending = self.pending
            if pending is None:
                raise RpcError("operation-failed", "No confirmed commit is pending.", type="protocol")
            self._check_pending_owner(pending, origin, persist_id, "cancel-commit")
            await self._roll_back(pending, origin, "cancel", origin)

    def _check_pending_owner(
        self, pending: PendingCommit, origin: Origin, persist_id: str | None, what: str
    ) -> None:
        if pending.persist is not None:
            if persist_id is None:
                raise RpcError(
                    "in-use",
                    f"A confirmed commit with persist is pending; the {what} must carry its persist-id.",
                    type="protocol",
                )
            if persist_id != pending.persist:
                raise RpcError(
                    "invalid-value",
                    "The persist-id does not match the pending confirmed commit.",
                    type="protocol",
                ).with_info("bad-element", "persist-id")
            return
        if persist_id is not None:
            raise RpcError(
                "invalid-value",
                "The pending confirmed commit was issued without persist.",
                type="protocol",
            ).with_info("bad-element", "persist-id")
        if pending.origin.session_id != origin.session_id:
            raise RpcError(
                "in-use",
                f"A confirmed commit by session {pending.origin.session_id} is pending.",
                type="protocol",
            ).with_info("session-id", str(pending.origin.session_id))

    def _arm(self, pending: PendingCommit) -> None:
        loop = asyncio.get_running_loop()
        pending.timer = loop.call_later(pending.timeout, self._spawn_timeout, pending)

    def _spawn_timeout(self, pending: PendingCommit) -> None:
        task = asyncio.get_running_loop().create_task(self._timeout(pending))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _timeout(self, pending: PendingCommit) -> None:
        async with self._txn:
            if self.pending is not pending:
                return
            log.warning("confirmed commit not confirmed within %ss; rolling back", pending.timeout)
            try:
                await self._roll_back(pending, SERVER, "timeout", SERVER)
            except RpcError as exc:
                log.error("rollback after confirm-timeout failed: %s", exc)

    async def _roll_back(self, pending: PendingCommit, origin: Origin, event: str, cause: Origin) -> None:
        """Return running to the rollback point (txn lock held).

        ``origin`` made the change to running, ``cause`` the session whose
        action (cancel-commit, or ending) led to it.
        """
        before = self.running
        await self._set_running(pending.rollback_to.dup(), origin)
        self._rebase_candidate(before)
        await self._finish_pending()
        self.listener.confirmed_commit(event, cause, None, pending.persist)

    def _rebase_candidate(self, before: DataTree) -> None:
        """Carry the candidate's own changes over a rollback of running.

        A modified candidate holds the rolled-back configuration plus what
        sessions edited since; committing it as it is would bring the
        cancelled change back.  Its difference from running as it was
        (``before``) is replayed onto the restored running instead.  Should
        that no longer apply (an edit inside what was rolled back), the
        candidate is reset to running, and the log says whose changes went.
        """
        candidate = self._candidate
        if candidate is None:
            return
        rebased = candidate.rebased(before, self.running)
        if rebased is None:
            log.warning(
                "the candidate's changes (last by session %s) do not apply to the configuration "
                "restored by the rollback; the candidate is reset to running",
                self.candidate_modified_by,
            )
            self._reset_candidate()
            return
        try:
            rebased.validate()
            valid = True
        except LyFailure:
            valid = False  # as a candidate may be; commit and validate will say why
        self._set_candidate(rebased, Origin(self.candidate_modified_by), valid=valid)

    async def _finish_pending(self) -> None:
        pending = self.pending
        if pending and pending.timer:
            pending.timer.cancel()
        self.pending = None
        await self._on_disk(self.files.drop_rollback)

    # -- sessions --------------------------------------------------------------

    async def session_ended(self, origin: Origin) -> None:
        """Release what a terminated session held (RFC 6241 7.5, 8.3.5.2, 8.4.1)."""
        sid = origin.session_id
        for name in list(self.locks):
            if self.lock_holder(name) == sid:
                del self.locks[name]
                if name == "candidate":
                    self._reset_candidate()
        async with self._txn:
            pending = self.pending
            if pending is not None and pending.persist is None and pending.origin.session_id == sid:
                log.info("session %s ended before confirming its commit; rolling back", sid)
                try:
                    await self._roll_back(pending, SERVER, "cancel", origin)
                except RpcError as exc:
                    log.error("rollback after session %s ended failed: %s", sid, exc)

    # -- the one way running changes --------------------------------------------

    def _serialise(self, tree: DataTree) -> bytes:
        text = tree.print("json", WithDefaults.EXPLICIT)
        return text.encode() if text.strip() else b"{}"

    async def _on_disk(self, write: Callable[..., None], *args: bytes) -> None:
        await asyncio.get_running_loop().run_in_executor(self._disk, write, *args)

    async def _apply_backend(self, old: str, new: str) -> None:
        """Apply the change between two RFC 7951 texts (with defaults)."""
        try:
            await self.backend.apply(json.loads(old or "{}"), json.loads(new or "{}"))
        except BackendError as exc:
            raise RpcError(exc.error_tag, exc.message, path=exc.path) from None
        except Exception as exc:  # a backend bug must not take the agent down
            log.exception("backend failed to apply the configuration")
            raise RpcError("operation-failed", f"The backend failed: {exc}") from None

    async def _set_running(self, new: DataTree, origin: Origin) -> None:
        """Make ``new`` (validated) the running configuration; txn lock held."""
        old = self.running
        new_text = self._serialise(new)
        if new_text == self._running_text:
            return
        old_full = self._running_full
        new_full = new.print("json", WithDefaults.REPORT_ALL) or "{}"
        await self._apply_backend(old_full, new_full)
        try:
            await self._on_disk(self.files.save_running, new_text)
        except OSError as exc:
            log.error("cannot save the running configuration: %s; undoing the change", exc)
            try:
                await self._apply_backend(new_full, old_full)
            except RpcError as undo:
                log.error("undoing failed as well: %s", undo)
            raise RpcError("operation-failed", f"Cannot save the configuration: {exc}") from None
        self.running = new
        self.generation += 1
        self._running_text = new_text
        self._running_full = new_full
        # Reported after the reply is on its way: the change is done.
        asyncio.get_running_loop().call_soon(self.listener.running_changed, old, new, origin)
