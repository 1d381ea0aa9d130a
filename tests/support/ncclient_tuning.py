"""ncclient's transport thread waits up to ``TICK`` (0.1 s) in select()
before it sends a queued request, so every blocking RPC takes about 100 ms
regardless of the server.  Tests that make many calls shorten the tick;
benchmarks comparing servers must do the same for both, or they measure the
tick."""

from __future__ import annotations

import ncclient.transport.session


def shorten_ncclient_tick(seconds: float = 0.002) -> None:
    ncclient.transport.session.TICK = seconds
