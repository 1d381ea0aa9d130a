"""The medium's physics without the scheduling core: channel access,
propagation and the city files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from testbed.city import City, CityError, random_city, seed_city
from testbed.medium.access import ChannelAccess, ContentionGraph
from testbed.medium.model import TrafficSpec
from testbed.medium.propagation import EDGE_SIGNAL_DBM, HearingError, Propagation
from testbed.medium.traffic import TrafficError, check


def _graph(n: int, edges: list[tuple[int, int]]) -> ContentionGraph:
    m = np.zeros((n, n), dtype=bool)
    for a, b in edges:
        m[a, b] = True
    return ContentionGraph.from_matrix(m)


def _shares(n, edges, contending=None, slots=20_000):
    access = ChannelAccess(np.random.default_rng(7))
    c = np.ones(n, dtype=bool) if contending is None else np.array(contending, dtype=bool)
    return access.transmitters(_graph(n, edges), c, slots).mean(axis=0)


def test_a_clique_of_backlogged_radios_shares_equally():
    for n in (2, 3, 5):
        edges = [(a, b) for a in range(n) for b in range(a + 1, n)]
        assert _shares(n, edges) == pytest.approx(np.full(n, 1 / n), abs=0.015)


def test_radios_that_do_not_hear_each_other_transmit_at_once():
    assert _shares(3, []) == pytest.approx([1.0, 1.0, 1.0])


def test_the_middle_of_a_chain_gets_less_than_either_end():
    # DCF's "flow in the middle": b contends with two radios that do not
    # defer to each other.
    shares = _shares(3, [(0, 1), (1, 2)])
    assert shares == pytest.approx([2 / 3, 1 / 3, 2 / 3], abs=0.015)


def test_idle_radios_do_not_contend_and_no_hearing_pair_overlaps():
    access = ChannelAccess(np.random.default_rng(1))
    graph = _graph(4, [(0, 1), (1, 2), (2, 3), (0, 2)])
    won = access.transmitters(graph, np.array([True, True, False, True]), 5000)
    assert not won[:, 2].any()
    for a, b in [(0, 1), (1, 2), (2, 3), (0, 2)]:
        assert not (won[:, a] & won[:, b]).any()
    # Nearly maximal: some contending radio transmits in every slot.
    assert won.any(axis=1).all()


def test_busy_time_counts_what_a_radio_hears():
    graph = _graph(3, [(0, 1)])
    on_air = np.array([[500.0, 0.0, 500.0], [0.0, 250.0, 0.0]])
    assert ChannelAccess.busy_time(graph, on_air) == pytest.approx([750.0, 750.0, 500.0])


def test_range_and_explicit_hearing():
    keys = [("a", "phy0"), ("b", "phy0"), ("c", "phy0"), ("d", "phy1")]
    positions = np.array([[0.0, 0.0], [90.0, 0.0], [300.0, 0.0], [10.0, 0.0]])
    bands = ["5ghz", "5ghz", "5ghz", "2.4ghz"]
    by_range = Propagation().hears(keys, bands, positions)
    assert by_range.tolist() == [
        [False, True, False, False],
        [True, False, False, False],
        [False, False, False, False],
        [False, False, False, False],
    ]
    graph = Propagation.with_graph([(("a", "phy0"), ("c", "phy0"))]).hears(keys, bands, positions)
    assert np.argwhere(graph).tolist() == [[0, 2], [2, 0]]
    with pytest.raises(HearingError, match="cannot hear itself"):
        Propagation.with_graph([(("a", "phy0"), ("a", "phy0"))])


def test_signal_falls_with_distance_to_the_threshold_at_the_edge():
    p = Propagation()
    assert p.signal_dbm("5ghz", 100.0) == EDGE_SIGNAL_DBM
    assert p.signal_dbm("5ghz", 10.0) > p.signal_dbm("5ghz", 50.0) > p.signal_dbm("5ghz", 100.0)
    assert p.signal_dbm("5ghz", 0.0) == p.signal_dbm("5ghz", 1.0) == -22


def test_traffic_specs_are_checked():
    check(TrafficSpec("saturating"))
    with pytest.raises(TrafficError, match="needs a positive rate"):
        check(TrafficSpec("poisson"))
    with pytest.raises(TrafficError, match="unknown traffic pattern"):
        check(TrafficSpec("bursty"))  # type: ignore[arg-type]


def test_seed_city_round_trips_through_the_farm_document(tmp_path):
    from agent.farm.topology import read_topology

    city = seed_city()
    doc = city.to_document()
    # The agent farm reads it: two Wi-Fi nodes, and the explicit hearing graph.
    topology = read_topology(doc)
    assert [p.name for p in topology.nodes] == ["ap1", "ap2"]
    assert topology.propagation is not None and topology.propagation.hearing is not None
    assert [n["name"] for n in doc["nodes"]] == ["ap1", "ap2"]
    assert doc["nodes"][0]["radios"][0] == {
        "name": "phy0", "band": "5ghz", "channel": 36, "mac": "02:00:00:00:01:00", "position": [0.0, 0.0],
    }
    path = tmp_path / "seed.json"
    city.write(path)
    assert City.read(path) == city


def test_random_city_is_deterministic_and_respects_shares():
    one = random_city("x", aps=120, tenants=6, seed=5)
    two = random_city("x", aps=120, tenants=6, seed=5)
    assert one == two
    assert len(one.radios) == 120 and {r.channel for r in one.radios} == {36, 40, 44}
    patterns = {v.traffic.pattern for v in one.vifs}
    assert {"saturating", "on-off", "poisson", "constant"} <= patterns
    for r in one.radios:
        assert sum(one.tenant(v.tenant).share for v in one.vifs_on(r.key)) <= 100
    # About the asked number of co-channel neighbours.
    keys = [r.key for r in one.radios]
    positions = np.array([r.position for r in one.radios])
    hears = Propagation().hears(keys, [r.band for r in one.radios], positions)
    chans = np.array([r.channel for r in one.radios])
    co = (hears & (chans[:, None] == chans[None, :])).sum(axis=1)
    assert 2.0 <= co.mean() <= 6.0


def test_bad_city_documents_are_refused_clearly(tmp_path):
    doc = seed_city().to_document()
    doc["city"]["tenants"][0]["share"] = 60.0  # A 60 + B 70 on one radio
    with pytest.raises(CityError, match="add up to 130 > 100"):
        City.from_document(doc)
    doc = seed_city().to_document()
    doc["city"]["vifs"][0]["node"] = "ap9"
    with pytest.raises(CityError, match="unknown radio ap9/phy0"):
        City.from_document(doc)
    with pytest.raises(CityError, match="not a city document"):
        City.from_document({"nodes": []})
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(CityError, match="bad.json"):
        City.read(bad)
    assert json.loads(json.dumps(seed_city().to_document()))["medium"]["hearing"] == [[["ap1", "phy0"], ["ap2", "phy0"]]]


def test_city_command_writes_a_farm_topology(tmp_path, capsys):
    from testbed.city import main

    out = tmp_path / "city.json"
    assert main(["random", str(out), "--aps", "12", "--tenants", "4", "--seed", "3"]) == 0
    city = City.read(out)
    assert len(city.radios) == 12 and len(city.tenants) == 4
    assert "12 radios" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["random", str(out), "--tenants", "2"])
    assert "tenants must be 4..8" in capsys.readouterr().err
    assert City.read(out) == city  # the refused run wrote nothing
