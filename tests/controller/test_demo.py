"""``ransdn demo``: a controller with its global airtime scheduler, the demo
city's agent farm and the world driven over ``ransdn-sim``.

Everything is asserted through what a user has: the demo's output, the REST
API of the controller it starts, and the ``ransdn`` CLI.  Without the
scheduler there would be no SLA at all, and without the world no traffic,
so no violation, no recovery and no UE counts.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ransdn.cli.client import ApiClient
from testbed.city import City, CityError, CityUe, demo_city

from .conftest import requires_agents
from .processes import run_cli

RANSDN = str(Path(sys.executable).parent / "ransdn")
CONTENDED = ["wifi-4/phy0", "wifi-7/phy0"]
SLICES = {"city-services", "acme-mobile", "campus-5g"}


class Demo:
    """``ransdn demo ARGS`` with its output read line by line, so that a
    wait can time out instead of hanging on a silent pipe."""

    def __init__(self, *args: str) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        # A session of its own, so that Ctrl-C can be sent the way a
        # terminal sends it: to the whole process group (the farm too).
        self.proc = subprocess.Popen([RANSDN, "demo", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str]:
        """The first new line matching ``pattern``."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                line = self._queue.get(timeout=max(0.01, left))
            except queue.Empty:
                line = ""
            if line is None:
                raise AssertionError(f"the demo ended before {pattern!r}:\n{self.output}\n{self.stderr()}")
            if line:
                self.lines.append(line)
                if m := re.search(pattern, line):
                    return m
            if time.monotonic() > deadline:
                raise AssertionError(f"no {pattern!r} within {timeout:.0f} s:\n{self.output}")

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def stderr(self) -> str:
        if self.proc.poll() is None or self.proc.stderr is None:
            return ""
        return self.proc.stderr.read()

    def ctrl_c(self) -> None:
        os.killpg(self.proc.pid, signal.SIGINT)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def _period_rows(out: str) -> list[list[str]]:
    """The story's per-period lines: period, policy, then the two slices'
    'achieved / target state' and the cause."""
    return [line.split() for line in out.splitlines()
            if re.match(r"\s+\d+\s+(local-only|contention-aware)\s", line)]


def _assert_story(out: str) -> None:
    """The output shows a violation (co-channel contention) under
    local-only, the switch, then both contended slices compliant."""
    rows = _period_rows(out)
    violated = next(i for i, r in enumerate(rows)
                    if r[1] == "local-only" and r[5] == "VIOLATED" and r[-1] == "co-channel-contention")
    assert "-> policy contention-aware from the next period" in out
    after = rows[violated + 1:]
    assert after and all(r[1] == "contention-aware" for r in after), rows
    last = after[-1]
    # acme-mobile achieved / target ok, campus-5g achieved / target ok.
    assert last[5] == "ok" and last[9] == "ok", last
    assert abs(float(last[2]) - float(last[4])) <= 1.0, last
    assert len(after) <= 6, "compliant within a few periods of the switch"


def _ports_closed(endpoints: list[tuple[str, int]]) -> bool:
    for host, port in endpoints:
        with socket.socket() as s:
            s.settimeout(1)
            if s.connect_ex((host, port)) == 0:
                return False
    return True


