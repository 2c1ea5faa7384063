"""Request counts and the latency histogram: queued per request, folded exactly."""

from __future__ import annotations

import re
import threading

from wasmbridge.serve.metrics import BUCKETS, FOLD_AT, Metrics


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the exposition (labels in any order)."""
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
        if found == labels:
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no {name} {labels} in:\n{text}")


def test_counts_buckets_and_sums_are_exact_across_folds() -> None:
    metrics = Metrics(lambda: 0, lambda: 0)
    latencies = [BUCKETS[i % len(BUCKETS)] for i in range(FOLD_AT * 3 + 5)] + [99.0]
    for seconds in latencies:
        metrics.observe("/a", 200, seconds)
    metrics.observe("/a", 500, 0.0001)
    text = metrics.render().decode()
    assert sample(text, "wasmbridge_requests_total", route="/a", status="200") == len(latencies)
    assert sample(text, "wasmbridge_requests_total", route="/a", status="500") == 1
    count = sample(text, "wasmbridge_request_seconds_count", route="/a")
    assert count == len(latencies) + 1
    for bound in BUCKETS:  # an observation equal to a bound falls in that bucket
        expected = sum(1 for s in latencies if s <= bound) + 1
        assert (
            sample(text, "wasmbridge_request_seconds_bucket", route="/a", le=repr(bound))
            == expected
        )
    assert sample(text, "wasmbridge_request_seconds_bucket", route="/a", le="+Inf") == count
    total = sample(text, "wasmbridge_request_seconds_sum", route="/a")
    assert abs(total - (sum(latencies) + 0.0001)) < 1e-6


def test_no_request_is_lost_when_threads_count_at_once() -> None:
    metrics = Metrics(lambda: 0, lambda: 0)
    per_thread, threads = 5000, 4

    def count(route: str) -> None:
        for _ in range(per_thread):
            metrics.observe(route, 200, 0.001)

    workers = [threading.Thread(target=count, args=(f"/r{i % 2}",)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    text = metrics.render().decode()
    for route in ("/r0", "/r1"):
        assert (
            sample(text, "wasmbridge_requests_total", route=route, status="200") == 2 * per_thread
        )


def test_the_gauges_are_read_when_scraped() -> None:
    in_flight = [3]
    metrics = Metrics(lambda: in_flight[0], lambda: 7)
    text = metrics.render().decode()
    assert "wasmbridge_instances_in_flight 3.0" in text
    assert "wasmbridge_queue_depth 7.0" in text
    assert "wasmbridge_requests_total" in text  # described even before any request
