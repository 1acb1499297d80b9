"""The forwarding admin API (`/api/v1/admin/forwarding/...`, scope `admin`): destinations,
rules, delivery status, and the dead letters to replay or discard (docs/forwarding.md)."""

from __future__ import annotations

import time

import orjson
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lrs.auth import require
from lrs.credentials import Credential, Scope
from lrs.forwarding import admin
from lrs.http import credential_of, json_bytes, read_body


class DeadLetterChoice(BaseModel):
    """The body of POST …/dead/replay and …/dead/discard: some keys, or all when absent."""

    model_config = ConfigDict(strict=True, extra="forbid")

    keys: list[str] | None = Field(None, max_length=10_000)


async def _admin(request: Request) -> Credential:
    credential = await credential_of(request)
    require(credential, Scope.ADMIN)
    return credential


def _now_ms() -> int:
    return int(time.time() * 1000)


def _changed(request: Request) -> None:
    """This process reads the rules again at once (others within the refresh interval)."""
    rules = request.app.state.ingest.forwarding
    if rules is not None:
        rules.invalidate()


async def list_destinations(request: Request) -> Response:
    """Every destination, without its secret."""
    await _admin(request)
    found = await request.app.state.storage.forwarding.destinations()
    return json_bytes(orjson.dumps([admin.describe_destination(d) for d in found]))


async def create_destination(request: Request) -> Response:
    """Add a destination (its secret is stored as given and never shown again)."""
    operator = await _admin(request)
    state = request.app.state
    sent = admin.parse(admin.NewDestination,
                       await read_body(request, state.settings.max_body_bytes), "destination")
    destination = await admin.add_destination(state.storage, sent, operator=operator.name,
                                              now_ms=_now_ms())
    return json_bytes(orjson.dumps(admin.describe_destination(destination)), status=201)


async def delete_destination(request: Request) -> Response:
    """Remove a destination (by id or name) with its rules and queued items."""
    operator = await _admin(request)
    await admin.remove_destination(request.app.state.storage, request.path_params["ref"],
                                   operator=operator.name, now_ms=_now_ms())
    _changed(request)
    return Response(status_code=204)


async def list_rules(request: Request) -> Response:
    """Every rule, oldest first."""
    await _admin(request)
    found = await request.app.state.storage.forwarding.rules()
    return json_bytes(orjson.dumps([admin.describe_rule(r) for r in found]))


async def create_rule(request: Request) -> Response:
    """Add a rule."""
    operator = await _admin(request)
    state = request.app.state
    sent = admin.parse(admin.NewRule,
                       await read_body(request, state.settings.max_body_bytes), "rule")
    rule = await admin.add_rule(state.storage, sent, operator=operator.name, now_ms=_now_ms())
    _changed(request)
    return json_bytes(orjson.dumps(admin.describe_rule(rule)), status=201)


async def delete_rule(request: Request) -> Response:
    """Remove a rule."""
    operator = await _admin(request)
    await admin.remove_rule(request.app.state.storage, request.path_params["rule"],
                            operator=operator.name, now_ms=_now_ms())
    _changed(request)
    return Response(status_code=204)


async def status(request: Request) -> Response:
    """Per destination: queued, dead letters, delivered, lag and the last error."""
    await _admin(request)
    return json_bytes(orjson.dumps(await admin.status(request.app.state.storage, _now_ms())))


async def dead_letters(request: Request) -> Response:
    """A destination's dead letters, oldest first (at most 100)."""
    await _admin(request)
    storage = request.app.state.storage
    destination = await admin.find_destination(storage, request.path_params["ref"])
    found = await storage.forwarding.dead_letters(destination.id)
    return json_bytes(orjson.dumps([admin.describe_dead(d) for d in found]))


async def _choose(request: Request, *, discard: bool) -> Response:
    operator = await _admin(request)
    state = request.app.state
    body = await read_body(request, state.settings.max_body_bytes)
    sent = admin.parse(DeadLetterChoice, body or b"{}", "choice of dead letters")
    done = await admin.replay_or_discard(state.storage, request.path_params["ref"], sent.keys,
                                         discard=discard, operator=operator.name,
                                         now_ms=_now_ms())
    return json_bytes(orjson.dumps({"discarded" if discard else "replayed": done}))


async def replay(request: Request) -> Response:
    """Queue dead letters again, now, with their attempts reset."""
    return await _choose(request, discard=False)


async def discard(request: Request) -> Response:
    """Delete dead letters."""
    return await _choose(request, discard=True)


_BASE = "/admin/forwarding"
routes = [
    Route(f"{_BASE}/destinations", list_destinations, methods=["GET"]),
    Route(f"{_BASE}/destinations", create_destination, methods=["POST"]),
    Route(f"{_BASE}/destinations/{{ref}}", delete_destination, methods=["DELETE"]),
    Route(f"{_BASE}/destinations/{{ref}}/dead", dead_letters, methods=["GET"]),
    Route(f"{_BASE}/destinations/{{ref}}/dead/replay", replay, methods=["POST"]),
    Route(f"{_BASE}/destinations/{{ref}}/dead/discard", discard, methods=["POST"]),
    Route(f"{_BASE}/rules", list_rules, methods=["GET"]),
    Route(f"{_BASE}/rules", create_rule, methods=["POST"]),
    Route(f"{_BASE}/rules/{{rule}}", delete_rule, methods=["DELETE"]),
    Route(f"{_BASE}/status", status, methods=["GET"]),
]
