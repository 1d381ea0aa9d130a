"""Sessions interleaving with a transaction in flight.

A commit waits for the backend and for the disk; other sessions are served
meanwhile.  Whatever they do in that window must keep its meaning: an
edit answered ``<ok/>`` is not thrown away, a lock is not granted under an
operation that then changes the locked datastore, and RFC 6241 section 7.5's
lock conditions hold.

The backend here holds every apply until the test lets it go, so the
window is entered deterministically, not by timing.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from lxml import etree
from ncclient.operations.rpc import RPCError

from agent.backends.base import BackendContext, JsonTree
from tests.support import configs as C
from tests.support.agent_thread import AgentThread
from tests.support.recording_backend import RecordingBackend

NS = {"w": C.WIFI_NS}


class GatedBackend(RecordingBackend):
    """Applies only when the test opens the gate (when it is closed)."""

    def __init__(self, context: BackendContext) -> None:
        super().__init__(context)
        self.closed = False
        self.entered = threading.Event()
        self._gate: asyncio.Event | None = None

    async def apply(self, old: JsonTree, new: JsonTree) -> None:
        if self.closed:
            self._gate = asyncio.Event()
            self.entered.set()
            await self._gate.wait()
        await super().apply(old, new)

    def open(self) -> None:
        """Call on the agent's loop."""
        self.closed = False
        if self._gate is not None:
            self._gate.set()


class Gate:
    def __init__(self, agent: AgentThread, backend: GatedBackend) -> None:
        self.agent = agent
        self.backend = backend

    def close(self) -> None:
        self.backend.entered.clear()
        self.agent.run(lambda: setattr(self.backend, "closed", True))

    def wait_entered(self) -> None:
        assert self.backend.entered.wait(30), "no apply reached the backend"

    def open(self) -> None:
        self.agent.run(self.backend.open)

    def txn_waiters(self) -> int:
        """Requests queued behind the transaction in flight."""
        lock = self.agent.server.store._txn  # type: ignore[union-attr]
        return self.agent.run(lambda: len(lock._waiters or ()))


@pytest.fixture
def gated(tmp_path: Path) -> Iterator[tuple[AgentThread, Gate]]:
    backend = GatedBackend(BackendContext("wifi", "gated", tmp_path / "state"))
    with AgentThread(tmp_path, kind="wifi", backend=backend) as agent:
        with agent.connect() as m:
            m.edit_config(target="running", config=C.config(C.wifi(C.radio(C.vif("w0", "alpha", 10)))))
        gate = Gate(agent, backend)
        try:
            yield agent, gate
        finally:
            gate.open()  # a failed test must not leave a commit hanging


def vif_names(xml: str) -> set[str]:
    return set(etree.fromstring(xml.encode()).xpath("//w:vif/w:name/text()", namespaces=NS))


def edit(name: str, ssid: str) -> str:
    return C.config(C.wifi(C.radio(C.vif(name, ssid, 5))))


def in_background(fn: Callable[[], Any]) -> concurrent.futures.Future[Any]:
    pool = concurrent.futures.ThreadPoolExecutor(1)
    future = pool.submit(fn)
    pool.shutdown(wait=False)
    return future


def wait_for(pred: Callable[[], bool], what: str) -> None:
    import time

    deadline = time.monotonic() + 30
    while not pred():
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


def during_a_commit(gate: Gate, a: Any, meanwhile: Callable[[], Any]) -> None:
    """a commits w1; while the commit is in the backend, ``meanwhile`` runs."""
    a.edit_config(target="candidate", config=edit("w1", "from-a"))
    gate.close()
    commit = in_background(a.commit)
    gate.wait_entered()
    meanwhile()
    gate.open()
    assert commit.result(30).ok


def test_candidate_edit_during_a_commit_is_kept(gated: tuple[AgentThread, Gate]) -> None:
    agent, gate = gated
    with agent.connect() as a, agent.connect() as b:
        during_a_commit(gate, a, lambda: b.edit_config(target="candidate", config=edit("w2", "from-b")))
        # a committed the candidate as it was when it asked; b's edit came
        # later and waits in the candidate for the next commit.
        assert vif_names(agent.running_xml()) == {"w0", "w1"}
        assert vif_names(b.get_config(source="candidate").xml) == {"w0", "w1", "w2"}
        b.commit()
        assert vif_names(agent.running_xml()) == {"w0", "w1", "w2"}


def test_copy_config_to_candidate_during_a_commit_is_kept(gated: tuple[AgentThread, Gate]) -> None:
    agent, gate = gated
    replacement = C.config(C.wifi(C.radio(C.vif("w0", "alpha", 10) + C.vif("w9", "copied", 5))))
    with agent.connect() as a, agent.connect() as b:
        during_a_commit(gate, a, lambda: b.copy_config(
            source=f'<source xmlns="{C.BASE_NS}">{replacement}</source>', target="candidate"))
        assert vif_names(b.get_config(source="candidate").xml) == {"w0", "w9"}


def test_discard_during_a_commit_leaves_the_candidate_equal_to_running(gated: tuple[AgentThread, Gate]) -> None:
    agent, gate = gated
    with agent.connect() as a, agent.connect() as b:
        during_a_commit(gate, a, b.discard_changes)
        assert vif_names(b.get_config(source="candidate").xml) == vif_names(agent.running_xml()) == {"w0", "w1"}
        b.lock(target="candidate")  # not modified, so lockable


