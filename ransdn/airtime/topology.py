"""The index structure of one network layout: radios, vifs, slices, domains.

Rebuilt only when the layout changes (a radio, vif, channel, neighbour or
slice appears or goes); every per-period computation is then array
arithmetic over these indices.

Arrays are indexed by radio ``r``, vif ``v``, slice ``s`` and contention
domain ``d``.  The (domain, radio, slice) structure the scheduler works on is
stored sparsely: one *pair* per (domain, vif) membership, sorted by domain,
then slice, then vif, and one *group* per (domain, slice) that has a vif in
the domain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .contention import ContentionDomains, contention_domains, contention_edges, domain_id
from .telemetry import RadioSample, TelemetryError, VifSample

IndexArray = NDArray[np.intp]


def _segment_starts(sorted_keys: IndexArray, n_segments: int) -> IndexArray:
    counts = np.bincount(sorted_keys, minlength=n_segments)
    return np.cumsum(counts) - counts


@dataclass(frozen=True)
class Topology:
    signature: str
    radio_keys: tuple[tuple[str, str], ...]
    radio_band: tuple[str, ...]
    radio_channel: tuple[int, ...]
    vif_keys: tuple[tuple[str, str, str], ...]
    vif_radio: IndexArray
    vif_slice: IndexArray
    slices: tuple[str, ...]
    domains: ContentionDomains
    domain_ids: tuple[str, ...]
    # (domain, vif) pairs, sorted by (domain, slice, vif).
    pair_domain: IndexArray
    pair_vif: IndexArray
    pair_group: IndexArray
    # (domain, slice) groups.
    group_domain: IndexArray
    group_slice: IndexArray
    group_starts: IndexArray
    # Pairs reordered by vif, for per-vif reductions over its domains.
    by_vif: IndexArray
    by_vif_starts: IndexArray
    # Radios ordered by domain membership (domain-radio pairs).
    member_domain: IndexArray

    @property
    def n_radios(self) -> int:
        return len(self.radio_keys)

    @property
    def n_vifs(self) -> int:
        return len(self.vif_keys)

    @property
    def n_domains(self) -> int:
        return self.domains.count

    @property
    def n_groups(self) -> int:
        return int(self.group_domain.shape[0])


def layout_signature(radios: Sequence[RadioSample], vifs: Sequence[VifSample]) -> str:
    """A digest of everything that shapes the topology, but no counters.

    Comparable within one process only."""
    shape = (
        tuple((r.node_id, r.radio, r.band, r.channel, r.mac, r.bssids, r.heard) for r in radios),
        tuple((v.node_id, v.radio, v.vif, v.slice) for v in vifs),
    )
    # Python's tuple hash is enough within one process, which is the only
    # place a signature is compared.
    return f"{hash(shape) & 0xFFFFFFFFFFFFFFFF:016x}-{len(radios)}-{len(vifs)}"


def build_topology(
    radios: Sequence[RadioSample],
    vifs: Sequence[VifSample],
    signature: str | None = None,
    clique_budget: int | None = None,
) -> Topology:
    """Index a period's samples.  Raises :class:`TelemetryError` on
    duplicate radios or vifs and on vifs of radios that were not sampled."""
    radio_index: dict[tuple[str, str], int] = {}
    for i, r in enumerate(radios):
        if r.key in radio_index:
            raise TelemetryError(f"radio {r.node_id}/{r.radio} sampled twice")
        radio_index[r.key] = i
    seen: set[tuple[str, str, str]] = set()
    slice_index: dict[str, int] = {}
    vif_radio = np.empty(len(vifs), dtype=np.intp)
    vif_slice = np.empty(len(vifs), dtype=np.intp)
    for i, v in enumerate(vifs):
        if v.key in seen:
            raise TelemetryError(f"vif {'/'.join(v.key)} sampled twice")
        seen.add(v.key)
        radio = radio_index.get(v.radio_key)
        if radio is None:
            raise TelemetryError(f"vif {'/'.join(v.key)} belongs to radio {v.node_id}/{v.radio}, which was not sampled")
        vif_radio[i] = radio
        vif_slice[i] = slice_index.setdefault(v.slice, len(slice_index))

    edges = contention_edges(
        [(r.band, r.channel) for r in radios],
        [tuple(r.bssids) + ((r.mac,) if r.mac else ()) for r in radios],
        [r.heard for r in radios],
    )
    domains = contention_domains(len(radios), edges, clique_budget)
    radio_names = [f"{n}/{r}" for n, r in radio_index]
    ids = tuple(
        domain_id(
            f"{radios[int(domains.members[domains.ptr[d]])].band}-ch{radios[int(domains.members[domains.ptr[d]])].channel}",
            [radio_names[int(m)] for m in domains.radios(d)],
        )
        for d in range(domains.count)
    )

    # Pairs: every vif of every member radio of every domain.
    member_domain = domains.member_domain
    order = np.argsort(vif_radio, kind="stable")
    radio_vif_counts = np.bincount(vif_radio, minlength=len(radios))
    radio_vif_starts = _segment_starts(vif_radio, len(radios))
    per_member = radio_vif_counts[domains.members]
    pair_domain = np.repeat(member_domain, per_member)
    offsets = np.arange(int(per_member.sum()), dtype=np.intp) - np.repeat(np.cumsum(per_member) - per_member, per_member)
    pair_vif = order[np.repeat(radio_vif_starts[domains.members], per_member) + offsets]
    n_slices = max(len(slice_index), 1)
    sort = np.lexsort((pair_vif, vif_slice[pair_vif], pair_domain))
    pair_domain = pair_domain[sort]
    pair_vif = pair_vif[sort]
    group_key = pair_domain * n_slices + vif_slice[pair_vif]
    new_group = np.ones(group_key.shape[0], dtype=bool)
    new_group[1:] = group_key[1:] != group_key[:-1]
    pair_group = np.cumsum(new_group) - 1
    group_first = np.flatnonzero(new_group)
    by_vif = np.argsort(pair_vif, kind="stable")
    return Topology(
        signature=signature if signature is not None else layout_signature(radios, vifs),
        radio_keys=tuple(radio_index),
        radio_band=tuple(r.band for r in radios),
        radio_channel=tuple(r.channel for r in radios),
        vif_keys=tuple(v.key for v in vifs),
        vif_radio=vif_radio,
        vif_slice=vif_slice,
        slices=tuple(slice_index),
        domains=domains,
        domain_ids=ids,
        pair_domain=pair_domain,
        pair_vif=pair_vif,
        pair_group=pair_group.astype(np.intp),
        group_domain=pair_domain[group_first],
        group_slice=vif_slice[pair_vif[group_first]],
        group_starts=group_first.astype(np.intp),
        by_vif=by_vif,
        by_vif_starts=_segment_starts(pair_vif[by_vif], len(vifs)),
        member_domain=member_domain,
    )
