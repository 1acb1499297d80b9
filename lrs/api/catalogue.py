"""The compliance catalogue admin API (`/api/v1/catalogue`, scope `admin`; DESIGN §3): the
entries, and which kept statements an entry matches."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lrs.admin.audit import record_action
from lrs.admin.matches import catalogue_matches
from lrs.auth import require
from lrs.credentials import Credential, Scope
from lrs.http import credential_of, json_bytes, read_body
from plugins.catalogue import (
    CatalogueEntry,
    CatalogueError,
    EntryKind,
    dump_catalogue,
    load_catalogue,
)
from statements.compliance import parse_activity
from statements.errors import InvalidRequest, NotFound, Problem

# ?kind= of /catalogue/matches: `iri` (the console's word) is the catalogue's `activity`.
_KINDS: dict[str, EntryKind] = {"iri": "activity", "activity": "activity", "prefix": "prefix",
                                 "type": "type"}


async def _admin(request: Request) -> Credential:
    credential = await credential_of(request)
    require(credential, Scope.ADMIN)
    return credential


async def list_entries(request: Request) -> Response:
    """The whole catalogue, in the file format `lrs catalogue load` reads (compliance officers
    read it too: it is the list of activities they report on)."""
    require(await credential_of(request), Scope.ADMIN, Scope.COMPLIANCE_READ)
    entries = await request.app.state.storage.catalogue.entries()
    return json_bytes(dump_catalogue(entries).encode())


async def add_entries(request: Request) -> Response:
    """Add entries (a catalogue document); they apply to statements arriving afterwards."""
    operator = await _admin(request)
    state = request.app.state
    body = await read_body(request, state.settings.max_body_bytes)
    try:
        yaml = "yaml" in request.headers.get("content-type", "")  # an uploaded catalogue.yaml
        entries = load_catalogue(body.decode("utf-8", "replace"),
                                 filename="request.yaml" if yaml else "request.json")
    except CatalogueError as exc:
        raise InvalidRequest("invalid catalogue entries",
                             tuple(Problem("body", p) for p in exc.problems)) from None
    await state.storage.catalogue.add(entries)
    await state.catalogue.refresh(force=True)
    await record_action(state.storage, "catalogue_add", operator=operator.name,
                        now_ms=state.clock.now_ms(), counts={"entries": len(entries)},
                        detail={"entries": _listed(entries)})
    return json_bytes(orjson.dumps({"added": len(entries)}))


def _listed(entries: list[CatalogueEntry], most: int = 20) -> str:
    """The entries for the audit log: the first `most`, then how many more."""
    shown = ", ".join(f"{e.kind} {e.value}" for e in entries[:most])
    return shown + (f" and {len(entries) - most} more" if len(entries) > most else "")


def _kind_and_value(request: Request) -> tuple[EntryKind, str]:
    kind, value = request.query_params.get("kind"), request.query_params.get("value")
    if not kind or not value or set(request.query_params) != {"kind", "value"} \
            or len(request.query_params.getlist("kind")) != 1 \
            or len(request.query_params.getlist("value")) != 1:
        raise InvalidRequest("give exactly ?kind=…&value=…",
                             (Problem("?kind", "kind and value are required, once each"),))
    if kind not in _KINDS:
        raise InvalidRequest("invalid query parameter 'kind'",
                             (Problem("?kind", f"one of {', '.join(_KINDS)}"),))
    return _KINDS[kind], value


async def remove_entry(request: Request) -> Response:
    """Remove the entry named by `kind` and `value`."""
    operator = await _admin(request)
    state = request.app.state
    kind, value = _kind_and_value(request)
    if not await state.storage.catalogue.remove(kind, value):
        raise NotFound(f"no catalogue entry {kind} {value}")
    await state.catalogue.refresh(force=True)
    await record_action(state.storage, "catalogue_remove", operator=operator.name,
                        now_ms=state.clock.now_ms(), detail={"kind": kind, "value": value})
    return Response(status_code=204)


async def entry_matches(request: Request) -> Response:
    """How many kept statements an entry (in the catalogue or not yet) matches, per activity."""
    await _admin(request)
    given = request.query_params.get("kind", "")
    kind, value = _kind_and_value(request)
    value = parse_activity(value, "value")
    found = await catalogue_matches(request.app.state.storage.statements,
                                    CatalogueEntry(kind, value))
    return json_bytes(orjson.dumps({
        "kind": given, "value": value, "statements": found.statements,
        "activities": [{"id": activity, "statements": n}
                       for activity, n in sorted(found.by_activity.items(),
                                                 key=lambda item: (-item[1], item[0]))]}))


routes = [
    Route("/catalogue", list_entries, methods=["GET", "HEAD"]),
    Route("/catalogue", add_entries, methods=["POST"]),
    Route("/catalogue", remove_entry, methods=["DELETE"]),
    Route("/catalogue/matches", entry_matches, methods=["GET"]),
]
