"""The space as signed credentials: `/api/v1/space/export`, `/api/v1/space/import` (learner)
and the issuer's DID document at `/.well-known/did.json` (did:web)."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx2
import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lrs.api.statements import learner_of
from lrs.auth import require
from lrs.config import Settings
from lrs.credentials import Credential, Scope
from lrs.http import credential_of, read_body
from lrs.people.web import session_of
from lrs.space import Mode, SpaceExists, SpaceLocked
from lrs.space.entries import ENTRY, entry_of
from lrs.space.keys import owner_key
from lrs.space.service import Spaces
from lrs.space.unlocked import Unlocked
from lrs.vc.credentials import AssessedObjective, Evidence
from lrs.vc.dataintegrity import off_loop
from lrs.vc.export import SpaceItem, export_archive, space_document
from lrs.vc.imports import BLOB_KIND, MAX_UNPACKED_BYTES, verify_archive
from lrs.vc.issue import issue_record
from lrs.vc.keys import KEY_FILE_NAME, IssuerKey, load_issuer_key
from lrs.vc.record import assessed_objectives, entry_evidence, learner_uri
from lrs.vc.verify import resolver
from statements.errors import InvalidRequest, NotFound, Problem
from statements.portfolio import learner_statements

DID_TIMEOUT_SECONDS = 10.0
log = logging.getLogger("lrs.vc")


def issuer_key(request: Request) -> IssuerKey:
    """The issuer key, loaded (or made in the data dir) on first use, then kept."""
    key: IssuerKey | None = getattr(request.app.state, "vc_issuer", None)
    if key is None:
        settings: Settings = request.app.state.settings
        secret = settings.vc_issuer_key.get_secret_value() if settings.vc_issuer_key else None
        if secret is None and request.app.state.storage.engine != "sqlite":
            log.warning("LRS_VC_ISSUER_KEY is unset: the credentials' signing key is in %s on "
                        "this host only; set LRS_VC_ISSUER_KEY when several hosts share the "
                        "store", settings.data_dir / KEY_FILE_NAME)
        key = load_issuer_key(secret, settings.vc_issuer_did, settings.data_dir)
        request.app.state.vc_issuer = key
    return key


def _learner(credential: Credential) -> tuple[str, dict[str, Any], str]:
    require(credential, Scope.STATEMENTS_READ_MINE)
    learner = learner_of(credential)  # Forbidden without an identified learner
    name = credential.authority.get("name")
    return learner, credential.authority, name if isinstance(name, str) else credential.name


async def _space_items(request: Request, owner: str, kind: str | None = None
                       ) -> list[SpaceItem]:
    spaces: Spaces = request.app.state.spaces
    record = await spaces.record_of(owner)
    if record is None:
        return []
    if record.mode is Mode.SEALED:
        # Only the learner's passphrase opens a sealed space: it must be unlocked in this
        # session (the space page, POST /api/v1/space/unlock), which holds its key.
        signed_in = await session_of(request)
        unlocked: Unlocked | None = getattr(request.app.state, "space_unlocked", None)
        held = unlocked.get(signed_in.key, owner) \
            if signed_in is not None and unlocked is not None else None
        if held is None or held.space != record.space:
            raise SpaceLocked()
        key = held
    else:
        key = await spaces.unlock(owner)
    return [SpaceItem(o.id, o.kind, o.plaintext) for o in await spaces.read(key, kind)]


def _entries(items: list[SpaceItem]) -> dict[str, Evidence]:
    """The space's entries as evidence, by the id of each entry's statement."""
    out = {}
    for item in items:
        if item.kind == ENTRY:
            entry = entry_of(item.content)
            out[str(entry.statement["id"])] = entry_evidence(entry)
    return out


async def _with_codes(request: Request, objectives: list[AssessedObjective]
                      ) -> list[AssessedObjective]:
    """The objectives with their CASE humanCodingScheme, when a loaded framework has it."""
    frameworks = getattr(request.app.state.storage, "frameworks", None)
    if frameworks is None:
        return objectives
    out = []
    for objective in objectives:
        found = await frameworks.find_objective(objective.iri)
        code = next((o.code for _, o in found if o.code), None)
        out.append(replace(objective, code=code) if code else objective)
    return out


async def export_space(request: Request) -> Response:
    """The learner's space as one zip: an OB 3.0 badge per objective assessed as met and a
    CLR 2.0 bundling them (JSON-LD with eddsa-rdfc-2022 proofs, and VC-JWT), space.json and
    record.html."""
    learner, agent, name = _learner(await credential_of(request))
    if request.query_params:
        first = sorted(request.query_params)[0]
        raise InvalidRequest(f"unknown query parameter '{first}'",
                             (Problem(f"?{first}", "the export takes no parameters"),))
    settings: Settings = request.app.state.settings
    store = request.app.state.storage.statements
    statements = [s async for s in learner_statements(store, learner)]
    items = await _space_items(request, owner_key(agent))
    objectives = await _with_codes(request, await assessed_objectives(
        store, statements, learner, _entries(items)))
    now = datetime.now(UTC)
    key = issuer_key(request)
    subject = learner_uri(agent)
    # The issuer's url only when public: the default http://127.0.0.1 names no organisation.
    url = settings.public_url if settings.public_url.startswith("https://") else None
    record = await off_loop(issue_record, objectives, subject, name, key,
                            settings.vc_issuer_name, now, url)
    document = space_document(subject, name, objectives, items, statements, now)
    body = export_archive(document, record, key, settings.vc_issuer_name)
    return Response(body, media_type="application/zip", headers={
        "Content-Disposition": 'attachment; filename="learning-record.zip"'})


def did_client(request: Request) -> httpx2.AsyncClient:
    """The HTTP client that resolves did:web issuers (tests hand in their own)."""
    client: httpx2.AsyncClient | None = getattr(request.app.state, "vc_did_client", None)
    return client or httpx2.AsyncClient(timeout=DID_TIMEOUT_SECONDS)


async def import_space(request: Request) -> Response:
    """Import another LRS's export into the learner's space: every credential verified
    (signature, the issuer DID's key, validity), or nothing imported (400 naming each file
    and JSON path that fails)."""
    _, agent, _ = _learner(await credential_of(request))
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in ("application/zip", "application/octet-stream"):
        raise InvalidRequest("the body must be the export's zip",
                             (Problem("Content-Type", "expected application/zip"),))
    body = await read_body(request, MAX_UNPACKED_BYTES)  # 413 past it, 408 when too slow
    client = did_client(request)
    try:
        imported = await verify_archive(body, resolver(client))
    finally:
        if client is not getattr(request.app.state, "vc_did_client", None):
            await client.aclose()
    spaces: Spaces = request.app.state.spaces
    owner = owner_key(agent)
    if await spaces.record_of(owner) is None:
        with contextlib.suppress(SpaceExists):  # made meanwhile by another request
            await spaces.create(owner)
    now = datetime.now(UTC)
    for item in imported:
        await spaces.append(owner, BLOB_KIND, item.blob(now), blob_id=item.blob_id)
    return JSONResponse({"imported": [
        _listed(orjson.loads(item.blob(now)), item.blob_id) for item in imported]})


def _listed(item: dict[str, Any], space_item: str) -> dict[str, Any]:
    credential, verification = item["credential"], item["verification"]
    kinds = credential.get("type", [])
    return {"id": credential.get("id"), "type": kinds if isinstance(kinds, list) else [kinds],
            "name": credential.get("name"), "issuer": verification["issuer"],
            "proofs": verification["proofs"] + (["vc-jwt"] if item.get("jwt") else []),
            "verified": verification["verified"], "file": verification["file"],
            "space_item": space_item}


async def list_credentials(request: Request) -> Response:
    """The credentials imported into the learner's space, each as it was verified."""
    _, agent, _ = _learner(await credential_of(request))
    items = await _space_items(request, owner_key(agent), BLOB_KIND)
    listed = [_listed(orjson.loads(item.content), item.id) for item in items]
    listed.sort(key=lambda c: (str(c["verified"]), str(c["name"])))
    return JSONResponse({"credentials": listed})


async def did_document(request: Request) -> Response:
    """The issuer's DID document (did:web method §3.2), when the issuer DID is a did:web."""
    settings: Settings = request.app.state.settings
    if settings.vc_issuer_did is None:
        raise NotFound("the issuer is a did:key (LRS_VC_ISSUER_DID is unset): its key is in "
                       "the DID itself, no document is served")
    return JSONResponse(issuer_key(request).did_document(),
                        media_type="application/did+json")


routes = [
    Route("/space/export", export_space, methods=["GET"]),
    Route("/space/import", import_space, methods=["POST"]),
    Route("/space/credentials", list_credentials, methods=["GET"]),
]
well_known_routes = [Route("/.well-known/did.json", did_document, methods=["GET"])]
