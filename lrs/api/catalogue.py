"""The compliance catalogue admin API (`/api/v1/catalogue`, scope `admin`; DESIGN §3)."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lrs.auth import require
from lrs.credentials import Scope
from lrs.http import credential_of, json_bytes, read_body
from plugins.catalogue import CatalogueError, dump_catalogue, load_catalogue
from statements.errors import InvalidRequest, NotFound, Problem


async def _admin(request: Request) -> None:
    require(await credential_of(request), Scope.ADMIN)


async def list_entries(request: Request) -> Response:
    """The whole catalogue, in the file format `lrs catalogue load` reads (compliance officers
    read it too: it is the list of activities they report on)."""
    require(await credential_of(request), Scope.ADMIN, Scope.COMPLIANCE_READ)
    entries = await request.app.state.storage.catalogue.entries()
    return json_bytes(dump_catalogue(entries).encode())


async def add_entries(request: Request) -> Response:
    """Add entries (a catalogue document); they apply to statements arriving afterwards."""
    await _admin(request)
    body = await read_body(request, request.app.state.settings.max_body_bytes)
    try:
        yaml = "yaml" in request.headers.get("content-type", "")  # an uploaded catalogue.yaml
        entries = load_catalogue(body.decode("utf-8", "replace"),
                                 filename="request.yaml" if yaml else "request.json")
    except CatalogueError as exc:
        raise InvalidRequest("invalid catalogue entries",
                             tuple(Problem("body", p) for p in exc.problems)) from None
    await request.app.state.storage.catalogue.add(entries)
    await request.app.state.catalogue.refresh(force=True)
    return json_bytes(orjson.dumps({"added": len(entries)}))


async def remove_entry(request: Request) -> Response:
    """Remove the entry named by `kind` and `value`."""
    await _admin(request)
    kind, value = request.query_params.get("kind"), request.query_params.get("value")
    if not kind or not value or set(request.query_params) != {"kind", "value"}:
        raise InvalidRequest("give exactly ?kind=…&value=…",
                             (Problem("?kind", "kind and value are required"),))
    if not await request.app.state.storage.catalogue.remove(kind, value):
        raise NotFound(f"no catalogue entry {kind} {value}")
    await request.app.state.catalogue.refresh(force=True)
    return Response(status_code=204)


routes = [
    Route("/catalogue", list_entries, methods=["GET", "HEAD"]),
    Route("/catalogue", add_entries, methods=["POST"]),
    Route("/catalogue", remove_entry, methods=["DELETE"]),
]
