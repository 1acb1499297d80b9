"""Quarantine of rejected statements (docs/quarantine.md): keep what a credential's request
had rejected, list it by error kind, download it, replay corrected statements through the
normal ingest. The platform's 400 is the same with or without it."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable

import orjson

from lrs.credentials import Credential
from lrs.ingest import Ingest
from lrs.storage import Storage
from plugins.retention import DAY_MS
from statements.attachments import media_type, parse_multipart
from statements.erasure import AuditRecord
from statements.errors import Conflict, InvalidRequest, NotFound, Problem, XapiError
from statements.quarantine import QuarantineEntry, entries_of
from statements.versions import XapiVersion

log = logging.getLogger("lrs.quarantine")


def _statements_part(body: bytes, content_type: str) -> bytes:
    """The statements of a request: a multipart body's first part (attachments are not
    kept), else the body."""
    if media_type(content_type) == "multipart/mixed":
        try:
            return parse_multipart(body, content_type).statements
        except XapiError:
            return body  # not even multipart: kept as it came
    return body


async def keep_rejected(storage: Storage, credential: Credential, body: bytes, *,
                        content_type: str, version: XapiVersion, error: InvalidRequest,
                        statement_id: str | None, now_ms: int) -> int:
    """Keep the statements of a request answered 400 (`error`), if the credential asks for
    it (`quarantine_days` > 0); how many entries were kept. Never raises: a quarantine that
    cannot be written must not change the platform's answer."""
    if credential.quarantine_days <= 0:
        return 0
    part = _statements_part(body, content_type)
    if statement_id is not None:  # a PUT: the id travels in the query, keep it with it
        try:
            sent = orjson.loads(part)
            if isinstance(sent, dict) and "id" not in sent:
                part = orjson.dumps({"id": statement_id, **sent})
        except orjson.JSONDecodeError:
            pass
    entries = entries_of(part, error.message, error.problems, credential=credential.key,
                         at_ms=now_ms, expires_ms=now_ms + credential.quarantine_days * DAY_MS,
                         version=version.value)
    try:
        await storage.quarantine.add(entries)
    except Exception:  # logged without the body (it holds identities)
        log.exception("could not quarantine %d rejected statements of %s", len(entries),
                      credential.name)
        return 0
    return len(entries)


async def replay(storage: Storage, ingest: Ingest, entry_id: str, corrected: bytes | None, *,
                 operator: str, now_ms: int) -> str:
    """Send a quarantined statement, or the corrected one given, through the normal ingest
    as the credential that sent it, then remove it from the quarantine; the statement id.

    A statement without an id is given the entry's id, so replaying it again (or the
    same correction posted twice) stores it once (Communication §2.1.2). Rejected again:
    InvalidRequest with its problems, and the entry stays.
    """
    entry = await storage.quarantine.get(entry_id)
    if entry is None:
        raise NotFound(f"no quarantined statement {entry_id}")
    credential = await storage.credentials.get(entry.credential)
    if credential is None or credential.revoked is not None:
        raise Conflict(f"the credential that sent {entry_id} is revoked: the statement "
                       "cannot be replayed as it")
    try:
        statement = orjson.loads(corrected if corrected is not None else entry.body)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(f"the statement is not JSON: {exc}", (Problem("$", "not JSON"),)
                             ) from None
    if not isinstance(statement, dict):
        raise InvalidRequest("replay one statement (a JSON object)",
                             (Problem("$", "expected a JSON object"),))
    statement.setdefault("id", entry.id)
    ids = await ingest(orjson.dumps(statement), content_type="application/json",
                       version=XapiVersion(entry.version), credential=credential)
    await storage.quarantine.remove([entry.id])
    await storage.erasure.record(AuditRecord(
        str(uuid.uuid4()), "quarantine_replay", now_ms, operator,
        detail={"entry": entry.id, "statement": ids[0], "kind": entry.kind,
                "credential": credential.name}))
    return ids[0]


async def discard(storage: Storage, entry_id: str, *, operator: str, now_ms: int) -> None:
    """Delete one quarantined statement without replaying it."""
    entry = await storage.quarantine.get(entry_id)
    if entry is None or not await storage.quarantine.remove([entry_id]):
        raise NotFound(f"no quarantined statement {entry_id}")
    await storage.erasure.record(AuditRecord(
        str(uuid.uuid4()), "quarantine_discard", now_ms, operator,
        detail={"entry": entry.id, "kind": entry.kind}))


def json_lines(entries: Iterable[QuarantineEntry]) -> bytes:
    """The download: one entry a line (QuarantineEntry.describe)."""
    return b"".join(orjson.dumps(entry.describe()) + b"\n" for entry in entries)
