"""The shared medium, with the kernel module's scheduling core on every
radio (kmod/build/libairtime.so, built by scripts/bootstrap)."""

from __future__ import annotations

import asyncio

import pytest

from testbed.medium.model import RadioSpec, SchedulerSpec, StationSpec, TrafficSpec, VifSpec
from testbed.medium.propagation import Propagation
from testbed.medium.shared import MediumError, SharedMedium


def _vif(name: str, radio_index: int, slot: int, share: float, cap: float | None = None, **kw) -> VifSpec:
    return VifSpec(name, f"02:00:00:00:{radio_index:02x}:{slot:02x}", f"ssid-{name}", name, share, cap, **kw)


async def _two_aps(medium: SharedMedium, *, cap: float | None = None, channel_b: int = 36) -> None:
    """AP a and AP b 40 m apart; one saturating vif each at 54 Mb/s."""
    await medium.add_radio(RadioSpec("a", "phy0", "02:00:00:00:01:00", "5ghz", 36, (0.0, 0.0)))
    await medium.add_radio(RadioSpec("b", "phy0", "02:00:00:00:02:00", "5ghz", channel_b, (40.0, 0.0)))
    await medium.set_vifs("a", "phy0", [_vif("x", 1, 1, cap if cap is not None else 50.0, cap)])
    await medium.set_vifs("b", "phy0", [_vif("y", 2, 1, 50.0)])
    await medium.attach_station("a", "phy0", StationSpec("06:00:00:00:00:01", "x", 54_000))
    await medium.attach_station("b", "phy0", StationSpec("06:00:00:00:00:02", "y", 54_000))
    await medium.set_traffic("a", "phy0", "x", TrafficSpec("saturating"))
    await medium.set_traffic("b", "phy0", "y", TrafficSpec("saturating"))


def _share(snapshot, vif: str) -> float:
    return snapshot.vifs[vif].measured_us / snapshot.survey.channel_time_us


async def test_co_channel_aps_in_range_split_the_channel_like_dcf():
    medium = SharedMedium(seed=1)
    await _two_aps(medium)
    medium.run_for(2.0)
    a = (await medium.snapshot("a"))["phy0"]
    b = (await medium.snapshot("b"))["phy0"]
    assert a.survey.channel_time_us == b.survey.channel_time_us == 2_000_000
    assert _share(a, "x") == pytest.approx(0.5, abs=0.03)
    assert _share(b, "y") == pytest.approx(0.5, abs=0.03)
    # Each hears the other: the channel is busy all the time.
    assert a.survey.busy_time_us == pytest.approx(2_000_000, rel=0.02)
    assert a.survey.tx_time_us == pytest.approx(a.vifs["x"].measured_us, rel=0.01)
    assert a.survey.rx_time_us == pytest.approx(b.survey.tx_time_us, rel=0.05)
    assert [(n.bssid, n.ssid, n.channel) for n in a.neighbours] == [("02:00:00:00:02:01", "ssid-y", 36)]
    assert a.vifs["x"].source == "tx-status" and a.vifs["x"].backlogged_us > 1_900_000


async def test_a_cap_hands_the_rest_of_the_channel_to_the_other_ap():
    medium = SharedMedium(seed=2)
    await _two_aps(medium, cap=30.0)
    medium.run_for(2.0)
    a = (await medium.snapshot("a"))["phy0"]
    b = (await medium.snapshot("b"))["phy0"]
    assert _share(a, "x") == pytest.approx(0.30, abs=0.01)
    assert _share(b, "y") == pytest.approx(0.70, abs=0.015)
    assert a.vifs["x"].throttled_us > 500_000


async def test_radios_on_other_channels_do_not_contend_but_still_hear_each_other():
    medium = SharedMedium(seed=3)
    await _two_aps(medium, channel_b=40)
    medium.run_for(1.0)
    a = (await medium.snapshot("a"))["phy0"]
    assert _share(a, "x") == pytest.approx(1.0, abs=0.01)
    assert [(n.bssid, n.channel) for n in a.neighbours] == [("02:00:00:00:02:01", 40)]
    # Out of range: not heard at all.
    far = SharedMedium(propagation=Propagation(range_m={"5ghz": 10.0}))
    await _two_aps(far)
    assert (await far.snapshot("a"))["phy0"].neighbours == ()


