"""The beacon (`/api/v1/hits`): one tiny request records a hit without speaking xAPI."""

from __future__ import annotations

import base64
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aggregation.hits import HOUR_MS, Hit
from lrs.auth import require
from lrs.credentials import Scope
from lrs.http import read_body
from statements.datatypes import is_iri, is_uuid
from statements.errors import InvalidRequest, Problem, TooManyRequests, Unauthorized

EXPERIENCED = "http://adlnet.gov/expapi/verbs/experienced"
# The smallest transparent GIF, for <img src="…/hits/pixel.gif?activity=…">.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
_FIELDS = {"activity", "verb", "type", "platform", "id"}


async def _sender(request: Request) -> str:
    """Who sends the hit: a credential with `hits/write`, or a page from an allowed origin."""
    if request.headers.get("authorization"):
        credential = await request.app.state.authenticator.authenticate(
            request.headers["authorization"])
        require(credential, Scope.HITS_WRITE)
        return str(credential.key)
    origin = request.headers.get("origin") or _origin_of(request.headers.get("referer", ""))
    if origin and origin in request.app.state.settings.beacon_origins:
        return f"origin:{origin}"
    raise Unauthorized("a hit needs credentials with the hits/write scope, or to come from "
                       "an allowed origin")


def _origin_of(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}" if rest else ""


async def _record(request: Request, fields: dict[str, Any]) -> None:
    unknown = sorted(set(fields) - _FIELDS)
    if unknown:
        raise InvalidRequest(f"unknown field '{unknown[0]}'",
                             (Problem(f"$.{unknown[0]}", "not a field of a hit"),))
    for name in ("activity", "verb", "type"):
        value = fields.get(name)
        if (name == "activity" and value is None) or (
                value is not None and not (isinstance(value, str) and is_iri(value))):
            raise InvalidRequest(f"{name} must be an absolute IRI",
                                 (Problem(f"$.{name}", "an absolute IRI is required"),))
    platform, hit_id = fields.get("platform", ""), fields.get("id")
    if not isinstance(platform, str) or (hit_id is not None and not (
            isinstance(hit_id, str) and is_uuid(hit_id))):
        raise InvalidRequest("platform must be a string and id a UUID",
                             (Problem("$", "platform: string, id: UUID"),))
    sender = await _sender(request)
    wait = request.app.state.beacon_limiter.take(sender)
    if wait:
        raise TooManyRequests("too many hits from this sender", retry_after=wait)
    hit = Hit(activity=fields["activity"], verb=fields.get("verb") or EXPERIENCED,
              activity_type=fields.get("type") or "", platform=platform, credential=sender,
              hour=request.app.state.clock.now_ms() // HOUR_MS)
    await request.app.state.ingest.beacon(hit, hit_id.lower() if hit_id else None)


async def post_hit(request: Request) -> Response:
    """POST a JSON object {activity, verb?, type?, platform?, id?}; 204."""
    body = await read_body(request, 16 * 1024)
    try:
        fields = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidRequest("the body must be a JSON object", (Problem("$", "not JSON"),)) \
            from None
    if not isinstance(fields, dict):
        raise InvalidRequest("the body must be a JSON object", (Problem("$", "not an object"),))
    await _record(request, fields)
    return Response(status_code=204)


async def pixel(request: Request) -> Response:
    """GET …/pixel.gif?activity=…: the same, for pages that cannot run scripts."""
    await _record(request, dict(request.query_params))
    return Response(PIXEL, media_type="image/gif", headers={"Cache-Control": "no-store"})


routes = [
    Route("/hits", post_hit, methods=["POST"]),
    Route("/hits/pixel.gif", pixel, methods=["GET"]),
]
