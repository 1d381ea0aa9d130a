"""Offered downstream traffic of a vif, step by step.

``saturating`` keeps the vif's queue full; ``constant`` offers ``rate``
kbit/s evenly; ``on-off`` is saturating for ``on_ms`` then idle for
``off_ms`` (each vif starts at a random phase, so on-off vifs do not switch
in lockstep); ``poisson`` offers frames arriving as a Poisson process that
averages ``rate`` kbit/s; ``idle`` offers nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .model import TrafficSpec

#: What a step offers a saturating vif (the core keeps its queue full).
SATURATED = -1

#: MPDU length of the simulated frames (a full-size IP packet plus the
#: 802.11 header and FCS).
FRAME_BYTES = 1536


class TrafficError(ValueError):
    """A traffic spec that cannot be generated."""


def check(spec: TrafficSpec) -> None:
    if spec.pattern not in ("idle", "saturating", "constant", "on-off", "poisson"):
        raise TrafficError(f"unknown traffic pattern {spec.pattern!r}")
    if spec.pattern in ("constant", "poisson") and spec.rate_kbps <= 0:
        raise TrafficError(f"pattern {spec.pattern} needs a positive rate, not {spec.rate_kbps} kbit/s")
    if spec.rate_kbps < 0:
        raise TrafficError("rate must not be negative")
    if spec.pattern == "on-off" and (spec.on_ms <= 0 or spec.off_ms <= 0):
        raise TrafficError("on-off needs positive on and off times")


@dataclass
class TrafficSource:
    """The offered load of one vif; ``offer`` is called once per step."""

    spec: TrafficSpec
    phase_ms: float = 0.0
    _carry_bits: float = 0.0

    @classmethod
    def start(cls, spec: TrafficSpec, rng: np.random.Generator) -> "TrafficSource":
        check(spec)
        phase = float(rng.uniform(0.0, spec.on_ms + spec.off_ms)) if spec.pattern == "on-off" else 0.0
        return cls(spec, phase)

    def on_at(self, time_ms: float) -> bool:
        cycle = self.spec.on_ms + self.spec.off_ms
        return (time_ms + self.phase_ms) % cycle < self.spec.on_ms

    def offer(self, time_ms: float, step_ms: float, rng: np.random.Generator) -> int:
        """Bytes arriving in ``[time_ms, time_ms + step_ms)``, or
        :data:`SATURATED`."""
        pattern = self.spec.pattern
        if pattern == "idle":
            return 0
        if pattern == "saturating":
            return SATURATED
        if pattern == "on-off":
            return SATURATED if self.on_at(time_ms + step_ms / 2) else 0
        mean_bits = self.spec.rate_kbps * step_ms
        if pattern == "constant":
            bits = mean_bits + self._carry_bits
            frames = int(bits // (8 * FRAME_BYTES))
            self._carry_bits = bits - frames * 8 * FRAME_BYTES
            return frames * FRAME_BYTES
        frames = int(rng.poisson(mean_bits / (8 * FRAME_BYTES)))
        return frames * FRAME_BYTES