async def test_the_local_scheduler_splits_a_radio_by_guaranteed_shares():
    medium = SharedMedium(seed=4)
    await medium.add_radio(RadioSpec("a", "phy0", "02:00:00:00:01:00", "5ghz", 36))
    await medium.set_vifs("a", "phy0", [_vif("x", 1, 1, 20.0), _vif("y", 1, 2, 80.0)])
    for name, mac, rate in [("x", "06:00:00:00:00:01", 54_000), ("y", "06:00:00:00:00:02", 24_000)]:
        await medium.attach_station("a", "phy0", StationSpec(mac, name, rate))
        await medium.set_traffic("a", "phy0", name, TrafficSpec("saturating"))
    medium.run_for(2.0)
    snap = (await medium.snapshot("a"))["phy0"]
    assert _share(snap, "x") == pytest.approx(0.2, abs=0.01)
    assert _share(snap, "y") == pytest.approx(0.8, abs=0.01)
    # Per station counters add up to the vif's.
    station = snap.stations["06:00:00:00:00:02"]
    assert (station.vif, station.tx_bitrate_kbps) == ("y", 24_000)
    # The vif counts frames released to the driver, the station frames
    # completed: at most the driver's queue apart.
    assert 0 <= snap.vifs["y"].tx_packets - station.tx_packets <= 64
    assert station.tx_airtime_us == pytest.approx(snap.vifs["y"].measured_us, rel=0.01)
    assert station.frame_airtime_estimate_us > snap.stations["06:00:00:00:00:01"].frame_airtime_estimate_us > 0


async def test_constant_on_off_and_idle_traffic():
    medium = SharedMedium(seed=5)
    await medium.add_radio(RadioSpec("a", "phy0", "02:00:00:00:01:00", "5ghz", 36))
    await medium.set_vifs("a", "phy0", [_vif("c", 1, 1, 30.0), _vif("o", 1, 2, 30.0), _vif("i", 1, 3, 30.0)])
    for k, name in enumerate("coi"):
        await medium.attach_station("a", "phy0", StationSpec(f"06:00:00:00:00:0{k}", name, 54_000))
    await medium.set_traffic("a", "phy0", "c", TrafficSpec("constant", rate_kbps=8_000))
    await medium.set_traffic("a", "phy0", "o", TrafficSpec("on-off", on_ms=300, off_ms=1700))
    sent = []
    for _ in range(40):
        before = (await medium.snapshot("a"))["phy0"].vifs["o"].tx_packets
        medium.run_for(0.1)
        sent.append((await medium.snapshot("a"))["phy0"].vifs["o"].tx_packets - before)
    snap = (await medium.snapshot("a"))["phy0"]
    # 8 Mb/s for 4 s, in 1536-octet frames.
    assert snap.vifs["c"].tx_bytes == pytest.approx(8_000_000 / 8 * 4, rel=0.02)
    assert snap.vifs["c"].tx_drops == 0 and snap.vifs["c"].backlog_packets < 10
    # On 15 % of the time, then its queue drains, then silence.
    assert sum(1 for n in sent if n == 0) >= 10
    assert sum(1 for n in sent if n > 0) >= 6
    assert snap.vifs["i"].tx_packets == 0


