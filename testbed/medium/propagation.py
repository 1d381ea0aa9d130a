"""Who hears whom: positions, ranges and signal strength.

Two radios of the same band hear each other when they are within the band's
carrier-sense range, or when an explicit hearing graph says so (scenarios
that need an exact graph, such as the 2-AP seed case, give one).  The signal
reported for a heard BSS follows a log-distance path loss calibrated so that
the edge of the range is the carrier-sense threshold.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

RadioKey = tuple[str, str]

#: Carrier-sense range per band, metres: roughly where a 20 dBm outdoor AP's
#: preamble falls to -82 dBm.
DEFAULT_RANGE_M: Mapping[str, float] = {"2.4ghz": 150.0, "5ghz": 100.0, "6ghz": 80.0}
#: Signal at the edge of the range (the preamble-detect threshold), dBm.
EDGE_SIGNAL_DBM = -82.0
#: Path loss exponent of the log-distance model.
PATH_LOSS_EXPONENT = 3.0
#: Signal at one metre, dBm; clipped so nearby radios do not report more.
MAX_SIGNAL_DBM = -20.0


class HearingError(ValueError):
    """A hearing graph names radios in an unusable way."""


@dataclass(frozen=True)
class Propagation:
    """How radios hear each other.

    ``hearing``, when given, is the complete list of radio pairs that hear
    each other (symmetric; positions are then used for signal only).
    Otherwise pairs within ``range_m[band]`` of each other hear each other.
    """

    range_m: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_RANGE_M))
    hearing: frozenset[frozenset[RadioKey]] | None = None

    @classmethod
    def with_graph(cls, pairs: Iterable[tuple[RadioKey, RadioKey]], **kwargs) -> "Propagation":
        graph = set()
        for a, b in pairs:
            if a == b:
                raise HearingError(f"radio {a[0]}/{a[1]} cannot hear itself")
            graph.add(frozenset((tuple(a), tuple(b))))
        return cls(hearing=frozenset(graph), **kwargs)

    def range_of(self, band: str) -> float:
        return float(self.range_m.get(band, DEFAULT_RANGE_M.get(band, 100.0)))

    def signal_dbm(self, band: str, distance_m: float) -> int:
        """Signal of a BSS heard at ``distance_m``."""
        edge = self.range_of(band)
        d = max(distance_m, 1.0)
        loss = 10.0 * PATH_LOSS_EXPONENT * math.log10(d / edge)
        return int(round(min(MAX_SIGNAL_DBM, EDGE_SIGNAL_DBM - loss)))

    def hears(
        self,
        keys: list[RadioKey],
        bands: list[str],
        positions: NDArray[np.float64],
    ) -> NDArray[np.bool_]:
        """The symmetric hearing matrix of the given radios (any channel;
        same band only)."""
        n = len(keys)
        band_arr = np.array(bands)
        same_band = band_arr[:, None] == band_arr[None, :]
        if self.hearing is not None:
            index = {k: i for i, k in enumerate(keys)}
            matrix = np.zeros((n, n), dtype=bool)
            for pair in self.hearing:
                a, b = tuple(pair)
                if a in index and b in index:
                    matrix[index[a], index[b]] = matrix[index[b], index[a]] = True
            return matrix & same_band
        if n == 0:
            return np.zeros((0, 0), dtype=bool)
        delta = positions[:, None, :] - positions[None, :, :]
        distance = np.sqrt((delta**2).sum(axis=2))
        reach = np.array([self.range_of(b) for b in bands])
        matrix = (distance <= reach[:, None]) & same_band
        np.fill_diagonal(matrix, False)
        return matrix
