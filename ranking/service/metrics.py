"""Prometheus metrics: request latency per endpoint, interventions by type, removals by reason;
and the access log (one line per request, logger ``feedwell.access``).

Each app gets its own registry, so several apps in one process (tests) do not collide.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

__all__ = ["Metrics", "LatencyMiddleware"]

access_log = logging.getLogger("feedwell.access")

_BUCKETS = (0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
            2.5)


class Metrics:
    """The service's counters and histograms in one registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.latency = Histogram("feedwell_request_seconds", "Request latency by endpoint",
                                 ["endpoint", "method"], buckets=_BUCKETS, registry=r)
        self.interventions = Counter("feedwell_interventions_total",
                                     "Interventions served, by type", ["type"], registry=r)
        self.removals = Counter("feedwell_removals_total",
                                "Candidates removed by a stage, by reason",
                                ["reason"], registry=r)
        self.events = Counter("feedwell_events_total", "Posted events by outcome",
                              ["outcome"], registry=r)
        self.model = Gauge("feedwell_model_info", "Model in service (1 = serving)",
                           ["version"], registry=r)

    def observe_feed(self, response: Any) -> None:
        for iv in response.interventions:
            self.interventions.labels(iv.type).inc()
        counts: dict[str, int] = {}
        for r in response.removed:
            reason = r.reason.split(":", 1)[0]  # "missing_fact:maturity" -> one series
            counts[reason] = counts.get(reason, 0) + 1
        for reason, n in counts.items():
            self.removals.labels(reason).inc(n)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class LatencyMiddleware:
    """Pure ASGI middleware timing each request under its route template (bounded labels),
    and writing its access-log line: method, path (as sent, percent-encoded, so no control
    characters reach the log; at most 200 characters), status, milliseconds. No bodies,
    headers or tokens."""

    def __init__(self, app: Callable[..., Awaitable[None]], metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        status = 500  # if the app raises before answering

        async def send_status(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            elapsed = time.perf_counter() - t0
            route = scope.get("route")
            endpoint = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "")
            self.metrics.latency.labels(endpoint, method).observe(elapsed)
            if access_log.isEnabledFor(logging.INFO):
                raw = scope.get("raw_path") or scope.get("path", "").encode()
                path = raw[:200].decode("ascii", "backslashreplace")
                access_log.info("%s %s %d %.2fms", method, path, status, elapsed * 1000)
