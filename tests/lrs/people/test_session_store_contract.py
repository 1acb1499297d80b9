"""The SessionStore contract, written once and run over every reachable engine."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from lrs.people import Person, Role
from lrs.people.sessions import SessionRecord
from lrs.storage import Storage
from statements.errors import StoreUnavailable

T0 = datetime(2026, 3, 1, 12, 0, 0, 250_000, tzinfo=UTC)


def record(created: datetime = T0, last_seen: datetime | None = None,
           id_token: str | None = "header.payload.signature") -> SessionRecord:
    person = Person(issuer="https://idp.test", subject=f"sub-{uuid.uuid4().hex[:6]}",
                    name="Ada Lovelace", roles=frozenset({Role.LEARNER, Role.ANALYST}),
                    agent={"objectType": "Agent", "mbox": "mailto:ada@example.com"},
                    groups=frozenset({"sales-emea", "/eu/staff"}))
    return SessionRecord(key=uuid.uuid4().hex, person=person, created=created,
                         last_seen=last_seen or created, id_token=id_token)


async def test_sessions_create_then_get_round_trips(storage: Storage) -> None:
    made = record(last_seen=T0 + timedelta(seconds=5))
    await storage.sessions.create(made)
    assert await storage.sessions.get(made.key) == made
    assert await storage.sessions.get("no-such-session") is None


async def test_sessions_without_an_id_token_or_agent_round_trip(storage: Storage) -> None:
    made = record(id_token=None)
    made = SessionRecord(key=made.key, person=Person(issuer="dev", subject="dev:x", name="X",
                                                     roles=frozenset()),
                         created=T0, last_seen=T0)
    await storage.sessions.create(made)
    assert await storage.sessions.get(made.key) == made


async def test_sessions_keys_are_unique(storage: Storage) -> None:
    made = record()
    await storage.sessions.create(made)
    with pytest.raises(StoreUnavailable):
        await storage.sessions.create(made)


async def test_sessions_touch_moves_last_seen_forward_only(storage: Storage) -> None:
    made = record()
    await storage.sessions.create(made)
    await storage.sessions.touch(made.key, T0 + timedelta(minutes=3))
    await storage.sessions.touch(made.key, T0 + timedelta(minutes=1))  # a slower worker
    got = await storage.sessions.get(made.key)
    assert got is not None and got.last_seen == T0 + timedelta(minutes=3)
    assert got.created == T0
    await storage.sessions.touch("no-such-session", T0)  # nothing to touch: no error


async def test_sessions_delete_once(storage: Storage) -> None:
    made = record()
    await storage.sessions.create(made)
    assert await storage.sessions.delete(made.key) is True
    assert await storage.sessions.get(made.key) is None
    assert await storage.sessions.delete(made.key) is False


async def test_sessions_delete_expired_by_idle_or_age(storage: Storage) -> None:
    idle = record(created=T0, last_seen=T0 + timedelta(minutes=10))
    old = record(created=T0 - timedelta(hours=13), last_seen=T0 + timedelta(minutes=55))
    live = record(created=T0, last_seen=T0 + timedelta(minutes=50))
    for made in (idle, old, live):
        await storage.sessions.create(made)
    ended = await storage.sessions.delete_expired(
        idle_before=T0 + timedelta(minutes=30), created_before=T0 - timedelta(hours=12))
    assert ended == 2
    assert await storage.sessions.get(idle.key) is None
    assert await storage.sessions.get(old.key) is None
    assert await storage.sessions.get(live.key) == live
