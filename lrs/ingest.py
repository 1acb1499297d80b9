"""The ingest pipeline (DESIGN §2): validate once, enrich, store; all or nothing."""

from __future__ import annotations

import uuid
from typing import Any

from lrs.consistency import StoredClock
from lrs.credentials import Credential, Scope
from statements.activities import ActivityStore, definitions_in
from statements.attachments import RawAttachment, match_attachments, media_type, parse_multipart
from statements.enrich import enrich
from statements.errors import InvalidRequest, Problem
from statements.parsing import parse_statements
from statements.signatures import check_signatures
from statements.store import StatementStore
from statements.versions import XapiVersion


async def ingest(
    body: bytes,
    *,
    content_type: str,
    version: XapiVersion,
    credential: Credential,
    store: StatementStore,
    activities: ActivityStore,
    clock: StoredClock,
    statement_id: str | None = None,
) -> list[str]:
    """Validate, enrich and store the statements in a PUT (`statement_id` given) or POST
    body, with their attachments, and return their ids in the order sent.

    Every statement is kept in full for now: the retention chain (full / tally / drop)
    plugs in here with the lite-tracking issue.
    """
    # Communication §1.5: application/json, or multipart/mixed carrying raw attachments.
    kind = media_type(content_type)
    parts: list[RawAttachment] = []
    if kind == "multipart/mixed":
        multipart = parse_multipart(body, content_type)
        body, parts = multipart.statements, multipart.attachments
    elif kind != "application/json":
        raise InvalidRequest(f"statements must be sent as application/json or multipart/mixed,"
                             f" not {kind or 'no Content-Type'}", (Problem("header",
                                                                           "Content-Type"),))
    parsed = parse_statements(body, version)
    sent = parsed.statements
    if statement_id is not None:
        if not parsed.single:
            raise InvalidRequest("PUT takes one statement, not an array",
                                 (Problem("$", "expected a JSON object"),))
        if "id" in sent[0] and sent[0]["id"].lower() != statement_id:
            # Communication §2.1.1.s3.b3: the body's id must match the statementId parameter.
            raise InvalidRequest("the statement id differs from the statementId parameter",
                                 (Problem("$.id", "must equal ?statementId"),))
    ids = [_id_of(s, statement_id) for s in sent]
    _check_batch(sent, ids, single=parsed.single)
    attachments = match_attachments(sent, parts)
    check_signatures(sent, {a.sha2: a for a in attachments})
    stored = clock.begin()
    try:
        prepared = [
            enrich(s, statement_id=i, stored=stored, authority=credential.authority,
                   version=version)
            for s, i in zip(sent, ids, strict=True)
        ]
        await store.save(prepared, attachments)
    finally:
        clock.end(stored)
    if credential.allows(Scope.DEFINE):
        # Data §2.4.4.1.s4.b3-b5: credentials allowed to define activities update the
        # canonical definitions (others' statements are kept, their definitions not merged).
        definitions = definitions_in(sent)
        if definitions:
            await activities.merge(definitions)
    return ids


def _id_of(statement: dict[str, Any], statement_id: str | None) -> str:
    if statement_id is not None:
        return statement_id
    return statement["id"].lower() if "id" in statement else str(uuid.uuid4())


def _check_batch(sent: list[dict[str, Any]], ids: list[str], *, single: bool) -> None:
    seen: dict[str, int] = {}
    for index, statement_id in enumerate(ids):
        where = "$" if single else f"$[{index}]"
        if statement_id in seen:
            # Communication §2.1.1.s2.b4, LRS book 4.1.6.1: one id twice in a batch → 400.
            raise InvalidRequest(f"the id {statement_id} appears twice in the batch",
                                 (Problem(f"{where}.id", f"also used by $[{seen[statement_id]}]"),))
        seen[statement_id] = index
