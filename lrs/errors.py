"""One table from error type to HTTP status, and one error body shape."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from statements.documents import PreconditionFailed
from statements.errors import (
    Conflict,
    Forbidden,
    InvalidRequest,
    NotFound,
    TooLarge,
    TooManyRequests,
    TooSlow,
    Unauthorized,
    XapiError,
)

STATUS: dict[type[Exception], int] = {
    InvalidRequest: 400,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    PreconditionFailed: 412,
    TooLarge: 413,
    TooSlow: 408,
    TooManyRequests: 429,
}


def error_body(status: int, message: str, problems: Any = ()) -> bytes:
    """`{"error": {"status", "message", "problems": [{"path", "message"}]}}`."""
    return orjson.dumps({"error": {
        "status": status,
        "message": message,
        "problems": [{"path": p.path, "message": p.message} for p in problems],
    }})


def error_response(status: int, message: str, problems: Any = (),
                   headers: dict[str, str] | None = None) -> Response:
    """A JSON error response (Communication §3.2.s3.b2: every error carries a message)."""
    return Response(error_body(status, message, problems), status_code=status,
                    media_type="application/json", headers=headers)


async def handle_xapi_error(request: Request, exc: Exception) -> Response:
    """Starlette exception handler for every client error raised by the domain packages."""
    assert isinstance(exc, XapiError)
    status = next(code for kind, code in STATUS.items() if isinstance(exc, kind))
    # A script that says so (the dashboard does) gets no challenge, so the browser shows no
    # sign-in dialog of its own over the page's form.
    challenge = status == 401 and "x-requested-with" not in request.headers
    headers = {"WWW-Authenticate": 'Basic realm="xAPI"'} if challenge else None
    if isinstance(exc, TooManyRequests):
        headers = {"Retry-After": str(max(1, round(exc.retry_after)))}
    if isinstance(exc, TooLarge | TooSlow):
        # The rest of the body is not read: the connection cannot carry another request.
        headers = {"Connection": "close"}
    return error_response(status, exc.message, exc.problems, headers)


async def handle_http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own errors (unknown path, wrong method) in the same JSON shape."""
    assert isinstance(exc, HTTPException)
    return error_response(exc.status_code, str(exc.detail),
                          headers=dict(exc.headers) if exc.headers else None)


async def handle_store_unavailable(request: Request, exc: Exception) -> Response:
    """The engine failed: 503, so clients retry; never a client's fault."""
    return error_response(503, "the store is unavailable, try again")