@requires_agents
@pytest.mark.slow
def test_demo_runs_the_scheduler_on_a_driven_city_and_cleans_up_on_ctrl_c():
    demo = Demo()
    try:
        m = demo.wait_for(r"controller: (http://\S+)\s+\(data in (\S+);", 60)
        url, data_dir = m.group(1), Path(m.group(2))
        demo.wait_for(r"agent farm: 12 Wi-Fi APs on channels 1/6/11, 4 LTE cells", 120)
        demo.wait_for(r"^Nodes$", 120)
        demo.wait_for(r"Ctrl-C stops the demo", 180)
        out = demo.output
        assert len(re.findall(r"slice \S+: provisioned on \d+ nodes", out)) == 3, out
        assert "UE 001010000000001 attaches to PLMN 001-01 on lte-1: accepted (acme-mobile)" in out, out
        assert ("UE 001209999999999 attaches to PLMN 001-20 on lte-3: rejected (campus-5g: imsi-not-allowed)"
                in out), out
        # The node table shows every configured PLMN with S1 up, the
        # campus PLMN included on the cells it was just added to.
        for cell, plmns in {"lte-1": ("001-10", "001-01"), "lte-3": ("001-01", "001-20")}.items():
            row = next(line for line in out.splitlines() if line.startswith(cell + " "))
            assert all(f"{p} S1 up" in row for p in plmns), row
        _assert_story(out)
        assert "ransdn sla watch" in out and "ransdn airtime policy local-only" in out
        assert f"export RANSDN_URL={url}" in out

        api = ApiClient(url)
        nodes = api.get("/api/v1/nodes")["items"]
        assert len(nodes) == 16 and all(n["connection"]["state"] == "connected" for n in nodes)
        assert sorted(n["kind"] for n in nodes).count("lte") == 4
        slices = api.get("/api/v1/slices")["items"]
        assert {s["id"] for s in slices} == SLICES
        assert all(s["state"] == "active" and s["wifi"] and s["lte"] for s in slices)
        airtime = api.get("/api/v1/airtime")
        assert (airtime["enabled"], airtime["policy"], airtime["period"]) == (True, "contention-aware", 2)

        # Violation with cause co-channel contention, then its end.
        events = api.get("/api/v1/events?kind=sla&limit=1000")["items"]
        start = next(e for e in events if e["kind"] == "sla.violation-start" and e["slice"] == "acme-mobile")
        assert start["details"]["cause"] == "co-channel-contention", start
        assert any(e["kind"] == "sla.violation-end" and e["slice"] == "acme-mobile"
                   and e["details"]["domain"] == start["details"]["domain"] and e["seq"] > start["seq"]
                   for e in events), events
        sla = [e for e in api.get("/api/v1/sla")["items"] if sorted(e["radios"]) == CONTENDED]
        assert {e["slice"] for e in sla} >= {"acme-mobile", "campus-5g"}
        for e in sla:
            if e["slice"] in ("acme-mobile", "campus-5g"):
                assert e["backlogged"] and e["state"] == "ok", e
                assert e["achieved"] == pytest.approx(e["target"], abs=2), e
        acme = next(e for e in sla if e["slice"] == "acme-mobile")
        assert acme["target"] == pytest.approx(100 * 40 / 65, abs=1)

        # LTE: S1 up everywhere; one UE admitted, one refused by the ACL.
        cells = api.get("/api/v1/lte/cells")["items"]
        per_slice = [s for c in cells for s in c["slices"]]
        assert all(m["s1_state"] == "up" for s in per_slice for m in s["mmes"])
        assert sum(s["attach_accepted"] for s in per_slice) == 1
        assert sum(s["attach_rejected"] for s in per_slice) == 1
        lte1 = next(c for c in cells if c["cell"] == "lte-1")
        assert next(s for s in lte1["slices"] if s["slice"] == "acme-mobile")["attached_ues"] == 1
        lte3 = next(c for c in cells if c["cell"] == "lte-3")
        assert next(s for s in lte3["slices"] if s["slice"] == "campus-5g")["attach_rejected"] == 1

        # The hints work: switch back to the baseline and the demo, still
        # running, reports the policy change and the violation returning.
        res = run_cli(url, "airtime", "policy", "local-only")
        assert res.returncode == 0, res.stderr
        demo.wait_for(r"airtime\.policy: airtime policy is now local-only", 30)
        demo.wait_for(r"sla\.violation-start: slice acme-mobile .*co-channel-contention", 60)
        res = run_cli(url, "sla", "list", "--violated")
        assert res.returncode == 0 and "acme-mobile" in res.stdout, res.stdout + res.stderr

        agents = [(n["address"], n["port"]) for n in nodes]
        assert data_dir.is_dir()
        demo.ctrl_c()
        assert demo.proc.wait(60) == 0, demo.stderr()
        demo.wait_for(r"^stopping\.\.\.$", 5)
        assert not data_dir.exists(), "the temporary data dir is removed"
        assert run_cli(url, "node", "list").returncode == 3, "the controller is gone"
        assert _ports_closed(agents), "the agent farm is gone"
    finally:
        demo.stop()


