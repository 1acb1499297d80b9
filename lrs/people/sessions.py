"""Server-side sessions: the record a signed-in browser's cookie points at, and its store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from lrs.people import Person, Role


@dataclass(frozen=True)
class SessionRecord:
    """One signed-in session. `key` is a hash of the random id the cookie carries, so the
    store never holds anything a browser could present."""

    key: str
    person: Person
    created: datetime
    last_seen: datetime
    id_token: str | None = None  # the hint for RP-initiated logout at the identity provider


class SessionStore(Protocol):
    """Keeps sessions, so that sign-out and expiry end them for every worker process."""

    async def create(self, record: SessionRecord) -> None:
        """Store a new session; its key is unique."""
        ...

    async def get(self, key: str) -> SessionRecord | None:
        """The session with this key, or None."""
        ...

    async def touch(self, key: str, when: datetime) -> None:
        """Record activity: `last_seen` becomes `when`."""
        ...

    async def delete(self, key: str) -> bool:
        """End a session; False when there was none."""
        ...

    async def delete_expired(self, *, idle_before: datetime, created_before: datetime) -> int:
        """End every session last seen before `idle_before` or created before
        `created_before`; the number ended."""
        ...

    async def delete_where(self, match: Callable[[Person], bool], *,
                           dry_run: bool = False) -> int:
        """End every session whose person `match`es (erasure: sessions are few, and their
        records are read whole); the number ended, or that would be with `dry_run`."""
        ...


def person_to_record(person: Person) -> dict[str, Any]:
    """A Person as plain JSON-able data, the same in every engine."""
    return {"issuer": person.issuer, "subject": person.subject, "name": person.name,
            "roles": sorted(role.value for role in person.roles), "agent": person.agent,
            "groups": sorted(person.groups)}


def person_from_record(record: dict[str, Any]) -> Person:
    """The inverse of `person_to_record`."""
    return Person(issuer=record["issuer"], subject=record["subject"], name=record["name"],
                  roles=frozenset(Role(role) for role in record["roles"]),
                  agent=record.get("agent"),
                  groups=frozenset(record.get("groups", ())))  # none in older sessions
