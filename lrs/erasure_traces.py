"""What erasing a person finds beyond their statements and documents: the credentials bound
to them, their quarantined statements and the audit entries that name them (lrs.erasure)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from lrs.credentials import Credential
from lrs.people import Person
from lrs.storage import Storage
from statements.erasure import ERASED_AGENT, AuditRecord, plan_erasure
from statements.indexing import actor_keys
from statements.quarantine import QuarantineEntry, mentions

ERASED = "erased"


def _names(text: str, identifiers: Collection[str]) -> bool:
    lowered = text.lower()
    return any(i.lower() in lowered for i in identifiers)


def bound_to(credential: Credential, keys: Collection[str]) -> bool:
    """Whether the credential's authority is the person (`lrs credentials create --agent`,
    the credential of their portfolio) or a Group with them in it."""
    return bool(set(actor_keys(credential.authority)) & set(keys))


async def bound_credentials(storage: Storage, keys: Collection[str],
                            identifiers: Collection[str]) -> list[Credential]:
    """The credentials bound to the person, or whose name holds one of their identifiers."""
    return [c for c in await storage.credentials.list()
            if bound_to(c, keys) or _names(c.name, identifiers)]


def scrubbed_authority(authority: dict[str, Any], keys: Collection[str]) -> dict[str, Any]:
    """The authority without the person: ERASED_AGENT when it was them."""
    plan = plan_erasure({"actor": authority, "object": {"id": "urn:x"}}, keys)
    if plan is None:
        return authority
    if isinstance(plan, dict):
        kept: dict[str, Any] = plan["actor"]
        return kept
    return dict(ERASED_AGENT)


async def scrub_credentials(storage: Storage, found: list[Credential], keys: Collection[str],
                            identifiers: Collection[str], now_ms: int) -> None:
    """Revoke each credential and take the person out of its name and authority."""
    when = datetime.fromtimestamp(now_ms / 1000, UTC)
    for credential in found:
        name = (f"{ERASED}-{credential.key}" if _names(credential.name, identifiers)
                else credential.name)
        await storage.credentials.erase(credential.key, name=name,
                                        authority=scrubbed_authority(credential.authority, keys),
                                        when=when)


async def quarantined(storage: Storage, keys: Collection[str],
                      identifiers: Collection[str]) -> list[QuarantineEntry]:
    """The person's quarantined statements (the quarantine is short-lived and small: read
    whole)."""
    return [e for e in await storage.quarantine.list() if mentions(e, keys, identifiers)]


def audit_mentions(records: list[AuditRecord], identifiers: Collection[str],
                   credentials: Collection[Credential]) -> list[AuditRecord]:
    """The audit records naming the person in their operator or detail (a credential named
    for them, a signed-in person's subject), rewritten with `erased` in those places."""
    names = {c.name for c in credentials if _names(c.name, identifiers)}
    out = []
    for record in records:
        operator = (ERASED if _names(record.operator, identifiers) or record.operator in names
                    else record.operator)
        detail = {k: (ERASED if _names(v, identifiers) or v in names else v)
                  for k, v in record.detail.items()}
        if operator != record.operator or detail != record.detail:
            out.append(replace(record, operator=operator, detail=detail))
    return out


def signed_in_as(person: Person, keys: Collection[str], identifiers: Collection[str]) -> bool:
    """Whether a signed-in person is the one being erased: their learner Agent is, or one of
    the identifiers is their name or subject (a session holds both until it ends)."""
    if person.agent is not None and set(actor_keys(person.agent)) & set(keys):
        return True
    return _names(person.name, identifiers) or _names(person.subject, identifiers)
