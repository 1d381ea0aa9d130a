"""The airtime scheduling core: its C harness, its kbuild check and its
Python binding (testbed.airtime_core), on the same properties."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from testbed import airtime_core as ac

ROOT = Path(__file__).resolve().parents[1]
KMOD = ROOT / "kmod"
MS = 1_000_000
SEC = 1_000_000_000


@pytest.fixture(scope="module", autouse=True)
def built() -> None:
    """Build the library and harness from this checkout (idempotent)."""
    subprocess.run(["make", "-s", "-C", str(KMOD), "userspace"], check=True, timeout=300)


# ---- The C side ---------------------------------------------------------------


def test_c_harness_passes() -> None:
    proc = subprocess.run(
        [str(KMOD / "build" / "airtime_test")], capture_output=True, text=True, timeout=300
    )
    summary = re.search(r"^(\d+) passed, (\d+) failed$", proc.stdout, re.M)
    assert summary, proc.stdout + proc.stderr
    passed, failed = int(summary[1]), int(summary[2])
    assert failed == 0 and proc.returncode == 0, proc.stdout + proc.stderr
    assert passed >= 35
    # ASan and UBSan are in: a sanitizer report would have failed the run.
    assert "runtime error" not in proc.stderr and "AddressSanitizer" not in proc.stderr


def test_c_harness_runs_one_test_by_name() -> None:
    proc = subprocess.run(
        [str(KMOD / "build" / "airtime_test"), "guarantee_instant"],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0
    assert proc.stdout.strip().splitlines()[-1] == "1 passed, 0 failed"


@pytest.mark.skipif(
    not list(Path("/usr/src").glob("linux-headers-*-amd64")),
    reason="no Debian kernel headers (scripts/bootstrap installs linux-headers-amd64)",
)
def test_core_builds_under_kbuild_with_werror() -> None:
    if shutil.which("make") is None:
        pytest.skip("make missing")
    proc = subprocess.run(
        ["make", "-C", str(KMOD), "kcheck"], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (KMOD / "build" / "kcheck" / "airtime_kcheck.ko").exists()


# ---- Estimates ------------------------------------------------------------------


def test_ppdu_and_overhead() -> None:
    assert ac.ppdu_ns(1462, 54_000) == 240_000
    assert ac.ppdu_ns(1462, 54_000, ac.Band.GHZ2) == 246_000
    assert ac.overhead_ns(ac.Overhead.DCF, ac.Band.GHZ5, 54_000) == 154_500
    assert ac.overhead_ns(ac.Overhead.NONE, ac.Band.GHZ5, 54_000) == 0
    sched = ac.Scheduler()
    # mac80211's legacy estimate for the same frame: 36 us + 8 L / rate
    mac80211 = (36 + 1462 * 8 * 10 // 540) * 1000
    assert sched.estimate_ns(1462, 54_000) / mac80211 == pytest.approx(1.55, abs=0.03)


def test_zero_rate_is_refused() -> None:
    with pytest.raises(ac.AirtimeError, match="positive"):
        ac.ppdu_ns(1500, 0)
    sched = ac.Scheduler()
    vif = sched.add_vif(50, now_ns=0)
    sched.enqueue(vif, 1500, now_ns=0)
    before = sched.stats(vif, now_ns=0)
    assert sched.estimate_ns(1500, 0) == 0
    with pytest.raises(ac.AirtimeError, match="estimate"):
        sched.dequeue(vif, 1500, sched.estimate_ns(1500, 0), now_ns=0)
    assert sched.stats(vif, now_ns=0) == before


# ---- Bad input --------------------------------------------------------------------


@pytest.mark.parametrize("share", [100.01, -1, "12.345", "abc", float("nan")])
def test_bad_shares_are_refused(share: object) -> None:
    sched = ac.Scheduler()
    with pytest.raises(ac.AirtimeError):
        sched.add_vif(share, now_ns=0)  # type: ignore[arg-type]
    assert sched.vifs == []


def test_cap_below_guarantee_is_refused_and_nothing_changes() -> None:
    sched = ac.Scheduler()
    with pytest.raises(ac.AirtimeError, match="below"):
        sched.add_vif(30, 20, now_ns=0)
    vif = sched.add_vif(30, 40, now_ns=0)
    with pytest.raises(ac.AirtimeError, match="below"):
        sched.set_share(vif, 50, 40, now_ns=0)
    st_ = sched.stats(vif, now_ns=0)
    assert (st_.guaranteed, st_.cap) == (30, 40)


def test_a_radio_holds_32_vifs() -> None:
    sched = ac.Scheduler()
    for _ in range(32):
        sched.add_vif(1, now_ns=0)
    with pytest.raises(ac.AirtimeError, match="32"):
        sched.add_vif(1, now_ns=0)


@pytest.mark.parametrize(
    "params",
    [
        ac.SchedulerParams(interval_ns=999_999),
        ac.SchedulerParams(interval_ns=2 * SEC),
        ac.SchedulerParams(inflight_budget_ns=50_000),
        ac.SchedulerParams(cf_ewma_shift=13),
    ],
)
def test_bad_params_are_refused(params: ac.SchedulerParams) -> None:
    with pytest.raises(ac.AirtimeError, match="parameters"):
        ac.Scheduler(params)
    sched = ac.Scheduler()
    with pytest.raises(ac.AirtimeError):
        sched.set_params(params, 0)
    assert sched.params == ac.SchedulerParams()


def test_values_outside_the_c_types_are_refused() -> None:
    sched = ac.Scheduler()
    vif = sched.add_vif(10, now_ns=0)
    with pytest.raises(ac.AirtimeError, match="now_ns"):
        sched.enqueue(vif, 100, now_ns=-1)
    with pytest.raises(ac.AirtimeError, match="length"):
        sched.enqueue(vif, 1 << 32, now_ns=0)
    with pytest.raises(ac.AirtimeError, match="rate_kbps"):
        ac.Offer(1000, 100, -6000)
    with pytest.raises(ac.AirtimeError, match="duration_ns"):
        ac.SimRadio().step(-1, 0, {})
    assert sched.stats(vif, now_ns=0).backlog_packets == 0


def test_params_from_yang_units() -> None:
    p = ac.SchedulerParams.from_us(100_000, 4_000, "none")
    assert (p.interval_ns, p.inflight_budget_ns, p.overhead) == (100 * MS, 4 * MS, ac.Overhead.NONE)


def test_unknown_vif_is_a_key_error() -> None:
    a, b = ac.Scheduler(), ac.Scheduler()
    vif = a.add_vif(10, now_ns=0)
    b.add_vif(10, now_ns=0)
    with pytest.raises(KeyError):
        b.remove_vif(ac.Vif(slot=0, generation=99), now_ns=0)
    a.remove_vif(vif, now_ns=0)
    with pytest.raises(KeyError):
        a.enqueue(vif, 100, now_ns=0)


# ---- Driving a Scheduler like the kernel module ------------------------------------


class KernelLikeRadio:
    """One qdisc per vif that polls, arms a watchdog and is kicked by
    wakeups; the driver completes frames at once without TX status
    (hwsim's built-in medium), or with status scaled by status_scale."""

    def __init__(self, sched: ac.Scheduler, start_ns: int = 0, status_scale: float | None = None):
        self.sched = sched
        self.base = start_ns
        self.rel = 0  # time since start: the harness's own clock never wraps
        self.status_scale = status_scale
        self.queues: dict[ac.Vif, tuple[int, int]] = {}  # vif -> (len, rate)
        self.timers: dict[ac.Vif, int] = {}
        self.runnable: set[ac.Vif] = set()
        self.max_inflight = 0
        self.max_frame = 0

    @property
    def now(self) -> int:
        """The core's clock, which wraps through 2^64."""
        return (self.base + self.rel) & ac.U64_MAX

    def saturate(self, vif: ac.Vif, length: int, rate: int) -> None:
        self.queues[vif] = (length, rate)
        for _ in range(4):
            self.sched.enqueue(vif, length, now_ns=self.now)
        self.runnable.add(vif)

    def stop(self, vif: ac.Vif) -> None:
        self.sched.purge(vif, now_ns=self.now)
        del self.queues[vif]
        self.runnable.discard(vif)
        self.timers.pop(vif, None)

    def _kick(self) -> None:
        self.runnable.update(v for v in self.sched.take_wakeups() if v in self.queues)

    def run_until(self, t: int) -> None:
        """Run until t nanoseconds after the start."""
        while True:
            for vif in sorted(self.runnable, key=lambda v: v.slot):
                self.runnable.discard(vif)
                self._run_qdisc(vif)
            if self.runnable:
                continue
            if self.rel >= t:
                return
            nxt = min([t, *self.timers.values()])
            self.rel = max(nxt, self.rel + 1)
            for vif, when in list(self.timers.items()):
                if when <= self.rel:
                    del self.timers[vif]
                    self.runnable.add(vif)

    def _run_qdisc(self, vif: ac.Vif) -> None:
        for _ in range(16):
            verdict, wake = self.sched.poll(vif, now_ns=self.now)
            self._kick()
            if verdict is not ac.Verdict.SEND:
                wake_rel = (wake - self.base) & ac.U64_MAX
                assert wake_rel > self.rel
                self.timers[vif] = wake_rel
                return
            length, rate = self.queues[vif]
            tx = self.sched.dequeue(vif, length, self.sched.estimate_ns(length, rate),
                                    now_ns=self.now)
            self.sched.enqueue(vif, length, now_ns=self.now)
            self.max_frame = max(self.max_frame, tx.charge_ns)
            self.max_inflight = max(self.max_inflight,
                                    self.sched.radio_stats(now_ns=self.now).inflight_ns)
            measured = None
            if self.status_scale is not None:
                measured = round(tx.raw_ns * self.status_scale)
            self.sched.complete(tx, measured, now_ns=self.now)
            self._kick()
        self.runnable.add(vif)


def _charged(sched: ac.Scheduler, vifs: list[ac.Vif], now: int) -> list[int]:
    return [sched.stats(v, now_ns=now).charged_ns for v in vifs]


def _shares(before: list[int], after: list[int]) -> list[float]:
    d = [b - a for a, b in zip(before, after)]
    return [100 * x / sum(d) for x in d]


@pytest.mark.parametrize("start", [0, ac.U64_MAX - SEC])
def test_guarantees_20_30_50_at_54_24_6(start: int) -> None:
    sched = ac.Scheduler(now_ns=start)
    radio = KernelLikeRadio(sched, start)
    vifs = [sched.add_vif(g, now_ns=start) for g in (20, 30, 50)]
    for vif, rate in zip(vifs, (54_000, 24_000, 6_000)):
        radio.saturate(vif, 1462, rate)
    radio.run_until(500 * MS)
    before = _charged(sched, vifs, radio.now)
    radio.run_until(2500 * MS)
    shares = _shares(before, _charged(sched, vifs, radio.now))
    assert shares == pytest.approx([20, 30, 50], abs=0.5)
    # Released airtime cannot outrun real time, frames complete at once.
    assert sum(_charged(sched, vifs, radio.now)) == pytest.approx(2.5 * SEC, rel=0.01)
    assert radio.max_inflight <= sched.params.inflight_budget_ns + radio.max_frame
    assert sched.stats(vifs[0], now_ns=radio.now).source == "estimate"


def test_work_conservation_lone_vif_gets_the_radio() -> None:
    sched = ac.Scheduler()
    radio = KernelLikeRadio(sched)
    a, b, c = (sched.add_vif(g, now_ns=0) for g in (20, 30, 50))
    for vif, rate in ((a, 54_000), (b, 24_000), (c, 6_000)):
        radio.saturate(vif, 1462, rate)
    radio.run_until(500 * MS)
    radio.stop(b)
    radio.stop(c)
    before = sched.stats(a, now_ns=radio.now)
    radio.run_until(2 * SEC)
    after = sched.stats(a, now_ns=radio.now)
    assert (after.charged_ns - before.charged_ns) / (1.5 * SEC) == pytest.approx(1.0, abs=0.01)
    assert after.borrowed_ns - before.borrowed_ns == pytest.approx(0.8 * 1.5 * SEC, rel=0.02)


def test_cap_holds_on_an_idle_radio() -> None:
    sched = ac.Scheduler()
    radio = KernelLikeRadio(sched)
    vif = sched.add_vif(10, 30, now_ns=0)
    radio.saturate(vif, 1462, 24_000)
    used = 0
    for k in range(1, 11):
        radio.run_until(k * 100 * MS - 1)
        total = sched.stats(vif, now_ns=radio.now).charged_ns
        assert total - used <= 30 * MS + 700_000
        used = total
    assert used / SEC == pytest.approx(0.30, abs=0.01)
    assert sched.stats(vif, now_ns=radio.now).throttled_ns > 0.6 * SEC


def test_congestion_factor_converges_to_measured_over_estimated() -> None:
    sched = ac.Scheduler()
    radio = KernelLikeRadio(sched, status_scale=1.3)
    vif = sched.add_vif(100, now_ns=0)
    radio.saturate(vif, 1462, 24_000)
    radio.run_until(1 * SEC)
    st_ = sched.stats(vif, now_ns=radio.now)
    assert st_.congestion_factor == pytest.approx(1.3, abs=0.01)
    assert st_.source == "tx-status"
    assert st_.measured_ns == st_.charged_ns  # frames complete at once here


def test_change_shares_mid_run() -> None:
    sched = ac.Scheduler()
    radio = KernelLikeRadio(sched)
    vifs = [sched.add_vif(g, now_ns=0) for g in (20, 30, 50)]
    for vif, rate in zip(vifs, (54_000, 24_000, 6_000)):
        radio.saturate(vif, 1462, rate)
    radio.run_until(1037 * MS)
    sched.set_share(vifs[0], 50, now_ns=radio.now)
    sched.set_share(vifs[2], 20, now_ns=radio.now)
    radio.run_until(1250 * MS)
    before = _charged(sched, vifs, radio.now)
    radio.run_until(2250 * MS)
    assert _shares(before, _charged(sched, vifs, radio.now)) == pytest.approx([50, 30, 20], abs=0.5)


def test_remove_a_vif_with_frames_in_flight() -> None:
    sched = ac.Scheduler()
    a, b = sched.add_vif(50, now_ns=0), sched.add_vif(50, now_ns=0)
    for vif in (a, b):
        sched.enqueue(vif, 1500, now_ns=0)
    txs = [sched.dequeue(v, 1500, sched.estimate_ns(1500, 6000), now_ns=0) for v in (a, b)]
    sched.remove_vif(b, now_ns=1)
    c = sched.add_vif(50, now_ns=1)
    assert c.slot == b.slot
    for tx in txs:
        sched.complete(tx, 2_000_000, now_ns=2)
    radio = sched.radio_stats(now_ns=2)
    assert radio.orphan_completions == 1 and radio.outstanding_ns == 0
    assert sched.stats(c, now_ns=2).charged_ns == 0


def test_pick_path_gives_the_same_shares() -> None:
    sched = ac.Scheduler()
    vifs = [sched.add_vif(g, now_ns=0) for g in (20, 30, 50)]
    rates = dict(zip(vifs, (54_000, 24_000, 6_000)))
    now = 0
    for v in vifs:
        for _ in range(4):
            sched.enqueue(v, 1462, now_ns=now)
    before = None
    while now < 2 * SEC:
        if before is None and now >= 500 * MS:
            before = _charged(sched, vifs, now)
        vif, wake = sched.pick(now_ns=now)
        if vif is None:
            now = wake
            continue
        tx = sched.dequeue(vif, 1462, sched.estimate_ns(1462, rates[vif]), now_ns=now)
        sched.complete(tx, None, now_ns=now)
        sched.enqueue(vif, 1462, now_ns=now)
    assert before is not None
    assert _shares(before, _charged(sched, vifs, now)) == pytest.approx([20, 30, 50], abs=0.5)


# ---- The simulator's batch driver --------------------------------------------------------


def _sim(*shares: tuple[float, float | None]) -> tuple[ac.SimRadio, list[int]]:
    radio = ac.SimRadio()
    return radio, [radio.add_vif(g, c) for g, c in shares]


@pytest.mark.parametrize("won", [1.0, 0.4])
def test_sim_airtime_shares(won: float) -> None:
    radio, slots = _sim((20, None), (30, None), (50, None))
    offers = {s: ac.Offer(ac.SATURATED, 1462, r) for s, r in zip(slots, (54_000, 24_000, 6_000))}
    air = dict.fromkeys(slots, 0)
    used = 0
    for k in range(300):
        res = radio.step(10 * MS, int(won * 10 * MS), offers)
        if k >= 50:
            used += res.airtime_ns
            for s in slots:
                air[s] += res.vifs[s].airtime_ns
    total = sum(air.values())
    assert [100 * air[s] / total for s in slots] == pytest.approx([20, 30, 50], abs=0.5)
    assert used == pytest.approx(250 * won * 10 * MS, rel=0.01)


def test_sim_light_vif_gets_what_it_offers_and_tx_status_teaches_the_factor() -> None:
    radio, (light, heavy) = _sim((10, None), (90, None))
    # 1.6 Mb/s in 1000 B frames at 54 Mb/s, 1.25 x the DCF estimate on the
    # air: 200 x 408 us, 8.2 % of the airtime, within its 10 % share.
    offers = {light: ac.Offer(2_000, 1000, 54_000), heavy: ac.Offer(ac.SATURATED, 1462, 6000)}
    sent = 0
    for k in range(200):
        res = radio.step(10 * MS, 10 * MS, offers, tx_status=True, measured_scale=1.25)
        if k >= 100:
            sent += res.vifs[light].tx_bytes
            assert res.vifs[light].drop_packets == 0
    assert sent == pytest.approx(100 * 2_000, rel=0.01)
    assert radio.vif_stats(heavy).congestion_factor == pytest.approx(1.25, abs=0.02)


def test_sim_cap_and_drops() -> None:
    radio, (slot,) = _sim((10, 25))
    radio.set_queue_limit(50)
    res = None
    air = 0
    for _ in range(20):
        res = radio.step(100 * MS, 100 * MS, {slot: ac.Offer(10_000_000, 1000, 24_000)})
        air += res.vifs[slot].airtime_ns
    assert res is not None
    assert air / (2 * SEC) == pytest.approx(0.25, abs=0.01)
    assert res.vifs[slot].drop_packets > 0 and res.vifs[slot].backlog_packets == 50
    assert radio.vif_stats(slot).drop_packets > 0


def test_sim_bad_step_changes_nothing() -> None:
    radio, (a, b) = _sim((50, None), (50, None))
    radio.step(10 * MS, 10 * MS, {a: ac.Offer(ac.SATURATED, 1462, 54_000)})
    before = radio.vif_stats(a), radio.now_ns
    good = ac.Offer(ac.SATURATED, 1462, 54_000)
    bad = [
        ((0, 0, {a: good}), "duration"),
        ((10 * MS, 11 * MS, {a: good}), "exceeds"),
        ((10 * MS, 10 * MS, {a: ac.Offer(ac.SATURATED, 1462, 0)}), "bitrate"),
        ((10 * MS, 10 * MS, {a: ac.Offer(ac.SATURATED, 70_000, 6000)}), "frame_bytes"),
        ((10 * MS, 10 * MS, {a: good, 7: ac.Offer(1000, 100, 6000)}), "no vif"),
        # a's queued frames need a rate even without new traffic
        ((10 * MS, 10 * MS, {b: ac.Offer(1000, 100, 6000)}), "bitrate"),
    ]
    for (duration, airtime, offers), message in bad:
        with pytest.raises(ac.SimStepError, match=message):
            radio.step(duration, airtime, offers)
    assert (radio.vif_stats(a), radio.now_ns) == before


def test_step_many_equals_single_steps_and_names_the_bad_radio() -> None:
    def city() -> list[ac.SimRadio]:
        radios = []
        for n in range(1, 4):
            r = ac.SimRadio()
            for k in range(n):
                r.add_vif(10 * (k + 1))
            radios.append(r)
        return radios

    many, single = city(), city()
    steps = np.zeros(3, ac.STEP_IN_DTYPE)
    steps["duration_ns"] = 20 * MS
    steps["airtime_ns"] = [5 * MS, 10 * MS, 20 * MS]
    steps["measured_q16"] = 1 << 16
    steps["tx_status"] = [0, 1, 0]
    vifs = np.zeros((3, 4), ac.VIF_IN_DTYPE)
    for r in range(3):
        for k in range(r + 1):
            vifs[r, k] = (ac.SATURATED if k else 30_000, 1000 + 100 * k, 6000 * (k + 1))
    for _ in range(20):
        out, vout = ac.step_many(many, steps, vifs)
        for r, radio in enumerate(single):
            res = radio.step(
                20 * MS, int(steps["airtime_ns"][r]),
                {k: ac.Offer(*(int(x) for x in vifs[r, k])) for k in range(r + 1)},
                tx_status=bool(steps["tx_status"][r]),
            )
            assert res.airtime_ns == out[r]["airtime_ns"]
            assert res.tx_bytes == out[r]["tx_bytes"]
            for k in range(r + 1):
                assert res.vifs[k].airtime_ns == vout[r, k]["airtime_ns"]
    vifs[2, 1]["rate_kbps"] = 0
    now = [r.now_ns for r in many]
    with pytest.raises(ac.SimStepError, match="radio 2, vif slot 1"):
        ac.step_many(many, steps, vifs)
    assert [r.now_ns for r in many] == now


@settings(max_examples=25, deadline=None)
@given(
    shares=st.lists(st.integers(min_value=1, max_value=60), min_size=1, max_size=5).filter(
        lambda s: sum(s) <= 100
    ),
    rates=st.lists(st.sampled_from([6000, 12000, 24000, 54000]), min_size=5, max_size=5),
)
def test_sim_every_backlogged_vif_gets_its_guarantee_and_nothing_idles(
    shares: list[int], rates: list[int]
) -> None:
    radio = ac.SimRadio()
    slots = [radio.add_vif(g) for g in shares]
    offers = {s: ac.Offer(ac.SATURATED, 1462, rates[i]) for i, s in enumerate(slots)}
    air = dict.fromkeys(slots, 0)
    for k in range(60):
        res = radio.step(20 * MS, 20 * MS, offers)
        if k >= 10:
            for s in slots:
                air[s] += res.vifs[s].airtime_ns
    total = sum(air.values())
    assert total == pytest.approx(50 * 20 * MS, rel=0.01)  # work conserving
    for s, g in zip(slots, shares):
        # at least the guarantee; spare airtime in proportion to guarantees
        assert 100 * air[s] / total == pytest.approx(100 * g / sum(shares), abs=0.6)


# ---- The callgrind benchmark script ----------------------------------------------------


@pytest.mark.skipif(shutil.which("valgrind") is None,
                    reason="valgrind missing (scripts/bootstrap installs it)")
def test_callgrind_bench_writes_its_table_and_json(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from testbed.bench import core_callgrind

    out = tmp_path / "core_callgrind.json"
    assert core_callgrind.main(["--vifs", "1,2", "--packets", "500", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "core/fifo" in printed and "wrote" in printed
    rows = json.loads(out.read_text())["rows"]
    assert [r["vifs"] for r in rows] == [1, 2]
    for r in rows:
        assert 0 < r["fifo_ir"] < r["core_ir"]
        assert r["sim_ir"] > 0
