"""Erasure administration (`/api/v1/admin/…`, scope `admin`): forget a person, purge by
retention period, read the audit log of every admin action (docs/retention.md)."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lrs.auth import require
from lrs.credentials import Credential, Scope
from lrs.erasure import forget, purge, retention_policy
from lrs.erasure_files import files_to_scan
from lrs.http import credential_of, json_bytes, read_body
from statements.document_params import parse_agent_param
from statements.errors import InvalidRequest, Problem


async def _admin(request: Request) -> Credential:
    credential = await credential_of(request)
    require(credential, Scope.ADMIN)
    return credential


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")


async def forget_agent(request: Request) -> Response:
    """Erase the person named by `{"agent": Agent}` or, several identifiers of one person,
    `{"agents": [Agent, ...]}`; `"dry_run": true` only says what would go. Says when they
    were erased before."""
    credential = await _admin(request)
    body = await read_body(request, request.app.state.settings.max_body_bytes)
    try:
        sent = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(f"the body is not JSON: {exc}", (Problem("$", "not JSON"),)) \
            from None
    if (not isinstance(sent, dict) or len(set(sent) & {"agent", "agents"}) != 1
            or set(sent) - {"agent", "agents", "dry_run"}):
        raise InvalidRequest('send {"agent": {...}} or {"agents": [{...}, ...]}, and '
                             'optionally "dry_run"',
                             (Problem("$", '"agent" or "agents", and "dry_run"'),))
    dry_run = sent.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise InvalidRequest("dry_run is true or false", (Problem("$.dry_run", "a boolean"),))
    if "agent" in sent:
        given = [("$.agent", sent["agent"])]
    elif isinstance(sent["agents"], list) and sent["agents"]:
        given = [(f"$.agents[{i}]", a) for i, a in enumerate(sent["agents"])]
    else:
        raise InvalidRequest("agents is a list of Agents",
                             (Problem("$.agents", "a non-empty list"),))
    keys = []
    for where, agent in given:
        try:
            keys.append(parse_agent_param(orjson.dumps(agent).decode()))
        except InvalidRequest as exc:
            raise InvalidRequest("invalid agent", tuple(
                Problem(p.path.replace("?agent", where, 1), p.message) for p in exc.problems)
            ) from None
    state = request.app.state
    files = files_to_scan(state.settings, await state.storage.erasure.audit_log())
    report = await forget(state.storage, keys, now_ms=state.clock.now_ms(),
                          operator=credential.name, dry_run=dry_run, files=files)
    return json_bytes(orjson.dumps({**report.done, "dry_run": report.dry_run,
                                    "credentials": report.credentials, "files": report.files,
                                    "already_erased": [_iso(ms) for ms in report.earlier]}))


async def purge_expired(request: Request) -> Response:
    """Purge kept statements past their retention period (`?dry_run=true` only counts)."""
    credential = await _admin(request)
    dry = request.query_params.get("dry_run", "false")
    if dry not in ("true", "false") or set(request.query_params) - {"dry_run"}:
        raise InvalidRequest("the only parameter is dry_run=true|false",
                             (Problem("?dry_run", "true or false"),))
    app = request.app.state
    policy = retention_policy(app.settings, app.catalogue.current())
    report = await purge(app.storage, policy, now_ms=app.clock.now_ms(),
                         operator=credential.name, dry_run=dry == "true")
    return json_bytes(orjson.dumps({"dry_run": report.dry_run, "statements": report.statements,
                                    "by_class": dict(report.by_class),
                                    "quarantine": report.quarantine,
                                    "done": dict(report.done)}))


async def audit_log(request: Request) -> Response:
    """Every admin and compliance action (purges, erasures, credential and catalogue changes,
    reports, exports): what was done, when, by whom; never a learner's identifier."""
    await _admin(request)
    records = await request.app.state.storage.erasure.audit_log()
    return json_bytes(orjson.dumps([{
        "run_id": r.run_id, "action": r.action, "at": _iso(r.at_ms), "operator": r.operator,
        "subject": r.subject, "counts": r.counts, "detail": r.detail} for r in records]))


routes = [
    Route("/admin/forget", forget_agent, methods=["POST"]),
    Route("/admin/purge", purge_expired, methods=["POST"]),
    Route("/admin/audit", audit_log, methods=["GET"]),
]
