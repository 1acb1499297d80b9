"""Evidence, self-ratings and sharing (`/api/v1/evidence`, `/api/v1/grants`, `/api/v1/shared`)
and the read-only page a secret share link opens (`/share/<token>`): docs/personal-space.md."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from lrs.http import json_bytes, read_body
from lrs.people import Person, Role
from lrs.people.web import person_of
from lrs.sharing import Grant, Read, sources
from lrs.sharing.evidence import (
    LinkEvidence,
    ObjectiveEvidence,
    RateSelf,
    fold,
    link_change,
    rate_change,
    require_assigned,
    unlink_change,
)
from lrs.sharing.grants import Sharing, Who, grantee_agent, identity_of
from lrs.sharing.page import share_page
from lrs.sharing.parsing import parse
from statements.errors import Forbidden, NotFound, Unauthorized

# Personal data, and a manager's view of it: never kept by a cache.
NO_STORE = {"Cache-Control": "no-store"}
Named = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Iri = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class NewGrant(BaseModel):
    """The body of POST /api/v1/grants."""

    model_config = ConfigDict(strict=True, extra="forbid")

    objective: Iri
    grantee: Named  # their email (or account name, under LRS_OIDC_AGENT_MAPPING=account)
    expires: AwareDatetime = Field(strict=False)  # ISO 8601 with a zone


class NewLink(BaseModel):
    """The body of POST /api/v1/grants/links."""

    model_config = ConfigDict(strict=True, extra="forbid")

    objective: Iri
    label: Named  # who it is for, as the learner will recognise it in the read log
    starts: AwareDatetime = Field(strict=False)
    ends: AwareDatetime = Field(strict=False)


class Assessment(BaseModel):
    """The body of POST /api/v1/shared/{id}/assessment."""

    model_config = ConfigDict(strict=True, extra="forbid")

    outcome: Literal["met", "not_yet"]
    comment: Annotated[str, StringConstraints(max_length=10_000)] = ""


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


async def _signed_in(request: Request, role: Role) -> tuple[Person, Who]:
    """The signed-in person holding `role`, and who they are to sharing."""
    person = await person_of(request)
    if person is None:
        raise Unauthorized("not signed in: sign in at /sign-in")
    if role not in person.roles:
        raise Forbidden(f"this needs the {role.value} role")
    identity = identity_of(person.agent)
    if identity is None or person.agent is None:
        raise Forbidden("your sign-in carries no xAPI agent, so nothing can be yours or "
                        "shared with you (ask an administrator: LRS_OIDC_AGENT_MAPPING)")
    return person, Who(identity, person.agent, person.name)


def _sharing(request: Request) -> Sharing:
    """The app's Sharing, made on first use (its envelope key is the space's)."""
    state = request.app.state
    made: Sharing | None = getattr(state, "sharing", None)
    if made is None:
        made = Sharing(state.storage.grants,
                       sources.envelope(state.settings, state.storage.engine))
        state.sharing = made
    return made


async def _body(request: Request, model: type[Any], what: str) -> Any:
    return parse(model, await read_body(request, request.app.state.settings.max_body_bytes),
                 what)


def describe_grant(grant: Grant, now: datetime) -> dict[str, Any]:
    """A grant or link as its learner sees it (never its key, snapshot or token)."""
    return {"id": grant.id, "objective": grant.objective, "objective_title":
            grant.objective_title, "kind": "link" if grant.is_link else "person",
            "grantee": grant.grantee_label, "created": _iso(grant.created),
            "starts": _iso(grant.starts), "expires": _iso(grant.expires),
            "revoked": _iso(grant.revoked), "state": grant.state(now)}


def describe_read(read: Read) -> dict[str, Any]:
    """One entry of the read log."""
    return {"grant": read.grant, "reader": read.reader, "at": _iso(read.at), "what": read.what}


def _shared(grant: Grant) -> dict[str, Any]:
    """A grant as its grantee sees it in the list."""
    return {"id": grant.id, "learner": grant.learner_name, "objective": grant.objective,
            "objective_title": grant.objective_title, "created": _iso(grant.created),
            "expires": _iso(grant.expires)}


async def evidence(request: Request) -> Response:
    """The learner's objectives, each with its evidence, self-rating and history."""
    person, _ = await _signed_in(request, Role.LEARNER)
    state = request.app.state
    assigned = await sources.assigned(state.storage, person)
    held = fold(await sources.changes(request, person))
    return json_bytes(orjson.dumps([
        {**(held.get(iri) or ObjectiveEvidence(iri)).describe(), "title": title}
        for iri, title in assigned.items()]), headers=NO_STORE)


async def link_evidence(request: Request) -> Response:
    """Link a space entry, a kept statement or a file to one of the learner's objectives."""
    person, _ = await _signed_in(request, Role.LEARNER)
    sent: LinkEvidence = await _body(request, LinkEvidence, "evidence link")
    require_assigned(sent.objective, await sources.assigned(request.app.state.storage, person))
    title = await sources.title_of_ref(request, person, sent.kind, sent.ref)
    change = link_change(sent, _now(), default_title=title)
    await sources.append(request, person, change)
    return json_bytes(orjson.dumps(change), status=201)


async def unlink_evidence(request: Request) -> Response:
    """Remove an evidence link (the history keeps that it was there)."""
    person, _ = await _signed_in(request, Role.LEARNER)
    held = fold(await sources.changes(request, person))
    await sources.append(request, person,
                         unlink_change(held, request.path_params["id"], _now()))
    return Response(status_code=204)


