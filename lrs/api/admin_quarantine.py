"""The quarantine admin API (`/api/v1/admin/quarantine…`, scope `admin`): rejected statements
by error kind, their download as JSON Lines, replay and discard (docs/quarantine.md)."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lrs.auth import require
from lrs.credentials import Credential, Scope
from lrs.http import credential_of, json_bytes, read_body
from lrs.quarantine import discard, json_lines, replay
from statements.errors import InvalidRequest, Problem
from statements.quarantine import QuarantineEntry

_FILTERS = ("kind", "credential", "limit")


async def _admin(request: Request) -> Credential:
    credential = await credential_of(request)
    require(credential, Scope.ADMIN)
    return credential


async def _entries(request: Request, allowed: tuple[str, ...]) -> list[QuarantineEntry]:
    params = request.query_params
    for name in params:
        if name not in allowed or len(params.getlist(name)) != 1:
            raise InvalidRequest(f"unknown or repeated parameter {name!r}", (
                Problem(f"?{name}", f"the parameters are {', '.join(allowed)}, once each"),))
    limit = params.get("limit")
    if limit is not None and (not limit.isdigit() or not 1 <= int(limit) <= 10_000):
        raise InvalidRequest("limit must be a whole number from 1 to 10000",
                             (Problem("?limit", "1 to 10000"),))
    found: list[QuarantineEntry] = await request.app.state.storage.quarantine.list(
        kind=params.get("kind"), credential=params.get("credential"),
        limit=int(limit) if limit is not None else None)
    return found


async def list_quarantine(request: Request) -> Response:
    """How many statements are held of each error kind, and the entries (filtered by `kind`
    and `credential` key, at most `limit`), oldest first."""
    await _admin(request)
    entries = await _entries(request, _FILTERS)
    kinds = await request.app.state.storage.quarantine.kinds()
    return json_bytes(orjson.dumps({"kinds": kinds,
                                    "entries": [e.describe() for e in entries]}))


async def download_quarantine(request: Request) -> Response:
    """The entries (filtered as the list is) as JSON Lines, one entry a line."""
    await _admin(request)
    entries = await _entries(request, _FILTERS)
    return Response(json_lines(entries), media_type="application/x-ndjson", headers={
        "Content-Disposition": 'attachment; filename="quarantine.jsonl"',
        "Cache-Control": "no-store"})


async def replay_entry(request: Request) -> Response:
    """Replay the entry through the normal ingest: the corrected statement in the body, or
    (an empty body) the statement as it was sent. 200 with the statement id; 400 with the
    problems when it is rejected again (the entry stays)."""
    operator = await _admin(request)
    state = request.app.state
    body = await read_body(request, state.settings.max_body_bytes)
    await state.catalogue.refresh()
    statement_id = await replay(state.storage, state.ingest, request.path_params["entry"],
                                body if body.strip() else None, operator=operator.name,
                                now_ms=state.clock.now_ms())
    return json_bytes(orjson.dumps({"statement": statement_id}))


async def discard_entry(request: Request) -> Response:
    """Delete the entry without replaying it."""
    operator = await _admin(request)
    await discard(request.app.state.storage, request.path_params["entry"],
                  operator=operator.name, now_ms=request.app.state.clock.now_ms())
    return Response(status_code=204)


routes = [
    Route("/admin/quarantine", list_quarantine, methods=["GET"]),
    Route("/admin/quarantine/download", download_quarantine, methods=["GET"]),
    Route("/admin/quarantine/{entry}/replay", replay_entry, methods=["POST"]),
    Route("/admin/quarantine/{entry}", discard_entry, methods=["DELETE"]),
]
