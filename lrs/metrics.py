"""Prometheus metrics: one registry per app, served at `/metrics` (text format)."""

from __future__ import annotations

import secrets
from collections import Counter as Tally
from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lrs.errors import error_response
from plugins.hookspecs import Decision

# Methods a client may send are unbounded; label values must not be.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"})
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """The LRS's metrics, in a registry of its own (tests build many apps in one process).

    Labels hold route templates, statuses, decisions and credential *names* only: never a
    raw path, query string, key or actor.
    """

    def __init__(self, *, statements_route: str) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._statements_route = statements_route
        self.requests = Counter(
            "lrs_http_requests", "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram(
            "lrs_http_request_duration_seconds", "Time to answer a request, by route template.",
            ["route"], buckets=_LATENCY_BUCKETS, registry=self.registry)
        self.statements = Counter(
            "lrs_statements", "Statements accepted, by retention decision and credential name.",
            ["decision", "credential"], registry=self.registry)
        self.rejected = Counter(
            "lrs_statement_requests_rejected",
            "Statement requests (PUT, POST) refused with a client error, by status.",
            ["status"], registry=self.registry)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request and its latency."""
        method = method if method in _METHODS else "other"
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(route).observe(seconds)
        if route == self._statements_route and method in ("PUT", "POST") \
                and 400 <= status < 500:
            self.rejected.labels(str(status)).inc()

    def count_decisions(self, credential_name: str, decisions: Sequence[Decision]) -> None:
        """Count the statements of one accepted request by their retention decision."""
        for decision, number in Tally(decisions).items():
            self.statements.labels(decision.value, credential_name).inc(number)

    def render(self) -> bytes:
        """The registry in the Prometheus text exposition format."""
        return generate_latest(self.registry)


async def metrics_endpoint(request: Request) -> Response:
    """`GET /metrics`; with `LRS_METRICS_TOKEN` set, only for `Authorization: Bearer <token>`."""
    token = request.app.state.settings.metrics_token
    if token is not None:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(
                given.strip().encode(), token.get_secret_value().encode()):
            return error_response(401, "the metrics need a bearer token",
                                  headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    metrics: Metrics = request.app.state.metrics
    return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)


routes = [Route("/metrics", metrics_endpoint, methods=["GET"])]