async def test_bad_requests_are_refused_and_change_nothing():
    medium = SharedMedium(seed=6)
    await _two_aps(medium)
    with pytest.raises(MediumError, match="exists already"):
        await medium.add_radio(RadioSpec("a", "phy0", "02:00:00:00:01:00", "5ghz", 36))
    with pytest.raises(KeyError):
        await medium.set_vifs("nowhere", "phy0", [])
    with pytest.raises(MediumError, match="bad shares"):
        await medium.set_vifs("a", "phy0", [_vif("x", 1, 1, 50.0, cap=40.0), _vif("z", 1, 2, 10.0)])
    with pytest.raises(MediumError, match="not unique"):
        await medium.set_vifs("a", "phy0", [_vif("x", 1, 1, 10.0), _vif("x", 1, 2, 10.0)])
    with pytest.raises(KeyError):
        await medium.attach_station("a", "phy0", StationSpec("06:00:00:00:00:09", "nope"))
    with pytest.raises(MediumError, match="needs a positive rate"):
        await medium.set_traffic("a", "phy0", "x", TrafficSpec("poisson"))
    with pytest.raises(MediumError, match="bad scheduler parameters"):
        await medium.set_scheduler("a", "phy0", SchedulerSpec(interval_us=10))
    with pytest.raises(KeyError):
        await medium.snapshot("nowhere")
    # Still the same two saturating vifs, splitting the channel.
    medium.run_for(1.0)
    a = (await medium.snapshot("a"))["phy0"]
    assert list(a.vifs) == ["x"] and _share(a, "x") == pytest.approx(0.5, abs=0.04)


async def test_counters_of_remaining_vifs_survive_a_reconfiguration():
    medium = SharedMedium(seed=7)
    await _two_aps(medium)
    medium.run_for(0.5)
    before = (await medium.snapshot("a"))["phy0"].vifs["x"]
    await medium.set_vifs("a", "phy0", [_vif("x", 1, 1, 60.0, 70.0), _vif("w", 1, 2, 10.0)])
    medium.run_for(0.5)
    after = (await medium.snapshot("a"))["phy0"]
    assert after.vifs["x"].tx_packets > before.tx_packets
    assert after.vifs["w"].tx_packets == 0
    # The new vif beacons: the other AP hears it.
    heard = {n.bssid for n in (await medium.snapshot("b"))["phy0"].neighbours}
    assert heard == {"02:00:00:00:01:01", "02:00:00:00:01:02"}
    await medium.remove_radio("a", "phy0")
    assert (await medium.snapshot("b"))["phy0"].neighbours == ()


async def test_real_time_mode_steps_in_the_running_loop_until_closed():
    async with SharedMedium(seed=8, step_ms=5.0) as medium:
        await _two_aps(medium)
        while medium.now_ns == 0:
            await asyncio.sleep(0.01)
    stopped = medium.now_ns
    await asyncio.sleep(0.05)
    assert medium.now_ns == stopped > 0
    assert 0 < (await medium.snapshot("a"))["phy0"].survey.channel_time_us <= stopped // 1000


async def test_counters_are_reported_at_scheduler_interval_boundaries():
    medium = SharedMedium(seed=9, step_ms=1.0)
    await _two_aps(medium, cap=30.0)
    medium.run_for(1.05)
    a = (await medium.snapshot("a"))["phy0"]
    # Sampled 50 ms into an interval: the report is the one of t = 1 s,
    # whole intervals, in which the cap held A to exactly its 30 %.
    assert a.survey.channel_time_us == 1_000_000
    assert a.vifs["x"].measured_us == pytest.approx(300_000, abs=2_000)


async def _drained(seed: int) -> SharedMedium:
    """Two APs that sent for a while, then went idle and drained."""
    medium = SharedMedium(seed=seed, step_ms=1.0)
    await _two_aps(medium)
    medium.run_for(0.5)
    assert not medium._quiet()
    for node, vif in (("a", "x"), ("b", "y")):
        await medium.set_traffic(node, "phy0", vif, TrafficSpec("idle"))
    for _ in range(5000):
        if medium._quiet():
            return medium
        medium.step()
    raise AssertionError("the queues never drained")


async def test_a_quiet_medium_advances_in_one_long_step_as_in_many_short_ones():
    # The real-time loop takes that shortcut whenever nothing is queued
    # and nothing can arrive; it must not change what the radios report.
    short, long = await _drained(10), await _drained(10)
    assert short._quiet() and long._quiet()
    short.run_for(0.3)
    steps = long.steps
    long._pass_quiet_time(300_000_000)
    assert long.steps - steps <= 4  # up to each of 3 boundaries, then on
    assert short.now_ns == long.now_ns
    for node in ("a", "b"):
        assert await short.snapshot(node) == await long.snapshot(node)
    # Traffic again: no longer quiet.
    await long.set_traffic("a", "phy0", "x", TrafficSpec("saturating"))
    assert not long._quiet()
