"""Contention graph and domains (maximal cliques)."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ransdn.airtime.contention import contention_domains, contention_edges
from ransdn.airtime.topology import build_topology

from .layouts import Layout


def _brute_force_maximal_cliques(n: int, edges: set[tuple[int, int]]) -> set[tuple[int, ...]]:
    def is_clique(nodes):
        return all((a, b) in edges for a, b in itertools.combinations(nodes, 2))

    cliques = [c for k in range(1, n + 1) for c in itertools.combinations(range(n), k) if is_clique(c)]
    return {c for c in cliques if not any(set(c) < set(d) for d in cliques)}


@st.composite
def graphs(draw):
    n = draw(st.integers(1, 9))
    edges = {p for p in itertools.combinations(range(n), 2) if draw(st.booleans())}
    return n, edges


@given(graphs())
@settings(max_examples=300, deadline=None)
def test_domains_are_exactly_the_maximal_cliques(graph):
    n, edges = graph
    array = np.array(sorted(edges), dtype=np.intp).reshape(-1, 2)
    domains = contention_domains(n, array)
    found = {tuple(domains.radios(d).tolist()) for d in range(domains.count)}
    assert domains.exact
    assert found == _brute_force_maximal_cliques(n, edges)
    assert domains.count == len(found)


@given(graphs())
@settings(max_examples=100, deadline=None)
def test_over_budget_falls_back_to_a_cover_of_every_pair(graph):
    n, edges = graph
    array = np.array(sorted(edges), dtype=np.intp).reshape(-1, 2)
    domains = contention_domains(n, array, clique_budget=0)
    assert not domains.exact
    cliques = [set(domains.radios(d).tolist()) for d in range(domains.count)]
    for clique in cliques:
        assert all((a, b) in edges for a, b in itertools.combinations(sorted(clique), 2))
    for a, b in edges:
        assert any({a, b} <= c for c in cliques)
    for r in range(n):
        assert any(r in c for c in cliques)


def test_hearing_is_symmetric_and_needs_the_same_channel():
    channel = [("5ghz", 36), ("5ghz", 36), ("5ghz", 40), ("2.4ghz", 36)]
    addresses = [["aa:00:00:00:00:01"], ["AA:00:00:00:00:02", "aa:00:00:00:00:f2"], ["aa:00:00:00:00:03"], ["aa:00:00:00:00:04"]]
    # Radio 0 hears radio 1 (upper-case in one place, lower in the other)
    # but not the reverse; radio 1 hears radio 2 on another channel; radio 3
    # hears radio 0 on the same channel number in another band; everybody
    # hears a foreign AP.
    heard = [
        ["aa:00:00:00:00:02", "de:ad:be:ef:00:00"],
        ["aa:00:00:00:00:03"],
        ["aa:00:00:00:00:f2"],
        ["aa:00:00:00:00:01"],
    ]
    edges = contention_edges(channel, addresses, heard)
    assert edges.tolist() == [[0, 1]]


def test_a_radio_mac_counts_as_heard():
    layout = Layout(2, [], [{"A": 50}, {"B": 50}])
    radios = layout.radio_samples()
    radios[0] = type(radios[0])(**{**radios[0].__dict__, "heard": (radios[1].mac.upper(),)})
    topology = build_topology(radios, layout.vif_samples())
    assert topology.domains.edges.tolist() == [[0, 1]]
    assert topology.n_domains == 1


def test_domain_ids_are_stable_and_name_the_channel():
    chain = Layout(3, [(0, 1), (1, 2)], [{"A": 50}, {"A": 50}, {"A": 50}])
    one = build_topology(chain.radio_samples(), chain.vif_samples())
    assert len(set(one.domain_ids)) == 2
    assert all(d.startswith("5ghz-ch36-") for d in one.domain_ids)
    # A new radio elsewhere leaves the existing domains' ids alone.
    grown = Layout(4, [(0, 1), (1, 2)], [{"A": 50}, {"A": 50}, {"A": 50}, {"B": 10}])
    two = build_topology(grown.radio_samples(), grown.vif_samples())
    assert set(one.domain_ids) < set(two.domain_ids)
