"""Prometheus metrics of one ``ServeApp``, in a registry of its own.

``wasmbridge_requests_total{route,status}``, the latency histogram
``wasmbridge_request_seconds{route}``, and two gauges read when scraped:
``wasmbridge_instances_in_flight`` and ``wasmbridge_queue_depth``. Each
worker process serves its own ``/metrics`` (a scrape sees one process;
scrape each worker, or sum them in Prometheus); the registry is private,
so several apps in one process do not mix their counts.

Counting a request is on every request's path, so it only appends to a
queue (atomic, no lock); the queue is folded into the counts under a lock
when a scrape comes or every ``FOLD_AT`` requests, whichever is first.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections import deque
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

__all__ = ["CONTENT_TYPE", "Metrics"]

CONTENT_TYPE = CONTENT_TYPE_LATEST
# From a hello handler (~0.1 ms here) to a guest at its time limit.
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
FOLD_AT = 1024  # requests counted ahead of a scrape, at most

REQUESTS = ("wasmbridge_requests", "HTTP requests answered, by route pattern and status code.")
LATENCY = (
    "wasmbridge_request_seconds",
    "Time from request received to response produced, by route pattern.",
)


class _Latency:
    """One route's histogram: a count per bucket (the last one is +Inf) and the sum."""

    def __init__(self) -> None:
        self.counts = [0] * (len(BUCKETS) + 1)
        self.total = 0.0


class Metrics:
    """The counters, histogram and gauges of one app."""

    def __init__(self, in_flight: Callable[[], float], queued: Callable[[], float]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._observed: deque[tuple[str, int, float]] = deque()
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, int], int] = {}
        self._latency: dict[str, _Latency] = {}
        self.registry.register(_Collector(self))
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

    def observe(self, route: str, status: int, seconds: float) -> None:
        """Count one answered request."""
        self._observed.append((route, status, seconds))
        if len(self._observed) >= FOLD_AT:
            self._fold()

    def render(self) -> bytes:
        """The Prometheus text exposition."""
        return generate_latest(self.registry)

    def _fold(self) -> None:
        """Move the queued observations into the counts."""
        with self._lock:
            take = self._observed.popleft
            for _ in range(len(self._observed)):
                route, status, seconds = take()
                key = (route, status)
                self._requests[key] = self._requests.get(key, 0) + 1
                latency = self._latency.get(route)
                if latency is None:
                    latency = self._latency[route] = _Latency()
                latency.counts[bisect_left(BUCKETS, seconds)] += 1
                latency.total += seconds

    def families(self) -> Iterator[Metric]:
        """The request counter and the latency histogram, as of now."""
        self._fold()
        with self._lock:
            requests = CounterMetricFamily(*REQUESTS, labels=("route", "status"))
            for (route, status), count in sorted(self._requests.items()):
                requests.add_metric((route, str(status)), count)
            latency = HistogramMetricFamily(*LATENCY, labels=("route",))
            for route, histogram in sorted(self._latency.items()):
                cumulative, buckets = 0, []
                for bound, count in zip((*BUCKETS, float("inf")), histogram.counts, strict=True):
                    cumulative += count
                    buckets.append((_bound(bound), cumulative))
                latency.add_metric((route,), buckets, histogram.total)
        yield requests
        yield latency


def _bound(bound: float) -> str:
    return "+Inf" if bound == float("inf") else repr(bound)


class _Collector(Collector):
    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        return self._metrics.families()

    def describe(self) -> Iterator[Metric]:
        yield CounterMetricFamily(*REQUESTS, labels=("route", "status"))
        yield HistogramMetricFamily(*LATENCY, labels=("route",))
