"""CSRF protection for requests a session cookie authenticates (Datasette's asgi-csrf:
a signed double-submit token, in the `x-csrftoken` header or a `csrftoken` form field)."""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie
from typing import Any

from asgi_csrf import asgi_csrf
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from lrs.errors import error_body

SESSION_COOKIE = "lrs_session"
CSRF_HEADER = "x-csrftoken"
CSRF_FIELD = "csrftoken"
# Forms a person posts before a session cookie exists, protected all the same (login CSRF).
ALWAYS_PROTECT = frozenset({"/sign-in/dev", "/sign-out"})


def _has_session_cookie(scope: Scope) -> bool:
    raw = b"; ".join(value for name, value in scope.get("headers", ()) if name == b"cookie")
    cookies: SimpleCookie = SimpleCookie()
    try:
        cookies.load(raw.decode("latin-1"))
    except CookieError:
        return False
    return SESSION_COOKIE in cookies


def _skip(scope: Scope) -> bool:
    # Basic and Bearer callers (platforms, the ADL suite, the beacon) send no session cookie:
    # nothing authenticates them implicitly, so there is nothing to forge.
    return scope.get("path") not in ALWAYS_PROTECT and not _has_session_cookie(scope)


async def _refuse(scope: Scope, send: Send, message_id: Any) -> None:
    body = error_body(403, "CSRF check failed: a request a session cookie authenticates must "
                           f"carry the page's token (header {CSRF_HEADER} or form field "
                           f"{CSRF_FIELD})")
    await send({"type": "http.response.start", "status": 403,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class CsrfMiddleware:
    """asgi-csrf on every state-changing request that carries the session cookie."""

    def __init__(self, app: ASGIApp, *, secret: str, secure: bool) -> None:
        self._app: ASGIApp = asgi_csrf(app, signing_secret=secret,
                                       always_protect=ALWAYS_PROTECT, skip_if_scope=_skip,
                                       cookie_secure=secure, cookie_samesite="Lax",
                                       send_csrf_failed=_refuse)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not _skip(scope) and _unparseable_multipart(scope):
            # asgi-csrf would fail on it (an assertion, a 500): say what is wrong instead.
            body = error_body(400, "malformed Content-Type: multipart/form-data needs "
                                   "'; boundary=…'")
            await send({"type": "http.response.start", "status": 400,
                        "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": body})
            return
        await self._app(scope, receive, send)


def _unparseable_multipart(scope: Scope) -> bool:
    content_type = dict(scope.get("headers", ())).get(b"content-type", b"")
    return (content_type.split(b";", 1)[0] == b"multipart/form-data"
            and len(content_type.split(b"; boundary=")) < 2)


def csrf_token(request: Request) -> str:
    """The token a page puts in its forms (field `csrftoken`) and its scripts send (header
    `x-csrftoken`); asking for it sets the CSRF cookie on the response."""
    token: str = request.scope["csrftoken"]()
    return token