async def rate(request: Request) -> Response:
    """Rate oneself against an objective (1 to 4, with a note); each rating is kept."""
    person, _ = await _signed_in(request, Role.LEARNER)
    sent: RateSelf = await _body(request, RateSelf, "self-rating")
    require_assigned(sent.objective, await sources.assigned(request.app.state.storage, person))
    change = rate_change(sent, _now())
    await sources.append(request, person, change)
    return json_bytes(orjson.dumps(change), status=201)


async def _snapshot(request: Request, person: Person, iri: str) -> tuple[str, dict[str, Any]]:
    title = require_assigned(iri, await sources.assigned(request.app.state.storage, person))
    held = fold(await sources.changes(request, person)).get(iri)
    return title, await sources.snapshot(request, person, iri, title, held)


async def list_grants(request: Request) -> Response:
    """The learner's grants and share links, newest first, and who read what."""
    _, who = await _signed_in(request, Role.LEARNER)
    sharing = _sharing(request)
    now = sharing.clock()
    return json_bytes(orjson.dumps({
        "grants": [describe_grant(g, now) for g in await sharing.mine(who)],
        "reads": [describe_read(r) for r in await sharing.reads(who)]}), headers=NO_STORE)


async def create_grant(request: Request) -> Response:
    """Grant one named person read access to one objective's evidence until a date."""
    person, who = await _signed_in(request, Role.LEARNER)
    sent: NewGrant = await _body(request, NewGrant, "grant")
    settings = request.app.state.settings
    agent = grantee_agent(sent.grantee, mapping=settings.oidc_agent_mapping,
                          homepage=settings.oidc_agent_homepage)
    title, snapshot = await _snapshot(request, person, sent.objective)
    sharing = _sharing(request)
    grant = await sharing.grant(who, (sent.objective, title), snapshot, grantee=agent,
                                label=sent.grantee, expires=sent.expires)
    return json_bytes(orjson.dumps(describe_grant(grant, sharing.clock())), status=201)


async def create_link(request: Request) -> Response:
    """A secret share link to one objective's evidence between two dates; its address is
    in the answer once and never again (only the token's hash is kept)."""
    person, who = await _signed_in(request, Role.LEARNER)
    sent: NewLink = await _body(request, NewLink, "share link")
    title, snapshot = await _snapshot(request, person, sent.objective)
    sharing = _sharing(request)
    grant, token = await sharing.link(who, (sent.objective, title), snapshot,
                                      label=sent.label, starts=sent.starts, ends=sent.ends)
    url = request.app.state.settings.public_url.rstrip("/") + f"/share/{token}"
    return json_bytes(orjson.dumps({**describe_grant(grant, sharing.clock()), "url": url}),
                      status=201)


async def revoke(request: Request) -> Response:
    """Revoke a grant or link now: its key is destroyed."""
    _, who = await _signed_in(request, Role.LEARNER)
    await _sharing(request).revoke(who, request.path_params["id"])
    return Response(status_code=204)


async def shared(request: Request) -> Response:
    """What was granted to the manager signed in, and is live now."""
    _, who = await _signed_in(request, Role.MANAGER)
    return json_bytes(orjson.dumps([_shared(g) for g in
                                    await _sharing(request).shared_with(who)]),
                      headers=NO_STORE)


async def read_shared(request: Request) -> Response:
    """One grant's evidence (the read is logged for the learner)."""
    _, who = await _signed_in(request, Role.MANAGER)
    grant, snapshot = await _sharing(request).read(who, request.path_params["id"])
    return json_bytes(orjson.dumps({**_shared(grant), "evidence": snapshot}),
                      headers=NO_STORE)


async def assess(request: Request) -> Response:
    """Record met / not yet / a comment against the granted objective: a kept xAPI
    statement whose context points at the evidence's kept statements."""
    manager, who = await _signed_in(request, Role.MANAGER)
    sent: Assessment = await _body(request, Assessment, "assessment")
    grant, snapshot = await _sharing(request).read(who, request.path_params["id"],
                                                   to_assess=True)
    statement_ids = [item["ref"] for item in snapshot.get("evidence", [])
                     if item.get("kind") == "statement"]
    statement = await sources.assess(request, grant, manager, sent.outcome,
                                     sent.comment or None, statement_ids)
    return json_bytes(orjson.dumps({"statement": statement, "grant": grant.id,
                                    "outcome": sent.outcome}), status=201)


async def share(request: Request) -> Response:
    """GET /share/<token>: the read-only page a secret share link opens (logged)."""
    token = request.path_params["token"]
    try:
        grant, snapshot = await _sharing(request).read_link(token)
    except NotFound:
        return share_page(None, None, message="There is no such share link.", status=404)
    except Forbidden as exc:
        return share_page(None, None, message=exc.message, status=403)
    return share_page(grant, snapshot)


routes: list[BaseRoute] = [
    Route("/evidence", evidence, methods=["GET"]),
    Route("/evidence/links", link_evidence, methods=["POST"]),
    Route("/evidence/links/{id}", unlink_evidence, methods=["DELETE"]),
    Route("/evidence/ratings", rate, methods=["POST"]),
    Route("/grants", list_grants, methods=["GET"]),
    Route("/grants", create_grant, methods=["POST"]),
    Route("/grants/links", create_link, methods=["POST"]),
    Route("/grants/{id}", revoke, methods=["DELETE"]),
    Route("/shared", shared, methods=["GET"]),
    Route("/shared/{id}", read_shared, methods=["GET"]),
    Route("/shared/{id}/assessment", assess, methods=["POST"]),
]

page_routes: list[BaseRoute] = [Route("/share/{token}", share, methods=["GET"])]
