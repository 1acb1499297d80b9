"""The Authenticator over a real credential store: verification, its cache, revocation."""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass
from datetime import datetime

import pytest

from lrs.auth import Authenticator
from lrs.credentials import Credential, CredentialStore
from lrs.errors import Unauthorized
from lrs.storage import Storage
from statements.errors import StoreUnavailable
from tests.lrs.test_credential_store_contract import credential


def basic(key: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()


@dataclass
class Counted:
    """The engine's credential store, counting the lookups that reach it."""

    store: CredentialStore
    gets: int = 0
    uses: int = 0

    async def get(self, key: str) -> Credential | None:
        self.gets += 1
        return await self.store.get(key)

    async def record_use(self, key: str, when: datetime) -> None:
        self.uses += 1
        await self.store.record_use(key, when)


async def test_concurrent_requests_share_one_verification(storage: Storage) -> None:
    added = credential()
    await storage.credentials.add(added)
    counted = Counted(storage.credentials)
    auth = Authenticator(counted, cache_seconds=60)  # type: ignore[arg-type]
    found = await asyncio.gather(*(auth.authenticate(basic(added.key, "s")) for _ in range(8)))
    assert {c.key for c in found} == {added.key}
    assert counted.gets == 1  # one lookup and one scrypt, not eight
    await auth.authenticate(basic(added.key, "s"))
    assert counted.gets == 1  # then from the cache
    assert counted.uses == 1  # "last used" written by the slow path only, once


async def test_a_wrong_secret_fails_every_waiter_and_is_not_cached(storage: Storage) -> None:
    added = credential()
    await storage.credentials.add(added)
    counted = Counted(storage.credentials)
    auth = Authenticator(counted, cache_seconds=60)  # type: ignore[arg-type]
    results = await asyncio.gather(
        *(auth.authenticate(basic(added.key, "wrong")) for _ in range(4)),
        return_exceptions=True)
    assert all(isinstance(r, Unauthorized) for r in results)
    with pytest.raises(Unauthorized):
        await auth.authenticate(basic(added.key, "wrong"))
    assert counted.gets == 2 and counted.uses == 0  # a refusal is no use
    assert (await auth.authenticate(basic(added.key, "s"))).key == added.key
    assert counted.uses == 1


async def test_last_used_is_recorded_again_only_when_the_cache_entry_expired(
        storage: Storage) -> None:
    added = credential()
    await storage.credentials.add(added)
    counted = Counted(storage.credentials)
    auth = Authenticator(counted, cache_seconds=0.2)  # type: ignore[arg-type]
    for _ in range(5):
        await auth.authenticate(basic(added.key, "s"))
    assert counted.uses == 1
    first = (await storage.credentials.get(added.key))
    assert first is not None and first.last_used is not None
    await asyncio.sleep(0.3)
    await auth.authenticate(basic(added.key, "s"))
    assert counted.uses == 2
    second = await storage.credentials.get(added.key)
    assert second is not None and second.last_used is not None
    assert second.last_used > first.last_used


class Refusing(Counted):
    """A store that cannot record a use (a read-only replica, say)."""

    async def record_use(self, key: str, when: datetime) -> None:
        raise StoreUnavailable("read-only")


async def test_a_store_that_cannot_record_the_use_still_lets_the_credential_in(
        storage: Storage) -> None:
    added = credential()
    await storage.credentials.add(added)
    auth = Authenticator(Refusing(storage.credentials), cache_seconds=0)  # type: ignore[arg-type]
    assert (await auth.authenticate(basic(added.key, "s"))).key == added.key
