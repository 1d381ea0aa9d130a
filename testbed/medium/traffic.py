"""Offered downstream traffic of a vif.

``saturating`` keeps the vif's queue full; ``constant`` offers ``rate``
kbit/s evenly; ``on-off`` is saturating for ``on_ms`` then idle for
``off_ms`` (each vif starts at a random phase, so on-off vifs do not switch
in lockstep); ``poisson`` offers frames arriving as a Poisson process that
averages ``rate`` kbit/s; ``idle`` offers nothing.  The medium generates
all vifs' arrivals of a step at once (:meth:`SharedMedium._offered`).
"""

from __future__ import annotations

from .model import TrafficSpec

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