@requires_agents
@pytest.mark.slow
def test_demo_once_prints_the_story_and_exits_keeping_a_given_data_dir(tmp_path):
    data_dir = tmp_path / "demo-data"
    demo = Demo("--once", "--data-dir", str(data_dir))
    try:
        demo.wait_for(r"curl \S+/metrics", 240)
        assert demo.proc.wait(60) == 0, demo.stderr()
    finally:
        demo.stop()
    out = demo.output
    assert "Ctrl-C stops the demo" not in out
    for heading in ("Nodes", "Slices", "LTE: PLMNs per cell, S1 and UEs"):
        assert heading in out.splitlines(), out
    _assert_story(out)
    table = out[out.index("SLICE          DOMAIN"):]
    assert re.search(r"acme-mobile\s+ch1 wifi-4\+wifi-7\s+61\.\d\s+\d+\.\d\s+-?\d+\.\d\s+ok", table), table
    assert (data_dir / "ransdn.db").is_file(), "--data-dir keeps the data"

    # A second run refuses the used directory and leaves its data alone.
    before = (data_dir / "ransdn.db").stat().st_mtime_ns
    res = subprocess.run([RANSDN, "demo", "--once", "--data-dir", str(data_dir)],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 2 and "already holds a controller database" in res.stderr, res
    assert (data_dir / "ransdn.db").stat().st_mtime_ns == before


@pytest.mark.parametrize("args, message", [
    (["--listen", "nonsense"], "argument --listen: expected HOST:PORT"),
    (["--airtime-period", "0"], "argument --airtime-period: '0': a period is 0.2 to 60 seconds"),
    (["--airtime-period", "soon"], "a period is 0.2 to 60 seconds"),
])
def test_demo_refuses_bad_arguments(args: list[str], message: str):
    res = subprocess.run([RANSDN, "demo", "--once", *args], capture_output=True, text=True, timeout=60)
    assert res.returncode == 2 and message in res.stderr, res


def test_demo_says_when_its_address_is_taken():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        res = subprocess.run([RANSDN, "demo", "--once", "--listen", f"127.0.0.1:{port}"],
                             capture_output=True, text=True, timeout=60)
    assert res.returncode == 2, res
    assert f"cannot listen on 127.0.0.1:{port}" in res.stderr and "Traceback" not in res.stderr, res


def test_the_controller_does_not_import_the_test_bed():
    """The demo plays the world's part from outside: the controller (its
    service and REST API) imports nothing of the test bed or the agent."""
    code = ("import sys, ransdn.service, ransdn.api.app\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('testbed', 'agent')))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[]"


def test_demo_city_has_the_contended_pair_cells_and_ues():
    city = demo_city()
    radios = {r.node: r for r in city.radios}
    assert len(radios) == 12 and {r.channel for r in radios.values()} == {1, 6, 11}
    assert [c.name for c in city.cells] == ["lte-1", "lte-2", "lte-3", "lte-4"]
    busy = {(v.node, v.tenant) for v in city.vifs if v.traffic.pattern == "saturating"}
    assert busy == {("wifi-4", "acme"), ("wifi-7", "campus")}
    a, b = radios["wifi-4"], radios["wifi-7"]
    distance = ((a.position[0] - b.position[0]) ** 2 + (a.position[1] - b.position[1]) ** 2) ** 0.5
    assert a.channel == b.channel and distance < city.range_m["2.4ghz"]
    assert City.from_document(city.to_document()) == city


@pytest.mark.parametrize("ue, message", [
    (CityUe("12345", "lte-1"), "6 to 15 digits"),
    (CityUe("001010000000001", "lte-9"), "unknown cell lte-9"),
    (CityUe("001010000000001", "lte-1", "1-1"), "not MCC-MNC"),
])
def test_a_city_refuses_bad_ues(ue: CityUe, message: str):
    city = demo_city()
    with pytest.raises(CityError, match=message):
        City(city.name, city.radios, city.tenants, city.vifs, cells=city.cells, ues=(ue,))
