"""Per-request xAPI plumbing: the version header, Consistent-Through, alternate syntax."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from urllib.parse import parse_qsl, urlencode

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lrs.errors import error_response
from statements.datatypes import format_timestamp
from statements.errors import Problem
from statements.versions import XapiVersion, parse_version_header

VERSION_HEADER = "X-Experience-API-Version"
# Communication §1.3.s3.b7: form fields that stand for request headers.
_FORM_HEADERS = {"authorization", "x-experience-api-version", "content-type",
                 "content-length", "if-match", "if-none-match"}
_FORM = "application/x-www-form-urlencoded"


class XapiMiddleware:
    """Sets the request's xAPI version and answers in it on every response, errors included.

    A request without a usable `X-Experience-API-Version` is refused with 400 (Communication
    §3.3.s3.b4, LRS book 4.1.7), except on `/about` (§2.8.s5.b4) and CORS preflights, and
    answered in the configured default version.
    """

    def __init__(self, app: ASGIApp, *, base_path: str, default_version: XapiVersion,
                 consistent_through: Callable[[], datetime], max_body_bytes: int,
                 body_timeout_seconds: float = 30.0) -> None:
        self.app = app
        self.base_path = base_path.rstrip("/")
        self.default_version = default_version
        self.consistent_through = consistent_through
        self.max_body_bytes = max_body_bytes
        self.body_timeout_seconds = body_timeout_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(self.base_path + "/"):
            await self.app(scope, receive, send)
            return
        resource = path[len(self.base_path):].rstrip("/")
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"),
                          keep_blank_values=True)
        alternate = any(name == "method" for name, _ in query)
        problem: str | None = None
        if alternate:
            scope, receive, problem = await self._alternate(scope, receive, query)
        raw = Headers(scope=scope).get(VERSION_HEADER)
        version = parse_version_header(raw) if raw is not None else None
        answered_in = version or self.default_version
        scope.setdefault("state", {})["xapi_version"] = answered_in
        statements = resource == "/statements"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers[VERSION_HEADER] = answered_in.value  # C3.3.s3.b1: on every response
                if statements:  # Communication §2.1.3.s2.b5: on every statements response
                    headers["X-Experience-API-Consistent-Through"] = format_timestamp(
                        self.consistent_through())
            await send(message)

        if problem is None and alternate and answered_in is XapiVersion.V2:
            problem = "alternate request syntax (method=…) was removed in xAPI 2.0"
        if problem is None and version is None and resource != "/about" \
                and scope["method"] != "OPTIONS":
            problem = (f"missing {VERSION_HEADER} header" if raw is None else
                       f"unsupported {VERSION_HEADER} {raw!r}: use 1.0.3 or 2.0.0")
        if problem is not None:
            response = error_response(400, problem, (Problem("header", problem),))
            await response(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)

    async def _alternate(
        self, scope: Scope, receive: Receive, query: list[tuple[str, str]]
    ) -> tuple[Scope, Receive, str | None]:
        """Rewrite `POST …?method=X` with a form body into the request it stands for
        (Communication §1.3, xAPI 1.0.3 only)."""
        if scope["method"] != "POST":
            return scope, receive, "the method parameter is only allowed on POST"
        if len(query) != 1:  # Communication §1.3.s3.b3: only `method` in the query string
            return scope, receive, "with alternate syntax the query string holds only method"
        method = query[0][1].upper()
        if method not in ("GET", "PUT", "POST", "DELETE", "HEAD"):
            return scope, receive, f"method={query[0][1]} is not an HTTP method"
        content_type = Headers(scope=scope).get("content-type", "")
        if content_type.split(";")[0].strip().lower() != _FORM:
            return scope, receive, f"alternate syntax needs a {_FORM} body"
        body = bytearray()
        try:
            async with asyncio.timeout(self.body_timeout_seconds):
                while True:
                    message = await receive()
                    body += message.get("body", b"")
                    if len(body) > self.max_body_bytes:
                        return scope, receive, "the request body is too large"
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            return scope, receive, "the form body did not arrive in time"
        try:
            fields = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
        except UnicodeDecodeError:
            return scope, receive, "the form body is not UTF-8"
        params: list[tuple[str, str]] = []
        content = b""
        # Form fields named like headers override the request's own (Comm. §1.3.s3.b7); the
        # form's content type and length describe the form, not the content: both go.
        replaced: dict[bytes, bytes] = {}
        for name, value in fields:
            lowered = name.lower()
            if lowered == "content":
                content = value.encode("utf-8")
            elif lowered in _FORM_HEADERS:
                if lowered != "content-length":
                    replaced[lowered.encode()] = value.encode("latin-1", "replace")
            else:
                params.append((name, value))
        headers = [(k, v) for k, v in scope["headers"]
                   if k.lower() not in replaced and k.lower() not in (b"content-type",
                                                                        b"content-length")]
        headers += list(replaced.items())
        if method == "PUT" and not content:
            return scope, receive, "an alternate-syntax PUT needs a content field"
        if content and not any(k == b"content-type" for k, _ in headers):
            headers.append((b"content-type", b"application/json"))
        headers.append((b"content-length", str(len(content)).encode()))
        new_scope = dict(scope, method=method, headers=headers,
                         query_string=urlencode(params).encode())
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": content, "more_body": False}
            return await receive()

        return new_scope, replay, None
