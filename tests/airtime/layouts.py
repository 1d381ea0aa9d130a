"""Compact descriptions of radio layouts, turned into scheduler samples."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ransdn.airtime import RadioSample, Telemetry, VifSample


def bssid(radio: int, vif: int) -> str:
    return f"02:00:{radio >> 8:02x}:{radio & 0xFF:02x}:00:{vif + 1:02x}"


def radio_mac(radio: int) -> str:
    return f"02:00:{radio >> 8:02x}:{radio & 0xFF:02x}:00:00"


@dataclass
class Layout:
    """Radios ``0..n-1`` on ``channel[r]``; ``edges`` are pairs that hear
    each other; ``vifs[r]`` maps slice to contract share (percent)."""

    n_radios: int
    edges: Sequence[tuple[int, int]]
    vifs: Sequence[Mapping[str, float]]
    channel: Sequence[int] | None = None
    caps: Mapping[tuple[int, str], float] = field(default_factory=dict)

    def node(self, r: int) -> str:
        return f"ap{r}"

    def vif_name(self, r: int, slice_: str) -> str:
        return f"wlan-{slice_}"

    def heard(self, r: int) -> list[str]:
        out: list[str] = []
        for a, b in self.edges:
            other = b if a == r else a if b == r else None
            if other is not None:
                out.extend(bssid(other, k) for k in range(len(self.vifs[other])))
        return out

    def radio_samples(self, counters: Mapping[int, tuple[int, int, int]] | None = None) -> list[RadioSample]:
        samples = []
        for r in range(self.n_radios):
            ch = 36 if self.channel is None else self.channel[r]
            c = (counters or {}).get(r, (0, 0, 0))
            samples.append(
                RadioSample(
                    node_id=self.node(r),
                    radio="phy0",
                    band="5ghz",
                    channel=ch,
                    mac=radio_mac(r),
                    bssids=tuple(bssid(r, k) for k in range(len(self.vifs[r]))),
                    heard=tuple(self.heard(r)),
                    channel_time_us=c[0],
                    busy_time_us=c[1],
                    tx_time_us=c[2],
                )
            )
        return samples

    def vif_samples(
        self,
        counters: Mapping[tuple[int, str], tuple[int, int, int]] | None = None,
        applied: Mapping[tuple[int, str], tuple[float, float | None]] | None = None,
    ) -> list[VifSample]:
        samples = []
        for r in range(self.n_radios):
            for slice_, share in self.vifs[r].items():
                c = (counters or {}).get((r, slice_), (0, 0, 0))
                a = (applied or {}).get((r, slice_), (None, None))
                samples.append(
                    VifSample(
                        node_id=self.node(r),
                        radio="phy0",
                        vif=self.vif_name(r, slice_),
                        slice=slice_,
                        contract_share=share,
                        contract_cap=self.caps.get((r, slice_)),
                        measured_us=c[0],
                        backlogged_us=c[1],
                        throttled_us=c[2],
                        applied_share=a[0],
                        applied_cap=a[1],
                    )
                )
        return samples


class CounterFeed:
    """Accumulates per-period usage into cumulative counters, the way nodes
    report them, so tests can state each period's shares directly."""

    def __init__(self, layout: Layout, period_us: int = 1_000_000) -> None:
        self.layout = layout
        self.period_us = period_us
        self.time_us = 0
        self.radio: dict[int, tuple[int, int, int]] = {}
        self.vif: dict[tuple[int, str], tuple[int, int, int]] = {}

    def telemetry(
        self,
        usage: Mapping[tuple[int, str], tuple[float, float]],
        applied: Mapping[tuple[int, str], tuple[float, float | None]] | None = None,
        throttled: Mapping[tuple[int, str], float] | None = None,
    ) -> Telemetry:
        """``usage[(radio, slice)] = (airtime share, backlogged fraction)``
        for this period; radios transmit the sum of their vifs' shares and
        hear busy whatever their neighbours send."""
        p = self.period_us
        self.time_us += p
        tx = {r: 0.0 for r in range(self.layout.n_radios)}
        for (r, _), (share, _) in usage.items():
            tx[r] += share
        neighbours: dict[int, set[int]] = {r: set() for r in range(self.layout.n_radios)}
        for a, b in self.layout.edges:
            neighbours[a].add(b)
            neighbours[b].add(a)
        for r in range(self.layout.n_radios):
            busy = min(1.0, tx[r] + sum(tx[o] for o in neighbours[r]))
            c = self.radio.get(r, (0, 0, 0))
            self.radio[r] = (c[0] + p, c[1] + int(busy * p), c[2] + int(tx[r] * p))
        for r in range(self.layout.n_radios):
            for slice_ in self.layout.vifs[r]:
                share, backlog = usage.get((r, slice_), (0.0, 0.0))
                thr = (throttled or {}).get((r, slice_), 0.0)
                c = self.vif.get((r, slice_), (0, 0, 0))
                self.vif[(r, slice_)] = (c[0] + int(share * p), c[1] + int(backlog * p), c[2] + int(thr * p))
        return Telemetry(
            time=self.time_us / 1e6,
            radios=self.layout.radio_samples(self.radio),
            vifs=self.layout.vif_samples(self.vif, applied),
        )
