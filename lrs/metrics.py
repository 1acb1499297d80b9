"""Prometheus metrics: one registry per app, served at `/metrics` (text format) on the LRS's
port behind `LRS_METRICS_TOKEN`, or with `LRS_METRICS_PORT` on a port of their own; with
neither, not served at all (they name credentials)."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import threading
from collections import Counter as Tally
from collections.abc import Callable, Iterable, Sequence
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
    make_wsgi_app,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from pydantic import SecretStr
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lrs.config import Settings
from lrs.errors import error_response
from lrs.storage import Storage
from lrs.storemetrics import StoreSizes, timed_storage, watch_event_loop
from plugins.hookspecs import Decision
from statements.profiles import Outcome

# Methods a client may send are unbounded; label values must not be.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"})
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_STORE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                  5.0, 10.0, 30.0)
_LAG_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


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
        self.door_findings = Counter(
            "lrs_door_check_findings",
            "Findings of the door checks (cmi5, profiles), by check, rule and outcome "
            "(flagged: accepted and marked; rejected: the request refused).",
            ["check", "rule", "outcome"], registry=self.registry)
        self.rejected = Counter(
            "lrs_statement_requests_rejected",
            "Statement requests (PUT, POST) refused with a client error, by status.",
            ["status"], registry=self.registry)
        self.in_flight = Gauge(
            "lrs_http_requests_in_flight", "HTTP requests being answered by this worker.",
            registry=self.registry)
        self.store_latency = Histogram(
            "lrs_store_operation_duration_seconds",
            "Time a store operation took, by engine, store (statements, tally, documents, "
            "...) and operation (save, query, ...).",
            ["engine", "store", "operation"], buckets=_STORE_BUCKETS, registry=self.registry)
        self.store_failures = Counter(
            "lrs_store_operation_failures",
            "Store operations that raised, by engine, store, operation and error type "
            "(Conflict is a client's 409; StoreUnavailable is the database failing).",
            ["engine", "store", "operation", "error"], registry=self.registry)
        self.attachment_bytes = Counter(
            "lrs_attachment_bytes",
            "Attachment bytes accepted with statements (in; stored once per SHA-2) and read "
            "back to be served (out).", ["direction"], registry=self.registry)
        self.loop_lag = Histogram(
            "lrs_event_loop_lag_seconds", "How late the event loop woke from a short sleep: "
            "time it spent on work that did not yield.", buckets=_LAG_BUCKETS,
            registry=self.registry)
        self.profile_matches = Counter(
            "lrs_profile_template_matches",
            "Statements that matched an xAPI Profile's statement template, by profile and "
            "template (docs/profiles.md).", ["profile", "template"], registry=self.registry)
        self.profile_findings = Counter(
            "lrs_profile_template_findings",
            "Statements that broke a rule of a statement template, by profile, template and "
            "what the credential's check did (flagged, rejected).",
            ["profile", "template", "action"], registry=self.registry)
        ProcessCollector(registry=self.registry)  # process_cpu_seconds_total, memory, fds
        PlatformCollector(registry=self.registry)
        self._tasks: list[asyncio.Task[None]] = []
        self._sizes: StoreSizes | None = None
        self._server: WSGIServer | None = None

    async def start(self, storage: Storage, settings: Settings) -> Storage:
        """Watch `storage` and the event loop; serve the metrics port if one is set.

        Returns the storage whose stores time their operations: the app uses that one.
        """
        loop = asyncio.get_running_loop()
        self._sizes = StoreSizes(storage, loop, timeout=settings.ready_timeout_seconds)
        self.registry.register(self._sizes)
        self._tasks.append(loop.create_task(watch_event_loop(self.loop_lag.observe)))
        if settings.metrics_port is not None:
            self._server = serve_metrics(self.registry, settings.host, settings.metrics_port,
                                         settings.metrics_token)
        return timed_storage(storage, self)

    async def stop(self) -> None:
        """Stop what `start` started (the metrics port first: its scrapes use the loop)."""
        if self._server is not None:
            await asyncio.to_thread(self._server.shutdown)
            self._server.server_close()
            self._server = None
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self._sizes is not None:
            self.registry.unregister(self._sizes)
            self._sizes = None

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

    def count_profile_outcome(self, outcome: Outcome, action: str) -> None:
        """Count one statement's profile matches, and its broken templates as `action`."""
        for profile, template in outcome.matched:
            self.profile_matches.labels(profile, template).inc()
        for profile, template in {(f.profile, f.template) for f in outcome.findings}:
            self.profile_findings.labels(profile, template, action).inc()
    def count_finding(self, check: str, rule: str, outcome: str) -> None:
        """Count one door-check finding (lrs.door.Count)."""
        self.door_findings.labels(check, rule, outcome).inc()

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
    # Rendered off the loop: the table sizes are read on the loop while this thread waits.
    return Response(await asyncio.to_thread(metrics.render), media_type=CONTENT_TYPE_LATEST)


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes are not logged: they would drown the request log."""


WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def serve_metrics(registry: CollectorRegistry, host: str, port: int,
                  token: SecretStr | None) -> WSGIServer:
    """Serve `registry` on its own port (any path), in a thread; the token still applies."""
    app: WsgiApp = make_wsgi_app(registry)
    if token is not None:
        app = _guarded(app, token.get_secret_value().encode())
    server = make_server(host, port, app, _Server, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="metrics-port", daemon=True).start()
    return server


def _guarded(app: WsgiApp, token: bytes) -> WsgiApp:
    def guarded(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        scheme, _, given = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() == "bearer" and secrets.compare_digest(given.strip().encode(), token):
            return app(environ, start_response)
        start_response("401 Unauthorized", [("Content-Type", "text/plain"),
                                            ("WWW-Authenticate", 'Bearer realm="metrics"')])
        return [b"the metrics need a bearer token\n"]

    return guarded


routes = [Route("/metrics", metrics_endpoint, methods=["GET"])]
