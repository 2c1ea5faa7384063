"""Prometheus metrics of one ``ServeApp``, in a registry of its own.

``wasmbridge_requests_total{route,status}``, the latency histogram
``wasmbridge_request_seconds{route}``, and two gauges read when scraped:
``wasmbridge_instances_in_flight`` and ``wasmbridge_queue_depth``. Each
worker process serves its own ``/metrics`` (a scrape sees one process;
scrape each worker, or sum them in Prometheus); the registry is private,
so several apps in one process do not mix their counts.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE", "Metrics"]

CONTENT_TYPE = CONTENT_TYPE_LATEST
# From a hello handler (~0.5 ms here) to a guest at its time limit.
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The counters, histogram and gauges of one app."""

    def __init__(self, in_flight: Callable[[], float], queued: Callable[[], float]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "wasmbridge_requests",
            "HTTP requests answered, by route pattern and status code.",
            ("route", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "wasmbridge_request_seconds",
            "Time from request received to response produced, by route pattern.",
            ("route",),
            buckets=BUCKETS,
            registry=self.registry,
        )
        gauge = Gauge(
            "wasmbridge_instances_in_flight",
            "Guest instances running now in this process.",
            registry=self.registry,
        )
        gauge.set_function(in_flight)
        depth = Gauge(
            "wasmbridge_queue_depth",
            "Requests admitted and waiting for a worker thread in this process.",
            registry=self.registry,
        )
        depth.set_function(queued)
        self._children: dict[tuple[str, int], tuple[Counter, Histogram]] = {}

    def observe(self, route: str, status: int, seconds: float) -> None:
        """Count one answered request."""
        key = (route, status)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (
                self.requests.labels(route, str(status)),
                self.latency.labels(route),
            )
        children[0].inc()
        children[1].observe(seconds)

    def render(self) -> bytes:
        """The Prometheus text exposition."""
        return generate_latest(self.registry)
