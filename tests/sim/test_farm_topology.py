"""Topology files and grid layouts for the agent farm."""

from __future__ import annotations

import json

import pytest

from agent.farm import TopologyError, grid, load_topology, read_topology


def test_grid_spreads_channels_and_positions():
    plans = grid(4, 1, channels=[1, 6], spacing=10)
    wifi = [p for p in plans if p.kind == "wifi"]
    assert [p.name for p in plans] == ["wifi-1", "wifi-2", "wifi-3", "wifi-4", "lte-1"]
    assert [p.position for p in wifi] == [(0, 0), (10, 0), (0, 10), (10, 10)]
    assert [p.options["radios"][0]["channel"] for p in wifi] == [1, 6, 1, 6]
    assert [p.options["radios"][1]["channel"] for p in wifi] == [36, 40, 44, 48]
    assert plans[-1].position == (5, 5)


def test_topology_file_round_trip(tmp_path):
    doc = {"nodes": [
        {"name": "ap-a", "kind": "wifi", "position": [1, 2],
         "radios": [{"name": "phy0", "band": "2.4ghz", "channel": 11}],
         "options": {"fail_apply_when": {"ssid": "reject-me"}}},
        {"name": "cell-a", "kind": "lte", "port": 0, "cell": {"max_plmns": 4}},
    ]}
    path = tmp_path / "city.json"
    path.write_text(json.dumps(doc))
    ap, cell = load_topology(path)
    assert ap.backend_options() == {
        "fail_apply_when": {"ssid": "reject-me"},
        "radios": [{"name": "phy0", "band": "2.4ghz", "channel": 11}],
        "position": [1.0, 2.0]}
    assert cell.kind == "lte" and cell.options == {"cell": {"max_plmns": 4}}


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"node": []}, 'a topology is an object with a "nodes" list'),
        ({"nodes": [{"name": "a b", "kind": "wifi"}]}, "nodes[0].name must match"),
        ({"nodes": [{"name": "a", "kind": "wimax"}]}, "nodes[0] (a): kind must be 'wifi' or 'lte'"),
        ({"nodes": [{"name": "a", "kind": "wifi"}, {"name": "a", "kind": "lte"}]},
         "node name a is used twice"),
        ({"nodes": [{"name": "a", "kind": "wifi", "radios": [{"name": "phy0", "band": "5ghz", "channel": 6}]}]},
         "nodes[0] (a): radios[0].channel 6 is not a supported 5ghz channel"),
        ({"nodes": [{"name": "a", "kind": "lte", "radios": []}]}, "nodes[0] (a): a lte node has no radios"),
        ({"nodes": [{"name": "a", "kind": "lte", "cell": {"max_plmns": 7}}]},
         "nodes[0] (a): cell.max_plmns must be an integer in 1..6, not 7"),
        ({"nodes": [{"name": "a", "kind": "wifi", "port": 70000}]}, "nodes[0] (a): port must be 0..65535"),
    ],
)
def test_bad_topologies_are_refused_with_the_reason(doc, message):
    with pytest.raises(TopologyError) as err:
        load_topology(doc)
    assert message in str(err.value)


def test_unreadable_topology_file(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{nodes: ")
    with pytest.raises(TopologyError, match="bad.json"):
        load_topology(path)


def test_medium_section_sets_ranges_and_hearing():
    doc = {"nodes": [{"name": "a", "kind": "wifi"}, {"name": "b", "kind": "wifi", "position": [500, 0]}],
           "medium": {"range_m": {"2.4ghz": 30}, "hearing": [[["a", "phy0"], ["b", "phy0"]]]},
           "city": {"ignored": True}}
    topo = read_topology(doc)
    assert topo.propagation.range_of("2.4ghz") == 30.0
    assert topo.propagation.hearing == {frozenset({("a", "phy0"), ("b", "phy0")})}
    assert read_topology({"nodes": []}).propagation is None


@pytest.mark.parametrize(
    ("medium", "message"),
    [
        ({"range_m": {"2.4ghz": -1}}, "medium.range_m maps bands to positive distances"),
        ({"hearing": [[["a", "phy0"], ["a", "phy9"]]]}, "medium.hearing[0] names no radio of the topology"),
        ({"hearing": [["a", "b"]]}, "medium.hearing[0] must be [[node, radio], [node, radio]]"),
        ({"hearing": [[["a", "phy0"], ["a", "phy0"]]]}, "cannot hear itself"),
        ({"loss": 3}, 'medium must be an object with "range_m" and/or "hearing"'),
    ],
)
def test_bad_medium_sections_are_refused(medium, message):
    with pytest.raises(TopologyError) as err:
        read_topology({"nodes": [{"name": "a", "kind": "wifi"}], "medium": medium})
    assert message in str(err.value)
