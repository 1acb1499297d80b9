"""One JSON log line per request (replacing uvicorn's access log), and the request metrics.

A line holds the request id, method, route *template*, status, duration and, once the
request was authenticated, the credential's name: never the raw path or query string (xAPI
puts agents and ids there), a body, a key or a secret.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.datastructures import Headers, MutableHeaders
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lrs.metrics import Metrics

ACCESS_LOGGER = "lrs.access"
REQUEST_ID_HEADER = "X-Request-Id"
UNMATCHED = "<unmatched>"
# A client's request id is echoed and logged, so only a short token of safe characters is
# taken; anything else (an e-mail address, say) is replaced by a generated id.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def route_template(routes: Sequence[BaseRoute], scope: Scope, prefix: str = "") -> str | None:
    """The template (`/xapi/statements`) of the route a request goes to, mounts included,
    or None when no route matches. Matching by method is not needed: one path, one template."""
    for route in routes:
        match, child = route.matches(scope)
        if match is Match.NONE:
            continue
        if isinstance(route, Mount):
            if not route.routes:  # an app such as StaticFiles: its files share one template
                return f"{prefix}{route.path}/{{path}}"
            return route_template(route.routes, {**scope, **child}, prefix + route.path)
        path: str = getattr(route, "path", "")
        return prefix + path
    return None


class RequestLogMiddleware:
    """Pure ASGI: measures each HTTP request, logs it as one JSON line, counts it in metrics.

    Outermost, so it sees every answer, those of the other middleware included.
    """

    def __init__(self, app: ASGIApp, *, routes: Sequence[BaseRoute],
                 metrics: Metrics | None) -> None:
        self.app = app
        self.routes = routes
        self.metrics = metrics
        self.logger = logging.getLogger(ACCESS_LOGGER)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        sent_id = Headers(scope=scope).get(REQUEST_ID_HEADER, "")
        request_id = sent_id if _REQUEST_ID.fullmatch(sent_id) else uuid.uuid4().hex
        route = route_template(self.routes, scope) or UNMATCHED
        state: dict[str, Any] = scope.setdefault("state", {})  # credential_of writes here
        status = 500  # unless a response starts: an exception escaped before it did

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        if self.metrics is not None:
            self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            if self.metrics is not None:
                self.metrics.in_flight.dec()
                self.metrics.observe_request(scope["method"], route, status, seconds)
            if self.logger.isEnabledFor(logging.INFO):
                fields = {"request_id": request_id, "method": scope["method"], "route": route,
                          "status": status, "duration_ms": round(seconds * 1000, 3)}
                if (name := state.get("credential_name")) is not None:
                    fields["credential"] = name
                self.logger.info("request", extra={"fields": fields})


class JsonFormatter(logging.Formatter):
    """A log record as one JSON object on one line; a record's `fields` extra is merged in."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line).decode()


def logging_config(level: str) -> dict[str, Any]:
    """The `logging.config.dictConfig` for `lrs serve` (uvicorn applies it in every worker):
    JSON lines on stdout, for uvicorn's own logs and for the request lines."""
    handler = {"class": "logging.StreamHandler", "formatter": "json",
               "stream": "ext://sys.stdout"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": f"{__name__}.JsonFormatter"}},
        "handlers": {"stdout": handler},
        "loggers": {
            "uvicorn": {"handlers": ["stdout"], "level": level.upper(), "propagate": False},
            "uvicorn.error": {"level": level.upper()},
            # Replaced by ours; `access_log=False` keeps it silent anyway.
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "lrs": {"handlers": ["stdout"], "level": level.upper(), "propagate": False},
        },
    }
