"""Contention domains: which radios share channel time.

Two radios contend when they operate on the same channel of the same band
and at least one of them hears the other (a BSSID of one is in the other's
neighbour list, or its radio MAC is).  Hearing is made symmetric because
carrier sense is enough to make a transmitter defer: if A hears B, A waits
while B talks, and B's share and A's are no longer independent.

A *contention domain* is a **maximal clique** of that graph: a largest set
of radios that all hear each other, so that at most one of them transmits
at any instant and their airtime adds up to at most the channel's time.
That is exactly the resource DCF shares "roughly equally per contending
radio".  Connected components would be the other choice, and a wrong one:
in a chain A - B - C, A and C transmit at the same time, so a component
constraint A + B + C <= 1 would idle up to half the channel; and in a city
on three channels the components percolate into a few giant ones of
hundreds of radios, where a single shared budget means nothing.  Clique
constraints are necessary for any schedule; for graphs with long odd holes
they are not quite sufficient, which the policies' feedback absorbs.

A radio belongs to every maximal clique it is in (at least one: an isolated
radio is a clique of its own).  Cliques are enumerated with Bron-Kerbosch
with pivoting (Tomita et al.), cheap on the sparse, geometric graphs of a
city.  Should a pathological graph produce more than ``clique_budget``
cliques, a greedy edge-clique cover is used instead: every contending pair
still shares at least one domain, the result is marked inexact.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

IndexArray = NDArray[np.intp]


@dataclass(frozen=True)
class ContentionDomains:
    """Domains as a compressed membership list.

    Domain ``d`` holds radios ``members[ptr[d]:ptr[d + 1]]`` (sorted).
    """

    ptr: IndexArray
    members: IndexArray
    #: Contending pairs ``(i, j)`` with ``i < j``, one row each.
    edges: IndexArray
    #: False when the clique budget forced the greedy cover.
    exact: bool = True

    @property
    def count(self) -> int:
        return int(self.ptr.shape[0] - 1)

    def radios(self, domain: int) -> IndexArray:
        return self.members[self.ptr[domain] : self.ptr[domain + 1]]

    @property
    def member_domain(self) -> IndexArray:
        """The domain of each entry of ``members``."""
        return np.repeat(np.arange(self.count, dtype=np.intp), np.diff(self.ptr))


def contention_edges(
    channel: Sequence[Hashable],
    addresses: Sequence[Sequence[str]],
    heard: Sequence[Sequence[str]],
) -> IndexArray:
    """Contending radio pairs.

    Per radio: ``channel`` is what must match (e.g. ``("5ghz", 36)``),
    ``addresses`` the BSSIDs and MAC that identify it on the air, ``heard``
    the BSSIDs in its neighbour list.  Addresses are compared
    case-insensitively; heard addresses that belong to no known radio are
    foreign networks and ignored here (they show up as busy time instead).
    """
    owner: dict[str, int] = {}
    for index, own in enumerate(addresses):
        for address in own:
            owner[address.lower()] = index
    pairs: set[tuple[int, int]] = set()
    for i, neighbours in enumerate(heard):
        for address in neighbours:
            j = owner.get(address.lower())
            if j is None or j == i or channel[i] != channel[j]:
                continue
            pairs.add((i, j) if i < j else (j, i))
    if not pairs:
        return np.zeros((0, 2), dtype=np.intp)
    return np.array(sorted(pairs), dtype=np.intp)


def _bron_kerbosch(
    adjacency: list[set[int]], vertices: set[int], budget: int, out: list[tuple[int, ...]]
) -> bool:
    """Append the maximal cliques among ``vertices``; False if over budget."""
    stack: list[tuple[frozenset[int], set[int], set[int]]] = [(frozenset(), set(vertices), set())]
    while stack:
        clique, candidates, excluded = stack.pop()
        if not candidates:
            if not excluded:
                out.append(tuple(sorted(clique)))
                if len(out) > budget:
                    return False
            continue
        pivot = max(candidates | excluded, key=lambda u: len(candidates & adjacency[u]))
        for v in list(candidates - adjacency[pivot]):
            neighbours = adjacency[v]
            stack.append((clique | {v}, candidates & neighbours, excluded & neighbours))
            candidates.discard(v)
            excluded.add(v)
    return True


def _greedy_cover(adjacency: list[set[int]], n: int) -> list[tuple[int, ...]]:
    covered: set[tuple[int, int]] = set()
    cliques: list[tuple[int, ...]] = []
    for i in range(n):
        if not adjacency[i]:
            cliques.append((i,))
        for j in sorted(adjacency[i]):
            if j < i or (i, j) in covered:
                continue
            clique = [i, j]
            common = adjacency[i] & adjacency[j]
            for k in sorted(common, key=lambda u: -len(adjacency[u])):
                if all(k in adjacency[m] for m in clique):
                    clique.append(k)
            clique.sort()
            for a in range(len(clique)):
                for b in range(a + 1, len(clique)):
                    covered.add((clique[a], clique[b]))
            cliques.append(tuple(clique))
    return cliques


def contention_domains(n_radios: int, edges: IndexArray, clique_budget: int | None = None) -> ContentionDomains:
    """The maximal cliques of the contention graph, in a canonical order."""
    adjacency: list[set[int]] = [set() for _ in range(n_radios)]
    for i, j in edges.tolist():
        adjacency[i].add(j)
        adjacency[j].add(i)
    budget = clique_budget if clique_budget is not None else 20 * n_radios + 1000
    cliques: list[tuple[int, ...]] = []
    exact = _bron_kerbosch(adjacency, set(range(n_radios)), budget, cliques)
    if not exact:
        cliques = _greedy_cover(adjacency, n_radios)
    cliques.sort()
    sizes = np.array([len(c) for c in cliques], dtype=np.intp)
    ptr = np.zeros(len(cliques) + 1, dtype=np.intp)
    np.cumsum(sizes, out=ptr[1:])
    members = np.fromiter((r for c in cliques for r in c), dtype=np.intp, count=int(ptr[-1]))
    return ContentionDomains(ptr=ptr, members=members, edges=edges, exact=exact)


def domain_id(channel_label: str, member_keys: Sequence[str]) -> str:
    """A stable name for a domain: the same radios give the same id."""
    digest = hashlib.sha1("\n".join(sorted(member_keys)).encode()).hexdigest()[:10]
    return f"{channel_label}-{digest}"
