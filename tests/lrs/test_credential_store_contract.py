"""The CredentialStore contract, written once and run over every reachable engine."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from lrs.credentials import Credential, Retention, Scope, authority_for, hash_secret
from lrs.storage import Storage
from statements.errors import StoreUnavailable

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def credential(name: str = "platform", created: datetime = T0,
               revoked: datetime | None = None) -> Credential:
    key = uuid.uuid4().hex[:20]
    return Credential(key=key, name=name, secret_hash=hash_secret("s"),
                      scopes=frozenset({Scope.STATEMENTS_WRITE, Scope.STATEMENTS_READ_MINE}),
                      retention=Retention.TALLY,
                      authority=authority_for(key, name, "http://lrs.test"), created=created,
                      revoked=revoked)


async def test_credentials_add_then_get_round_trips(storage: Storage) -> None:
    added = credential(revoked=T0 + timedelta(days=1))
    await storage.credentials.add(added)
    assert await storage.credentials.get(added.key) == added
    assert await storage.credentials.get("no-such-key") is None


async def test_credentials_keys_are_unique(storage: Storage) -> None:
    added = credential()
    await storage.credentials.add(added)
    with pytest.raises(StoreUnavailable):
        await storage.credentials.add(added)


async def test_credentials_find_by_name_is_the_newest_unrevoked(storage: Storage) -> None:
    old, new = credential("lms"), credential("lms", T0 + timedelta(hours=1))
    newest = credential("lms", T0 + timedelta(hours=2))
    for c in (old, new, newest, credential("other", T0 + timedelta(hours=3))):
        await storage.credentials.add(c)
    found = await storage.credentials.find_by_name("lms")
    assert found is not None and found.key == newest.key
    assert await storage.credentials.revoke(newest.key, T0 + timedelta(hours=4))
    found = await storage.credentials.find_by_name("lms")
    assert found is not None and found.key == new.key
    assert await storage.credentials.find_by_name("nobody") is None


async def test_credentials_list_oldest_first(storage: Storage) -> None:
    later, earlier = credential("b", T0 + timedelta(minutes=1)), credential("a", T0)
    await storage.credentials.add(later)
    await storage.credentials.add(earlier)
    assert [c.key for c in await storage.credentials.list()] == [earlier.key, later.key]


async def test_credentials_revoke_once(storage: Storage) -> None:
    added = credential()
    await storage.credentials.add(added)
    when = T0 + timedelta(days=2)
    assert await storage.credentials.revoke(added.key, when) is True
    assert await storage.credentials.revoke(added.key, when + timedelta(days=1)) is False
    assert await storage.credentials.revoke("no-such-key", when) is False
    got = await storage.credentials.get(added.key)
    assert got is not None and got.revoked == when


async def test_credentials_replace_secret(storage: Storage) -> None:
    added = credential()
    await storage.credentials.add(added)
    await storage.credentials.replace_secret(added.key, "scrypt$new")
    got = await storage.credentials.get(added.key)
    assert got is not None and got.secret_hash == "scrypt$new"
    assert got.key == added.key and got.authority == added.authority


async def test_credentials_record_use_sets_last_used(storage: Storage) -> None:
    added, other = credential(), credential("other", T0 + timedelta(minutes=1))
    await storage.credentials.add(added)
    await storage.credentials.add(other)
    fresh = await storage.credentials.get(added.key)
    assert fresh is not None and fresh.last_used is None
    await storage.credentials.record_use(added.key, T0 + timedelta(hours=1))
    await storage.credentials.record_use(added.key, T0 + timedelta(hours=2))
    await storage.credentials.record_use("no-such-key", T0)
    got = await storage.credentials.get(added.key)
    assert got is not None and got.last_used == T0 + timedelta(hours=2)
    assert [c.last_used for c in await storage.credentials.list()] == [
        T0 + timedelta(hours=2), None]
    found = await storage.credentials.find_by_name("platform")
    assert found is not None and found.last_used == T0 + timedelta(hours=2)
    assert found.secret_hash == added.secret_hash  # nothing else changed
