"""Create, rotate and revoke credentials named by their name or their key, each written to
the audit log: what the admin API and `lrs credentials` both do."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from datetime import datetime
from typing import Any

from lrs.admin.audit import record_action
from lrs.credentials import (
    CheckMode,
    Credential,
    CredentialStore,
    DocumentPuts,
    Retention,
    Scope,
    authority_for,
    hash_secret,
    new_key,
    new_secret,
)
from lrs.storage import Storage
from statements.errors import Conflict, InvalidRequest, NotFound, Problem

# Names that `lrs.people.principal_of` gives signed-in people: a credential may not take
# one, or the audit log could not tell a person from a platform.
RESERVED_PREFIX = "person:"


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="milliseconds") if moment is not None else None


def describe(credential: Credential) -> dict[str, Any]:
    """A credential as the admin API and `lrs credentials list --json` show it: never its
    secret or its hash."""
    return {"name": credential.name, "key": credential.key,
            "scopes": sorted(scope.value for scope in credential.scopes),
            "retention": credential.retention.value, "created": _iso(credential.created),
            "revoked": _iso(credential.revoked), "last_used": _iso(credential.last_used),
            "document_puts": credential.document_puts.value,
            "quarantine_days": credential.quarantine_days,
            "cmi5": credential.cmi5.value, "profiles": credential.profiles.value,
            "cmi5_lms": credential.cmi5_lms}


def check_name(name: str, where: str) -> None:
    """InvalidRequest (naming `where`) unless `name` can name a credential: printable, no
    surrounding spaces, not a signed-in person's."""
    problem = None
    if not name or name != name.strip() or not name.isprintable():
        problem = "not empty, no leading or trailing spaces, no control characters"
    elif name.startswith(RESERVED_PREFIX):
        problem = f"names starting with {RESERVED_PREFIX!r} are signed-in people's"
    if problem is not None:
        raise InvalidRequest("invalid credential name", (Problem(where, problem),))


async def resolve(store: CredentialStore, ref: str) -> Credential:
    """The unrevoked credential whose key, else whose name, is `ref`; NotFound otherwise."""
    by_key = await store.get(ref)
    if by_key is not None and by_key.revoked is None:
        return by_key
    by_name = await store.find_by_name(ref)
    if by_name is not None:
        return by_name
    if by_key is not None:
        raise NotFound(f"the credential keyed {ref} is revoked")
    raise NotFound(f"no credential named or keyed {ref}")


async def create(storage: Storage, *, name: str, scopes: Collection[Scope],
                 retention: Retention, agent: dict[str, Any] | None, public_url: str,
                 operator: str, now: datetime,
                 document_puts: DocumentPuts = DocumentPuts.STRICT,
                 quarantine_days: int = 0, cmi5: CheckMode = CheckMode.OFF,
                 profiles: CheckMode = CheckMode.OFF, cmi5_lms: bool = False
                 ) -> tuple[Credential, str]:
    """A new credential and its secret (shown once; only its hash is stored). Conflict when
    an unrevoked credential already has this name: a name must say which one it is.
    `quarantine_days` > 0 keeps the statements it had rejected that long (docs/quarantine.md)."""
    check_name(name, "name")
    if await storage.credentials.find_by_name(name) is not None:
        raise Conflict(f"a credential named {name} exists: revoke it or choose another name")
    key, secret = new_key(), new_secret()
    credential = Credential(
        key=key, name=name, secret_hash=hash_secret(secret), scopes=frozenset(scopes),
        retention=retention,
        authority=agent if agent is not None else authority_for(key, name, public_url),
        created=now, document_puts=document_puts, quarantine_days=quarantine_days,
        cmi5=cmi5, profiles=profiles, cmi5_lms=cmi5_lms)
    await storage.credentials.add(credential)
    await record_action(storage, "credential_create", operator=operator, now_ms=_ms(now),
                        detail={"credential": name, "key": key,
                                "scopes": ",".join(sorted(s.value for s in scopes)),
                                "retention": retention.value,
                                "document_puts": document_puts.value,
                                **({"quarantine_days": str(quarantine_days)}
                                   if quarantine_days else {}), **_checks(credential)})
    return credential, secret


def _checks(credential: Credential) -> dict[str, str]:
    return {"cmi5": credential.cmi5.value, "profiles": credential.profiles.value,
            "cmi5_lms": str(credential.cmi5_lms).lower()}


async def set_checks(storage: Storage, ref: str, *, cmi5: CheckMode | None = None,
                     profiles: CheckMode | None = None, cmi5_lms: bool | None = None,
                     operator: str, now: datetime) -> Credential:
    """Change the door-check modes of the credential named or keyed `ref` (those given);
    running processes see it once their credential cache expires
    (LRS_CREDENTIAL_CACHE_SECONDS)."""
    credential = await resolve(storage.credentials, ref)
    changed = replace(
        credential, cmi5=credential.cmi5 if cmi5 is None else cmi5,
        profiles=credential.profiles if profiles is None else profiles,
        cmi5_lms=credential.cmi5_lms if cmi5_lms is None else cmi5_lms)
    await storage.credentials.set_checks(changed.key, cmi5=changed.cmi5,
                                         profiles=changed.profiles, cmi5_lms=changed.cmi5_lms)
    await record_action(storage, "credential_checks", operator=operator, now_ms=_ms(now),
                        detail={"credential": changed.name, "key": changed.key,
                                **_checks(changed)})
    return changed


async def rotate(storage: Storage, ref: str, *, operator: str,
                 now: datetime) -> tuple[Credential, str]:
    """Give the credential named or keyed `ref` a new secret; the old one stops working
    once the processes' verification caches expire (LRS_CREDENTIAL_CACHE_SECONDS)."""
    credential = await resolve(storage.credentials, ref)
    secret = new_secret()
    secret_hash = hash_secret(secret)
    await storage.credentials.replace_secret(credential.key, secret_hash)
    await record_action(storage, "credential_rotate", operator=operator, now_ms=_ms(now),
                        detail={"credential": credential.name, "key": credential.key})
    return replace(credential, secret_hash=secret_hash), secret


async def revoke(storage: Storage, ref: str, *, operator: str, now: datetime) -> Credential:
    """Revoke the credential named or keyed `ref`."""
    credential = await resolve(storage.credentials, ref)
    if not await storage.credentials.revoke(credential.key, now):
        raise NotFound(f"the credential keyed {credential.key} is revoked")  # raced
    await record_action(storage, "credential_revoke", operator=operator, now_ms=_ms(now),
                        detail={"credential": credential.name, "key": credential.key})
    return replace(credential, revoked=now)
