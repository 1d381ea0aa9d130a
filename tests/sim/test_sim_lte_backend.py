"""The sim backend's LTE cell through the Backend interface."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from agent.backends.base import BackendError

from .builders import BackendHarness, lte, lte_slice


class Cell(BackendHarness):
    state_tree = "ransdn-lte:lte-cell-state"

    def __init__(self, tmp_path: Path, options: dict | None = None):
        opts = {"cell": {"s1_setup_delay": 0.01}}
        for key, value in (options or {}).items():
            opts[key] = {**opts.get(key, {}), **value} if isinstance(value, dict) else value
        super().__init__("lte", "cell1", tmp_path, opts)

    async def attach(self, imsi: str, mcc: str | None = None, mnc: str | None = None) -> dict:
        args = {"imsi": imsi}
        if mcc:
            args["plmn"] = {"mcc": mcc, "mnc": mnc}
        return await self.rpc("ue-attach", **args)

    def s1_events(self) -> list[tuple[str, str, int, str]]:
        return [(e.body["slice"], e.body["address"], e.body["port"], e.body["s1-state"])
                for e in self.events if e.name == "ransdn-lte:s1-state-change"]

    async def wait_s1(self, slice_id: str, address: str, state: str) -> None:
        async def until() -> None:
            while True:
                for s in (await self.state()).get("slice", []):
                    for m in s.get("mme", []):
                        if (s["id"], m["address"], m["s1-state"]) == (slice_id, address, state):
                            return
                # Not every transition is notified (a failed S1 Setup is not).
                self.changed.clear()
                try:
                    await asyncio.wait_for(self.changed.wait(), 0.05)
                except asyncio.TimeoutError:
                    pass

        await asyncio.wait_for(until(), 10)


def slice_state(state: dict, sid: str) -> dict:
    return next(s for s in state["slice"] if s["id"] == sid)


async def test_plmns_are_broadcast_only_when_configured_and_enabled(tmp_path, assert_valid_state):
    async with Cell(tmp_path) as cell:
        state = await cell.state()
        assert state["cell"]["oper-status"] == "down" and "slice" not in state
        await cell.commit(lte(lte_slice("a", "001", "01"), lte_slice("b", "001", "002"), pci=7, tac=100))
        state = await cell.state()
        assert_valid_state({"ransdn-lte:lte-cell-state": state})
        assert state["cell"] == {"pci": 7, "tac": 100, "oper-status": "up"}
        assert [(s["id"], s["plmn"], s["broadcast"]) for s in state["slice"]] == [
            ("a", {"mcc": "001", "mnc": "01"}, True), ("b", {"mcc": "001", "mnc": "002"}, True)]
        await cell.commit(lte(lte_slice("a", "001", "01"), enabled=False))
        state = await cell.state()
        assert state["cell"]["oper-status"] == "down"
        assert [(s["id"], s["broadcast"]) for s in state["slice"]] == [("a", False)]


async def test_s1_connects_then_comes_up_and_follows_reachability(tmp_path, assert_valid_state):
    async with Cell(tmp_path) as cell:
        await cell.commit(lte(lte_slice("a", mmes=[("10.0.0.1", 36412), ("10.0.0.2", 36412)])))
        mmes = slice_state(await cell.state(), "a")["mme"]
        assert {m["s1-state"] for m in mmes} == {"connecting"}
        await cell.wait_s1("a", "10.0.0.1", "up")
        await cell.wait_s1("a", "10.0.0.2", "up")
        assert_valid_state({"ransdn-lte:lte-cell-state": await cell.state()})
        assert sorted(cell.s1_events()) == [("a", "10.0.0.1", 36412, "up"), ("a", "10.0.0.2", 36412, "up")]
        cell.events.clear()

        await cell.rpc("set-mme-reachable", address="10.0.0.2", reachable=False)
        await cell.wait_s1("a", "10.0.0.2", "down")
        assert cell.s1_events() == [("a", "10.0.0.2", 36412, "down")]
        await cell.rpc("set-mme-reachable", address="10.0.0.2", port=36412, reachable=True)
        await cell.wait_s1("a", "10.0.0.2", "up")
        assert cell.s1_events()[-1] == ("a", "10.0.0.2", 36412, "up")
        cell.events.clear()

        # Removing an MME, or the slice, tears its association down.
        await cell.commit(lte(lte_slice("a", mmes=[("10.0.0.1", 36412)])))
        assert cell.s1_events() == [("a", "10.0.0.2", 36412, "down")]
        await cell.commit(lte())
        assert cell.s1_events()[-1] == ("a", "10.0.0.1", 36412, "down")


async def test_unreachable_mme_never_comes_up(tmp_path):
    async with Cell(tmp_path, {"cell": {"unreachable_mmes": ["10.0.0.9"]}}) as cell:
        await cell.commit(lte(lte_slice("a", mmes=[("10.0.0.9", 36412)])))
        await cell.wait_s1("a", "10.0.0.9", "down")
        assert cell.s1_events() == []
        reply = await cell.attach("001011234567890", "001", "01")
        assert reply == {"result": "rejected", "slice": "a", "cause": "s1-down"}
        await cell.rpc("set-mme-reachable", address="10.0.0.9", reachable=True)
        await cell.wait_s1("a", "10.0.0.9", "up")


ACL_CASES = [
    # imsi, acl, expected result
    ("001010000000001", {"imsis": ["001010000000001"]}, "accepted"),
    ("001010000000002", {"imsis": ["001010000000001"]}, "rejected"),
    ("001019990000123", {"prefixes": ["00101999"]}, "accepted"),
    ("001019980000123", {"prefixes": ["00101999"]}, "rejected"),
    ("001015550000000", {"default": "accept"}, "accepted"),
    ("001015550000000", {"default": "reject"}, "rejected"),
    ("001015550000000", {"imsis": ["001010000000001"], "default": "accept"}, "accepted"),
]


@pytest.mark.parametrize(("imsi", "acl", "result"), ACL_CASES)
async def test_ue_attach_follows_the_slice_acl(tmp_path, imsi, acl, result):
    async with Cell(tmp_path) as cell:
        await cell.commit(lte(lte_slice("a", "001", "01", **acl)))
        await cell.wait_s1("a", "10.0.0.1", "up")
        reply = await cell.attach(imsi, "001", "01")
        state = await cell.state()
        a = slice_state(state, "a")
        rejections = [e.body for e in cell.events if e.name == "ransdn-lte:ue-attach-rejected"]
        if result == "accepted":
            assert reply == {"result": "accepted", "slice": "a"}
            assert (a["attached-ues"], a["attach-accepted"], a["attach-rejected"]) == (1, "1", "0")
            assert a["ue"][0]["imsi"] == imsi
            assert state["rejected-attaches"] == "0" and rejections == []
        else:
            assert reply == {"result": "rejected", "slice": "a", "cause": "imsi-not-allowed"}
            assert (a["attached-ues"], a["attach-accepted"], a["attach-rejected"]) == (0, "0", "1")
            assert "ue" not in a
            assert state["rejected-attaches"] == "1"
            assert rejections == [{"imsi": imsi, "plmn": {"mcc": "001", "mnc": "01"},
                                   "cause": "imsi-not-allowed"}]


async def test_attach_to_a_plmn_not_broadcast_is_rejected(tmp_path):
    async with Cell(tmp_path) as cell:
        await cell.commit(lte(lte_slice("a", "001", "01", default="accept")))
        await cell.wait_s1("a", "10.0.0.1", "up")
        assert await cell.attach("001020000000001", "001", "02") == {
            "result": "rejected", "cause": "plmn-not-broadcast"}
        # Without a PLMN the UE looks for its home PLMN.
        assert await cell.attach("001010000000001") == {"result": "accepted", "slice": "a"}
        assert await cell.attach("999990000000001") == {
            "result": "rejected", "cause": "plmn-not-broadcast"}
        state = await cell.state()
        assert state["rejected-attaches"] == "2"
        assert slice_state(state, "a")["attach-rejected"] == "0"
        await cell.commit(lte(lte_slice("a", "001", "01", default="accept"), enabled=False))
        assert (await cell.attach("001010000000002", "001", "01"))["cause"] == "plmn-not-broadcast"


async def test_reconfiguration_detaches_ues_no_longer_admitted(tmp_path):
    async with Cell(tmp_path) as cell:
        await cell.commit(lte(lte_slice("a", "001", "01", prefixes=["00101"]),
                              lte_slice("b", "001", "02", default="accept")))
        await cell.wait_s1("a", "10.0.0.1", "up")
        await cell.wait_s1("b", "10.0.0.1", "up")
        for imsi in ("001011111111111", "001012222222222"):
            assert (await cell.attach(imsi, "001", "01"))["result"] == "accepted"
        assert (await cell.attach("001023333333333", "001", "02"))["result"] == "accepted"
        # Narrow a's ACL to one IMSI and remove b.
        await cell.commit(lte(lte_slice("a", "001", "01", imsis=["001011111111111"])))
        state = await cell.state()
        a = slice_state(state, "a")
        assert [u["imsi"] for u in a["ue"]] == ["001011111111111"]
        assert a["attach-accepted"] == "2", "counters survive reconfiguration"
        assert [s["id"] for s in state["slice"]] == ["a"]
        await cell.rpc("ue-detach", imsi="001011111111111")
        assert "ue" not in slice_state(await cell.state(), "a")
        with pytest.raises(BackendError, match="UE 001011111111111 is not attached"):
            await cell.rpc("ue-detach", imsi="001011111111111")


@pytest.mark.parametrize(
    ("options", "config", "message"),
    [
        ({"cell": {"max_plmns": 2}},
         lte(lte_slice("a", mnc="01"), lte_slice("b", mnc="02"), lte_slice("c", mnc="03")),
         "cell cell1 can broadcast at most 2 PLMNs, not 3"),
        ({"cell": {"earfcn_dl_ranges": [[0, 599]]}}, lte(earfcn_dl=1300),
         "the radio of cell cell1 cannot transmit on EARFCN 1300 (supported: 0-599)"),
        ({"fail_apply_when": {"plmn": "00199"}}, lte(lte_slice("x", "001", "99")),
         "cell cell1 refused slice x (PLMN 001-99) (simulated failure)"),
    ],
)
async def test_cell_refuses_what_it_cannot_do_and_changes_nothing(tmp_path, options, config, message):
    async with Cell(tmp_path, options) as cell:
        await cell.commit(lte(lte_slice("a", default="accept")))
        await cell.wait_s1("a", "10.0.0.1", "up")
        await cell.attach("001010000000001", "001", "01")
        before = await cell.state()
        cell.events.clear()
        with pytest.raises(BackendError) as err:
            await cell.backend.apply(cell.running, config)
        assert err.value.message == message
        assert await cell.state() == before and cell.events == []


async def test_wifi_rpcs_are_refused_on_a_cell(tmp_path):
    async with Cell(tmp_path) as cell:
        with pytest.raises(BackendError) as err:
            await cell.rpc("station-attach", radio="phy0", ssid="x", **{"mac-address": "02:00:00:00:00:01"})
        assert err.value.error_tag == "operation-not-supported"
