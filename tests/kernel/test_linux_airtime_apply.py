"""A change of guarantees and caps alone (what the global scheduler sends
every period) is only SET_VIF requests to the module, all or nothing.

The diffing is a pure function; the applies run the real LinuxBackend on
the fake node of tests/kernel/linux_world.py, whose sources record every
command, hostapd change and netlink request.  The kernel e2e test
(test_e2e.py) measures the same path against the real module.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from agent.backends.base import BackendError
from agent.backends.linux.airtime import AirtimeError, AirtimeStep, VifAirtime, airtime_steps
from agent.backends.linux.airtime_uapi import QDISC_KIND
from agent.backends.wifi_config import parse_wifi_node
from tests.kernel.linux_world import config, make_world

def steps(old: dict, new: dict) -> list[tuple[str, tuple, tuple]] | None:
    out = airtime_steps(parse_wifi_node(old), parse_wifi_node(new))
    return None if out is None else [
        (s.vif, (s.before.share, s.before.cap), (s.after.share, s.after.cap)) for s in out]


def with_radio(tree: dict, **changes: object) -> dict:
    radio = {**tree["ransdn-wifi:wifi-node"]["radio"][0], **changes}
    return {"ransdn-wifi:wifi-node": {"radio": [radio]}}


def with_vif(tree: dict, name: str, **changes: object) -> dict:
    radio = tree["ransdn-wifi:wifi-node"]["radio"][0]
    vifs = [{**v, **changes} if v["name"] == name else v for v in radio["vif"]]
    return with_radio(tree, vif=vifs)


# -- the diff -------------------------------------------------------------------------------


async def test_share_changes_are_steps_with_decreases_first() -> None:
    assert steps(config(), config(a="45", b="15")) == [
        ("sl-b", (3000, 4000), (1500, 4000)), ("sl-a", (2000, None), (4500, None))]
    assert steps(config(), config(a="10", b="40", c="30")) == [
        ("sl-a", (2000, None), (1000, None)), ("sl-b", (3000, 4000), (4000, 4000)),
        ("sl-c", (1000, None), (3000, None))]


async def test_caps_set_moved_and_lifted_are_steps() -> None:
    assert steps(config(), config(b_cap="55.5")) == [("sl-b", (3000, 4000), (3000, 5550))]
    assert steps(config(), config(b_cap=None)) == [("sl-b", (3000, 4000), (3000, None))]
    assert steps(config(b_cap=None), config()) == [("sl-b", (3000, None), (3000, 4000))]


async def test_nothing_to_do_is_no_step() -> None:
    assert steps(config(), config()) == []
    # The same decimal written two ways is the same share.
    assert steps(config(a="20"), config(a="20.00")) == []


async def test_the_order_of_vifs_is_no_change() -> None:
    """The vif list is ordered by the system: an edit may move an entry."""
    moved = with_radio(config(a="25"), vif=list(reversed(config(a="25")["ransdn-wifi:wifi-node"]["radio"][0]["vif"])))
    assert steps(config(), moved) == [("sl-a", (2000, None), (2500, None))]


async def test_a_disabled_vif_has_no_queue_to_set() -> None:
    off = with_vif(config(), "sl-c", enabled=False)
    assert steps(off, with_vif(config(c="5"), "sl-c", enabled=False)) == []


@pytest.mark.parametrize("change", [
    lambda t: with_vif(t, "sl-a", ssid="renamed"),
    lambda t: with_vif(t, "sl-a", vlan=10),
    lambda t: with_vif(t, "sl-a", enabled=False),
    lambda t: with_vif(t, "sl-a", tenant="other"),
    lambda t: with_vif(t, "sl-b", security={"mode": "wpa2-psk", "psk": "00" * 32}),
    lambda t: with_radio(t, channel=6),
    lambda t: with_radio(t, **{"tx-power": 10}),
    lambda t: with_radio(t, scheduler={"interval": 50000}),
    lambda t: with_radio(t, vif=t["ransdn-wifi:wifi-node"]["radio"][0]["vif"][:2]),
    lambda t: {"ransdn-wifi:wifi-node": {"radio": [
        *t["ransdn-wifi:wifi-node"]["radio"], {"name": "phy1", "band": "5ghz", "channel": 36}]}},
    lambda t: {},
], ids=["ssid", "vlan", "disable", "tenant", "psk", "channel", "tx-power", "scheduler",
        "vif-removed", "radio-added", "all-removed"])
async def test_anything_else_is_not_an_airtime_change(change) -> None:
    base = config()
    assert steps(base, change(config(a="25"))) is None


# -- the airtime link: all or nothing --------------------------------------------------------


async def test_a_failed_set_vif_undoes_the_ones_before_it(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    before = world.module.shares()
    world.module.fail = {"sl-a": 1}
    plan = [AirtimeStep("sl-b", VifAirtime(3000, 4000), VifAirtime(1000, 4000)),
            AirtimeStep("sl-a", VifAirtime(2000, None), VifAirtime(4000, None))]
    with pytest.raises(AirtimeError):
        await world.backend.airtime.set_vifs(plan)
    assert world.module.shares() == before
    assert world.module.requests == [
        "SET_VIF sl-b 1000 4000", "SET_VIF sl-a 4000 none", "SET_VIF sl-b 3000 4000"]


# -- the backend -------------------------------------------------------------------------------


async def test_a_share_change_is_set_vif_alone(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    world = make_world(tmp_path)
    world.module.attach("sl-c")
    caplog.set_level(logging.INFO, logger="agent.backends.linux.backend")
    await world.backend.apply(config(), config(a="10", c="20", b_cap="50"))
    assert world.module.requests == [
        "SET_VIF sl-a 1000 none", "SET_VIF sl-b 3000 5000", "SET_VIF sl-c 2000 none"]
    assert world.iw.calls == [] and world.hostapd.changes == [] and world.hostapd.status_calls == []
    assert world.module.shares() == {"sl-a": (1000, None), "sl-b": (3000, 5000), "sl-c": (2000, None)}
    assert world.backend.running == parse_wifi_node(config(a="10", c="20", b_cap="50"))
    (line,) = [r.getMessage() for r in caplog.records if "applied" in r.getMessage()]
    assert "airtime only, 3 actions: genl SET_VIF sl-a share=1000 cap=none; " in line, line


async def test_a_set_vif_that_keeps_failing_changes_nothing(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    world.module.attach("sl-c")
    before = world.module.shares()
    world.module.fail = {"sl-c": 10}
    with pytest.raises(BackendError, match="cannot apply"):
        await world.backend.apply(config(), config(a="15", c="15"))
    assert world.module.shares() == before
    assert world.backend.running == parse_wifi_node(config())
    assert world.hostapd.changes == []


async def test_a_missing_qdisc_is_attached_on_the_way_round(tmp_path: Path,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    """sl-c lost its qdisc (or never had one): SET_VIF cannot reach it, so
    the fast path gives way to the whole configuration, which attaches it."""
    world = make_world(tmp_path)
    caplog.set_level(logging.INFO, logger="agent.backends.linux.backend")
    await world.backend.apply(config(), config(a="15", c="15"))
    assert ("tc", "qdisc", "replace", "dev", "sl-c", "root", QDISC_KIND) in world.iw.calls
    assert world.module.shares() == {"sl-a": (1500, None), "sl-b": (3000, 4000), "sl-c": (1500, None)}
    assert world.hostapd.changes == []
    assert any("whole configuration" in r.getMessage() for r in caplog.records)


async def test_other_changes_take_the_whole_way(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    (tmp_path / "state").mkdir()
    await world.backend.apply(config(), with_vif(config(a="25"), "sl-b", ssid="city-b2"))
    assert world.hostapd.changes == ["REMOVE sl-b", "ADD sl-b"]
    assert "SET_PHY 8" in world.module.requests
    assert world.module.shares()["sl-a"] == (2500, None)


async def test_without_the_module_a_share_change_is_refused(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    world.module.loaded = False
    with pytest.raises(BackendError) as err:
        await world.backend.apply(config(), config(a="25"))
    assert err.value.error_tag == "operation-not-supported"
    assert world.backend.running == parse_wifi_node(config())


async def test_without_the_module_and_not_required_shares_are_kept_as_config(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    world.backend.options = type(world.backend.options)(
        run_dir=world.backend.options.run_dir, require_airtime_module=False)
    world.module.loaded = False
    await world.backend.apply(config(), config(a="25"))
    assert world.backend.running == parse_wifi_node(config(a="25")) and world.iw.calls == []
