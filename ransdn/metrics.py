"""Prometheus metrics of one controller instance (its own registry: two
controllers in one process do not share counters)."""

from __future__ import annotations

from typing import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

SLICE_STATES = ("active", "degraded", "failed")
CONNECTION_STATES = ("connecting", "connected", "unable-to-connect", "disabled")


class _StateGauges:
    """Gauges computed at scrape time from the controller's current view."""

    def __init__(self, slices: Callable[[], Iterable[str]],
                 nodes: Callable[[], Iterable[tuple[str, str]]]) -> None:
        self._slices = slices
        self._nodes = nodes

    def collect(self):  # noqa: ANN201 - prometheus collector protocol
        g = GaugeMetricFamily("ransdn_slices", "Slices by provisioning state.", labels=["state"])
        counts = {s: 0 for s in SLICE_STATES}
        for state in self._slices():
            counts[state] = counts.get(state, 0) + 1
        for state, n in sorted(counts.items()):
            g.add_metric([state], n)
        yield g
        g = GaugeMetricFamily("ransdn_nodes", "Nodes by kind and connection state.",
                              labels=["kind", "state"])
        ncounts = {(k, s): 0 for k in ("wifi", "lte") for s in CONNECTION_STATES}
        for kind, state in self._nodes():
            ncounts[(kind, state)] = ncounts.get((kind, state), 0) + 1
        for (kind, state), n in sorted(ncounts.items()):
            g.add_metric([kind, state], n)
        yield g


class ControllerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.provisioning_seconds = Histogram(
            "ransdn_provisioning_seconds",
            "Duration of all-or-nothing provisioning transactions.",
            ["result"], buckets=LATENCY_BUCKETS, registry=r)
        self.drift_repairs = Counter(
            "ransdn_drift_repairs_total", "Drift found on a node and repaired.",
            ["kind", "result"], registry=r)
        self.rpc_seconds = Histogram(
            "ransdn_netconf_rpc_seconds", "NETCONF RPC latency as seen by the controller.",
            ["operation"], buckets=LATENCY_BUCKETS, registry=r)
        self.rpc_errors = Counter(
            "ransdn_netconf_rpc_errors_total", "NETCONF RPCs that failed, by error-tag.",
            ["operation", "error"], registry=r)

    def watch_state(self, slices: Callable[[], Iterable[str]],
                    nodes: Callable[[], Iterable[tuple[str, str]]]) -> None:
        self.registry.register(_StateGauges(slices, nodes))  # type: ignore[arg-type]

    def observe_rpc(self, operation: str, seconds: float, error: str | None) -> None:
        self.rpc_seconds.labels(operation).observe(seconds)
        if error:
            self.rpc_errors.labels(operation, error).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
