"""The Activities resource (Communication §2.5, LRS book 4.1.6.4)."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lrs.auth import require
from lrs.credentials import Scope
from lrs.http import credential_of, json_bytes
from statements.activities import canonical_activity
from statements.datatypes import is_iri
from statements.errors import InvalidRequest, Problem


async def get_activity(request: Request) -> Response:
    """The canonical Activity for `activityId`; a bare one for an id never seen (4.1.6.4)."""
    credential = await credential_of(request)
    require(credential, Scope.STATEMENTS_READ, Scope.ALL_READ, Scope.STATEMENTS_READ_MINE,
            Scope.STATE, Scope.PROFILE, Scope.DEFINE)
    params = list(request.query_params.multi_items())
    if [name for name, _ in params] != ["activityId"]:
        bad = next((n for n, _ in params if n != "activityId"), "activityId")
        raise InvalidRequest("the Activities resource takes exactly one activityId parameter",
                             (Problem(f"?{bad}", "expected only ?activityId"),))
    activity_id = params[0][1]
    if not is_iri(activity_id):
        raise InvalidRequest("activityId must be an absolute IRI",
                             (Problem("?activityId", "not an IRI"),))
    held = await request.app.state.storage.activities.definitions([activity_id])
    return json_bytes(orjson.dumps(canonical_activity(activity_id, held.get(activity_id))))


routes = [Route("/activities", get_activity, methods=["GET", "HEAD"])]
