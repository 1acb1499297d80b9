"""Request and response helpers shared by the resource modules."""

from __future__ import annotations

import asyncio
from datetime import datetime
from email.utils import format_datetime

from starlette.requests import Request
from starlette.responses import Response

from lrs.auth import Authenticator
from lrs.credentials import Credential
from lrs.limits import RateLimiter
from lrs.people import principal_of
from lrs.people.bearer import BearerTokens
from lrs.people.web import session_of
from statements.errors import TooLarge, TooManyRequests, TooSlow
from statements.versions import XapiVersion


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body; TooLarge (413) as soon as it passes `limit` bytes, TooSlow (408) when
    it has not all arrived within the configured time (LRS_BODY_TIMEOUT_SECONDS)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"the request body is larger than {limit} bytes")
    seconds: float = request.app.state.settings.body_timeout_seconds
    body = bytearray()
    try:
        async with asyncio.timeout(seconds):
            async for chunk in request.stream():
                body += chunk
                if len(body) > limit:
                    raise TooLarge(f"the request body is larger than {limit} bytes")
    except TimeoutError:
        raise TooSlow(f"the request body did not arrive within {seconds:g} seconds") from None
    return bytes(body)


def json_bytes(
    body: bytes, *, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """A response whose body is already JSON bytes."""
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def http_date(moment: datetime) -> str:
    """An RFC 7231 date for Last-Modified."""
    return format_datetime(moment, usegmt=True)


def version_of(request: Request) -> XapiVersion:
    """The xAPI version the request is answered in (set by lrs.middleware)."""
    version: XapiVersion = request.state.xapi_version
    return version


async def credential_of(request: Request) -> Credential:
    """Authenticate the request (401 when it cannot be): HTTP Basic as always; a bearer
    access token from the identity provider (lrs.people.bearer), when one is configured;
    with no Authorization header, the person signed in on this browser, by role."""
    header = request.headers.get("authorization")
    scheme, _, token = (header or "").partition(" ")
    bearer: BearerTokens | None = getattr(request.app.state.people, "bearer", None) \
        if getattr(request.app.state, "people", None) is not None else None
    if header is None and (signed_in := await session_of(request)) is not None:
        credential = principal_of(signed_in.person, created=signed_in.created)
        # The request log names no person: only that one was signed in.
        request.state.credential_name = "person"
    elif bearer is not None and scheme.lower() == "bearer":
        credential = await bearer.authenticate(token.strip())
        request.state.credential_name = credential.name
    else:
        authenticator: Authenticator = request.app.state.authenticator
        credential = await authenticator.authenticate(header)
        request.state.credential_name = credential.name  # for the request log
    limiter: RateLimiter | None = request.app.state.rate_limiter
    if limiter is not None and (wait := limiter.take(credential.key)):
        raise TooManyRequests("too many requests from this credential: slow down",
                              retry_after=wait)
    return credential
