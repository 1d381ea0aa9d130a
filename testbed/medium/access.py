"""Channel access: which radios transmit when, the way DCF shares a channel.

A step is cut into slots of about one transmit opportunity.  In every slot,
each radio that has frames its local scheduler would release draws a random
backoff; a radio transmits when its backoff is the lowest among the
contending radios it hears, then radios that hear none of the winners try
again (three rounds make the set of transmitters nearly maximal).  So:

- in a clique of n backlogged radios each transmits 1/n of the slots:
  roughly equal access per contending radio, as DCF gives;
- radios that do not hear each other transmit at the same time (spatial
  reuse), and a radio hearing two others that do not hear each other gets
  less than either (the "flow in the middle" unfairness of real DCF).

Collisions between hidden terminals are not modelled: a radio that does
not hear a transmitter is free to transmit, and both succeed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

BoolArray = NDArray[np.bool_]
IndexArray = NDArray[np.intp]


@dataclass(frozen=True)
class ContentionGraph:
    """Pairs of radios that share a channel and hear each other, both ways."""

    n_radios: int
    src: IndexArray
    dst: IndexArray

    @classmethod
    def from_matrix(cls, contends: BoolArray) -> "ContentionGraph":
        src, dst = np.nonzero(contends | contends.T)
        keep = src != dst
        return cls(contends.shape[0], src[keep].astype(np.intp), dst[keep].astype(np.intp))


class ChannelAccess:
    """Decides, slot by slot, which contending radios transmit."""

    def __init__(self, rng: np.random.Generator, slot_us: float = 500.0, rounds: int = 3) -> None:
        if slot_us <= 0:
            raise ValueError("slot_us must be positive")
        self.rng = rng
        self.slot_us = slot_us
        self.rounds = rounds

    def slots(self, duration_us: float) -> int:
        return max(1, int(round(duration_us / self.slot_us)))

    def transmitters(self, graph: ContentionGraph, contending: BoolArray, n_slots: int) -> BoolArray:
        """A (slots, radios) matrix: who transmits in each slot."""
        n = graph.n_radios
        contending = np.asarray(contending, dtype=bool)
        won = np.zeros((n_slots, n), dtype=bool)
        if n == 0 or not contending.any():
            return won
        undecided = np.broadcast_to(contending, (n_slots, n)).copy()
        backoff = self.rng.random((n_slots, n))
        src, dst = graph.src, graph.dst
        for _ in range(self.rounds):
            if not undecided.any():
                break
            # A radio loses the round if a contending neighbour drew lower.
            beaten = undecided[:, dst] & (backoff[:, dst] < backoff[:, src])
            lost = np.zeros((n_slots, n), dtype=bool)
            rows, cols = np.nonzero(beaten)
            lost[rows, src[cols]] = True
            winners = undecided & ~lost
            won |= winners
            # Radios that hear a winner defer for the slot.
            hears_winner = np.zeros((n_slots, n), dtype=bool)
            rows, cols = np.nonzero(winners[:, src])
            hears_winner[rows, dst[cols]] = True
            undecided &= ~winners & ~hears_winner
        return won

    @staticmethod
    def busy_time(graph: ContentionGraph, on_air: NDArray[np.float64]) -> NDArray[np.float64]:
        """Per radio, the time the channel was busy around it: in each slot,
        the longest transmission by itself or a radio it hears.

        ``on_air`` is (slots, radios): microseconds each radio transmitted
        in each slot.
        """
        heard = on_air.copy()
        if graph.src.size:
            np.maximum.at(heard, (slice(None), graph.dst), on_air[:, graph.src])
        return heard.sum(axis=0)
