"""Frameworks of objectives (`/api/v1/objectives/frameworks`, scope `admin`: load a CASE
package, a CSV or a JSON file, list, read, delete, assign to groups) and what a signed-in
learner sees of them (`/api/v1/objectives/mine`, `/api/v1/assessments/mine`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lrs.admin.audit import record_action
from lrs.api.statements import learner_of
from lrs.auth import require
from lrs.credentials import Credential, Scope
from lrs.http import credential_of, json_bytes, read_body
from lrs.objectives import Framework, FrameworkStore
from lrs.objectives.assessments import assessments_of
from lrs.objectives.case import is_case, load_case
from lrs.objectives.loading import load_csv, load_json, parse_json, text
from lrs.objectives.records import framework_to_record
from lrs.people import Person
from lrs.people.web import person_of
from statements.errors import Conflict, Forbidden, InvalidRequest, NotFound, Problem

FORMATS = ("case", "csv", "json")
MAX_GROUPS = 200
MAX_GROUP = 256  # characters of one group name


def _now(request: Request) -> datetime:
    return datetime.fromtimestamp(request.app.state.clock.now_ms() / 1000, UTC)


async def _admin(request: Request) -> Credential:
    credential = await credential_of(request)
    require(credential, Scope.ADMIN)
    return credential


def _params(request: Request, allowed: set[str]) -> dict[str, str]:
    for name in request.query_params:
        if name not in allowed:
            raise InvalidRequest(f"unknown query parameter '{name}'", (Problem(
                f"?{name}", f"the parameters are {', '.join(sorted(allowed))}"),))
        if len(request.query_params.getlist(name)) > 1:
            raise InvalidRequest(f"query parameter '{name}' given twice",
                                 (Problem(f"?{name}", "give it once"),))
    return dict(request.query_params)


def summary(framework: Framework, groups: frozenset[str]) -> dict[str, Any]:
    """A framework without its objectives, as the list shows it."""
    record = framework_to_record(framework)
    record.pop("loaded_ms")
    objectives = record.pop("objectives")
    return {**record, "loaded": framework.loaded.isoformat().replace("+00:00", "Z"),
            "objective_count": len(objectives), "groups": sorted(groups)}


def whole(framework: Framework, groups: frozenset[str]) -> dict[str, Any]:
    """A framework with its objectives (document order: a parent before its children)."""
    return {**summary(framework, groups),
            "objectives": framework_to_record(framework)["objectives"]}


async def _groups_of(request: Request, framework_id: str) -> frozenset[str]:
    store: FrameworkStore = request.app.state.storage.frameworks
    for assignment in await store.assignments():
        if assignment.framework == framework_id:
            return assignment.groups
    return frozenset()


def _load(request: Request, body: bytes, params: dict[str, str]) -> Framework:
    """The framework of an upload: `?format=` or, without it, by the Content-Type (text/csv
    is CSV; JSON is a CASE package when it has a CFDocument, else the LRS's JSON)."""
    fmt = params.get("format")
    if fmt is None:
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        fmt = "csv" if kind in ("text/csv", "application/csv") else \
            "case" if is_case(parse_json(body)) else "json"
    if fmt not in FORMATS:
        raise InvalidRequest("invalid query parameter 'format'",
                             (Problem("?format", f"one of {', '.join(FORMATS)}"),))
    source = text(params.get("source"), "?source")
    if fmt != "csv":
        for name in ("title", "id", "iri"):
            if name in params:
                raise InvalidRequest(f"query parameter '{name}' is for CSV uploads", (
                    Problem(f"?{name}", f"a {fmt} file names its own {name}"),))
    if fmt == "case":
        return load_case(body, now=_now(request), source=source)
    if fmt == "json":
        return load_json(body, now=_now(request), source=source)
    return load_csv(body, title=params.get("title", ""), now=_now(request),
                    given_id=params.get("id"), given_iri=params.get("iri"), source=source)


async def load_framework(request: Request) -> Response:
    """POST /objectives/frameworks: load a framework from the body (the file itself); 201,
    or 200 when `?replace=true` replaced one with the same id (409 without it)."""
    operator = await _admin(request)
    state = request.app.state
    params = _params(request, {"format", "title", "id", "iri", "replace", "source"})
    replacing = params.get("replace", "false")
    if replacing not in ("true", "false"):
        raise InvalidRequest("invalid query parameter 'replace'",
                             (Problem("?replace", "true or false"),))
    body = await read_body(request, state.settings.max_body_bytes)
    framework = _load(request, body, params)
    store = state.storage.frameworks
    if replacing == "false" and await store.get(framework.id) is not None:
        raise Conflict(f"a framework with the id {framework.id} is loaded already: "
                       "?replace=true replaces it (its groups are kept)")
    new = await store.put(framework)
    await record_action(state.storage, "framework_load", operator=operator.name,
                        now_ms=state.clock.now_ms(),
                        counts={"objectives": len(framework.objectives)},
                        detail={"framework": framework.id, "title": framework.title,
                                "format": framework.format.value})
    groups = frozenset() if new else await _groups_of(request, framework.id)
    return json_bytes(orjson.dumps(summary(framework, groups)), status=201 if new else 200)


async def list_frameworks(request: Request) -> Response:
    """GET /objectives/frameworks: every framework, without its objectives."""
    await _admin(request)
    _params(request, set())
    store = request.app.state.storage.frameworks
    groups = {a.framework: a.groups for a in await store.assignments()}
    return json_bytes(orjson.dumps([summary(f, groups.get(f.id, frozenset()))
                                    for f in await store.all()]))


async def _framework(request: Request) -> Framework:
    framework_id = request.path_params["framework"]
    found: Framework | None = await request.app.state.storage.frameworks.get(framework_id)
    if found is None:
        raise NotFound(f"no framework {framework_id}")
    return found


async def get_framework(request: Request) -> Response:
    """GET /objectives/frameworks/{framework}: one framework with its objectives."""
    await _admin(request)
    _params(request, set())
    framework = await _framework(request)
    return json_bytes(orjson.dumps(whole(framework, await _groups_of(request, framework.id))))


async def delete_framework(request: Request) -> Response:
    """DELETE /objectives/frameworks/{framework}: the framework and its assignment go; the
    assessments already recorded against its objectives stay (they are statements)."""
    operator = await _admin(request)
    _params(request, set())
    state = request.app.state
    framework_id = request.path_params["framework"]
    if not await state.storage.frameworks.delete(framework_id):
        raise NotFound(f"no framework {framework_id}")
    await record_action(state.storage, "framework_delete", operator=operator.name,
                        now_ms=state.clock.now_ms(), detail={"framework": framework_id})
    return Response(status_code=204)


def parse_groups(body: bytes) -> list[str]:
    """`{"groups": ["…", …]}`: values of the groups claim, each named once."""
    document = parse_json(body)
    if set(document) != {"groups"} or not isinstance(document["groups"], list):
        raise InvalidRequest("the body must be {\"groups\": [\"…\", …]}",
                             (Problem("$.groups", "required: an array of group names"),))
    raw = document["groups"]
    if len(raw) > MAX_GROUPS:
        raise InvalidRequest("too many groups", (Problem("$.groups", f"at most {MAX_GROUPS}"),))
    groups: list[str] = []
    for position, group in enumerate(raw):
        if not isinstance(group, str) or not group.strip() or len(group) > MAX_GROUP:
            raise InvalidRequest("a group name is wrong", (Problem(
                f"$.groups[{position}]", f"a non-empty string of at most {MAX_GROUP} "
                "characters"),))
        if group.strip() not in groups:
            groups.append(group.strip())
    return groups


async def assign_groups(request: Request) -> Response:
    """PUT /objectives/frameworks/{framework}/groups: assign the framework to exactly these
    groups (an empty list: to nobody)."""
    operator = await _admin(request)
    _params(request, set())
    state = request.app.state
    groups = parse_groups(await read_body(request, state.settings.max_body_bytes))
    framework_id = request.path_params["framework"]
    if not await state.storage.frameworks.assign(framework_id, groups):
        raise NotFound(f"no framework {framework_id}")
    await record_action(state.storage, "framework_assign", operator=operator.name,
                        now_ms=state.clock.now_ms(), counts={"groups": len(groups)},
                        detail={"framework": framework_id, "groups": ", ".join(sorted(groups))})
    return json_bytes(orjson.dumps({"framework": framework_id, "groups": sorted(groups)}))


async def _signed_in_learner(request: Request) -> tuple[Credential, Person]:
    credential = await credential_of(request)
    require(credential, Scope.STATEMENTS_READ_MINE)
    person = await person_of(request) if "authorization" not in request.headers else None
    if person is None:  # only a sign-in carries groups
        raise Forbidden("only a person signed in has objectives: sign in at /sign-in")
    return credential, person


async def my_objectives(request: Request) -> Response:
    """GET /objectives/mine: the frameworks assigned to the signed-in person's groups."""
    _, person = await _signed_in_learner(request)
    _params(request, set())
    frameworks = await request.app.state.storage.frameworks.assigned_to(person.groups)
    groups = {a.framework: a.groups for a in
              await request.app.state.storage.frameworks.assignments()}
    return json_bytes(orjson.dumps({
        "groups": sorted(person.groups),
        "frameworks": [whole(f, groups.get(f.id, frozenset()) & person.groups)
                       for f in frameworks]}), headers={"Cache-Control": "no-store"})


async def my_assessments(request: Request) -> Response:
    """GET /assessments/mine: the assessments recorded about the signed-in learner, newest
    first (kept statements: they are also in the portfolio)."""
    credential = await credential_of(request)
    require(credential, Scope.STATEMENTS_READ_MINE)
    _params(request, set())
    found = await assessments_of(request.app.state.storage.statements, learner_of(credential))
    return json_bytes(orjson.dumps({"assessments": found}),
                      headers={"Cache-Control": "no-store"})


routes = [
    Route("/objectives/frameworks", list_frameworks, methods=["GET"]),
    Route("/objectives/frameworks", load_framework, methods=["POST"]),
    Route("/objectives/frameworks/{framework}", get_framework, methods=["GET"]),
    Route("/objectives/frameworks/{framework}", delete_framework, methods=["DELETE"]),
    Route("/objectives/frameworks/{framework}/groups", assign_groups, methods=["PUT"]),
    Route("/objectives/mine", my_objectives, methods=["GET"]),
    Route("/assessments/mine", my_assessments, methods=["GET"]),
]
