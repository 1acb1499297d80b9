"""The Authenticator over a real credential store: verification, its cache, revocation."""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass

import pytest

from lrs.auth import Authenticator
from lrs.credentials import Credential, CredentialStore
from lrs.errors import Unauthorized
from lrs.storage import Storage
from tests.lrs.test_credential_store_contract import credential


def basic(key: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()


@dataclass
class Counted:
    """The engine's credential store, counting the lookups that reach it."""

    store: CredentialStore
    gets: int = 0

    async def get(self, key: str) -> Credential | None:
        self.gets += 1
        return await self.store.get(key)


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
    assert counted.gets == 2
    assert (await auth.authenticate(basic(added.key, "s"))).key == added.key
