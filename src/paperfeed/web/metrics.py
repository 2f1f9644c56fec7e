"""`/metrics`: the service in Prometheus text format (prometheus-client).

Owns the request metrics (a count and a latency histogram by route template, method
and status class, recorded by the `RequestMetrics` middleware, which also writes the
access log line), the store-derived gauges (`application.status`, read at scrape time
through a few-second cache) and who may scrape. Labels are bounded: the route is the
template (`/api/v1/papers/{ref:path}`), never the path asked for.

Several worker processes (`serve --workers N`) share their counters through
prometheus-client's multiprocess mode: `serve_workers` gives them one
PROMETHEUS_MULTIPROC_DIR, and a scrape of any worker adds up every worker's files.
Access (docs/decisions/metrics.md): with PAPERFEED_METRICS_TOKEN set, a scrape needs
`Authorization: Bearer <token>`; without, only loopback clients may scrape.
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from collections.abc import Iterator

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paperfeed.application.status import StatusCache

__all__ = ["METRICS_TOKEN_ENV", "Metrics", "RequestMetrics", "router"]

METRICS_TOKEN_ENV = "PAPERFEED_METRICS_TOKEN"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
LOOPBACK = {"127.0.0.1", "::1", "localhost"}
UNMATCHED = "unmatched"  # a request no route took (a bad Host, a method not allowed...)
# Seconds: a page is tens of ms, a cold search a second or two, an upload longer.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

access_log = logging.getLogger("paperfeed.access")


class StatusCollector(Collector):
    """The store-derived figures, read (through the cache) when scraped."""

    def __init__(self, status: StatusCache) -> None:
        self.status = status

    def collect(self) -> Iterator[Metric]:
        now = self.status.get()
        yield GaugeMetricFamily("paperfeed_papers", "Papers stored.", value=now.papers)
        yield GaugeMetricFamily("paperfeed_papers_indexed", "Papers in the search index.",
                                value=now.indexed)
        yield GaugeMetricFamily("paperfeed_index_pending_papers",
                                "Stored papers not yet searchable (index lag).",
                                value=now.pending)
        ages = (("paperfeed_index_commit_age_seconds", "Seconds since the index's last commit.",
                 now.index_age),
                ("paperfeed_harvest_age_seconds",
                 "Seconds since a harvest last finished a window.", now.harvest_age))
        for name, text, age in ages:
            if age is not None:  # never happened: no sample, rather than a made-up age
                yield GaugeMetricFamily(name, text, value=age)
        runs = CounterMetricFamily("paperfeed_job_runs", "Recurring job runs, by outcome "
                                   "(all processes, from the store).", labels=["job", "outcome"])
        failures = CounterMetricFamily("paperfeed_job_failures", "Failed recurring job runs.",
                                       labels=["job"])
        failed: dict[str, int] = {}
        for (job, outcome), n in sorted(now.job_runs.items()):
            runs.add_metric([job, outcome], n)
            failed[job] = failed.get(job, 0) + (n if outcome == "failed" else 0)
        for job, n in sorted(failed.items()):
            failures.add_metric([job], n)
        digests = CounterMetricFamily("paperfeed_digest_runs", "Digest runs by status "
                                      "(sent, empty, sending, dry-run).", labels=["status"])
        for status, n in sorted(now.digest_runs.items()):
            digests.add_metric([status], n)
        yield from (runs, failures, digests)


class Metrics:
    """One app's metrics: the request instruments and the registry a scrape renders."""

    def __init__(self, status: StatusCache) -> None:
        self.registry = CollectorRegistry()
        shared = os.environ.get(MULTIPROC_ENV)
        # In multiprocess mode the instruments write to files in the shared folder and a
        # scrape reads them all back; registering them here too would count this one twice.
        own = None if shared else self.registry
        self.requests = Counter(
            "paperfeed_http_requests", "HTTP requests by route template, method and status "
            "class.", ["route", "method", "status"], registry=own)
        self.latency = Histogram(
            "paperfeed_http_request_duration_seconds", "Time to answer, by route template, "
            "method and status class.", ["route", "method", "status"], buckets=BUCKETS,
            registry=own)
        if shared:
            MultiProcessCollector(self.registry, path=shared)  # type: ignore[no-untyped-call]
        self.registry.register(StatusCollector(status))

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        labels = (route, method, f"{status // 100}xx")
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class RequestMetrics:
    """Pure ASGI middleware: counts and times every HTTP request, and logs it on
    `paperfeed.access` (method, route, path, status, duration_ms) at INFO."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # an exception that escapes every handler ends as a 500
        done = False

        def record() -> None:
            nonlocal done
            done = True
            seconds = time.perf_counter() - start
            # The router puts the matched route into the (shared) scope.
            route = getattr(scope.get("route"), "path", None) or UNMATCHED
            self.metrics.observe(route, scope["method"], status, seconds)
            if access_log.isEnabledFor(logging.INFO):  # e.g. with --log-json (cli/logs.py)
                access_log.info("%s %s %d", scope["method"], scope["path"], status, extra={
                    "method": scope["method"], "route": route, "path": scope["path"],
                    "status": status, "duration_ms": round(seconds * 1000, 2)})

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                # Before the last byte leaves: a client that has its answer finds the
                # request counted when it scrapes next.
                record()
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            if not done:  # no complete answer: an error, or the client went away
                record()


router = APIRouter(include_in_schema=False)


def _allowed(request: Request) -> bool:
    token = os.environ.get(METRICS_TOKEN_ENV, "").strip()
    if token:
        given = request.headers.get("authorization", "")
        return given[:7].lower() == "bearer " and hmac.compare_digest(
            given[7:].strip().encode(), token.encode())
    return request.client is not None and request.client.host in LOOPBACK


@router.get("/metrics")
def metrics(request: Request) -> Response:
    """The Prometheus text exposition of this service."""
    if not _allowed(request):
        raise HTTPException(403, f"/metrics answers loopback clients, or a bearer token "
                                 f"when {METRICS_TOKEN_ENV} is set")
    body = request.app.state.metrics.render()
    return Response(body, media_type=CONTENT_TYPE_LATEST,
                    headers={"Cache-Control": "no-store"})
