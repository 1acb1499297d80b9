"""Credentials to and from the flat records both engines keep."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from lrs.credentials import CheckMode, Credential, DocumentPuts, Retention, Scope


def to_record(credential: Credential) -> dict[str, Any]:
    """A flat record: strings and numbers only, the same in SQLite and MongoDB."""
    return {
        "key": credential.key,
        "name": credential.name,
        "secret_hash": credential.secret_hash,
        "scopes": ",".join(sorted(scope.value for scope in credential.scopes)),
        "retention": credential.retention.value,
        "authority": orjson.dumps(credential.authority).decode(),
        "created": credential.created.isoformat(),
        "revoked": credential.revoked.isoformat() if credential.revoked else None,
        "last_used": credential.last_used.isoformat() if credential.last_used else None,
        "document_puts": credential.document_puts.value,
        "quarantine_days": credential.quarantine_days,
        "cmi5": credential.cmi5.value,
        "profiles": credential.profiles.value,
        "cmi5_lms": int(credential.cmi5_lms),
    }


def from_record(record: dict[str, Any]) -> Credential:
    """The inverse of `to_record`."""
    return Credential(
        key=record["key"],
        name=record["name"],
        secret_hash=record["secret_hash"],
        scopes=frozenset(Scope(s) for s in record["scopes"].split(",") if s),
        retention=Retention(record["retention"]),
        authority=orjson.loads(record["authority"]),
        created=datetime.fromisoformat(record["created"]),
        revoked=datetime.fromisoformat(record["revoked"]) if record["revoked"] else None,
        # Absent from records written before it was kept.
        last_used=datetime.fromisoformat(used) if (used := record.get("last_used")) else None,
        # Records written before it existed read as today's behaviour.
        document_puts=DocumentPuts(record.get("document_puts") or DocumentPuts.STRICT.value),
        # Absent (or NULL) in records written before the quarantine: off.
        quarantine_days=int(record.get("quarantine_days") or 0),
        # Absent (or NULL) in records written before the door checks: off.
        cmi5=CheckMode(record.get("cmi5") or CheckMode.OFF),
        profiles=CheckMode(record.get("profiles") or CheckMode.OFF),
        cmi5_lms=bool(record.get("cmi5_lms")),
    )
