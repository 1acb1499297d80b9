"""The credentials admin API (`/api/v1/admin/credentials`, scope `admin`) and the settings in
effect (`/api/v1/admin/settings`): what the admin console and scripts use (docs/admin-api.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lrs.admin import credentials as admin
from lrs.admin.settings_view import settings_in_effect
from lrs.auth import require
from lrs.credentials import CheckMode, Credential, DocumentPuts, Retention, Scope
from lrs.http import credential_of, json_bytes, read_body
from statements.compliance import parse_agent
from statements.errors import InvalidRequest, Problem
from statements.parsing import json_path


class NewCredential(BaseModel):
    """The body of POST /admin/credentials."""

    model_config = ConfigDict(strict=True, extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    scopes: list[Scope] = Field(min_length=1)
    retention: Retention = Retention.TALLY
    # docs/compatibility.md: `lenient` for clients such as TinCanPython.
    document_puts: DocumentPuts = DocumentPuts.STRICT
    agent: Any = None
    # Days its rejected statements are kept in the quarantine; 0: off (docs/quarantine.md).
    quarantine_days: int = Field(0, ge=0, le=365)
    cmi5: CheckMode = CheckMode.OFF
    profiles: CheckMode = CheckMode.OFF
    cmi5_lms: bool = False


class ChangedChecks(BaseModel):
    """The body of PATCH /admin/credentials/{ref}: the door checks to change."""

    model_config = ConfigDict(strict=True, extra="forbid")

    cmi5: CheckMode | None = None
    profiles: CheckMode | None = None
    cmi5_lms: bool | None = None


async def _admin(request: Request) -> Credential:
    credential = await credential_of(request)
    require(credential, Scope.ADMIN)
    return credential


def _invalid(exc: ValidationError) -> InvalidRequest:
    problems = tuple(
        Problem(json_path(e["loc"]), e["msg"]) for e in exc.errors(include_url=False))
    return InvalidRequest("invalid credential", problems)


def parse_new_credential(body: bytes) -> tuple[NewCredential, dict[str, Any] | None]:
    """The validated body and its Agent; InvalidRequest names each JSON path that is wrong."""
    try:
        sent = NewCredential.model_validate_json(body or b"null")
    except ValidationError as exc:
        raise _invalid(exc) from None
    admin.check_name(sent.name, "$.name")
    if "agent" not in sent.model_fields_set:
        return sent, None
    if sent.agent is None:  # xAPI's rule for its own documents, kept here: no explicit nulls
        raise InvalidRequest("invalid credential", (Problem("$.agent", "may not be null"),))
    return sent, parse_agent(sent.agent, "$.agent")[1]


async def list_credentials(request: Request) -> Response:
    """Every credential, oldest first, revoked ones included."""
    await _admin(request)
    found = await request.app.state.storage.credentials.list()
    return json_bytes(orjson.dumps([admin.describe(c) for c in found]))


async def create_credential(request: Request) -> Response:
    """Create a credential; its secret is in this answer and nowhere else."""
    operator = await _admin(request)
    state = request.app.state
    sent, agent = parse_new_credential(await read_body(request, state.settings.max_body_bytes))
    credential, secret = await admin.create(
        state.storage, name=sent.name, scopes=sent.scopes, retention=sent.retention,
        agent=agent, public_url=state.settings.public_url, operator=operator.name,
        now=datetime.now(UTC), document_puts=sent.document_puts,
        quarantine_days=sent.quarantine_days, cmi5=sent.cmi5, profiles=sent.profiles,
        cmi5_lms=sent.cmi5_lms)
    return json_bytes(orjson.dumps({**admin.describe(credential), "secret": secret}),
                      status=201)


async def rotate_credential(request: Request) -> Response:
    """A new secret for the credential named or keyed `ref` (shown once)."""
    operator = await _admin(request)
    credential, secret = await admin.rotate(
        request.app.state.storage, request.path_params["ref"], operator=operator.name,
        now=datetime.now(UTC))
    return json_bytes(orjson.dumps({"name": credential.name, "key": credential.key,
                                    "secret": secret}))


async def change_checks(request: Request) -> Response:
    """Change the door checks (cmi5, profiles) of the credential named or keyed `ref`."""
    operator = await _admin(request)
    state = request.app.state
    body = await read_body(request, state.settings.max_body_bytes)
    try:
        sent = ChangedChecks.model_validate_json(body or b"null")
    except ValidationError as exc:
        raise _invalid(exc) from None
    changed = await admin.set_checks(
        state.storage, request.path_params["ref"], cmi5=sent.cmi5, profiles=sent.profiles,
        cmi5_lms=sent.cmi5_lms, operator=operator.name, now=datetime.now(UTC))
    return json_bytes(orjson.dumps(admin.describe(changed)))


async def revoke_credential(request: Request) -> Response:
    """Revoke the credential named or keyed `ref`."""
    operator = await _admin(request)
    await admin.revoke(request.app.state.storage, request.path_params["ref"],
                       operator=operator.name, now=datetime.now(UTC))
    return Response(status_code=204)


async def settings(request: Request) -> Response:
    """The retention, privacy, limit and metrics settings this process runs with."""
    await _admin(request)
    state = request.app.state
    await state.catalogue.refresh()
    return json_bytes(orjson.dumps(settings_in_effect(state.settings, state.catalogue.current())))


routes = [
    Route("/admin/credentials", list_credentials, methods=["GET"]),
    Route("/admin/credentials", create_credential, methods=["POST"]),
    Route("/admin/credentials/{ref:path}/rotate", rotate_credential, methods=["POST"]),
    Route("/admin/credentials/{ref:path}", revoke_credential, methods=["DELETE"]),
    Route("/admin/credentials/{ref:path}", change_checks, methods=["PATCH"]),
    Route("/admin/settings", settings, methods=["GET"]),
]