def queued_behind_an_edit(gate: Gate, a: Any, *requests: tuple[str, Callable[[], Any]]) -> list[Any]:
    """a edits running; while that is in the backend each request is sent
    and waits its turn.  Returns the futures of a's edit and the requests."""
    gate.close()
    futures = [in_background(lambda: a.edit_config(target="running", config=edit("w1", "from-a")))]
    gate.wait_entered()
    for queued, (what, request) in enumerate(requests, 1):
        futures.append(in_background(request))
        wait_for(lambda: gate.txn_waiters() == queued, f"{what} did not queue")
    gate.open()
    return futures


def test_a_lock_is_granted_only_after_the_transaction_in_flight(gated: tuple[AgentThread, Gate]) -> None:
    agent, gate = gated
    with agent.connect() as a, agent.connect() as b, agent.connect() as c:
        # b's edit was allowed when it arrived (nothing locked) and queues
        # behind a's; c's lock queues behind both.
        a_edit, b_edit, c_lock = queued_behind_an_edit(
            gate, a,
            ("b's edit", lambda: b.edit_config(target="running", config=edit("w2", "from-b"))),
            ("c's lock", lambda: c.lock(target="running")),
        )
        assert a_edit.result(30).ok and b_edit.result(30).ok and c_lock.result(30).ok
        held = agent.running_xml()
        assert vif_names(held) == {"w0", "w1", "w2"}
        # Now c holds the lock: nobody else changes running.
        with pytest.raises(RPCError) as exc:
            b.edit_config(target="running", config=edit("w3", "late"))
        assert exc.value.tag == "in-use"
        assert agent.running_xml() == held


def test_an_edit_queued_behind_a_lock_request_is_refused(gated: tuple[AgentThread, Gate]) -> None:
    agent, gate = gated
    with agent.connect() as a, agent.connect() as b, agent.connect() as c:
        # b's edit arrives after c asked for the lock: c gets it first, and
        # b finds running locked.
        a_edit, c_lock, b_edit = queued_behind_an_edit(
            gate, a,
            ("c's lock", lambda: c.lock(target="running")),
            ("b's edit", lambda: b.edit_config(target="running", config=edit("w2", "from-b"))),
        )
        assert a_edit.result(30).ok and c_lock.result(30).ok
        with pytest.raises(RPCError) as exc:
            b_edit.result(30)
        assert exc.value.tag == "in-use"
        assert vif_names(agent.running_xml()) == {"w0", "w1"}


def test_running_cannot_be_locked_during_another_sessions_confirmed_commit(
    gated: tuple[AgentThread, Gate],
) -> None:
    # RFC 6241 7.5: a lock on running is refused while another session has
    # a confirmed commit outstanding.
    agent, _ = gated
    with agent.connect() as a, agent.connect() as b:
        a.edit_config(target="candidate", config=edit("w1", "from-a"))
        a.commit(confirmed=True, timeout="600")
        with pytest.raises(RPCError) as exc:
            b.lock(target="running")
        assert exc.value.tag == "lock-denied"
        assert etree.fromstring(exc.value.info.encode()).findtext(f"{{{C.BASE_NS}}}session-id") == str(a.session_id)
        a.lock(target="running")  # the committing session itself may
        a.commit()
        a.unlock(target="running")
        b.lock(target="running")


def around_a_cancelled_commit(a: Any, meanwhile: Callable[[], Any]) -> None:
    """a confirmed-commits w1, ``meanwhile`` runs, a cancels the commit."""
    a.edit_config(target="candidate", config=edit("w1", "unconfirmed"))
    a.commit(confirmed=True, timeout="600")
    meanwhile()
    a.cancel_commit()


def test_a_rollback_keeps_candidate_edits_made_after_the_confirmed_commit(gated: tuple[AgentThread, Gate]) -> None:
    agent, _ = gated
    with agent.connect() as a, agent.connect() as b:
        around_a_cancelled_commit(a, lambda: b.edit_config(target="candidate", config=edit("w2", "from-b")))
        assert vif_names(agent.running_xml()) == {"w0"}
        # b's edit stays; the cancelled change does not sneak back in with it.
        assert vif_names(b.get_config(source="candidate").xml) == {"w0", "w2"}


def test_candidate_edits_inside_a_rolled_back_change_are_reset_and_logged(
    gated: tuple[AgentThread, Gate], caplog: pytest.LogCaptureFixture
) -> None:
    agent, _ = gated
    with agent.connect() as a, agent.connect() as b:
        # b changes a vif that exists only because of the unconfirmed commit
        around_a_cancelled_commit(a, lambda: b.edit_config(target="candidate", config=edit("w1", "renamed")))
        assert vif_names(agent.running_xml()) == {"w0"}
        candidate = etree.tostring(b.get_config(source="candidate").data_ele)
        assert candidate == etree.tostring(b.get_config(source="running").data_ele)
    assert any(f"last by session {b.session_id}" in r.getMessage() for r in caplog.records)


def test_an_unvalidated_candidate_survives_a_rollback_unvalidated(gated: tuple[AgentThread, Gate]) -> None:
    agent, _ = gated
    # test-option "set": kept without validation, here over 100% of airtime
    greedy = C.config(C.wifi(C.radio(C.vif("w2", "greedy", 95))))
    with agent.connect() as a, agent.connect() as b:
        around_a_cancelled_commit(a, lambda: b.edit_config(target="candidate", test_option="set", config=greedy))
        assert vif_names(b.get_config(source="candidate").xml) == {"w0", "w2"}
        with pytest.raises(RPCError) as exc:
            b.commit()
        assert exc.value.tag == "operation-failed" and "guaranteed" in (exc.value.message or "")
        assert vif_names(agent.running_xml()) == {"w0"}
